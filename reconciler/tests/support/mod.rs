//! Shared helpers of the validation tests: config trees built in code, run through the
//! public pipeline (`load_files` → `validate`), and assertions that read like the report
//! a user gets (file, line, message).

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use meshcd::diagnostics::{Diagnostic, Severity};
use meshcd::load::{self, Loaded};
use meshcd::model::Config;
use meshcd::validate::{self, Validated};

/// The namespace most trees put their objects in.
pub const NAMESPACE: &str = "shop";

/// A config tree held in memory: (path, text) pairs, texts dedented so that tests can
/// indent their YAML with the code.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    files: Vec<(PathBuf, String)>,
}

impl Tree {
    /// A tree that onboards [`NAMESPACE`] in `namespaces/shop.yaml`.
    pub fn new() -> Self {
        Tree::empty().namespace(NAMESPACE)
    }

    /// A tree without any file.
    pub fn empty() -> Self {
        Tree::default()
    }

    /// Onboards a namespace with its own file `namespaces/<name>.yaml`.
    pub fn namespace(self, name: &str) -> Self {
        self.file(
            &format!("namespaces/{name}.yaml"),
            &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"),
        )
    }

    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.push((PathBuf::from(path), dedent(text)));
        self
    }

    /// The text of a file as the pipeline sees it (dedented).
    pub fn text(&self, path: &str) -> &str {
        self.files
            .iter()
            .find(|(file, _)| file == Path::new(path))
            .map(|(_, text)| text.as_str())
            .unwrap_or_else(|| panic!("the tree has no file {path}"))
    }

    /// The 1-based line of `path` on which `needle` first appears.
    pub fn line_of(&self, path: &str, needle: &str) -> usize {
        line_of(self.text(path), needle)
    }

    pub fn load(&self) -> Loaded {
        load::load_files(self.files.clone())
    }

    pub fn validate(&self) -> Validated {
        validate::validate(&self.load())
    }

    /// Writes the tree under `root`, for tests of the binary.
    pub fn write_to(&self, root: &Path) {
        for (path, text) in &self.files {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().expect("files live in a folder"))
                .expect("create folder");
            std::fs::write(full, text).expect("write file");
        }
    }

    /// Asserts that validation fails with an error in `path` on the line where `needle`
    /// is written, whose message contains `fragment`; and that no config comes out.
    pub fn expect_error(&self, path: &str, needle: &str, fragment: &str) -> Diagnostic {
        let line = self.line_of(path, needle);
        let validated = self.validate();
        let found = validated
            .diagnostics
            .errors()
            .find(|d| d.file == Path::new(path) && d.line == line && d.message.contains(fragment))
            .cloned();
        let Some(diagnostic) = found else {
            panic!(
                "expected an error at {path}:{line} (`{}`) containing {fragment:?}; got:\n{}",
                needle.trim(),
                describe(&validated)
            );
        };
        assert!(
            validated.config.is_none(),
            "an invalid tree must yield no config, so nothing of it is applied"
        );
        diagnostic
    }

    /// Asserts that the tree validates, and returns its config.
    pub fn expect_valid(&self) -> Config {
        let validated = self.validate();
        match validated.config {
            Some(config) if !validated.diagnostics.has_errors() => config,
            _ => panic!("expected a valid tree; got:\n{}", describe(&validated)),
        }
    }
}

/// The 1-based line of `text` on which `needle` first appears.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .map(|index| index + 1)
        .unwrap_or_else(|| panic!("{needle:?} is not in:\n{text}"))
}

/// Removes the indentation common to every non-blank line, and a leading newline.
pub fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(
            line.get(indent..)
                .unwrap_or_else(|| line.trim_start_matches(' ')),
        );
        out.push('\n');
    }
    out
}

/// Every diagnostic, one per line, for assertion messages.
pub fn describe(validated: &Validated) -> String {
    let mut out = String::new();
    for d in validated.diagnostics.iter() {
        out.push_str(&format!(
            "  {} {}:{}:{} {}{}\n",
            d.severity,
            d.file.display(),
            d.line,
            d.column,
            d.message,
            d.hint
                .as_deref()
                .map(|hint| format!(" (hint: {hint})"))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!(
        "  config produced: {}\n",
        validated.config.is_some()
    ));
    out
}

/// The diagnostics of one severity.
pub fn of_severity(validated: &Validated, severity: Severity) -> Vec<&Diagnostic> {
    validated
        .diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .collect()
}

/// The examples repository shipped with the project.
pub fn examples_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-repo")
}
