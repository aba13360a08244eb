//! The `meshcd` command line: parsing and dispatch; each subcommand in its own module.

/// `print!` for a command that only prints: a closed stdout ends it quietly.
macro_rules! out {
    ($($argument:tt)*) => {
        $crate::cli::stdout::write(format_args!($($argument)*), false, $crate::cli::stdout::OnClosed::Exit)
    };
}

/// `println!` for a command that only prints: a closed stdout ends it quietly.
macro_rules! outln {
    ($($argument:tt)*) => {
        $crate::cli::stdout::write(format_args!($($argument)*), true, $crate::cli::stdout::OnClosed::Exit)
    };
}

/// `println!` for a command that runs on: a closed stdout is no reason to stop.
macro_rules! sayln {
    ($($argument:tt)*) => {
        $crate::cli::stdout::write(format_args!($($argument)*), true, $crate::cli::stdout::OnClosed::Ignore)
    };
}

mod admin_token;
mod ca;
mod canary;
mod check;
mod check_cluster;
mod cluster;
mod demo;
mod demo_app;
mod demo_canary;
mod diff;
mod git;
mod http;
mod install;
pub mod local_mesh;
mod namespace;
mod run;
mod signal;
mod state_dir;
mod status;
mod stdout;
mod token;
mod top;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "meshcd", about = "GitOps control plane for a service mesh", version = crate::VERSION)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a config tree: schema, references and semantics, exactly as the reconciler does.
    Validate(validate::Args),
    /// The effective change between two revisions: access, splits, namespaces, canaries, mesh.
    Diff(diff::Args),
    /// Run the reconciler on a config repository.
    Run(run::RunArgs),
    /// Run a local mesh: the reconciler on a local repository (default: a copy of examples-repo/).
    Up(run::UpArgs),
    /// Show what a running reconciler applied and which proxies acknowledged it.
    Status(status::StatusArgs),
    /// Ask a running reconciler to look for a new revision now.
    Sync(status::ServerArgs),
    /// Stop applying new revisions (they are still fetched and validated).
    Suspend(status::ServerArgs),
    /// Apply new revisions again.
    Resume(status::ServerArgs),
    /// The Open Service Mesh walkthrough, live: reconciler, apps and proxies on this machine.
    Demo(demo::Args),
    /// Check the mesh's health: reconciler, repository, CA expiry, proxies in sync; with
    /// --kubernetes, the installed objects (CRDs, RBAC, webhook). Exit 1 on a failure.
    Check(check::Args),
    /// Promote, abort, pause or resume a running canary rollout.
    Canary(canary::Args),
    /// Live traffic between workloads: requests/s, success rate, p50/p99 per source →
    /// destination and per split backend.
    Top(top::Args),
    /// Print a shell completion script: `source <(meshcd completion bash)`, or save
    /// `meshcd completion zsh` as `_meshcd` in a folder of `$fpath`.
    Completion {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Manage bootstrap tokens for local-mode proxies.
    #[command(subcommand)]
    Token(token::Command),
    /// The mesh's root CA: rotate it by committing each step to the config repository.
    #[command(subcommand)]
    Ca(ca::Command),
    /// Onboard or offboard namespaces by committing to the config repository.
    #[command(subcommand)]
    Namespace(namespace::Command),
    /// Print the manifests that install meshcd in a Kubernetes cluster (`| kubectl apply -f -`).
    Install(install::Args),
    /// Print the version and the Git commit this binary was built from.
    Version,
    /// The demo's HTTP app (used by `meshcd demo`).
    #[command(hide = true)]
    DemoApp(demo_app::Args),
}

/// Exit codes: 0 success, 1 invalid input (or a failed operation), 2 usage error.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => return validate::run(args),
        Command::Diff(args) => return diff::run(args),
        Command::Version => {
            outln!("meshcd {} (commit {})", crate::VERSION, crate::GIT_COMMIT);
            Ok(())
        }
        Command::Token(command) => token::run(command),
        Command::Install(args) => install::run(args),
        Command::Namespace(command) => namespace::run(command),
        Command::Ca(command) => runtime(ca::run(command)),
        Command::Run(args) => runtime(run::run(args)),
        Command::Up(args) => runtime(run::up(args)),
        Command::Status(args) => runtime(status::status(args)),
        Command::Sync(args) => runtime(status::post(args, "sync")),
        Command::Suspend(args) => runtime(status::post(args, "suspend")),
        Command::Resume(args) => runtime(status::post(args, "resume")),
        Command::DemoApp(args) => runtime(demo_app::run(args)),
        Command::Demo(args) => runtime(demo::run(args)),
        Command::Canary(args) => runtime(canary::run(args)),
        Command::Check(args) => runtime(check::run(args)),
        Command::Top(args) => runtime(top::run(args)),
        Command::Completion { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "meshcd",
                &mut script,
            );
            out!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", meshcd_support::error_chain(&*error));
            ExitCode::from(1)
        }
    }
}

fn runtime(future: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    init_tracing();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

/// Colour on a terminal only, and never with `NO_COLOR` set (no-color.org): in a pod's
/// log or a file, escape codes are noise.
fn colour() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MESHCD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour())
        .try_init();
}

#[cfg(test)]
mod tests {
    /// Every flag and argument of every command says what it does in `--help`.
    #[test]
    fn every_argument_has_help_text() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for argument in command.get_arguments() {
                let id = argument.get_id().as_str();
                if id == "help" || id == "version" || argument.is_hide_set() {
                    continue;
                }
                if argument.get_help().is_none() && argument.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.is_hide_set() {
                    continue;
                }
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {} (the command)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(
            &<super::Cli as clap::CommandFactory>::command(),
            "meshcd",
            &mut missing,
        );
        assert!(
            missing.is_empty(),
            "without help text:\n{}",
            missing.join("\n")
        );
    }
}
