//! `meshcd diff` as a reviewer and a CI job run it: a real Git repository with two
//! commits (made with the git CLI), the built binary's output in every format, its exit
//! codes, golden Markdown and JSON, and the example workflow's own `run:` steps.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{Tree, examples_repo};

fn meshcd(directory: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(args)
        .current_dir(directory)
        .env_remove("MESHCD_FORMAT")
        .env_remove("MESHCD_STATUS_URL")
        .output()
        .expect("meshcd runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn git(repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=reviewer",
            "-c",
            "user.email=reviewer@example.com",
        ])
        .args(args)
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    stdout(&output).trim().to_string()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// Replaces `from` by `to` in one file of the repository, which must contain it.
fn edit(repo: &Path, file: &str, from: &str, to: &str) {
    let path = repo.join(file);
    let text = std::fs::read_to_string(&path).expect("read file");
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(path, text.replacen(from, to, 1)).expect("write file");
}

/// A repository whose first commit is examples-repo/ (in `subdir` when given) and whose
/// second commit widens the simple app's route to /api/.* for GET and POST, moves the
/// canary split to 80/20 and onboards `payments`. Returns (folder, base id, head id).
struct Repo {
    _directory: tempfile::TempDir,
    path: PathBuf,
    base: String,
    head: String,
}

