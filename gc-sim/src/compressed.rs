//! Compressed input: gzip and zstd streams, recognised by their first bytes (whatever the file's name) and
//! decompressed as they are read. Traces, GC logs and heap snapshots all go through here.

use std::io::{self, Read};

/// The first bytes of a gzip stream.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The first bytes of a zstd frame.
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// How many bytes [`detect`] needs to see.
pub(crate) const MAGIC_LEN: usize = ZSTD_MAGIC.len();

/// A compression format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// gzip (one member or several, as `cat a.gz b.gz` makes).
    Gzip,
    /// zstd.
    Zstd,
}

impl Compression {
    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The compression that data starting with `head` (its first four bytes, when there are that many)
/// is in, if any.
pub fn detect(head: &[u8]) -> Option<Compression> {
    if head.starts_with(&GZIP_MAGIC) {
        Some(Compression::Gzip)
    } else if head.starts_with(&ZSTD_MAGIC) {
        Some(Compression::Zstd)
    } else {
        None
    }
}

/// A reader of the decompressed data of `input`, compressed in `compression`. Its errors say which compression
/// failed (a cut or corrupt stream: `gzip stream: unexpected end of file`).
///
/// # Errors
/// A zstd frame whose header cannot be read.
pub fn decoder<'a>(compression: Compression, input: impl Read + 'a) -> io::Result<Decompressing<Box<dyn Read + 'a>>> {
    let inner: Box<dyn Read + 'a> = match compression {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Compression::Zstd => Box::new(
            ruzstd::decoding::StreamingDecoder::new(input)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd stream: {e}")))?,
        ),
    };
    Ok(Decompressing { inner, what: compression.name() })
}

/// A decompressing reader whose errors name the compression.
pub struct Decompressing<R> {
    inner: R,
    what: &'static str,
}

impl<R: Read> Read for Decompressing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| io::Error::new(e.kind(), format!("{} stream: {e}", self.what)))
    }
}

/// `input`, decompressed if it starts with a gzip or zstd stream, as one buffered reader.
///
/// # Errors
/// Reading the first bytes failed, or a zstd frame header is unreadable.
pub fn open<'a>(mut input: impl Read + 'a) -> io::Result<Box<dyn io::BufRead + 'a>> {
    // The first bytes are read ahead (a pipe may deliver fewer than asked for at a time) and put back in front.
    let mut head = Vec::with_capacity(MAGIC_LEN);
    (&mut input).take(MAGIC_LEN as u64).read_to_end(&mut head)?;
    let compression = detect(&head);
    let input = io::Cursor::new(head).chain(input);
    Ok(match compression {
        Some(compression) => Box::new(io::BufReader::with_capacity(1 << 16, decoder(compression, input)?)),
        None => Box::new(io::BufReader::with_capacity(1 << 16, input)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, Write};

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn read_all(input: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        open(input)?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn plain_gzip_and_zstd_read_the_same() {
        let text: Vec<u8> = (0..20_000).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        assert_eq!(read_all(&text).unwrap(), text);
        assert_eq!(read_all(&gzip(&text)).unwrap(), text);
        assert_eq!(read_all(&zstd(&text)).unwrap(), text);
        // Two gzip members one after the other (`cat a.gz b.gz`) read as one text.
        let two = [gzip(b"a\n"), gzip(b"b\n")].concat();
        assert_eq!(open(&two[..]).unwrap().lines().map(Result::unwrap).collect::<Vec<_>>(), ["a", "b"]);
        // Short inputs, shorter than the magic bytes, are plain.
        assert_eq!(read_all(b"{").unwrap(), b"{");
        assert_eq!(read_all(b"").unwrap(), b"");
    }

    #[test]
    fn a_cut_stream_is_an_error_naming_the_compression() {
        let text: Vec<u8> = (0..5_000).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        for (bytes, what) in [(gzip(&text), "gzip"), (zstd(&text), "zstd")] {
            let cut = &bytes[..bytes.len() / 2];
            let e = read_all(cut).unwrap_err();
            assert!(e.to_string().starts_with(&format!("{what} stream: ")), "{what}: {e}");
        }
    }
}
