//! Output files (`--report`, `--plot*`, `plot -o`): checked before any work, written whole or not at all.
//!
//! A path is checked when the command starts: it must not be a directory, an image must be `.png` or `.svg`, and
//! its directory must exist and let us create a file (a temporary file is created there and removed). At the end
//! the bytes go to a new temporary file in the same directory, which is then renamed over the path, so a write
//! that fails (a full disk, a removed directory) leaves the previous file as it was and no partial file behind.
//! A path that is not a regular file (`/dev/stdout`, a named pipe) is written in place.

use std::io::Write;
use std::path::{Path, PathBuf};

use visualizer::ImageFormat;

/// The image formats `--plot*` and `gc-sim plot -o` write, by extension.
pub const IMAGE_FORMATS: &str = ".png, .svg";

/// An output file whose path was checked.
#[derive(Debug)]
pub struct Output {
    /// The flag that named it, e.g. `--report`.
    flag: &'static str,
    /// The path as given, for messages.
    path: PathBuf,
    /// The file written: the path, or the file a symbolic link points to.
    target: PathBuf,
    /// Not a regular file: written in place, not replaced.
    in_place: bool,
}

impl Output {
    /// Checks that `path` can be written: not a directory, in a directory where a file can be created. The
    /// message names the flag and the path.
    pub fn check(flag: &'static str, path: &Path) -> Result<Output, String> {
        let shown = path.display();
        if path.as_os_str().is_empty() {
            return Err(format!("{flag}: the path is empty"));
        }
        if path.is_dir() {
            return Err(format!("{flag} {shown}: is a directory, not a file"));
        }
        // A symbolic link is followed, so that the file it points to is replaced, not the link. A path that is not a
        // regular file (`/dev/stdout`, a named pipe) is written in place.
        let (target, in_place) = match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => (path.to_owned(), true),
            Ok(_) => (std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()), false),
            Err(_) => (path.to_owned(), false),
        };
        let output = Output { flag, path: path.to_owned(), target, in_place };
        if in_place {
            return Ok(output);
        }
        let dir = output.dir();
        if !dir.is_dir() {
            return Err(format!("{flag} {shown}: the directory {} does not exist", dir.display()));
        }
        output
            .temporary()
            .map_err(|e| format!("{flag} {shown}: cannot create a file in {}: {}", dir.display(), cause(&e)))?;
        Ok(output)
    }

    /// Checks an image path as [`check`](Self::check), and that its extension names a format we write.
    pub fn check_image(flag: &'static str, path: &Path) -> Result<(Output, ImageFormat), String> {
        let format = image_format(path).ok_or_else(|| {
            let what = match path.extension() {
                Some(ext) => format!("`.{}` is not an image format gc-sim writes", ext.to_string_lossy()),
                None => "no extension to choose the image format".to_owned(),
            };
            format!("{flag} {}: {what} (supported: {IMAGE_FORMATS})", path.display())
        })?;
        Ok((Output::check(flag, path)?, format))
    }

    /// The path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The flag that named it.
    pub fn flag(&self) -> &'static str {
        self.flag
    }

    /// The file this output replaces, as a path with no symbolic link or `..` (its directory resolved), to compare
    /// with other files; `None` for a path written in place (`/dev/null`, a pipe).
    pub fn identity(&self) -> Option<PathBuf> {
        if self.in_place {
            return None;
        }
        let dir = std::fs::canonicalize(self.dir()).ok()?;
        Some(dir.join(self.target.file_name()?))
    }

    /// Writes the file whole: `write` fills a temporary file in the same directory, which then replaces the path.
    /// On an error the path keeps its previous content.
    pub fn write(&self, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), String> {
        let fail = |e: &dyn std::fmt::Display| format!("cannot write {} ({}): {e}", self.path.display(), self.flag);
        if self.in_place {
            let file =
                std::fs::OpenOptions::new().write(true).truncate(true).open(&self.target).map_err(|e| fail(&e))?;
            let mut out = std::io::BufWriter::new(file);
            return match write(&mut out).and_then(|()| out.flush()) {
                // A pipe whose reader has seen enough (`--report /dev/stdout | head`), as for standard output.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                result => result.map_err(|e| fail(&e)),
            };
        }
        let mut file = self.temporary().map_err(|e| fail(&cause(&e)))?;
        {
            let mut out = std::io::BufWriter::new(file.as_file_mut());
            write(&mut out).and_then(|()| out.flush()).map_err(|e| fail(&e))?;
        }
        file.as_file().sync_all().map_err(|e| fail(&e))?;
        file.persist(&self.target).map_err(|e| fail(&e.error))?;
        Ok(())
    }

    /// Checks that no output is one of `inputs` (`(path, what it is)`, e.g. `(trace, "the trace being replayed")`;
    /// `-`, standard input, is none) or another output: writing there would replace it. The message names the
    /// output's flag and path.
    pub fn check_distinct(outputs: &[&Output], inputs: &[(&Path, &str)]) -> Result<(), String> {
        let inputs: Vec<(PathBuf, &str)> = inputs
            .iter()
            .filter(|(path, _)| path.as_os_str() != "-")
            .filter_map(|&(path, what)| Some((std::fs::canonicalize(path).ok()?, what)))
            .collect();
        let mut seen: Vec<(PathBuf, &'static str)> = Vec::new();
        for output in outputs {
            let Some(identity) = output.identity() else { continue };
            let named = format!("{} {}", output.flag(), output.path().display());
            if let Some((_, what)) = inputs.iter().find(|(input, _)| *input == identity) {
                return Err(format!("{named}: is {what}; writing there would replace it"));
            }
            if let Some((_, other)) = seen.iter().find(|(seen, _)| *seen == identity) {
                return Err(format!("{named}: is the same file as {other}; give each output its own file"));
            }
            seen.push((identity, output.flag()));
        }
        Ok(())
    }

    /// Writes `value` as pretty JSON and a newline, whole ([`write`](Self::write)).
    pub fn write_json(&self, value: &impl serde::Serialize) -> Result<(), String> {
        self.write(|out| {
            // `From` keeps an I/O error's kind: a closed pipe stays `BrokenPipe`, which `write` forgives.
            serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
            writeln!(out)
        })
    }

    fn dir(&self) -> &Path {
        match self.target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }

    /// A new temporary file beside the path (hidden, removed when dropped), readable as a file created normally
    /// would be (the umask applies).
    fn temporary(&self) -> std::io::Result<tempfile::NamedTempFile> {
        let name = self.target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        builder.tempfile_in(self.dir())
    }
}

