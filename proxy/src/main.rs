//! The `meshcd-proxy` binary: parse the command line, set up logging, run the proxy.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use meshcd_proxy::config::Config;
use meshcd_proxy::wait_ready::WaitReady;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", meshcd_support::error_chain(&*error));
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    // The one subcommand: the postStart hook of a proxy that is not a native sidecar.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == "wait-ready")
    {
        let wait = WaitReady::parse_from(std::env::args_os().skip(1));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(wait.run());
    }
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour on a terminal only, and never with NO_COLOR set (no-color.org).
        .with_ansi(
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
        )
        .with_env_filter(EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    // A sidecar given one CPU (a CPU limit, or pinned as benchmarks do) runs tokio's
    // single-threaded scheduler, as linkerd2-proxy does: with one worker the work-stealing
    // scheduler's cross-thread wake-ups and atomics buy nothing.
    let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_cpu {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = builder.enable_all().build()?;
    runtime.block_on(meshcd_proxy::run(config))?;
    Ok(())
}
