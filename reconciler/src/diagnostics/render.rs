//! Renders diagnostics as rustc-style text, JSON, or GitHub workflow annotations.

use std::fmt::Write as _;
use std::path::Path;

use super::{Diagnostics, Severity};

/// Output formats of `meshcd validate` (and later `diff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Github,
}

/// Looks up one line of a source file (1-based), for the snippet under a diagnostic.
pub type SourceLine<'a> = dyn Fn(&Path, usize) -> Option<String> + 'a;

pub fn render(diagnostics: &Diagnostics, format: Format, source_line: &SourceLine<'_>) -> String {
    match format {
        Format::Text => text(diagnostics, source_line),
        Format::Json => json(diagnostics),
        Format::Github => github(diagnostics),
    }
}

/// ```text
/// error: rule names HTTPRouteGroup "api-routes", which does not exist in namespace shop
///   --> policies/access.yaml:14:13
///    |
/// 14 |     - name: api-routes
///    |             ^
///    = object: TrafficTarget shop/api
///    = hint: define it, or fix the name
/// ```
pub fn text(diagnostics: &Diagnostics, source_line: &SourceLine<'_>) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics.iter() {
        let _ = writeln!(out, "{}: {}", diagnostic.severity, diagnostic.message);
        let _ = writeln!(
            out,
            "  --> {}:{}:{}",
            diagnostic.file.display(),
            diagnostic.line,
            diagnostic.column
        );
        let gutter = diagnostic.line.to_string().len();
        if let Some(line) = source_line(&diagnostic.file, diagnostic.line) {
            let pad = " ".repeat(gutter);
            let caret = " ".repeat(diagnostic.column.saturating_sub(1));
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{} | {}", diagnostic.line, line.trim_end());
            let _ = writeln!(out, "{pad} | {caret}^");
        }
        let pad = " ".repeat(gutter);
        if let Some(object) = &diagnostic.object {
            let _ = writeln!(out, "{pad} = object: {object}");
        }
        if let Some(hint) = &diagnostic.hint {
            let _ = writeln!(out, "{pad} = hint: {hint}");
        }
        out.push('\n');
    }
    let errors = diagnostics.count(Severity::Error);
    let warnings = diagnostics.count(Severity::Warning);
    let notes = diagnostics.count(Severity::Note);
    let _ = writeln!(
        out,
        "{}: {errors} error(s), {warnings} warning(s), {notes} note(s)",
        if errors > 0 { "invalid" } else { "valid" }
    );
    out
}

pub fn json(diagnostics: &Diagnostics) -> String {
    let value = serde_json::json!({
        "valid": !diagnostics.has_errors(),
        "errors": diagnostics.count(Severity::Error),
        "warnings": diagnostics.count(Severity::Warning),
        "notes": diagnostics.count(Severity::Note),
        "diagnostics": diagnostics,
    });
    let mut out = serde_json::to_string_pretty(&value).unwrap_or_default();
    out.push('\n');
    out
}

/// One `::error file=…,line=…::message` line per diagnostic (notes become `::notice`).
pub fn github(diagnostics: &Diagnostics) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics.iter() {
        let command = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut message = diagnostic.message.clone();
        if let Some(object) = &diagnostic.object {
            let _ = write!(message, " ({object})");
        }
        if let Some(hint) = &diagnostic.hint {
            let _ = write!(message, "\nhint: {hint}");
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},title=meshcd::{}",
            escape_property(&diagnostic.file.display().to_string()),
            diagnostic.line,
            diagnostic.column,
            escape_data(&message)
        );
    }
    out
}

// GitHub's workflow-command escaping rules.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::diagnostics::{Diagnostic, ObjectId};

    fn sample() -> Diagnostics {
        Diagnostics(vec![Diagnostic {
            severity: Severity::Error,
            file: PathBuf::from("a.yaml"),
            line: 2,
            column: 3,
            object: Some(ObjectId {
                kind: "TrafficSplit".into(),
                namespace: Some("shop".into()),
                name: "api".into(),
            }),
            message: "weight must not be negative".into(),
            hint: Some("use 0 for no traffic".into()),
        }])
    }

    #[test]
    fn text_points_at_the_field_with_a_caret() {
        let out = text(&sample(), &|_, _| Some("  weight: -1".into()));
        assert!(
            out.contains("error: weight must not be negative\n  --> a.yaml:2:3\n"),
            "{out}"
        );
        assert!(out.contains("2 |   weight: -1\n  |   ^\n"), "{out}");
        assert!(out.contains("= object: TrafficSplit shop/api"), "{out}");
        assert!(out.contains("invalid: 1 error(s)"), "{out}");
    }

    #[test]
    fn github_annotations_escape_newlines() {
        let out = github(&sample());
        assert!(
            out.starts_with("::error file=a.yaml,line=2,col=3,title=meshcd::weight"),
            "{out}"
        );
        assert!(out.contains("%0Ahint: use 0"), "{out}");
    }
}
