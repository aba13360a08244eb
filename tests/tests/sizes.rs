//! Files and functions sized for reading (issue 17): no production file over ~400 lines
//! and no function over ~80 unless its doc says why, in a line that begins `Long because`
//! (`//! Long because` for a file). Tests, test support and generated code are not
//! counted; a file's lines stop at its `#[cfg(test)]` module.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// "~400" and "~80": the first count that needs a reason.
const FILE_LINES: usize = 420;
const FUNCTION_LINES: usize = 90;

const CRATES: &[&str] = &["reconciler", "proxy", "schemas", "support"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The production source files under `src`: not `*_tests.rs`, `tests.rs`, generated code,
/// or a module its parent declares under `#[cfg(test)]`.
fn production_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let test_modules = test_modules(&folder);
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if test_modules.contains(&stem) || stem == "generated" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !stem.ends_with("_tests")
                && stem != "tests"
                && stem != "test_support"
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Modules declared `#[cfg(test)] mod name;` by the module files of `folder`.
fn test_modules(folder: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for parent in ["mod.rs", "lib.rs"] {
        let Ok(text) = std::fs::read_to_string(folder.join(parent)) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (index, line) in lines.iter().enumerate() {
            if *line != "#[cfg(test)]" {
                continue;
            }
            let declaration = lines[index + 1..]
                .iter()
                .find(|line| !line.starts_with("#["))
                .copied()
                .unwrap_or_default();
            if let Some(name) = declaration
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'))
            {
                names.insert(name.to_string());
            }
        }
    }
    names
}

/// The lines before the file's test module.
fn production_lines(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|line| !line.starts_with("#[cfg(test)]"))
        .collect()
}

/// (name, first line, length) of every function that starts a line, closed by the first
/// `}` at its own indentation.
fn functions(lines: &[&str]) -> Vec<(String, usize, usize)> {
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let signature = [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "async ",
            "const ",
            "unsafe ",
        ]
        .iter()
        // In the order Rust writes them: `pub(crate) async unsafe fn`.
        .fold(trimmed, |text, prefix| text.trim_start_matches(prefix));
        let Some(rest) = signature.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // A declaration without a body (a trait's) ends at `;` before any `{`.
        let opens = lines[start..]
            .iter()
            .find(|line| line.contains('{') || line.trim_end().ends_with(';'));
        if opens.is_none_or(|line| !line.contains('{')) {
            continue;
        }
        let closing = format!("{}}}", " ".repeat(indent));
        let Some(length) = lines[start..]
            .iter()
            .position(|line| line.trim_end() == closing)
            .map(|end| end + 1)
        else {
            continue;
        };
        found.push((name, start, length));
    }
    found
}

/// Whether the comment lines right above `start` give a reason.
fn reason_above(lines: &[&str], start: usize) -> bool {
    lines[..start]
        .iter()
        .rev()
        .take_while(|line| {
            let line = line.trim_start();
            line.starts_with("///") || line.starts_with("//") || line.starts_with("#[")
        })
        .any(|line| line.contains("Long because"))
}

/// The problems found, and how many functions were looked at.
fn oversized(crate_folder: &str) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut seen = 0;
    for file in production_files(&workspace().join(crate_folder).join("src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = production_lines(&text);
        let shown = file
            .strip_prefix(workspace())
            .unwrap_or(&file)
            .display()
            .to_string();
        if lines.len() > FILE_LINES && !text.contains("//! Long because") {
            problems.push(format!(
                "{shown}: {} lines; split it by responsibility, or say why at its top (`//! Long because …`)",
                lines.len()
            ));
        }
        let found = functions(&lines);
        seen += found.len();
        for (name, start, length) in found {
            if length > FUNCTION_LINES && !reason_above(&lines, start) {
                problems.push(format!(
                    "{shown}:{}: fn {name} is {length} lines; split it, or say why in its doc (`/// Long because …`)",
                    start + 1
                ));
            }
        }
    }
    (problems, seen)
}

#[test]
fn production_files_and_functions_are_sized_for_reading_or_say_why() {
    let mut problems = Vec::new();
    let mut seen = 0;
    for crate_folder in CRATES {
        let (found, functions) = oversized(crate_folder);
        problems.extend(found);
        seen += functions;
    }
    assert!(
        seen > 500,
        "only {seen} functions found: is the scan looking in the right place?"
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn an_oversized_function_without_a_reason_is_found() {
    let body = "    let x = 1;\n".repeat(FUNCTION_LINES + 5);
    let text = format!(
        "/// Does a thing.\nfn big() {{\n{body}}}\n\n/// Long because it is a table.\nfn table() {{\n{body}}}\n"
    );
    let lines = production_lines(&text);
    let found = functions(&lines);
    assert_eq!(found.len(), 2, "{found:?}");
    let (_, start, length) = &found[0];
    assert!(*length > FUNCTION_LINES);
    assert!(!reason_above(&lines, *start));
    assert!(reason_above(&lines, found[1].1));
}
