//! Collects diagnostics against the documents they concern, resolving field positions.

use crate::diagnostics::{Diagnostic, Diagnostics, ObjectId, Severity};
use crate::load::{Document, Loaded};
use crate::model::Origin;

/// A document that names a kind meshcd handles, with its identity.
#[derive(Debug, Clone)]
pub struct Object<'a> {
    pub document: &'a Document,
    /// The document's JSON while it is checked against its schema and converted; emptied
    /// (`Null`) afterwards, so that validation never holds every document parsed at once.
    /// Checks across documents read the model; the rare error that needs the JSON again
    /// parses it with `document.value()`.
    pub value: serde_json::Value,
    pub api_version: String,
    /// The version part of `api_version` (`v1alpha3`).
    pub version: String,
    pub id: ObjectId,
}

pub struct Reporter<'a> {
    pub loaded: &'a Loaded,
    pub diagnostics: Diagnostics,
}

/// A diagnostic being built: `reporter.error(object, "/spec/x", "message").hint("…")`.
pub struct Pending<'r, 'a> {
    reporter: &'r mut Reporter<'a>,
    diagnostic: Option<Diagnostic>,
}

impl Pending<'_, '_> {
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        if let Some(diagnostic) = &mut self.diagnostic {
            diagnostic.hint = Some(hint.into());
        }
        self
    }
}

impl Drop for Pending<'_, '_> {
    fn drop(&mut self) {
        if let Some(diagnostic) = self.diagnostic.take() {
            self.reporter.diagnostics.push(diagnostic);
        }
    }
}

impl<'a> Reporter<'a> {
    pub fn new(loaded: &'a Loaded) -> Self {
        Reporter {
            loaded,
            diagnostics: Diagnostics::default(),
        }
    }

    pub fn at<'r>(
        &'r mut self,
        severity: Severity,
        document: &Document,
        object: Option<&ObjectId>,
        pointer: &str,
        message: impl Into<String>,
    ) -> Pending<'r, 'a> {
        let position = self.loaded.locate(document, pointer);
        let diagnostic = Diagnostic {
            severity,
            file: self.loaded.path(document.file).to_path_buf(),
            line: position.line,
            column: position.column,
            object: object.cloned(),
            message: message.into(),
            hint: None,
        };
        Pending {
            reporter: self,
            diagnostic: Some(diagnostic),
        }
    }

    pub fn error<'r>(
        &'r mut self,
        object: &Object<'_>,
        pointer: &str,
        message: impl Into<String>,
    ) -> Pending<'r, 'a> {
        self.at(
            Severity::Error,
            object.document,
            Some(&object.id),
            pointer,
            message,
        )
    }

    pub fn warning<'r>(
        &'r mut self,
        object: &Object<'_>,
        pointer: &str,
        message: impl Into<String>,
    ) -> Pending<'r, 'a> {
        self.at(
            Severity::Warning,
            object.document,
            Some(&object.id),
            pointer,
            message,
        )
    }

    pub fn origin(&self, document: &Document) -> Origin {
        Origin {
            file: self.loaded.path(document.file).to_path_buf(),
            line: document.position.line,
        }
    }
}
