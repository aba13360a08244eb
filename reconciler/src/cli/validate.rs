//! `meshcd validate [PATH] [--format text|json|github]`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::diagnostics::render::{self, Format};
use crate::load;
use crate::validate::validate;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The config tree (a directory or one file).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Output: text (rustc style), json, or github (workflow annotations).
    #[arg(long, value_enum, default_value_t = Format::Text, env = "MESHCD_FORMAT")]
    format: Format,
    /// With `--format github`, also annotate notes (kinds meshcd does not apply, such as
    /// Deployments): useful once, noise on every pull request, so off unless asked.
    #[arg(long)]
    notes: bool,
}

pub fn run(args: Args) -> ExitCode {
    let loaded = match load::load_path(&args.path) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("error: {}", meshcd_support::error_chain(&error));
            return ExitCode::from(2);
        }
    };
    let mut validated = validate(&loaded);
    // Show paths as the user named them, so editors and CI annotations can open them.
    let prefix = if args.path.is_dir() && args.path != std::path::Path::new(".") {
        Some(args.path.clone())
    } else {
        None
    };
    if let Some(prefix) = &prefix {
        for diagnostic in &mut validated.diagnostics.0 {
            diagnostic.file = prefix.join(&diagnostic.file);
        }
    }
    if args.format == Format::Github && !args.notes {
        validated
            .diagnostics
            .0
            .retain(|diagnostic| diagnostic.severity != crate::diagnostics::Severity::Note);
    }
    let output = render::render(&validated.diagnostics, args.format, &|path, line| {
        let relative = prefix
            .as_ref()
            .and_then(|p| path.strip_prefix(p).ok())
            .unwrap_or(path);
        loaded.source_line(relative, line)
    });
    out!("{output}");
    if validated.config.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
