//! `meshcd validate` and `meshcd version` as a user and a CI job run them: exit codes,
//! rustc-style text, JSON and GitHub annotations from the built binary.

mod support;
mod up_support;

use std::path::Path;
use std::process::{Command, Output};

use support::Tree;

/// Runs the built `meshcd` in `directory` with a clean environment for its own variables.
fn meshcd(directory: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(args)
        .current_dir(directory)
        .env_remove("MESHCD_FORMAT")
        .output()
        .expect("meshcd runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A tree with one error: a negative weight on line 12 of `split.yaml`.
fn invalid_tree() -> Tree {
    Tree::new().file(
        "split.yaml",
        "
        apiVersion: split.smi-spec.io/v1alpha4
        kind: TrafficSplit
        metadata:
          name: api
          namespace: shop
        spec:
          service: api
          backends:
          - service: api-v1
            weight: 90
          - service: api-v2
            weight: -10
    ",
    )
}

/// Writes `tree` under `config/` of a fresh directory, which the commands run in.
fn written(tree: &Tree) -> tempfile::TempDir {
    let directory = tempfile::tempdir().expect("temp dir");
    tree.write_to(&directory.path().join("config"));
    directory
}

#[test]
fn the_examples_repo_is_valid_and_exits_zero() {
    let output = meshcd(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["validate", "../examples-repo"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("valid: 0 error(s), 0 warning(s)"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn an_invalid_tree_exits_one_with_rustc_style_errors() {
    let tree = invalid_tree();
    let line = tree.line_of("split.yaml", "weight: -10");
    let directory = written(&tree);
    let output = meshcd(directory.path(), &["validate", "config"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
    assert!(text.contains("error: weight -10 is negative\n"), "{text}");
    assert!(
        text.contains(&format!("  --> config/split.yaml:{line}:5\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{line} |     weight: -10\n")),
        "the offending line is quoted: {text}"
    );
    assert!(text.contains("= object: TrafficSplit shop/api"), "{text}");
    assert!(text.contains("= hint: "), "{text}");
    assert!(text.contains("invalid: 1 error(s)"), "{text}");
}

#[test]
fn a_single_file_can_be_validated_on_its_own() {
    let directory = written(&invalid_tree());
    let output = meshcd(
        &directory.path().join("config"),
        &["validate", "split.yaml"],
    );
    // Alone, the file's namespace is not onboarded: a second error, same exit code.
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("--> split.yaml:"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn json_output_carries_every_diagnostic_as_data() {
    let tree = invalid_tree();
    let line = tree.line_of("split.yaml", "weight: -10");
    let directory = written(&tree);
    let output = meshcd(
        directory.path(),
        &["validate", "config", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"], 1);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["file"], "config/split.yaml");
    assert_eq!(diagnostic["line"], line);
    assert_eq!(diagnostic["column"], 5);
    assert_eq!(diagnostic["object"]["kind"], "TrafficSplit");
    assert_eq!(diagnostic["object"]["namespace"], "shop");
    assert_eq!(diagnostic["object"]["name"], "api");
    assert!(
        diagnostic["message"]
            .as_str()
            .unwrap_or_default()
            .contains("negative"),
        "{diagnostic}"
    );
    assert!(diagnostic["hint"].is_string(), "{diagnostic}");
}

#[test]
fn json_output_of_a_valid_tree_says_valid() {
    let output = meshcd(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["validate", "../examples-repo", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(report["valid"], true);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["warnings"], 0);
}

#[test]
fn github_output_prints_workflow_error_annotations() {
    let tree = invalid_tree();
    let line = tree.line_of("split.yaml", "weight: -10");
    let directory = written(&tree);
    let output = meshcd(
        directory.path(),
        &["validate", "config", "--format", "github"],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let expected = format!(
        "::error file=config/split.yaml,line={line},col=5,title=meshcd::weight -10 is negative"
    );
    assert!(
        text.lines()
            .any(|annotation| annotation.starts_with(&expected)),
        "{text}"
    );
    assert!(
        text.contains("%0Ahint: "),
        "the hint travels in the escaped message: {text}"
    );
}

#[test]
fn the_format_can_come_from_the_environment() {
    let directory = written(&invalid_tree());
    let output = Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(["validate", "config"])
        .current_dir(directory.path())
        .env("MESHCD_FORMAT", "github")
        .output()
        .expect("meshcd runs");
    assert!(
        stdout(&output).starts_with("::error file=config/split.yaml"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn warnings_alone_exit_zero_and_are_shown() {
    let tree = Tree::new().file(
        "routes.yaml",
        "
        apiVersion: specs.smi-spec.io/v1alpha4
        kind: HTTPRouteGroup
        metadata:
          name: api-routes
          namespace: shop
        matches:
        - name: everything
    ",
    );
    let directory = written(&tree);
    let output = meshcd(directory.path(), &["validate", "config"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("warning: top-level `matches`"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("valid: 0 error(s), 1 warning(s)"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn an_unknown_flag_is_a_usage_error_exiting_two() {
    let output = meshcd(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["validate", "../examples-repo", "--strict"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--strict"), "{}", stderr(&output));
}

#[test]
fn an_unknown_format_is_a_usage_error_exiting_two() {
    let output = meshcd(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["validate", "../examples-repo", "--format", "xml"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("xml"), "{}", stderr(&output));
}

#[test]
fn a_path_that_does_not_exist_is_a_usage_error_exiting_two() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = meshcd(directory.path(), &["validate", "no-such-config"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no-such-config does not exist"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_subcommand_is_a_usage_error_exiting_two() {
    let output = meshcd(Path::new(env!("CARGO_MANIFEST_DIR")), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("Usage"), "{}", stderr(&output));
}

#[test]
fn version_prints_the_version_and_the_commit() {
    let output = meshcd(Path::new(env!("CARGO_MANIFEST_DIR")), &["version"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let expected = format!("meshcd {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text}");
    let commit = text
        .trim_end()
        .trim_start_matches(&expected)
        .trim_end_matches(')');
    assert!(!commit.is_empty(), "{text}");
    assert!(
        commit == "unknown"
            || commit
                .trim_end_matches("-dirty")
                .chars()
                .all(|c| c.is_ascii_hexdigit()),
        "a short hash (or `unknown` outside Git): {text}"
    );
}

/// `meshcd install | head -1`, `meshcd validate … | head`: the reader is gone before
/// meshcd writes. The command ends quietly and successfully, with no panic.
#[test]
fn a_closed_stdout_ends_a_printing_command_quietly() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-repo");
    let examples = examples.to_str().unwrap();
    for args in [
        &["install", "--repo", "https://git.example.com/mesh.git"][..],
        &["version"],
        &["validate", examples, "--format", "json"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_meshcd"))
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = stderr(&output);
        assert!(!stderr.contains("panicked"), "meshcd {args:?}: {stderr}");
        assert!(
            output.status.success(),
            "meshcd {args:?}: {:?} {stderr}",
            output.status
        );
    }
}

/// A folder that is not a Git repository would never become one by retrying: `meshcd
/// run` stops at once with a usage error, before claiming any revision is in force.
#[test]
fn run_on_a_folder_that_is_not_a_git_repository_exits_two_at_once() {
    let directory = tempfile::tempdir().expect("temp dir");
    std::fs::write(directory.path().join("mesh.yaml"), "kind: Mesh\n").unwrap();
    let state = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(["run", "--repo"])
        .arg(directory.path())
        .arg("--state-dir")
        .arg(state.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("meshcd runs");
    // Before the fix it retried forever: a deadline makes that a failure, not a hang.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            panic!("meshcd run kept running on a folder that is not a repository");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("meshcd output");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not a Git repository"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("stays in force"),
        "{}",
        stderr(&output)
    );
}

/// A port another process holds: the error names the flag that moves the listener.
#[test]
fn an_address_in_use_names_the_flag_that_moves_it() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let repo = tempfile::tempdir().expect("temp dir");
    git2::Repository::init(repo.path()).unwrap();
    let state = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_meshcd"))
        .args(["run", "--control-plane-addr", &format!("127.0.0.1:{port}")])
        .args(["--admin-addr", "127.0.0.1:0", "--repo"])
        .arg(repo.path())
        .arg("--state-dir")
        .arg(state.path())
        .output()
        .expect("meshcd runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "choose another with --control-plane-addr (port 0 picks a free one, \
             e.g. --control-plane-addr 127.0.0.1:0)"
        ),
        "{}",
        stderr(&output)
    );
}

/// `meshcd completion SHELL` prints a script that shell accepts, completing subcommands.
#[test]
fn completion_scripts_load_in_their_shell_and_know_the_subcommands() {
    let directory = tempfile::tempdir().expect("temp dir");
    let bash = meshcd(directory.path(), &["completion", "bash"]);
    assert!(bash.status.success(), "{}", stderr(&bash));
    let script = stdout(&bash);
    assert!(
        script.contains("_meshcd()") && script.contains("canary"),
        "{script}"
    );
    // bash itself parses it and registers the completion.
    let path = directory.path().join("meshcd.bash");
    std::fs::write(&path, &script).unwrap();
    let loaded = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p meshcd", path.display()))
        .output()
        .expect("bash runs");
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    assert!(stdout(&loaded).contains("_meshcd"), "{}", stdout(&loaded));

    let zsh = meshcd(directory.path(), &["completion", "zsh"]);
    assert!(
        stdout(&zsh).starts_with("#compdef meshcd"),
        "{}",
        stdout(&zsh)
    );
    let fish = meshcd(directory.path(), &["completion", "fish"]);
    assert!(
        stdout(&fish).contains("complete -c meshcd"),
        "{}",
        stdout(&fish)
    );
}

/// `meshcd up` installed anywhere, run from any folder: the example repository is built
/// into the binary, not read from the checkout it was built in; its state is the user's,
/// so a token made from another folder lands in the store this reconciler reads.
#[test]
fn up_starts_from_the_examples_built_into_the_binary_from_any_folder() {
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let binary = elsewhere.path().join("meshcd");
    std::fs::copy(env!("CARGO_BIN_EXE_meshcd"), &binary).unwrap();
    let home = elsewhere.path().join("home");
    let state = home.join(".local/state/meshcd");
    let as_user = |command: &mut Command| {
        command
            .env("HOME", &home)
            .env_remove("XDG_STATE_HOME")
            .env_remove("MESHCD_STATE_DIR");
    };
    let up = up_support::Up::start(&binary, elsewhere.path(), &[], |command| {
        as_user(command);
    })
    .unwrap();
    let other_folder = tempfile::tempdir().expect("temp dir");
    let mut create = Command::new(&binary);
    as_user(&mut create);
    let created = create
        .args(["token", "create", "--namespace", "shop", "--service", "api"])
        .current_dir(other_folder.path())
        .output()
        .unwrap();
    let said = up.stop();
    assert!(
        said.contains(&format!("new state directory {}", state.display())),
        "{said}"
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let id = String::from_utf8_lossy(&created.stdout)
        .split('_')
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        std::fs::read_to_string(state.join("tokens.json"))
            .unwrap()
            .contains(&id),
        "the token is in the store of the reconciler `up` started"
    );
    assert!(!other_folder.path().join(".meshcd").exists());
    assert!(
        said.contains("from the examples-repo/ built into meshcd"),
        "{said}"
    );
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples-repo");
    for file in ["mesh.yaml", "osm-canary-deployment-sample-app/canary.yaml"] {
        assert_eq!(
            std::fs::read(state.join("repo").join(file)).unwrap(),
            std::fs::read(examples.join(file)).unwrap(),
            "{file}"
        );
    }
}

/// One name for the admin address: `--server`, as `status`, `sync` and `canary` take it;
/// `top --admin` keeps working.
#[test]
fn top_takes_the_admin_address_as_server_like_status() {
    let directory = tempfile::tempdir().expect("temp dir");
    let token = directory.path().join("admin-token");
    std::fs::write(&token, "a-token\n").unwrap();
    let token = token.to_str().unwrap();
    for flag in ["--server", "--admin"] {
        let output = meshcd(
            directory.path(),
            &[
                "top",
                flag,
                "http://127.0.0.1:9",
                "--once",
                "--admin-token-file",
                token,
            ],
        );
        let stderr = stderr(&output);
        assert!(!stderr.contains("unexpected argument"), "{flag}: {stderr}");
        assert!(stderr.contains("127.0.0.1:9"), "{flag}: {stderr}");
    }
}

/// `meshcd install` renders what a cluster runs: without `--repo` it would follow an
/// example URL, so it refuses (a usage error) instead.
#[test]
fn install_without_a_repository_is_a_usage_error() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = meshcd(directory.path(), &["install"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--repo"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

/// Notes (a Deployment meshcd does not apply) are useful once, not as an annotation on
/// every pull request: `--format github` emits them only with `--notes`.
#[test]
fn github_annotations_leave_notes_out_unless_asked() {
    let tree = Tree::new().file(
        "deployment.yaml",
        "
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          namespace: shop
        ",
    );
    let directory = written(&tree);
    let quiet = meshcd(
        directory.path(),
        &["validate", "config", "--format", "github"],
    );
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert!(!stdout(&quiet).contains("::notice"), "{}", stdout(&quiet));
    let asked = meshcd(
        directory.path(),
        &["validate", "config", "--format", "github", "--notes"],
    );
    assert!(
        stdout(&asked).contains("::notice file=config/deployment.yaml"),
        "{}",
        stdout(&asked)
    );
    // The text format shows them as before.
    let text = meshcd(directory.path(), &["validate", "config"]);
    assert!(stdout(&text).contains("note:"), "{}", stdout(&text));
}

/// `scripts/install.sh` puts both binaries side by side in PREFIX/bin, working, and says
/// when that folder is not on PATH.
#[test]
fn the_install_script_puts_both_binaries_on_a_prefix() {
    let prefix = tempfile::tempdir().expect("temp dir");
    let target = Path::new(env!("CARGO_BIN_EXE_meshcd"))
        .parent()
        .and_then(Path::parent)
        .expect("target dir");
    let output = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install.sh"))
        .args(["--debug", "--prefix"])
        .arg(prefix.path())
        .env("CARGO_TARGET_DIR", target)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("install.sh runs");
    assert!(output.status.success(), "{}", stderr(&output));
    for (binary, says) in [("meshcd", "meshcd "), ("meshcd-proxy", "meshcd-proxy ")] {
        let version = Command::new(prefix.path().join("bin").join(binary))
            .arg("--version")
            .output()
            .expect("the installed binary runs");
        assert!(
            stdout(&version).starts_with(says),
            "{binary}: {}",
            stdout(&version)
        );
    }
    assert!(
        stderr(&output).contains("is not on PATH: add  export PATH="),
        "{}",
        stderr(&output)
    );
}

/// The example pull-request workflow restores meshcd from a cache and compiles it only
/// on a miss, without link-time optimisation.
#[test]
fn the_example_workflow_compiles_meshcd_only_on_a_cache_miss() {
    let text =
        std::fs::read_to_string(support::examples_repo().join(".github/workflows/meshcd.yaml"))
            .unwrap();
    let workflow: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let steps = workflow["jobs"]["validate"]["steps"].as_sequence().unwrap();
    let cache = steps
        .iter()
        .position(|step| {
            step["uses"]
                .as_str()
                .is_some_and(|uses| uses.starts_with("actions/cache@"))
        })
        .expect("a cache step");
    assert_eq!(steps[cache]["with"]["path"], "~/.cargo/bin/meshcd");
    let install = steps
        .iter()
        .position(|step| step["name"] == "Install meshcd")
        .expect("an install step");
    assert!(cache < install);
    assert!(
        steps[install]["if"]
            .as_str()
            .is_some_and(|condition| condition.contains("cache-hit != 'true'")),
        "{:?}",
        steps[install]
    );
    assert_eq!(steps[install]["env"]["CARGO_PROFILE_RELEASE_LTO"], "false");
}

/// `meshcd install` and the Gateway API CRDs: all three with `always`, none with `never`,
/// and with `auto` (the default) none when no cluster can be asked, saying so.
#[test]
fn install_adds_the_gateway_api_crds_as_asked() {
    let directory = tempfile::tempdir().unwrap();
    let install = |choice: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_meshcd"));
        command
            .args(["install", "--repo", "https://git.example.com/mesh.git"])
            .current_dir(directory.path())
            .env("KUBECONFIG", directory.path().join("no-such-kubeconfig"))
            .env_remove("KUBERNETES_SERVICE_HOST");
        if let Some(choice) = choice {
            command.args(["--gateway-api-crds", choice]);
        }
        command.output().unwrap()
    };
    let crds = |output: &Output| -> Vec<String> {
        stdout(output)
            .lines()
            .filter_map(|line| line.strip_prefix("  name: "))
            .filter(|name| name.ends_with(".gateway.networking.k8s.io"))
            .map(str::to_string)
            .collect()
    };
    let always = install(Some("always"));
    assert!(always.status.success(), "{}", stderr(&always));
    assert_eq!(
        crds(&always),
        [
            "httproutes.gateway.networking.k8s.io",
            "grpcroutes.gateway.networking.k8s.io",
            "referencegrants.gateway.networking.k8s.io"
        ]
    );
    assert!(stdout(&always).contains("gateway.networking.k8s.io/bundle-version: v1.6.1"));
    let never = install(Some("never"));
    assert_eq!(crds(&never), Vec::<String>::new());
    let auto = install(None);
    assert!(auto.status.success(), "{}", stderr(&auto));
    assert_eq!(crds(&auto), Vec::<String>::new());
    assert!(
        stderr(&auto).contains("the Gateway API CRDs are left out: no cluster to check them in"),
        "{}",
        stderr(&auto)
    );
}
