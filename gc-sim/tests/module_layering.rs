//! The library's modules form no cycle: every module (one per source file) uses only modules below it.
//!
//! A module "uses" another when its code (comments and its `#[cfg(test)] mod tests` left out) names a path into it:
//! `crate::a::b::Item`, `super::Item`, `self::child::Item` or `child::Item` for a declared child, and items the crate
//! root re-exports (`crate::Heap`) count as uses of the module that defines them. Declaring a child (`mod x;`) is
//! not a use. A cycle is reported with its modules in order, so that the fix is plain to see.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `lib.rs` -> "crate", `a/mod.rs` -> "crate::a", `a/b.rs` -> "crate::a::b".
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    std::iter::once("crate".to_owned()).chain(parts).collect::<Vec<_>>().join("::")
}

/// The code of a file without comments, string literals and its unit-test module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut code = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        code.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut previous = ' ';
                for c in chars.by_ref() {
                    if previous == '*' && c == '/' {
                        break;
                    }
                    previous = c;
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                code.push_str("\"\"");
            }
            _ => code.push(c),
        }
    }
    code
}

/// Every path of the form `start::seg::seg...` in `code`, with `{a, b::c}` groups expanded one level.
fn paths_from(code: &str, start: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(found) = code[from..].find(start) {
        let at = from + found;
        from = at + start.len();
        let boundary = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        if !boundary || !code[from..].starts_with("::") {
            continue;
        }
        let mut segments = Vec::new();
        let mut rest = &code[from..];
        while let Some(after) = rest.strip_prefix("::") {
            let after = after.trim_start();
            if let Some(group) = after.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let mut path = segments.clone();
                    path.extend(item.split("::").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
                    paths.push(path);
                }
                segments.clear();
                break;
            }
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            if len == 0 {
                break;
            }
            segments.push(after[..len].to_owned());
            rest = &after[len..];
        }
        if !segments.is_empty() {
            paths.push(segments);
        }
    }
    paths
}

/// The module a path names (its longest prefix that is a module), or, for an item re-exported by the crate root,
/// the module that defines it.
fn resolve(path: &[String], modules: &BTreeSet<String>, root_exports: &BTreeMap<String, String>) -> Option<String> {
    let mut best = None;
    let mut name = "crate".to_owned();
    for segment in path {
        name = format!("{name}::{segment}");
        if modules.contains(&name) {
            best = Some(name.clone());
        }
    }
    best.or_else(|| path.first().and_then(|item| root_exports.get(item).cloned()))
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let codes: BTreeMap<String, String> =
        files.iter().map(|f| (module_of(&src, f), code_of(&std::fs::read_to_string(f).unwrap()))).collect();

    // `pub use a::b::{X, Y};` in lib.rs: X and Y are defined in crate::a::b.
    let mut root_exports = BTreeMap::new();
    for statement in codes["crate"].split(';') {
        let Some(used) = statement.trim().strip_prefix("pub use ") else { continue };
        for path in paths_from(&format!("crate::{used}"), "crate") {
            if let (Some(item), Some(module)) = (path.last(), resolve(&path, &modules, &BTreeMap::new())) {
                root_exports.insert(item.clone(), module);
            }
        }
    }

    let mut graph = Graph::new();
    for (module, code) in &codes {
        let mut uses = BTreeSet::new();
        let parent = module.rsplit_once("::").map(|(p, _)| p.to_owned());
        let mut paths: Vec<Vec<String>> = paths_from(code, "crate");
        if let Some(parent) = &parent {
            for path in paths_from(code, "super") {
                let mut full: Vec<String> = parent.split("::").skip(1).map(str::to_owned).collect();
                full.extend(path);
                paths.push(full);
            }
        }
        // `self::child::X`, and `child::X` for a child declared with `mod child;`.
        let children: Vec<&String> =
            modules.iter().filter(|m| m.rsplit_once("::").is_some_and(|(p, _)| p == module)).collect();
        for child in children {
            let name = child.rsplit_once("::").unwrap().1;
            for path in paths_from(code, name).into_iter().chain(paths_from(code, "self")) {
                let mut full: Vec<String> = module.split("::").skip(1).map(str::to_owned).collect();
                if path.first().map(String::as_str) != Some(name) {
                    full.push(name.to_owned());
                }
                full.extend(path);
                paths.push(full);
            }
        }
        for path in paths {
            if let Some(target) = resolve(&path, &modules, &root_exports) {
                if &target != module && target != "crate" {
                    uses.insert(target);
                }
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

/// A cycle of the graph, if it has one (iterative depth-first search).
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnStack,
        Done,
    }
    let mut state: BTreeMap<&String, State> = graph.keys().map(|k| (k, State::New)).collect();
    for start in graph.keys() {
        if state[start] != State::New {
            continue;
        }
        let mut stack: Vec<(&String, Vec<&String>)> = vec![(start, graph[start].iter().collect())];
        state.insert(start, State::OnStack);
        while let Some((node, pending)) = stack.last_mut() {
            let node = *node;
            match pending.pop() {
                Some(next) => match state.get(next).copied().unwrap_or(State::Done) {
                    State::New => {
                        state.insert(next, State::OnStack);
                        stack.push((next, graph[next].iter().collect()));
                    }
                    State::OnStack => {
                        let from = stack.iter().position(|(n, _)| *n == next).unwrap();
                        let mut cycle: Vec<String> = stack[from..].iter().map(|(n, _)| (*n).clone()).collect();
                        cycle.push(next.clone());
                        return Some(cycle);
                    }
                    State::Done => {}
                },
                None => {
                    state.insert(node, State::Done);
                    stack.pop();
                }
            }
        }
    }
    None
}

#[test]
fn the_library_has_no_module_cycle() {
    let graph = graph();
    assert!(graph.len() > 20, "the source files were found: {:?}", graph.keys());
    // Every cycle, each reported once: after a cycle is found, its closing edge is set aside and the search goes on.
    let mut graph = graph;
    let mut cycles = Vec::new();
    while let Some(cycle) = find_cycle(&graph) {
        let (from, to) = (&cycle[cycle.len() - 2], &cycle[cycle.len() - 1]);
        graph.get_mut(from).expect("a node of the graph").remove(to);
        cycles.push(cycle.join(" -> "));
    }
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_sees_uses_and_cycles() {
    let graph = graph();
    assert!(graph["crate::replay"].contains("crate::heap"), "crate::heap::Heap is a use: {:?}", graph["crate::replay"]);
    let mut cyclic = Graph::new();
    cyclic.insert("a".into(), ["b".into()].into());
    cyclic.insert("b".into(), ["c".into()].into());
    cyclic.insert("c".into(), ["a".into()].into());
    assert_eq!(find_cycle(&cyclic).unwrap().len(), 4);
    cyclic.insert("c".into(), BTreeSet::new());
    assert_eq!(find_cycle(&cyclic), None);
    let code = code_of("use crate::x::{y::Z, W}; // crate::q::R\nlet s = \"crate::s::T\";");
    let paths = paths_from(&code, "crate");
    assert_eq!(paths, vec![vec!["x", "y", "Z"], vec!["x", "W"]]);
}
