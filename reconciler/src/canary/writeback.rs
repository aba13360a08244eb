//! Writes a rollout's outcome to the config repository: the TrafficSplit's weights and
//! the Canary's `status`, edited in place so comments and layout survive, committed as
//! `meshcd`. Files with uncommitted changes are never touched.

use std::path::{Path, PathBuf};

use git2::{Repository, Signature, Status};

use crate::load::yaml::{Node, NodeValue, Position, parse_stream};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Git(String),
    #[error("reading or writing {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} has uncommitted changes; meshcd does not overwrite them")]
    Dirty { path: PathBuf },
    #[error("{path}: {message}")]
    Edit { path: PathBuf, message: String },
}

impl From<git2::Error> for WriteError {
    fn from(error: git2::Error) -> Self {
        WriteError::Git(error.message().to_string())
    }
}

/// One object to find in a file: kind, namespace and name.
pub struct ObjectRef<'a> {
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

fn find_document<'n>(documents: &'n [Node], object: &ObjectRef<'_>) -> Option<(usize, &'n Node)> {
    documents.iter().enumerate().find(|(_, node)| {
        let value = node.to_json();
        value["kind"] == object.kind
            && value.pointer("/metadata/name").and_then(|v| v.as_str()) == Some(object.name)
            && value
                .pointer("/metadata/namespace")
                .and_then(|v| v.as_str())
                == Some(object.namespace)
    })
}

/// Byte offset of a 1-based line and column.
fn offset(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 1..position.line {
        match text[line_start..].find('\n') {
            Some(end) => line_start += end + 1,
            None => return text.len(),
        }
    }
    let line = &text[line_start..];
    line_start
        + line
            .char_indices()
            .nth(position.column.saturating_sub(1))
            .map_or(line.len(), |(i, _)| i)
}

/// Sets `weight` of the named backends of a TrafficSplit, keeping everything else.
pub fn set_weights(
    text: &str,
    split: &ObjectRef<'_>,
    weights: &[(&str, u64)],
) -> Result<String, String> {
    let mut text = text.to_string();
    for (service, weight) in weights {
        let documents = parse_stream(&text).map_err(|e| e.message)?;
        let (_, document) = find_document(&documents, split)
            .ok_or("the TrafficSplit is not in this file any more")?;
        let backends = match document.get("/spec/backends").map(|n| &n.value) {
            Some(NodeValue::Sequence(items)) => items,
            _ => return Err("the TrafficSplit has no backends".into()),
        };
        let index = backends
            .iter()
            .position(|backend| {
                backend.get("/service").map(Node::to_json) == Some(serde_json::json!(service))
            })
            .ok_or_else(|| format!("backend {service:?} is not in the TrafficSplit"))?;
        let node = backends[index]
            .get("/weight")
            .ok_or_else(|| format!("backend {service:?} has no weight"))?;
        let start = offset(&text, node.position);
        let end = start
            + text[start..]
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | ']' | '#'))
                .unwrap_or(text.len() - start);
        text.replace_range(start..end, &weight.to_string());
    }
    Ok(text)
}

/// Replaces (or adds) the top-level `status` of a document with `status` (a mapping).
pub fn set_status(
    text: &str,
    object: &ObjectRef<'_>,
    status: &serde_json::Value,
) -> Result<String, String> {
    let documents = parse_stream(text).map_err(|e| e.message)?;
    let (_, document) =
        find_document(&documents, object).ok_or("the object is not in this file any more")?;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // The document ends at the next `---` / `...` line after its start, or at the end.
    let start_line = document.position.line;
    let end_line = lines
        .iter()
        .enumerate()
        .skip(start_line)
        .find(|(_, line)| line.starts_with("---") || line.starts_with("..."))
        .map_or(lines.len(), |(i, _)| i);
    let rendered = serde_yaml::to_string(&serde_json::json!({ "status": status }))
        .map_err(|e| e.to_string())?;
    let (from, to) = match document.key_position("status") {
        Some(position) => {
            let from = position.line - 1;
            // Up to the next top-level key of the document (a line starting in column 1).
            let to = lines
                .iter()
                .enumerate()
                .take(end_line)
                .skip(from + 1)
                .find(|(_, line)| {
                    line.chars()
                        .next()
                        .is_some_and(|c| !c.is_whitespace() && c != '#')
                })
                .map_or(end_line, |(i, _)| i);
            (from, to)
        }
        None => {
            // After the document's last non-blank line.
            let mut to = end_line;
            while to > start_line && lines[to - 1].trim().is_empty() {
                to -= 1;
            }
            (to, to)
        }
    };
    let mut out = String::new();
    for line in &lines[..from] {
        out.push_str(line);
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&rendered);
    for line in &lines[to..] {
        out.push_str(line);
    }
    Ok(out)
}

