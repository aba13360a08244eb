//! Parses YAML into trees that remember where every node came from.
//!
//! `serde_yaml` positions only syntax errors; diagnostics must point at the offending
//! field, so documents are built from `yaml-rust2` events, each node keeping its line and
//! column, and turned into JSON values for the schema and the typed model.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    fn from_marker(marker: &Marker) -> Self {
        Position {
            line: marker.line().max(1),
            column: marker.col() + 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Sequence(Vec<Node>),
    /// Entries in file order; the key keeps its own position.
    Mapping(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub position: Position,
}

/// A syntax error, or a structural problem the YAML parser lets through (duplicate keys).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub message: String,
    pub position: Position,
}

/// Deeper nesting is refused: no config comes close, and building, converting and
/// dropping trees recurse once per level, so an unbounded depth would overflow the stack.
/// Documents are kept as JSON text, and `serde_json` parses at most 128 levels.
pub const MAX_DEPTH: usize = 100;

/// Nodes that aliases may add to one file. Each alias copies its anchor's tree, so a few
/// lines of nested aliases ("billion laughs") would otherwise expand beyond any memory.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// Every document of a YAML stream, in order. Empty documents are kept as `Null` nodes so
/// that document indexes stay stable.
pub fn parse_stream(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut builder = TreeBuilder::default();
    let mut parser = Parser::new_from_str(text);
    // Pulled event by event rather than with `Parser::load`, which recurses once per
    // nesting level and would overflow the stack before the depth limit could apply.
    loop {
        let (event, marker) = parser.next_token().map_err(|error| SyntaxError {
            message: error.info().to_string(),
            position: Position::from_marker(error.marker()),
        })?;
        let end = event == Event::StreamEnd;
        builder.on_event(event, marker);
        if let Some(error) = builder.error.take() {
            return Err(error);
        }
        if end {
            return Ok(builder.documents);
        }
    }
}

#[derive(Default)]
struct TreeBuilder {
    documents: Vec<Node>,
    /// Open collections: the node being filled and, for mappings, a pending key.
    stack: Vec<(Node, Option<Node>)>,
    /// Complete anchored nodes of the current document, with their size in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes added by aliases so far in this stream.
    alias_nodes: usize,
    /// Anchor ids of the open collections, to register them once complete.
    open_anchors: Vec<usize>,
    error: Option<SyntaxError>,
}

impl TreeBuilder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some((parent, pending_key)) => match &mut parent.value {
                NodeValue::Sequence(items) => items.push(node),
                NodeValue::Mapping(entries) => match pending_key.take() {
                    None => {
                        // A block mapping's start event is marked after its first key:
                        // the mapping starts where that key does.
                        if entries.is_empty() && node.position < parent.position {
                            parent.position = node.position;
                        }
                        *pending_key = Some(node);
                    }
                    Some(key) => {
                        let duplicate = entries.iter().any(|(existing, _)| {
                            scalar_text(existing).is_some()
                                && scalar_text(existing) == scalar_text(&key)
                        });
                        if duplicate && self.error.is_none() {
                            self.error = Some(SyntaxError {
                                message: format!(
                                    "duplicate key `{}` in a mapping",
                                    scalar_text(&key).unwrap_or_default()
                                ),
                                position: key.position,
                            });
                        }
                        entries.push((key, node));
                    }
                },
                _ => unreachable!("only collections are pushed on the stack"),
            },
        }
    }
}

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, event: Event, marker: Marker) {
        let position = Position::from_marker(&marker);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(text, style, tag.as_ref().map(|t| t.suffix.as_str()));
                let node = Node { value, position };
                if anchor > 0 {
                    self.anchors.insert(anchor, (node.clone(), 1));
                }
                self.push_value(node);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.stack.len() >= MAX_DEPTH => {
                self.error = Some(SyntaxError {
                    message: format!("nesting is deeper than {MAX_DEPTH} levels"),
                    position,
                });
            }
            Event::SequenceStart(anchor, _) => {
                self.open_anchors.push(anchor);
                self.stack.push((
                    Node {
                        value: NodeValue::Sequence(Vec::new()),
                        position,
                    },
                    None,
                ));
            }
            Event::MappingStart(anchor, _) => {
                self.open_anchors.push(anchor);
                self.stack.push((
                    Node {
                        value: NodeValue::Mapping(Vec::new()),
                        position,
                    },
                    None,
                ));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    let anchor = self.open_anchors.pop().unwrap_or(0);
                    if anchor > 0 {
                        self.anchors.insert(anchor, (node.clone(), node.size()));
                    }
                    self.push_value(node);
                }
            }
            Event::Alias(anchor) => {
                let Some((node, size)) = self.anchors.get(&anchor) else {
                    // The parser resolves anchor names across documents; YAML does not.
                    self.error = Some(SyntaxError {
                        message: "alias to an anchor of another document".into(),
                        position,
                    });
                    return;
                };
                self.alias_nodes += size;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    self.error = Some(SyntaxError {
                        message: format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                        position,
                    });
                    return;
                }
                let node = node.clone();
                self.push_value(node);
            }
            Event::DocumentStart => {
                self.stack.clear();
                self.open_anchors.clear();
                self.anchors.clear();
            }
            Event::DocumentEnd | Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
}

fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        NodeValue::String(text) => Some(text.clone()),
        NodeValue::Int(number) => Some(number.to_string()),
        NodeValue::Float(number) => Some(number.to_string()),
        NodeValue::Bool(flag) => Some(flag.to_string()),
        NodeValue::Null => Some("null".to_string()),
        _ => None,
    }
}

/// YAML 1.2 core schema resolution for plain scalars; quoted scalars are strings.
fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&str>) -> NodeValue {
    if style != TScalarStyle::Plain || tag == Some("str") {
        return NodeValue::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeValue::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeValue::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeValue::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(number) = i64::from_str_radix(hex, 16)
    {
        return NodeValue::Int(number);
    }
    if let Some(octal) = text.strip_prefix("0o")
        && let Ok(number) = i64::from_str_radix(octal, 8)
    {
        return NodeValue::Int(number);
    }
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric {
        if let Ok(number) = text.parse::<i64>() {
            return NodeValue::Int(number);
        }
        if let Ok(number) = text.parse::<f64>() {
            return NodeValue::Float(number);
        }
    }
    NodeValue::String(text)
}

impl Node {
    /// How many nodes this tree holds (mapping keys included).
    fn size(&self) -> usize {
        1 + match &self.value {
            NodeValue::Sequence(items) => items.iter().map(Node::size).sum(),
            NodeValue::Mapping(entries) => entries
                .iter()
                .map(|(key, value)| key.size() + value.size())
                .sum(),
            _ => 0,
        }
    }

    /// The JSON value of this node. Non-string keys become their text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(flag) => Value::Bool(*flag),
            NodeValue::Int(number) => Value::from(*number),
            NodeValue::Float(number) => serde_json::Number::from_f64(*number)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(number.to_string())),
            NodeValue::String(text) => Value::String(text.clone()),
            NodeValue::Sequence(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Mapping(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (scalar_text(key).unwrap_or_default(), value.to_json()))
                    .collect(),
            ),
        }
    }

    /// The node at a JSON pointer (the value, not its key).
    pub fn get(&self, pointer: &str) -> Option<&Node> {
        let mut node = self;
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            node = match &node.value {
                NodeValue::Mapping(entries) => entries
                    .iter()
                    .find(|(key, _)| scalar_text(key).as_deref() == Some(segment.as_str()))
                    .map(|(_, value)| value)?,
                NodeValue::Sequence(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The position of the key of a top-level mapping entry.
    pub fn key_position(&self, key: &str) -> Option<Position> {
        match &self.value {
            NodeValue::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| scalar_text(k).as_deref() == Some(key))
                .map(|(k, _)| k.position),
            _ => None,
        }
    }

    /// Where the value at a JSON pointer is written: a mapping entry points at its key.
    /// Falls back to the deepest existing ancestor, so a missing field points at the
    /// object that lacks it.
    pub fn locate(&self, pointer: &str) -> Position {
        let mut node = self;
        let mut position = self.position;
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            let next = match &node.value {
                NodeValue::Mapping(entries) => entries
                    .iter()
                    .find(|(key, _)| scalar_text(key).as_deref() == Some(segment.as_str()))
                    .map(|(key, value)| (key.position, value)),
                NodeValue::Sequence(items) => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|index| items.get(index))
                    .map(|item| (item.position, item)),
                _ => None,
            };
            match next {
                Some((found, child)) => {
                    position = found;
                    node = child;
                }
                None => break,
            }
        }
        position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_line_and_column() {
        let docs = parse_stream("a: 1\nb:\n  c: [x, y]\n---\nd: true\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].locate("/b/c"), Position { line: 3, column: 3 });
        assert_eq!(
            docs[0].locate("/b/c/1"),
            Position {
                line: 3,
                column: 10
            }
        );
        assert_eq!(docs[1].locate("/d"), Position { line: 5, column: 1 });
        assert_eq!(
            docs[0].to_json(),
            serde_json::json!({"a": 1, "b": {"c": ["x", "y"]}})
        );
    }

    #[test]
    fn missing_field_points_at_its_parent() {
        let docs = parse_stream("spec:\n  x: 1\n").unwrap();
        assert_eq!(
            docs[0].locate("/spec/nope"),
            Position { line: 1, column: 1 }
        );
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let docs = parse_stream("a: '10'\nb: 10\nc: 1.5\nd: 500m\n").unwrap();
        assert_eq!(
            docs[0].to_json(),
            serde_json::json!({"a": "10", "b": 10, "c": 1.5, "d": "500m"})
        );
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let error = parse_stream("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(error.position.line >= 1, "{error:?}");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let error = parse_stream("a: 1\na: 2\n").unwrap_err();
        assert_eq!(error.position.line, 2);
        assert!(error.message.contains("duplicate key `a`"));
    }

    #[test]
    fn anchors_and_aliases_resolve() {
        let docs = parse_stream("x: &v [1]\ny: *v\n").unwrap();
        assert_eq!(docs[0].to_json(), serde_json::json!({"x": [1], "y": [1]}));
    }
}
