//! `validate` never panics and stays fast, whatever a config file holds: arbitrary bytes,
//! YAML-like text, random documents built from meshcd's own vocabulary, and valid
//! objects with random edits. Every diagnostic it returns points into the file it names.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use meshcd::diagnostics::render::{self, Format};
use meshcd::load::load_files;
use meshcd::validate::validate;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::Deserialize as _;
use serde_json::{Map, Value};

/// Cases per property: enough to walk every branch of the small vocabulary, bounded so the
/// whole file runs in seconds in a debug build.
const CASES: u32 = 256;

/// No single small input may take longer than this (a guard against blow-ups such as
/// alias expansion or quadratic position lookups).
const CASE_DEADLINE: Duration = Duration::from_secs(2);

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        max_shrink_time: 30_000,
        // Regressions are kept as named tests here, not as files written into the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Runs the whole pipeline and every renderer on the files, checking its invariants.
fn check(files: Vec<(PathBuf, String)>) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let loaded = load_files(files.clone());
    let validated = validate(&loaded);
    let source_line = |path: &std::path::Path, line| loaded.source_line(path, line);
    for format in [Format::Text, Format::Github] {
        render::render(&validated.diagnostics, format, &source_line);
    }
    let json = render::render(&validated.diagnostics, Format::Json, &source_line);
    prop_assert!(
        serde_json::from_str::<Value>(&json).is_ok(),
        "JSON output parses: {json}"
    );
    let elapsed = started.elapsed();
    prop_assert!(elapsed < CASE_DEADLINE, "validation took {elapsed:?}");

    prop_assert_eq!(
        validated.config.is_some(),
        !validated.diagnostics.has_errors()
    );
    for diagnostic in validated.diagnostics.iter() {
        let Some((_, text)) = files.iter().find(|(path, _)| *path == diagnostic.file) else {
            return Err(TestCaseError::fail(format!(
                "{diagnostic:?} names a file that was not given"
            )));
        };
        // YAML breaks lines at LF, CRLF and a lone CR alike.
        let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
        prop_assert!(
            diagnostic.line >= 1 && diagnostic.column >= 1,
            "{diagnostic:?}"
        );
        prop_assert!(
            diagnostic.line <= lines + 1,
            "{diagnostic:?} is past the end of a {lines}-line file"
        );
    }
    Ok(())
}

/// Onboards `shop`, so that objects there reach the checks across documents.
fn namespace_file() -> (PathBuf, String) {
    (
        PathBuf::from("namespaces/shop.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n".into(),
    )
}

fn one_file(text: String) -> Vec<(PathBuf, String)> {
    vec![namespace_file(), (PathBuf::from("fuzz.yaml"), text)]
}

// ---------------------------------------------------------------- the vocabulary

const API_VERSIONS: &[&str] = &[
    "v1",
    "access.smi-spec.io/v1alpha1",
    "access.smi-spec.io/v1alpha2",
    "access.smi-spec.io/v1alpha3",
    "specs.smi-spec.io/v1alpha1",
    "specs.smi-spec.io/v1alpha2",
    "specs.smi-spec.io/v1alpha3",
    "specs.smi-spec.io/v1alpha4",
    "split.smi-spec.io/v1alpha1",
    "split.smi-spec.io/v1alpha2",
    "split.smi-spec.io/v1alpha3",
    "split.smi-spec.io/v1alpha4",
    "meshcd.dev/v1alpha1",
    "meshcd.dev/v1",
    "spec.smi-spec.io/v1alpha4",
    "apps/v1",
    "",
    "/",
    "a/b/c",
];

const KINDS: &[&str] = &[
    "Namespace",
    "TrafficTarget",
    "HTTPRouteGroup",
    "TCPRoute",
    "UDPRoute",
    "TrafficSplit",
    "Mesh",
    "Canary",
    "Deployment",
    "TrafficSpilt",
    "",
];

const KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "spec",
    "status",
    "destination",
    "sources",
    "rules",
    "specs",
    "matches",
    "pathRegex",
    "methods",
    "headers",
    "service",
    "backends",
    "weight",
    "ports",
    "port",
    "trafficSplit",
    "stable",
    "canary",
    "steps",
    "stepWeight",
    "maxWeight",
    "weights",
    "interval",
    "progressDeadline",
    "analysis",
    "successRate",
    "min",
    "latencyP99",
    "max",
    "minRequests",
    "failureThreshold",
    "trustDomain",
    "trafficPolicy",
    "mtls",
    "certificateLifetime",
    "canaryDefaults",
    "apiGroup",
    "labels",
    "user-agent",
];