/// Turns a file's text into its edited text, or says why it cannot.
pub type Edit<'a> = Box<dyn Fn(&str) -> Result<String, String> + 'a>;

/// A file edit: path relative to the repository's working tree, and the edit to make.
pub struct FileEdit<'a> {
    pub path: PathBuf,
    pub edit: Edit<'a>,
}

/// Applies the edits to the working tree of a local repository and commits them as
/// meshcd on the checked-out branch. Returns the commit id.
pub fn commit(
    repository_path: &Path,
    edits: Vec<FileEdit<'_>>,
    message: &str,
) -> Result<String, WriteError> {
    let repository = Repository::open(repository_path)?;
    let workdir = repository
        .workdir()
        .ok_or_else(|| WriteError::Git("the repository is bare: nothing to edit in place".into()))?
        .to_path_buf();
    for edit in &edits {
        let status = repository.status_file(&edit.path)?;
        if status != Status::CURRENT {
            return Err(WriteError::Dirty {
                path: edit.path.clone(),
            });
        }
    }
    let mut index = repository.index()?;
    for edit in &edits {
        let full = workdir.join(&edit.path);
        let text = std::fs::read_to_string(&full).map_err(|source| WriteError::Io {
            path: full.clone(),
            source,
        })?;
        let edited = (edit.edit)(&text).map_err(|message| WriteError::Edit {
            path: edit.path.clone(),
            message,
        })?;
        std::fs::write(&full, edited).map_err(|source| WriteError::Io {
            path: full.clone(),
            source,
        })?;
        index.add_path(&edit.path)?;
    }
    index.write()?;
    let tree = repository.find_tree(index.write_tree()?)?;
    let signature = Signature::now("meshcd", "meshcd@localhost")?;
    let parent = repository.head()?.peel_to_commit()?;
    let id = repository.commit(
        Some("HEAD"),
        &signature,
        &signature,
        message,
        &tree,
        &[&parent],
    )?;
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPLIT: &str = "# the split\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  service: api\n  backends:\n  - service: api-v1\n    weight: 90   # stable\n  - {service: api-v2, weight: 10}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";

    fn split() -> ObjectRef<'static> {
        ObjectRef {
            kind: "TrafficSplit",
            namespace: "shop",
            name: "api",
        }
    }

    #[test]
    fn weights_change_in_place_and_comments_survive() {
        let edited = set_weights(SPLIT, &split(), &[("api-v1", 0), ("api-v2", 100)]).unwrap();
        assert!(edited.contains("    weight: 0   # stable\n"), "{edited}");
        assert!(
            edited.contains("- {service: api-v2, weight: 100}\n"),
            "{edited}"
        );
        assert!(edited.starts_with("# the split\n"));
        assert!(edited.ends_with("metadata: {name: shop}\n"));
    }

    #[test]
    fn status_is_added_then_replaced_within_its_document() {
        let status = serde_json::json!({"phase": "Promoted", "message": "ok"});
        let added = set_status(SPLIT, &split(), &status).unwrap();
        assert!(
            added.contains(" weight: 10}\nstatus:\n  message: ok\n  phase: Promoted\n---\n"),
            "{added}"
        );
        let replaced = set_status(
            &added,
            &split(),
            &serde_json::json!({"phase": "RolledBack"}),
        )
        .unwrap();
        assert!(
            replaced.contains("weight: 10}\nstatus:\n  phase: RolledBack\n---\n"),
            "{replaced}"
        );
        assert!(!replaced.contains("Promoted"));
    }
}
