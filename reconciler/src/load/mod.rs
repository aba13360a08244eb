//! Reads a config tree into YAML documents that remember their file and position.
//!
//! Every `*.yaml` / `*.yml` file under the root is read; dot-folders and paths listed in
//! a `.meshcdignore` (gitignore syntax) are skipped. Loading never fails on bad content:
//! a file that does not parse becomes a diagnostic and the others still load.

pub mod yaml;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use yaml::{Node, Position};

/// The ignore file honoured in a config tree.
pub const IGNORE_FILE: &str = ".meshcdignore";

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("config path {0} does not exist")]
    Missing(PathBuf),
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("walking {path}")]
    Walk {
        path: PathBuf,
        #[source]
        source: ignore::Error,
    },
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Relative to the loaded root.
    pub path: PathBuf,
    pub text: String,
}

/// One non-empty YAML document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Index into `Loaded::files`.
    pub file: usize,
    /// Index of the document within its file's stream.
    pub index: usize,
    pub position: Position,
    /// The document as compact JSON text. A parsed `serde_json::Value` takes about fifteen
    /// times the bytes of its YAML (a B-tree node per mapping), so a tree of tens of
    /// thousands of objects keeps text and each user parses what it needs, when it needs it.
    json: Box<str>,
}

impl Document {
    /// The document as a JSON value, parsed anew on each call.
    pub fn value(&self) -> serde_json::Value {
        // The text was written by `serde_json` from a tree no deeper than `yaml::MAX_DEPTH`,
        // which is within its parser's recursion limit, so this does not fail.
        serde_json::from_str(&self.json).unwrap_or_default()
    }
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub files: Vec<SourceFile>,
    pub documents: Vec<Document>,
    pub diagnostics: Diagnostics,
    trees: RefCell<HashMap<usize, Vec<Node>>>,
}

impl Loaded {
    pub fn path(&self, file: usize) -> &Path {
        &self.files[file].path
    }

    /// Where the field at `pointer` of a document is written. Files are parsed again on
    /// demand (only diagnostics need positions), so loading keeps no trees in memory.
    pub fn locate(&self, document: &Document, pointer: &str) -> Position {
        let mut trees = self.trees.borrow_mut();
        let nodes = trees.entry(document.file).or_insert_with(|| {
            yaml::parse_stream(&self.files[document.file].text).unwrap_or_default()
        });
        nodes
            .get(document.index)
            .map(|node| node.locate(pointer))
            .unwrap_or(document.position)
    }

    /// The text of a 1-based line of a loaded file, for diagnostic snippets.
    pub fn source_line(&self, path: &Path, line: usize) -> Option<String> {
        let file = self.files.iter().find(|file| file.path == path)?;
        file.text
            .lines()
            .nth(line.checked_sub(1)?)
            .map(str::to_string)
    }
}

/// Loads every config file under `root` (a directory or a single file).
pub fn load_path(root: &Path) -> Result<Loaded, LoadError> {
    if !root.exists() {
        return Err(LoadError::Missing(root.to_path_buf()));
    }
    let mut files = Vec::new();
    if root.is_file() {
        let text = read(root)?;
        let name = root
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_else(|| root.to_path_buf());
        files.push((name, text));
    } else {
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .parents(false)
            .ignore(false)
            .git_ignore(false)
            .git_global(false)
            .git_exclude(false)
            .require_git(false)
            .add_custom_ignore_filename(IGNORE_FILE)
            .build();
        for entry in walker {
            let entry = entry.map_err(|source| LoadError::Walk {
                path: root.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            if !entry.file_type().is_some_and(|t| t.is_file()) || !is_yaml(path) {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap_or(path).to_path_buf();
            files.push((relative, read(path)?));
        }
    }
    Ok(load_files(files))
}

fn read(path: &Path) -> Result<String, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // Invalid UTF-8 is reported as a diagnostic by `load_files`, not as an I/O failure.
    Ok(String::from_utf8(bytes).unwrap_or_else(|error| not_utf8(error.as_bytes())))
}

/// What `load_files` reads as "not UTF-8": a marker with the first bad byte's line,
/// column and offset, then the text with bad bytes replaced (so the report can quote
/// the line).
fn not_utf8(bytes: &[u8]) -> String {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(error) => error.valid_up_to(),
    };
    let before = &bytes[..valid];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    format!(
        "\u{0}{line}:{column}:{valid}\u{0}{}",
        String::from_utf8_lossy(bytes)
    )
}

/// The marker `not_utf8` wrote: line, column, byte offset, and the readable text.
fn parse_not_utf8(text: &str) -> Option<(usize, usize, usize, &str)> {
    let rest = text.strip_prefix('\u{0}')?;
    let (position, lossy) = rest.split_once('\u{0}')?;
    let mut parts = position
        .splitn(3, ':')
        .map(|part| part.parse::<usize>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??, lossy))
}

