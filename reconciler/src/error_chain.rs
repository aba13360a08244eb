//! An error with its causes on one line, for the one place they are printed (a log line,
//! a status message, the CLI's last words): every layer's `Display` says only its own part.

/// `error: cause: cause of the cause`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
