//! Writing a command's output to stdout. A reader that goes away (`meshcd status | head`)
//! ends a command that only prints quietly, as other command-line tools do; `println!`
//! would panic ("failed printing to stdout: Broken pipe"), since Rust ignores SIGPIPE.
//! Long-running commands keep running when nobody reads their stdout any more.

use std::fmt;
use std::io::Write as _;

/// What a write to a closed stdout does.
#[derive(Clone, Copy)]
pub enum OnClosed {
    /// The command has nothing else to do: exit with success.
    Exit,
    /// The command serves or supervises: carry on without the output.
    Ignore,
}

pub fn write(arguments: fmt::Arguments<'_>, newline: bool, on_closed: OnClosed) {
    let mut out = std::io::stdout().lock();
    let result = out
        .write_fmt(arguments)
        .and_then(|()| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush());
    match (result, on_closed) {
        (Ok(()), _) | (Err(_), OnClosed::Ignore) => {}
        (Err(error), OnClosed::Exit) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            std::process::exit(0)
        }
        (Err(error), OnClosed::Exit) => {
            eprintln!("error: writing to stdout: {error}");
            std::process::exit(1)
        }
    }
}
