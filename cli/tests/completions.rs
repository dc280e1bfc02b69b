//! `gc-sim completions SHELL`: the scripts clap_complete writes, and bash's completion of gc-sim's own words.

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

fn script(shell: &str) -> String {
    let out = Command::new(BIN).args(["completions", shell]).output().unwrap();
    assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_shell_gets_a_script_with_the_commands_and_flags() {
    for shell in ["bash", "elvish", "fish", "powershell", "zsh"] {
        let script = script(shell);
        for word in ["run", "plot", "completions", "trace-gc", "plot-heap-map", "color-by", "heapmap"] {
            assert!(script.contains(word), "the {shell} script lacks {word}");
        }
    }
    let out = Command::new(BIN).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: bash, elvish, fish, powershell, zsh"));
}

/// What bash offers for the words typed (the last one being completed), with the script sourced.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let program = format!(
        "source <(\"$0\" completions bash) && COMP_WORDS=({}) && COMP_CWORD={} && _gc__sim gc-sim {:?} {:?} && \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words.iter().map(|w| format!("{w:?}")).collect::<Vec<_>>().join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = Command::new("bash").args(["-c", &program, BIN]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// The words after a subcommand complete too (clap_complete's bash script, with gc-sim's hyphenated name, completed
/// nothing after `run` or `plot`: clap-rs/clap#6421).
#[test]
fn bash_completes_subcommands_their_flags_and_values() {
    assert_eq!(bash_completes(&["gc-sim", "co"]), ["completions"]);
    assert_eq!(bash_completes(&["gc-sim", "run", "--trace"]), ["--trace-gc", "--trace-gc-nvp"]);
    assert_eq!(bash_completes(&["gc-sim", "plot", "r.json", "--chart", "he"]), ["heap", "heapmap"]);
    assert_eq!(bash_completes(&["gc-sim", "completions", "z"]), ["zsh"]);
}

#[test]
fn a_closed_standard_output_is_not_a_panic() {
    let mut child =
        Command::new(BIN).args(["completions", "zsh"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty());
}

/// The README's install section gives the install command and the completions, and the licenses the crates declare
/// are in the repository.
#[test]
fn the_readme_says_how_to_install_and_the_license_files_exist() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let install = readme.split("## Install\n").nth(1).expect("an install section").split("\n## ").next().unwrap();
    assert!(install.contains("cargo install --path cli --locked"), "{install}");
    assert!(install.contains("gc-sim completions bash"), "{install}");
    let workspace = std::fs::read_to_string(format!("{root}/Cargo.toml")).unwrap();
    assert!(workspace.contains("license = \"MIT OR Apache-2.0\""));
    let mit = std::fs::read_to_string(format!("{root}/LICENSE-MIT")).unwrap();
    assert!(mit.starts_with("MIT License\n\nCopyright (c) the gc-sim developers\n"), "{mit}");
    let apache = std::fs::read_to_string(format!("{root}/LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
    assert!(readme.contains("(LICENSE-APACHE)") && readme.contains("(LICENSE-MIT)"));
}
