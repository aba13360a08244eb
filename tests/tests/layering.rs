//! The layers ARCHITECTURE.md draws, checked: a module of `meshcd` or `meshcd-proxy` may
//! name (`crate::…`) only modules of lower layers. Test code is exempt (it composes what
//! it tests). The few known exceptions are listed with why, so the list can only shrink:
//! a new upward import fails here, and so does an exception that no longer occurs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lowest first. Modules within one layer do not name each other.
const RECONCILER: &[&[&str]] = &[
    &["model", "diagnostics", "defaults"],
    &["load", "inventory", "identity", "http_client", "accept"],
    &["validate", "compile"],
    &["source", "control"],
    &["diff"],
    &["reconcile", "canary"],
    &["kubernetes"],
    &["admin"],
    &["metrics"],
    &["cli"],
];

/// Known upward imports: none.
const RECONCILER_EXCEPTIONS: &[(&str, &str)] = &[];

const PROXY: &[&[&str]] = &[
    &["http", "shutdown", "metrics", "app_probe", "watch"],
    &["tls", "accept", "config", "upstream"],
    &["snapshot"],
    &["outbound"],
    &["inbound"],
    &["join", "admin"],
    &["start", "wait_ready"],
];

const PROXY_EXCEPTIONS: &[(&str, &str)] = &[];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (module, module it names) for every production source file under `src`.
fn imports(src: &Path) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".rs")
                || name.ends_with("_tests.rs")
                || name == "tests.rs"
                || name == "test_support.rs"
            {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap();
            let top = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if top == "lib" || top == "main" || top == "bin" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let text = production(&text);
            for (at, _) in text.match_indices("crate::") {
                let named: String = text[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !named.is_empty() && named != top {
                    found.insert((top.clone(), named));
                }
            }
        }
    }
    found
}

/// `text` without its test items (`#[cfg(test)] mod x;` and `#[cfg(test)] mod x { … }`,
/// wherever they stand) and without comment lines, which may name anything.
fn production(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at + "#[cfg(test)]".len()..];
        let end_of_declaration = item.find(';');
        let open = item.find('{');
        rest = match (end_of_declaration, open) {
            (Some(semicolon), Some(brace)) if semicolon < brace => &item[semicolon + 1..],
            (_, Some(brace)) => {
                let mut depth = 0usize;
                let mut close = item.len();
                for (index, character) in item[brace..].char_indices() {
                    match character {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                close = brace + index + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                &item[close..]
            }
            (Some(semicolon), None) => &item[semicolon + 1..],
            (None, None) => "",
        };
    }
    out.push_str(rest);
    out.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn check(crate_folder: &str, layers: &[&[&str]], exceptions: &[(&str, &str)]) {
    let layer_of = |module: &str| layers.iter().position(|layer| layer.contains(&module));
    let src = workspace().join(crate_folder).join("src");
    let found = imports(&src);
    assert!(
        found.len() > 20,
        "{crate_folder}: only {} imports found under {}: is the scan looking in the right place?",
        found.len(),
        src.display()
    );
    let mut problems = Vec::new();
    let mut modules: BTreeSet<&str> = BTreeSet::new();
    for (from, to) in &found {
        modules.insert(from);
        let is_module = src.join(format!("{to}.rs")).exists() || src.join(to).is_dir();
        if !is_module {
            // An item of the crate root: its constants (VERSION) sit below everything;
            // anything else is the composition root, above everything.
            let constant = to.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            if !constant && !exceptions.contains(&(from.as_str(), to.as_str())) {
                problems.push(format!(
                    "{crate_folder}: {from} names the crate root's {to}: only the root composes"
                ));
            }
            continue;
        }
        let (Some(from_layer), Some(to_layer)) = (layer_of(from), layer_of(to)) else {
            problems.push(format!(
                "{crate_folder}: {from} → {to}: a module missing from the layer table (add it here and to ARCHITECTURE.md)"
            ));
            continue;
        };
        let excepted = exceptions.contains(&(from.as_str(), to.as_str()));
        if to_layer >= from_layer && !excepted {
            problems.push(format!(
                "{crate_folder}: {from} (layer {from_layer}) names {to} (layer {to_layer}): a module may only name lower layers"
            ));
        }
    }
    for (from, to) in exceptions {
        if !found.contains(&(from.to_string(), to.to_string())) {
            problems.push(format!(
                "{crate_folder}: the exception {from} → {to} no longer occurs: remove it"
            ));
        }
    }
    let architecture = std::fs::read_to_string(workspace().join("ARCHITECTURE.md")).unwrap();
    for module in layers.iter().flat_map(|layer| layer.iter()) {
        if !architecture.contains(&format!("`{module}`")) {
            problems.push(format!(
                "{crate_folder}: ARCHITECTURE.md does not describe `{module}`"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_reconciler_modules_name_only_lower_layers() {
    check("reconciler", RECONCILER, RECONCILER_EXCEPTIONS);
}

#[test]
fn the_proxy_modules_name_only_lower_layers() {
    check("proxy", PROXY, PROXY_EXCEPTIONS);
}

/// The check itself: an upward import in a scratch tree is found.
#[test]
fn an_upward_import_is_found() {
    let scratch = tempfile::tempdir().unwrap();
    std::fs::write(scratch.path().join("model.rs"), "use crate::cli::run;\n").unwrap();
    std::fs::write(scratch.path().join("cli.rs"), "use crate::model::Config;\n").unwrap();
    std::fs::write(
        scratch.path().join("admin.rs"),
        "#[cfg(test)]\nmod admin_tests;\nuse crate::cli::run;\n#[cfg(test)]\nmod tests {\n    use crate::x::{a, b};\n}\nfn f() { crate::y::z(); }\n",
    )
    .unwrap();
    let found = imports(scratch.path());
    // An early `#[cfg(test)] mod …;` hides nothing after it; a test block hides itself.
    assert!(found.contains(&("admin".to_string(), "cli".to_string())));
    assert!(found.contains(&("admin".to_string(), "y".to_string())));
    assert!(!found.contains(&("admin".to_string(), "x".to_string())));
    assert!(found.contains(&("model".to_string(), "cli".to_string())));
    assert!(found.contains(&("cli".to_string(), "model".to_string())));
}