const WORDS: &[&str] = &[
    "shop",
    "billing",
    "api",
    "api-v1",
    "api-v2",
    "api.shop",
    "api.other.svc",
    "api.shop.svc.cluster.local.",
    "frontend",
    "ServiceAccount",
    "HTTPRouteGroup",
    "TCPRoute",
    "UDPRoute",
    "api-routes",
    "everything",
    "GET",
    "*",
    "/api/.*",
    "(",
    "[a-",
    ".*Android.*",
    "30s",
    "500ms",
    "1h30m",
    "0s",
    "5d",
    "500m",
    "-100m",
    "1.5",
    "1k",
    "deny",
    "permissive",
    "strict",
    "cluster.local",
    "",
    " ",
    "~",
    "null",
    "é",
    "\u{0}",
];

const NAMESPACES: &[&str] = &["shop", "billing", ""];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(str::to_string),
        1 => "[ -~]{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..110).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e3f64..1e3).prop_map(Value::from),
        word().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                |entries| {
                    Value::Object(
                        entries
                            .into_iter()
                            .map(|(key, value)| (key.to_string(), value))
                            .collect(),
                    )
                }
            ),
        ]
    })
}

/// A document shaped like a config object, with random content where it matters.
fn document() -> impl Strategy<Value = Value> {
    (
        proptest::sample::select(API_VERSIONS),
        proptest::sample::select(KINDS),
        word(),
        proptest::option::of(proptest::sample::select(NAMESPACES)),
        value(),
        proptest::option::of(value()),
    )
        .prop_map(|(api_version, kind, name, namespace, spec, top)| {
            let mut metadata = Map::new();
            metadata.insert("name".into(), Value::String(name));
            if let Some(namespace) = namespace {
                metadata.insert("namespace".into(), Value::String(namespace.into()));
            }
            let mut document = Map::new();
            document.insert("apiVersion".into(), Value::String(api_version.into()));
            document.insert("kind".into(), Value::String(kind.into()));
            document.insert("metadata".into(), Value::Object(metadata));
            document.insert("spec".into(), spec);
            // Older versions keep their fields at the top level.
            if let Some(Value::Object(fields)) = top {
                document.extend(fields);
            }
            Value::Object(document)
        })
}

fn yaml_stream(documents: &[Value]) -> String {
    documents
        .iter()
        .map(|document| serde_yaml::to_string(document).expect("a JSON value serialises as YAML"))
        .collect::<Vec<_>>()
        .join("---\n")
}

// ---------------------------------------------------------------- valid objects, edited

