//! The `meshcd` binary: see `meshcd --help`.

fn main() -> std::process::ExitCode {
    meshcd::cli::run()
}
