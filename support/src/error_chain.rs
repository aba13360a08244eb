//! An error with its causes on one line, for the one place they are printed (a log line,
//! a status message, a 502 body, a binary's last words): every layer's `Display` says only
//! its own part, so nothing is printed twice.

use std::error::Error;

/// `error: cause: cause of the cause`.
pub fn error_chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    for cause in causes(error) {
        text.push_str(": ");
        text.push_str(&cause.to_string());
    }
    text
}

/// The causes of `error`, nearest first (not `error` itself).
pub fn causes<'a>(error: &'a dyn Error) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(error.source(), |&cause| cause.source())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|layer| layer as _)
        }
    }

    #[test]
    fn each_cause_is_printed_once_outermost_first() {
        let error = Layer(
            "read config.json",
            Some(Box::new(Layer(
                "permission denied",
                Some(Box::new(Layer("os error 13", None))),
            ))),
        );
        assert_eq!(
            error_chain(&error),
            "read config.json: permission denied: os error 13"
        );
        assert_eq!(causes(&error).count(), 2);
        assert_eq!(error_chain(&Layer("alone", None)), "alone");
    }
}