/// Valid objects of every kind; edits below break them in one place at a time, which
/// reaches the conversion and cross-document checks that random documents rarely do.
const VALID: &str = "
apiVersion: v1
kind: Namespace
metadata: { name: billing }
---
apiVersion: meshcd.dev/v1alpha1
kind: Mesh
metadata: { name: meshcd }
spec: { trustDomain: cluster.local, trafficPolicy: deny, mtls: strict, certificateLifetime: 24h, canaryDefaults: { interval: 30s, failureThreshold: 3 } }
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: { name: api-routes, namespace: shop }
spec:
  matches:
  - { name: api-values, pathRegex: /api/values, methods: [GET], headers: [{ user-agent: .*Android.* }] }
  - { name: everything, headers: { x-canary: \"yes\" } }
---
apiVersion: specs.smi-spec.io/v1alpha2
kind: HTTPRouteGroup
metadata: { name: legacy-routes, namespace: shop }
matches:
- { name: all, pathRegex: /.* }
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: { name: db, namespace: shop }
spec: { matches: { ports: [5432] } }
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: UDPRoute
metadata: { name: dns, namespace: shop }
spec: { matches: { ports: [53] } }
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: { name: frontend-to-api, namespace: shop }
spec:
  destination: { kind: ServiceAccount, name: api }
  rules:
  - { kind: HTTPRouteGroup, name: api-routes, matches: [api-values] }
  - { kind: TCPRoute, name: db }
  - { kind: UDPRoute, name: dns }
  sources: [{ kind: ServiceAccount, name: frontend, namespace: billing }]
---
apiVersion: access.smi-spec.io/v1alpha1
kind: TrafficTarget
metadata: { name: legacy-target, namespace: shop }
destination: { kind: ServiceAccount, name: api, port: 8080 }
specs: [{ kind: HTTPRouteGroup, name: legacy-routes }]
sources: [{ kind: ServiceAccount, name: frontend }]
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: { name: api, namespace: shop }
spec:
  service: api.shop.svc.cluster.local
  matches: [{ kind: HTTPRouteGroup, name: api-routes }]
  backends: [{ service: api-v1, weight: 90 }, { service: api-v2, weight: 10 }]
---
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata: { name: web, namespace: shop }
spec:
  service: web
  backends: [{ service: web-v1, weight: 900m }, { service: web-v2, weight: \"100m\" }]
---
apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: { name: api, namespace: shop }
spec:
  trafficSplit: api
  stable: api-v1
  canary: api-v2
  steps: { stepWeight: 10, maxWeight: 50 }
  interval: 30s
  progressDeadline: 10m
  analysis: { successRate: { min: 99 }, latencyP99: { max: 500ms }, minRequests: 20, failureThreshold: 3 }
---
apiVersion: meshcd.dev/v1alpha1
kind: Canary
metadata: { name: web, namespace: shop }
spec: { trafficSplit: web, stable: web-v1, canary: web-v2, steps: { weights: [5, 10, 25, 50] } }
";

fn valid_documents() -> Vec<Value> {
    serde_yaml::Deserializer::from_str(VALID)
        .map(|document| Value::deserialize(document).expect("the valid corpus parses"))
        .collect()
}

/// One edit of a document: walk down by `path` (each step picks a child modulo the number
/// of children), then replace, delete, or add a vocabulary key there.
#[derive(Debug, Clone)]
enum Edit {
    Replace(Vec<usize>, Value),
    Delete(Vec<usize>),
    Insert(Vec<usize>, &'static str, Value),
}

fn edit() -> impl Strategy<Value = Edit> {
    let path = || proptest::collection::vec(any::<usize>(), 0..6);
    prop_oneof![
        3 => (path(), value()).prop_map(|(path, value)| Edit::Replace(path, value)),
        2 => path().prop_map(Edit::Delete),
        2 => (path(), proptest::sample::select(KEYS), value()).prop_map(|(path, key, value)| Edit::Insert(path, key, value)),
    ]
}

/// The key (or index) of the child that `pick` selects, modulo the number of children.
fn child_key(value: &Value, pick: usize) -> Option<String> {
    match value {
        Value::Object(map) if !map.is_empty() => map.keys().nth(pick % map.len()).cloned(),
        Value::Array(items) if !items.is_empty() => Some((pick % items.len()).to_string()),
        _ => None,
    }
}

/// The JSON pointer reached by following `picks` as far as the document goes.
fn walk(document: &Value, picks: &[usize]) -> String {
    let mut pointer = String::new();
    let mut node = document;
    for pick in picks {
        let Some(key) = child_key(node, *pick) else {
            break;
        };
        pointer.push('/');
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
        node = match node {
            Value::Object(map) => &map[&key],
            Value::Array(items) => &items[key.parse::<usize>().unwrap_or_default()],
            _ => break,
        };
    }
    pointer
}

fn apply(document: &mut Value, edit: &Edit) {
    let path = match edit {
        Edit::Replace(path, _) | Edit::Delete(path) | Edit::Insert(path, _, _) => path,
    };
    let parent = walk(document, &path[..path.len().saturating_sub(1)]);
    let Some(node) = document.pointer_mut(&parent) else {
        return;
    };
    let key = path.last().and_then(|pick| child_key(node, *pick));
    match (edit, key) {
        (Edit::Insert(_, key, value), _) => {
            if let Value::Object(map) = node {
                map.insert((*key).to_string(), value.clone());
            }
        }
        (Edit::Replace(_, value), Some(key)) => match node {
            Value::Object(map) => {
                map.insert(key, value.clone());
            }
            Value::Array(items) => items[key.parse::<usize>().unwrap_or_default()] = value.clone(),
            _ => {}
        },
        (Edit::Replace(_, value), None) => *node = value.clone(),
        (Edit::Delete(_), Some(key)) => match node {
            Value::Object(map) => {
                map.remove(&key);
            }
            Value::Array(items) => {
                items.remove(key.parse::<usize>().unwrap_or_default());
            }
            _ => {}
        },
        (Edit::Delete(_), None) => {}
    }
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(one_file(String::from_utf8_lossy(&bytes).into_owned()))?;
    }

    #[test]
    fn yaml_like_text_never_panics(text in "([a-zA-Z0-9 :,.#&*!|>'\"{}\\[\\]?%@`~-]{0,24}\n(  )*){0,40}") {
        check(one_file(text))?;
    }

    #[test]
    fn random_documents_of_meshcd_kinds_never_panic(
        files in proptest::collection::vec(proptest::collection::vec(document(), 1..5), 1..4),
    ) {
        let mut tree = vec![namespace_file()];
        for (index, documents) in files.iter().enumerate() {
            tree.push((PathBuf::from(format!("config/{index}.yaml")), yaml_stream(documents)));
        }
        check(tree)?;
    }

    #[test]
    fn valid_objects_with_random_edits_never_panic(
        edits in proptest::collection::vec((any::<usize>(), edit()), 1..6),
        split_files in any::<bool>(),
    ) {
        let mut documents = valid_documents();
        for (pick, edit) in &edits {
            let index = pick % documents.len();
            apply(&mut documents[index], edit);
        }
        let mut tree = vec![namespace_file()];
        if split_files {
            for (index, document) in documents.iter().enumerate() {
                tree.push((PathBuf::from(format!("objects/{index:02}.yaml")), yaml_stream(std::slice::from_ref(document))));
            }
        } else {
            tree.push((PathBuf::from("all.yaml"), yaml_stream(&documents)));
        }
        check(tree)?;
    }

    #[test]
    fn valid_text_cut_or_spliced_anywhere_never_panics(
        cut in any::<usize>(),
        insert in "[ -~\n\t]{0,8}",
        remove in 0usize..16,
    ) {
        let text = support::dedent(VALID);
        let mut at = cut % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + remove).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let spliced = format!("{}{insert}{}", &text[..at], &text[end..]);
        check(one_file(spliced))?;
    }
}

#[test]
fn the_valid_corpus_of_the_edit_properties_is_itself_valid() {
    let files = one_file(VALID.to_string());
    let validated = validate(&load_files(files));
    assert!(
        !validated.diagnostics.has_errors(),
        "{}",
        support::describe(&validated)
    );
    let config = validated.config.expect("valid");
    assert_eq!(config.canaries.len(), 2);
    assert_eq!(config.traffic_targets.len(), 2);
}