/// The error of an I/O error, without the temporary file's path that `tempfile` adds.
fn cause(e: &std::io::Error) -> String {
    e.get_ref().and_then(|inner| inner.source()).map_or_else(|| e.to_string(), ToString::to_string)
}

/// The format of an image path: `.png` or `.svg` (any case), else `None`.
pub fn image_format(path: &Path) -> Option<ImageFormat> {
    let ext = path.extension()?.to_str()?;
    if ext.eq_ignore_ascii_case("png") {
        Some(ImageFormat::Png)
    } else if ext.eq_ignore_ascii_case("svg") {
        Some(ImageFormat::Svg)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_previous_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "previous").unwrap();
        let output = Output::check("--report", &path).unwrap();
        let e = output.write(|out| {
            out.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(e.unwrap_err().contains("disk full"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
        output.write(|out| out.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["r.json"], "no temporary file is left");
    }

    /// A link stays a link (the file it points to is replaced); a device is written in place, never replaced.
    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_followed_and_a_device_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let (real, link) = (dir.path().join("real.json"), dir.path().join("link.json"));
        std::fs::write(&real, "previous").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let output = Output::check("--report", &link).unwrap();
        assert_eq!(output.path(), link, "messages name the path as given");
        output.write(|out| out.write_all(b"new")).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");

        let null = Output::check("--report", Path::new("/dev/null")).unwrap();
        assert_eq!(null.identity(), None);
        null.write(|out| out.write_all(b"gone")).unwrap();
        assert!(std::os::unix::fs::FileTypeExt::is_char_device(&std::fs::metadata("/dev/null").unwrap().file_type()));
    }

    #[test]
    fn image_formats_are_png_and_svg_in_any_case() {
        assert_eq!(image_format(Path::new("a.PNG")), Some(ImageFormat::Png));
        assert_eq!(image_format(Path::new("dir.v2/a.Svg")), Some(ImageFormat::Svg));
        for refused in ["a.jpg", "a.pdf", "a.gif", "a", "png", "a.png.bak"] {
            assert_eq!(image_format(Path::new(refused)), None, "{refused}");
        }
    }
}
