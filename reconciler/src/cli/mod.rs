//! The `meshcd` command line: parsing and dispatch; each subcommand in its own module.

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
    /// Print the version and the Git commit this binary was built from.
    Version,
}

/// Exit codes: 0 success, 1 invalid input (or a failed operation), 2 usage error.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Version => {
            println!("meshcd {} (commit {})", crate::VERSION, crate::GIT_COMMIT);
            ExitCode::SUCCESS
        }
    }
}
