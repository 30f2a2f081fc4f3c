//! The layout of `src/` as the README describes it, checked on the source text, so that a
//! change that tangles it fails here rather than in a reviewer's reading:
//! - the modules of the crate import each other without a circle;
//! - nothing outside `api` (and the binary) names axum, tower or hyper: HTTP stays on top;
//! - in `api`, the HTTP layer (`api::http`) imports no resource module, resource modules import
//!   the HTTP layer and never each other, and only the router (`api/mod.rs`), the landing page
//!   and the OpenAPI document know several resources.
//!
//! Imports are read from `crate::a::...`, `super::...` and `use` paths outside comments and
//! outside test modules (`#[cfg(test)]` blocks and `tests.rs` files).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            // `tests.rs` files are test modules (`#[cfg(test)] mod tests;`): not part of the
            // layout.
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every identifier that follows `prefix` (`crate::analysis` -> `analysis`).
fn names_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    code.match_indices(prefix)
        .map(|(i, _)| {
            let rest = &code[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// A circle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file of `src/` belongs to (`analysis/nearest.rs` -> `analysis`).
fn top_module(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn the_crate_modules_import_each_other_without_a_circle() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = top_module(file);
        if from == "lib" || from == "main" {
            continue;
        }
        let code = code(file);
        let entry = graph.entry(from.clone()).or_default();
        for to in names_after(&code, "crate::") {
            if to != from {
                entry.insert(to.to_string());
            }
        }
    }
    assert!(graph.len() > 10, "{graph:?}");
    assert_eq!(find_cycle(&graph), None, "{graph:#?}");
}

#[test]
fn nothing_below_the_api_knows_http() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut checked = 0;
    for file in &files {
        let top = top_module(file);
        if top == "api" || top == "main" {
            continue;
        }
        let code = code(file);
        for word in ["axum", "tower", "hyper"] {
            assert!(
                !code.contains(&format!("{word}::")),
                "{} uses {word}",
                file.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 30, "only {checked} files read");
}

/// The api module a file belongs to: `http` for the HTTP layer, the file name for a resource,
/// `mod` for the router.
fn api_module(file: &Path) -> String {
    let rel = file.strip_prefix(src().join("api")).unwrap();
    let mut parts = rel.components();
    let first = parts.next().unwrap().as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn resource_modules_are_leaves_over_one_http_layer() {
    let mut files = Vec::new();
    rust_files(&src().join("api"), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| api_module(f)).collect();
    assert!(modules.contains("http"), "{modules:?}");
    // The router, the landing page and the API document are the only ones that know several
    // resources.
    let aggregators = ["mod", "landing", "openapi"];
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = api_module(file);
        let code = code(file);
        let in_http = from == "http";
        let mut imports: Vec<String> = names_after(&code, "crate::api::")
            .into_iter()
            .map(str::to_string)
            .collect();
        if in_http {
            // Inside http/, `super::x` is a sibling of the layer; `super::super::x` would be a
            // resource.
            imports.extend(
                names_after(&code, "super::super::")
                    .into_iter()
                    .map(str::to_string),
            );
        } else if from != "mod" {
            imports.extend(
                names_after(&code, "super::")
                    .into_iter()
                    .map(str::to_string),
            );
        } else {
            imports.extend(
                code.lines()
                    .filter_map(|l| l.trim().strip_prefix("mod "))
                    .chain(
                        code.lines()
                            .filter_map(|l| l.trim().strip_prefix("pub mod ")),
                    )
                    .map(|m| m.trim_end_matches(';').to_string()),
            );
        }
        let imports: BTreeSet<String> = imports
            .into_iter()
            .filter(|m| modules.contains(m) && *m != from)
            .collect();
        if in_http {
            assert!(
                imports.is_empty(),
                "{} (HTTP layer) imports resources {imports:?}",
                file.display()
            );
        } else if !aggregators.contains(&from.as_str()) {
            let others: Vec<&String> = imports.iter().filter(|m| *m != "http").collect();
            assert!(
                others.is_empty(),
                "resource module {} imports other resources {others:?}",
                file.display()
            );
            assert!(
                imports.contains("http"),
                "resource module {} does not use the HTTP layer",
                file.display()
            );
        }
        graph.entry(from).or_default().extend(imports);
    }
    assert_eq!(find_cycle(&graph), None, "{graph:#?}");
    // The router knows every resource.
    assert!(graph["mod"].len() >= 8, "{:?}", graph["mod"]);
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn the_modules_of_the_http_layer_import_each_other_without_a_circle() {
    let mut files = Vec::new();
    rust_files(&src().join("api/http"), &mut files);
    let name = |f: &Path| {
        f.file_stem()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string()
    };
    let modules: BTreeSet<String> = files.iter().map(|f| name(f)).collect();
    assert!(
        modules.contains("query") && modules.contains("param"),
        "{modules:?}"
    );
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = name(file);
        if from == "mod" {
            continue;
        }
        let code = code(file);
        let imports: BTreeSet<String> = names_after(&code, "super::")
            .into_iter()
            .filter(|m| modules.contains(*m) && *m != from && *m != "mod")
            .map(str::to_string)
            .collect();
        graph.entry(from).or_default().extend(imports);
    }
    assert_eq!(find_cycle(&graph), None, "{graph:#?}");
}