fn two_commits(subdir: &str) -> Repo {
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("config-repo");
    let config = path.join(subdir);
    copy_tree(&examples_repo(), &config);
    git(&path, &["init", "-q", "-b", "main"]);
    git(&path, &["add", "."]);
    git(&path, &["commit", "-q", "-m", "the OSM walkthrough"]);
    let base = git(&path, &["rev-parse", "HEAD"]);
    git(&path, &["checkout", "-q", "-b", "widen"]);
    let prefix = if subdir.is_empty() {
        String::new()
    } else {
        format!("{subdir}/")
    };
    edit(
        &path,
        &format!("{prefix}osm-simple-app/access.yaml"),
        "pathRegex: /api/values ",
        "pathRegex: /api/.* ",
    );
    edit(
        &path,
        &format!("{prefix}osm-simple-app/access.yaml"),
        r#"methods: ["GET"]"#,
        r#"methods: ["GET", "POST"]"#,
    );
    edit(
        &path,
        &format!("{prefix}osm-canary-deployment-sample-app/split.yaml"),
        "weight: 90",
        "weight: 80",
    );
    edit(
        &path,
        &format!("{prefix}osm-canary-deployment-sample-app/split.yaml"),
        "weight: 10",
        "weight: 20",
    );
    std::fs::write(
        config.join("namespaces/payments.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n",
    )
    .expect("write namespace");
    git(&path, &["add", "."]);
    git(
        &path,
        &["commit", "-q", "-m", "widen the api route, shift the split"],
    );
    let head = git(&path, &["rev-parse", "HEAD"]);
    Repo {
        _directory: directory,
        path,
        base,
        head,
    }
}

#[test]
fn two_commits_show_the_effective_change_and_exit_zero() {
    let repo = two_commits("");
    let output = meshcd(&repo.path, &["diff", "main", "widen"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        text.starts_with(&format!(
            "meshcd diff: main ({}) → widen ({})\n",
            &repo.base[..7],
            &repo.head[..7]
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "access changed (1):\n  ~ osm-simple-app/frontend → osm-simple-app/api widened: \
             HTTP GET /api/values on any port → HTTP GET,POST /api/.* on any port\n      \
             + HTTP GET,POST /api/.* on any port\n      via TrafficTarget \
             osm-simple-app/frontend-to-api, route api-routes/api-values\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains("newly denied"),
        "/api/.* still admits GET /api/values: {text}"
    );
    assert!(
        text.contains("api-v1                   90% → 80%     -10 pts"),
        "{text}"
    );
    assert!(
        text.contains("api-v2                   10% → 20%     +10 pts"),
        "{text}"
    );
    assert!(text.contains("  + payments joins the mesh"), "{text}");
    assert!(
        text.ends_with("summary: 1 grant widened, 1 split changed, 1 namespace joins\n"),
        "{text}"
    );
}

#[test]
fn the_same_revision_twice_is_no_effective_change() {
    let repo = two_commits("");
    let output = meshcd(&repo.path, &["diff", "widen", &repo.head]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).ends_with("summary: no effective change\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn an_invalid_head_exits_one_with_validates_report_and_says_base_was_valid() {
    let repo = two_commits("");
    edit(
        &repo.path,
        "osm-canary-deployment-sample-app/split.yaml",
        "weight: 20",
        "weight: -20",
    );
    git(&repo.path, &["commit", "-q", "-am", "a negative weight"]);
    let output = meshcd(&repo.path, &["diff", "main", "HEAD"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
    assert!(text.contains("error: "), "{text}");
    assert!(
        text.contains("  --> osm-canary-deployment-sample-app/split.yaml:"),
        "errors point at the file in the repository: {text}"
    );
    // The negative weight only: the Canary naming that split is not also told it is
    // missing (one mistake, one error).
    assert!(text.contains("error: weight -20 is negative\n"), "{text}");
    assert!(text.contains("invalid: 1 error(s)"), "{text}");
    assert!(text.ends_with("BASE was valid.\n"), "{text}");

    let annotations = stdout(&meshcd(
        &repo.path,
        &["diff", "main", "HEAD", "--format", "github"],
    ));
    assert!(
        annotations.contains("::error file=osm-canary-deployment-sample-app/split.yaml,line=14,"),
        "{annotations}"
    );
    assert!(
        annotations.ends_with("is invalid: 1 error(s). BASE was valid.\n")
            && annotations.contains("::notice title=meshcd diff::HEAD ("),
        "{annotations}"
    );
}

#[test]
fn github_format_annotates_in_the_config_folder_and_sums_up_in_a_notice() {
    let repo = two_commits("mesh");
    let output = meshcd(
        &repo.path,
        &[
            "diff",
            &repo.base,
            &repo.head,
            "--path",
            "mesh",
            "--format",
            "github",
            "--max-rollout-duration",
            "1m",
        ],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    // The example canary (3m at least) is longer than 1m; it did not change, so no warning.
    assert!(!text.contains("::warning"), "{text}");
    let notice = text
        .lines()
        .find(|line| line.starts_with("::notice title=meshcd diff::"))
        .unwrap_or_else(|| panic!("no summary notice: {text}"));
    assert!(
        notice.contains(&format!(
            "{} → {}: 1 grant widened, 1 split changed, 1 namespace joins%0A",
            &repo.base[..7],
            &repo.head[..7]
        )),
        "{notice}"
    );
    assert!(
        notice.contains(
            "%0A~ osm-simple-app/frontend → osm-simple-app/api widened: HTTP GET /api/values on \
             any port → HTTP GET,POST /api/.* on any port%0A"
        ),
        "{notice}"
    );
}

#[test]
fn unknown_revisions_and_bad_paths_are_usage_errors() {
    let repo = two_commits("");
    let output = meshcd(&repo.path, &["diff", "main", "no-such-branch"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("reading head revision \"no-such-branch\""),
        "{}",
        stderr(&output)
    );
    let output = meshcd(
        &repo.path,
        &["diff", "main", "widen", "--path", "../elsewhere"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--path must be a folder inside the revision"));
    let output = meshcd(&repo.path, &["diff", "main"]);
    assert_eq!(output.status.code(), Some(2), "clap reports a missing HEAD");
    let output = meshcd(&repo.path, &["diff", "main", "widen", "--format", "yaml"]);
    assert_eq!(output.status.code(), Some(2));
}

/// Revisions are read from Git's objects unless they need the directory walker: a
/// `.meshcdignore` (and a hidden folder) must hide files exactly as `validate` does.
#[test]
fn ignored_and_hidden_files_of_a_revision_are_not_read() {
    let repo = two_commits("config");
    let config = repo.path.join("config");
    let broken = "apiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\n";
    std::fs::create_dir_all(config.join("drafts")).expect("drafts folder");
    std::fs::create_dir_all(config.join(".scratch")).expect("hidden folder");
    std::fs::write(config.join("drafts/broken.yaml"), broken).expect("write draft");
    std::fs::write(config.join(".scratch/broken.yaml"), broken).expect("write hidden");
    // examples-repo's own ignore file (it leaves out gateway-api/), plus the drafts.
    let ignore = config.join(".meshcdignore");
    let examples_ignore = std::fs::read_to_string(&ignore).expect("examples-repo's ignore file");
    std::fs::write(&ignore, format!("{examples_ignore}drafts/\n")).expect("write ignore file");
    git(&repo.path, &["add", "."]);
    git(&repo.path, &["commit", "-q", "-m", "drafts"]);
    let output = meshcd(&repo.path, &["diff", "main", "widen", "--path", "config"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    std::fs::write(&ignore, examples_ignore).expect("restore ignore file");
    git(
        &repo.path,
        &["commit", "-q", "-am", "drafts no longer ignored"],
    );
    let output = meshcd(&repo.path, &["diff", "main", "widen", "--path", "config"]);
    assert_eq!(output.status.code(), Some(1), "the draft counts again");
    assert!(
        stdout(&output).contains("config/drafts/broken.yaml"),
        "{}",
        stdout(&output)
    );
    assert!(!stdout(&output).contains(".scratch"), "{}", stdout(&output));
}

#[test]
fn an_unreachable_status_url_is_a_usage_error_naming_it_and_not_a_silent_offline_diff() {
    let repo = two_commits("");
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let output = meshcd(&repo.path, &["diff", "main", "widen", "--status-url", &url]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stdout(&output).is_empty(),
        "no report without the live context"
    );
    let message = stderr(&output);
    assert!(
        message.contains(&format!("reading live context from {url}/status")),
        "{message}"
    );
    assert!(
        message.contains("without --status-url, diff runs offline"),
        "{message}"
    );
    let output = meshcd(
        &repo.path,
        &[
            "diff",
            "main",
            "widen",
            "--status-url",
            &url,
            "--traffic-window",
            "0s",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap rejects an empty window"
    );
}

/// The pair behind the golden files: every kind of change at once, including one
/// HTTPRouteGroup edit that widens the two TrafficTargets using it.
fn golden_pair() -> (Tree, Tree) {
    let group = |path: &str| {
        format!(
            "
            apiVersion: specs.smi-spec.io/v1alpha4
            kind: HTTPRouteGroup
            metadata: {{name: api-routes, namespace: shop}}
            spec:
              matches:
              - {{name: values, pathRegex: '{path}', methods: [GET]}}
            ---
            apiVersion: access.smi-spec.io/v1alpha3
            kind: TrafficTarget
            metadata: {{name: frontend-to-api, namespace: shop}}
            spec:
              destination: {{kind: ServiceAccount, name: api}}
              rules: [{{kind: HTTPRouteGroup, name: api-routes}}]
              sources: [{{kind: ServiceAccount, name: frontend}}]
            ---
            apiVersion: access.smi-spec.io/v1alpha3
            kind: TrafficTarget
            metadata: {{name: mobile-to-api, namespace: shop}}
            spec:
              destination: {{kind: ServiceAccount, name: api}}
              rules: [{{kind: HTTPRouteGroup, name: api-routes, matches: [values]}}]
              sources: [{{kind: ServiceAccount, name: mobile}}]
            "
        )
    };
    let split = |weights: &str| {
        format!(
            "
            apiVersion: split.smi-spec.io/v1alpha4
            kind: TrafficSplit
            metadata: {{name: api, namespace: shop}}
            spec:
              service: api
              backends: {weights}
            "
        )
    };
    let database = "
        apiVersion: specs.smi-spec.io/v1alpha4
        kind: TCPRoute
        metadata: {name: postgres, namespace: shop}
        spec: {matches: {ports: [5432]}}
        ---
        apiVersion: access.smi-spec.io/v1alpha3
        kind: TrafficTarget
        metadata: {name: batch-to-db, namespace: shop}
        spec:
          destination: {kind: ServiceAccount, name: db}
          rules: [{kind: TCPRoute, name: postgres}]
          sources: [{kind: ServiceAccount, name: batch}]
    ";
    let base = Tree::new()
        .namespace("legacy")
        .file("access.yaml", &group("/api/values"))
        .file("database.yaml", database)
        .file(
            "split.yaml",
            &split("[{service: api-v1, weight: 90}, {service: api-v2, weight: 10}]"),
        );
    let head = Tree::new()
        .namespace("payments")
        .file("access.yaml", &group("/api/.*"))
        .file(
            "split.yaml",
            &split(
                "[{service: api-v1, weight: 70}, {service: api-v2, weight: 20}, {service: api-v3, weight: 10}]",
            ),
        )
        .file(
            "canary.yaml",
            "
            apiVersion: meshcd.dev/v1alpha1
            kind: Canary
            metadata: {name: api, namespace: shop}
            spec:
              trafficSplit: api
              stable: api-v1
              canary: api-v2
              steps: {stepWeight: 10, maxWeight: 50}
              interval: 15m
              progressDeadline: 1h
            ",
        )
        .file(
            "mesh.yaml",
            "
            apiVersion: meshcd.dev/v1alpha1
            kind: Mesh
            metadata: {name: meshcd}
            spec: {mtls: permissive}
            ",
        );
    (base, head)
}

/// Compares with `tests/golden/<name>`; `MESHCD_BLESS=1` rewrites it after a reviewed change.
fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("MESHCD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("golden folder")).expect("create folder");
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with MESHCD_BLESS=1", path.display()));
    assert!(
        expected == actual,
        "{name} differs from the reviewed golden file (MESHCD_BLESS=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

#[test]
fn every_kind_of_change_matches_the_golden_markdown_and_json() {
    let (base, head) = golden_pair();
    let directory = tempfile::tempdir().expect("temp dir");
    base.write_to(&directory.path().join("base"));
    head.write_to(&directory.path().join("head"));
    let markdown = meshcd(
        directory.path(),
        &["diff", "base", "head", "--format", "markdown"],
    );
    assert_eq!(markdown.status.code(), Some(0), "{}", stderr(&markdown));
    let markdown = stdout(&markdown);
    // The facts first, so that a failure says what is wrong before showing the whole file.
    for row in [
        "| **~ widened** | `shop/frontend` | `shop/api` | HTTP `GET` `/api/values` on any port → HTTP `GET` `/api/.*` on any port | | TrafficTarget `shop/frontend-to-api`, route `api-routes/values` |",
        "| **~ widened** | `shop/mobile` | `shop/api` | HTTP `GET` `/api/values` on any port → HTTP `GET` `/api/.*` on any port | | TrafficTarget `shop/mobile-to-api`, route `api-routes/values` |",
        "| **− denied** | `shop/batch` | `shop/db` | all traffic (TCP and HTTP) | 5432 | TrafficTarget `shop/batch-to-db` |",
        "| `shop/api` by TrafficSplit `api` | `api-v1` | 90% | 70% | -20 pts |",
        "|  | `api-v3` | — | 10% | added |",
        "- **join the mesh:** `payments`",
        "- **leave the mesh:** `legacy`",
        "| `shop/api` | starts | `api-v1` → `api-v2` (split `api`) | 10, 20, 30, 40, 50% | 15m | 1h30m |",
        "| `mtls` | `strict` | `permissive` | ⚠️ destinations accept plaintext",
        "- ⚠️ `head/canary.yaml:1` the rollout takes at least 1h30m (6 intervals of 15m: 5 steps and the promotion), longer than 1h",
    ] {
        assert!(markdown.contains(row), "missing {row:?} in:\n{markdown}");
    }
    assert_golden("diff/every-change.md", &markdown);

    let json = stdout(&meshcd(
        directory.path(),
        &["diff", "base", "head", "--format", "json"],
    ));
    let value: serde_json::Value = serde_json::from_str(&json).expect("diff --format json is JSON");
    assert_eq!(value["valid"], true);
    assert_eq!(
        value["changes"]["access"]["allowed"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        value["changes"]["access"]["denied"][0]["ports"],
        serde_json::json!([5432])
    );
    assert_eq!(value["changes"]["splits"][0]["backends"][0]["after"], 70.0);
    assert_eq!(
        value["changes"]["canaries"][0]["after"]["minimumDuration"],
        "1h30m"
    );
    assert_eq!(value["changes"]["mesh"][0]["setting"], "mtls");
    assert_golden("diff/every-change.json", &json);
}

#[test]
fn an_invalid_head_matches_the_golden_markdown() {
    let (base, _) = golden_pair();
    let head = Tree::new().file(
        "split.yaml",
        "
        apiVersion: split.smi-spec.io/v1alpha4
        kind: TrafficSplit
        metadata: {name: api, namespace: shop}
        spec:
          service: api
          backends: [{service: api-v1, weight: -1}]
        ",
    );
    let directory = tempfile::tempdir().expect("temp dir");
    base.write_to(&directory.path().join("base"));
    head.write_to(&directory.path().join("head"));
    let output = meshcd(
        directory.path(),
        &["diff", "base", "head", "--format", "markdown"],
    );
    assert_eq!(output.status.code(), Some(1));
    let markdown = stdout(&output);
    assert!(
        markdown.starts_with("## meshcd diff: `head` is invalid\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("BASE was valid. HEAD has 1 error(s)"),
        "{markdown}"
    );
    assert_golden("diff/invalid-head.md", &markdown);
}

#[test]
fn an_invalid_base_is_compared_as_an_empty_mesh_and_head_still_passes() {
    let (_, head) = golden_pair();
    let base = Tree::new().file("broken.yaml", "kind: [unclosed\n");
    let directory = tempfile::tempdir().expect("temp dir");
    base.write_to(&directory.path().join("base"));
    head.write_to(&directory.path().join("head"));
    let output = meshcd(directory.path(), &["diff", "base", "head"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        text.contains("note: BASE is invalid (1 error(s)): HEAD is compared with an empty mesh\n"),
        "{text}"
    );
    assert!(text.contains("  + shop joins the mesh\n"), "{text}");
}

#[test]
fn a_changed_policy_limit_reads_setting_by_setting_in_text_and_in_the_notice() {
    let limits = |max_requests: u32| {
        format!(
            "
            apiVersion: policy.openservicemesh.io/v1alpha1
            kind: UpstreamTrafficSetting
            metadata: {{name: api-limits, namespace: shop}}
            spec:
              host: api.shop.svc.cluster.local
              connectionSettings: {{http: {{maxRequests: {max_requests}}}}}
            "
        )
    };
    let directory = tempfile::tempdir().expect("temp dir");
    let base = Tree::new().file("limits.yaml", &limits(100));
    base.write_to(&directory.path().join("base"));
    let head = Tree::new().file("limits.yaml", &limits(50));
    head.write_to(&directory.path().join("head"));
    let output = meshcd(directory.path(), &["diff", "base", "head"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        text.contains(
            "\npolicies (1):\n  ~ UpstreamTrafficSetting shop/api-limits for every caller → shop/api\n      \
             ~ connectionSettings.http.maxRequests: 100 → 50\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("summary: 1 policy changed\n"), "{text}");
    let github = stdout(&meshcd(
        directory.path(),
        &["diff", "base", "head", "--format", "github"],
    ));
    assert!(
        github.contains(
            "base → head: 1 policy changed%0A~ UpstreamTrafficSetting shop/api-limits for every caller → shop/api"
        ),
        "{github}"
    );
}

/// The workflow's `run:` steps, with `${{ … }}` in their `env:` resolved from `context`;
/// steps that install or talk to GitHub are left out (no network here).
fn workflow_steps(
    context: &BTreeMap<&str, String>,
) -> Vec<(String, String, BTreeMap<String, String>)> {
    let path = examples_repo().join(".github/workflows/meshcd.yaml");
    let text = std::fs::read_to_string(&path).expect("read the workflow");
    let workflow: serde_yaml::Value = serde_yaml::from_str(&text).expect("the workflow is YAML");
    let mut steps = Vec::new();
    let jobs = workflow["jobs"].as_mapping().expect("jobs");
    for (_, job) in jobs {
        for step in job["steps"].as_sequence().expect("steps") {
            let Some(run) = step["run"].as_str() else {
                continue;
            };
            if run.contains("cargo install") || run.contains("gh ") {
                continue;
            }
            assert!(
                !run.contains("${{"),
                "expressions belong in env:, not in the script: {run}"
            );
            let mut env = BTreeMap::new();
            if let Some(mapping) = step["env"].as_mapping() {
                for (name, value) in mapping {
                    let name = name.as_str().expect("env name").to_string();
                    let value = value.as_str().expect("env value");
                    let expression = value
                        .trim()
                        .strip_prefix("${{")
                        .and_then(|v| v.strip_suffix("}}"))
                        .map(str::trim);
                    let value = match expression {
                        Some(expression) => context
                            .get(expression)
                            .unwrap_or_else(|| panic!("the test has no value for {expression}"))
                            .clone(),
                        None => value.to_string(),
                    };
                    env.insert(name, value);
                }
            }
            let name = step["name"].as_str().unwrap_or("unnamed").to_string();
            steps.push((name, run.to_string(), env));
        }
    }
    steps
}

/// Runs the workflow's steps in `checkout` as GitHub's runner would (bash -eo pipefail,
/// meshcd on PATH); returns each step's exit code and the job summary written.
fn run_workflow(checkout: &Path, base: &str) -> (Vec<(String, Option<i32>)>, String) {
    let summary = checkout.join("../step-summary.md");
    let binary_folder = Path::new(env!("CARGO_BIN_EXE_meshcd"))
        .parent()
        .expect("bin folder");
    let path = format!(
        "{}:{}",
        binary_folder.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let context = BTreeMap::from([("github.event.pull_request.base.sha", base.to_string())]);
    let mut codes = Vec::new();
    for (name, run, env) in workflow_steps(&context) {
        let output = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &run])
            .current_dir(checkout)
            .envs(env)
            .env("PATH", &path)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env_remove("MESHCD_FORMAT")
            .output()
            .expect("bash runs");
        codes.push((name, output.status.code()));
    }
    let summary = std::fs::read_to_string(&summary).unwrap_or_default();
    (codes, summary)
}

#[test]
fn the_example_workflow_posts_the_markdown_diff_as_the_job_summary() {
    let repo = two_commits("");
    let (codes, summary) = run_workflow(&repo.path, &repo.base);
    assert_eq!(
        codes,
        vec![
            ("Validate".to_string(), Some(0)),
            ("Diff against the base".to_string(), Some(0)),
        ]
    );
    assert!(
        summary.starts_with(&format!(
            "## meshcd diff: `{}` → `HEAD ({})`\n\n**1 grant widened, 1 split changed, 1 namespace joins**\n",
            &repo.base[..7],
            &repo.head[..7]
        )),
        "{summary}"
    );
    assert!(
        summary.contains("| **~ widened** | `osm-simple-app/frontend` | `osm-simple-app/api` | HTTP `GET` `/api/values` on any port → HTTP `GET, POST` `/api/.*` on any port |"),
        "{summary}"
    );
    assert!(
        summary.contains("| `api-v2` | 10% | 20% | +10 pts |"),
        "{summary}"
    );
}

#[test]
fn the_example_workflow_fails_on_an_invalid_head_and_still_posts_why() {
    let repo = two_commits("");
    edit(
        &repo.path,
        "osm-simple-app/access.yaml",
        "name: api-routes\n    matches",
        "name: api-rotues\n    matches",
    );
    git(&repo.path, &["commit", "-q", "-am", "a typo"]);
    let (codes, summary) = run_workflow(&repo.path, &repo.base);
    assert_eq!(
        codes,
        vec![
            ("Validate".to_string(), Some(1)),
            ("Diff against the base".to_string(), Some(1)),
        ]
    );
    assert!(summary.contains("is invalid"), "{summary}");
    assert!(summary.contains("BASE was valid."), "{summary}");
    assert!(summary.contains("api-rotues"), "{summary}");
}
