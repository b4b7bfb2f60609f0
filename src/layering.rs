//! A check of the crate's layering (tests only): no import cycle among the top-level modules of
//! `src/`, nor among the modules of `src/stack/`. It reads the sources' `crate::…` and
//! `super::…` paths (outside `#[cfg(test)]` modules, which may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules directly in `dir`, each with its files (a folder module with all files below it).
fn modules(dir: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let path = entry.path();
        let name = path.file_stem().expect("a file name").to_string_lossy().into_owned();
        if path.is_dir() {
            modules.entry(name).or_default().extend(files_below(&path));
        } else if path.extension().is_some_and(|e| e == "rs") && !["lib", "main", "mod"].contains(&name.as_str()) {
            modules.entry(name).or_default().push(path);
        }
    }
    modules
}

fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_below(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The names that follow `prefix` in `text`, braced groups (`prefix{a, b::c}`) included.
fn named_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let name =
        |item: &str| -> String { item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    for rest in text.split(prefix).skip(1) {
        match rest.strip_prefix('{') {
            Some(group) => names.extend(group.split('}').next().unwrap_or_default().split(',').map(name)),
            None => {
                names.insert(name(rest));
            }
        }
    }
    names
}

/// Module → the sibling modules it imports, through the `prefixes` given.
fn imports(dir: &Path, prefixes: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules(dir);
    let mut graph = BTreeMap::new();
    for (name, files) in &modules {
        let mut used = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(file).expect("a source file is readable");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: String =
                code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            let direct = file.parent() == Some(dir);
            for prefix in prefixes.iter().filter(|p| direct || !p.starts_with("super")) {
                used.extend(named_after(&code, prefix).into_iter().filter(|m| m != name && modules.contains_key(m)));
            }
        }
        graph.insert(name.clone(), used);
    }
    graph
}

/// A cycle of `graph`, if it has one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            return Some(path[start..].iter().cloned().chain([node.to_string()]).collect());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_top_level_module_imports_one_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert_eq!(cycle(&imports(&src, &["crate::"])), None);
}

#[test]
fn no_module_of_stack_imports_one_that_imports_it_back() {
    let stack = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/stack");
    assert_eq!(cycle(&imports(&stack, &["crate::stack::", "super::"])), None);
}

#[test]
fn a_cycle_is_found() {
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(cycle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert_eq!(cycle(&BTreeMap::from([("a".to_string(), BTreeSet::new())])), None);
}