pub fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    )
}

/// Parses already-read files (from disk or from a Git tree). Pure.
pub fn load_files(mut files: Vec<(PathBuf, String)>) -> Loaded {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut loaded = Loaded::default();
    for (file_index, (path, text)) in files.into_iter().enumerate() {
        if let Some((line, column, byte, lossy)) = parse_not_utf8(&text) {
            loaded.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                file: path.clone(),
                line,
                column,
                object: None,
                message: format!("file is not UTF-8 text: an invalid byte at offset {byte}"),
                hint: Some("save the file as UTF-8 (YAML files are UTF-8)".into()),
            });
            let lossy = lossy.to_string();
            loaded.files.push(SourceFile { path, text: lossy });
            continue;
        } else {
            match yaml::parse_stream(&text) {
                Ok(nodes) => {
                    for (index, node) in nodes.iter().enumerate() {
                        if matches!(node.value, yaml::NodeValue::Null) {
                            continue;
                        }
                        loaded.documents.push(Document {
                            file: file_index,
                            index,
                            position: node.position,
                            json: node.to_json().to_string().into_boxed_str(),
                        });
                    }
                }
                Err(error) => loaded.diagnostics.push(Diagnostic {
                    severity: Severity::Error,
                    file: path.clone(),
                    line: error.position.line,
                    column: error.position.column,
                    object: None,
                    message: format!("YAML syntax error: {}", error.message),
                    hint: error.message.contains("tab").then(|| {
                        "YAML indents with spaces: replace the tab on this line with spaces".into()
                    }),
                }),
            }
        }
        loaded.files.push(SourceFile { path, text });
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    #[test]
    fn dot_folders_ignored_paths_and_other_extensions_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.yaml", "kind: A\n---\nkind: B\n");
        write(dir.path(), "sub/c.yml", "kind: C\n");
        write(dir.path(), ".github/workflows/ci.yaml", "on: push\n");
        write(dir.path(), "drafts/d.yaml", "kind: D\n");
        write(dir.path(), "notes.txt", "kind: E\n");
        write(dir.path(), ".meshcdignore", "drafts/\n");
        let loaded = load_path(dir.path()).unwrap();
        let kinds: Vec<_> = loaded
            .documents
            .iter()
            .map(|d| d.value()["kind"].clone())
            .collect();
        assert_eq!(kinds, vec!["A", "B", "C"]);
        assert!(loaded.diagnostics.0.is_empty());
    }

    #[test]
    fn a_broken_file_does_not_hide_the_others() {
        let loaded = load_files(vec![
            ("bad.yaml".into(), "a: [\n".into()),
            ("good.yaml".into(), "kind: A\n".into()),
        ]);
        assert_eq!(loaded.documents.len(), 1);
        assert_eq!(loaded.diagnostics.0.len(), 1);
        assert_eq!(loaded.diagnostics.0[0].file, PathBuf::from("bad.yaml"));
    }
}
