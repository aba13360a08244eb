//! Route regexes, checked once per pattern and validation.

use std::collections::HashMap;

/// Patterns longer than this, or with a counted repetition, are compiled in full.
const FULLY_COMPILED_LENGTH: usize = 256;

/// Route regexes already checked in this validation: header regexes in particular repeat
/// across groups (`.*Android.*`, `application/json.*`).
#[derive(Default)]
pub(super) struct RegexChecks {
    results: HashMap<String, Result<(), String>>,
}

impl RegexChecks {
    pub(super) fn check(&mut self, pattern: &str) -> Result<(), String> {
        if let Some(result) = self.results.get(pattern) {
            return result.clone();
        }
        let result = check_full_match(pattern);
        self.results.insert(pattern.to_string(), result.clone());
        result
    }
}

/// Checks that a route regex compiles the way the proxy compiles it: anchored for a full
/// match (the proxy anchors it the same way), with `regex`'s default limits.
///
/// Building a `regex::Regex` costs tens of microseconds (it builds automata), which made
/// up most of the validation of a repository with tens of thousands of routes. Parsing
/// finds every syntax error; only a pattern that could exceed the compiled-size limit,
/// one with a counted repetition or a long one, is built in full.
pub fn check_full_match(pattern: &str) -> Result<(), String> {
    // A syntax error's text draws the pattern with a caret; its last line says what is wrong.
    let last_line = |text: &str| {
        let line = text.lines().last().unwrap_or_default().trim();
        line.strip_prefix("error: ").unwrap_or(line).to_string()
    };
    let anchored = format!("^(?:{pattern})$");
    if pattern.contains('{') || pattern.len() > FULLY_COMPILED_LENGTH {
        regex::Regex::new(&anchored)
            .map(drop)
            .map_err(|error| match error {
                regex::Error::Syntax(text) => last_line(&text),
                other => other.to_string(),
            })
    } else {
        // The same parser, with the same defaults, that `regex::Regex::new` starts with.
        regex_syntax::Parser::new()
            .parse(&anchored)
            .map(drop)
            .map_err(|error| last_line(&error.to_string()))
    }
}
