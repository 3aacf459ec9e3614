//! Diagnostics: a stable code, a severity, a message, labels and a help line.
//!
//! Rendering-agnostic: a label points either at a byte span of the file being loaded, or at a
//! model entity (a rack, a link, a switch...) whose span the loader recorded in its
//! `source::Provenance`. Checks therefore stay span-free; spans are attached at the boundary
//! (`source.rs`) when the diagnostic is rendered.

use std::sync::Arc;

use crate::model::Entity;
use crate::source::SourceFile;

/// How bad a finding is. Errors make `validate` exit 1; warnings are printed but do not fail
/// the run unless `--deny-warnings` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub len: usize,
}

/// What a label points at.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A span of the file, known at load time.
    Span(Span),
    /// A model entity and, optionally, one of its fields (`"power_kw"`); resolved through the
    /// loader's provenance table, falling back to the entity's own span.
    Entity(Entity, Option<&'static str>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub target: Target,
    pub text: String,
    pub primary: bool,
    /// The file the span is in, when it is not the file being loaded: a GPU model file a
    /// fabric references (`gpu_models:`). `None` is the file the diagnostic is reported for.
    pub file: Option<Arc<SourceFile>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Stable code (`FP101`), never reused; see `fabplan explain CODE`.
    pub code: &'static str,
    pub severity: Severity,
    /// One line, lowercase, no trailing period, identifiers in backticks.
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    fn label(mut self, target: Target, text: impl Into<String>, primary: bool) -> Self {
        self.labels.push(Label {
            target,
            text: text.into(),
            primary,
            file: None,
        });
        self
    }

    /// Moves every label that has no file of its own into `file`: a diagnostic found while
    /// loading another file (a GPU model file) keeps pointing into that file when it is
    /// reported with the file that referenced it. Labels added afterwards point into the
    /// referencing file (`also_at`: "referenced here").
    pub fn in_file(mut self, file: &Arc<SourceFile>) -> Self {
        for l in &mut self.labels {
            l.file.get_or_insert_with(|| Arc::clone(file));
        }
        self
    }

    /// The primary label, on a span of the file.
    pub fn at(self, span: Span, text: impl Into<String>) -> Self {
        self.label(Target::Span(span), text, true)
    }

    /// The primary label on a span, when the span is known (values read without locations
    /// get no label rather than one pointing at the start of the file).
    pub fn at_opt(self, span: Option<Span>, text: impl Into<String>) -> Self {
        match span {
            Some(s) => self.at(s, text),
            None => self,
        }
    }

    /// A secondary label on a span, when the span is known.
    pub fn also_at_opt(self, span: Option<Span>, text: impl Into<String>) -> Self {
        match span {
            Some(s) => self.also_at(s, text),
            None => self,
        }
    }

    /// The primary label, on an entity (optionally one of its fields).
    pub fn on(self, entity: Entity, field: Option<&'static str>, text: impl Into<String>) -> Self {
        self.label(Target::Entity(entity, field), text, true)
    }

    /// A secondary label ("declared here") on an entity.
    pub fn also(
        self,
        entity: Entity,
        field: Option<&'static str>,
        text: impl Into<String>,
    ) -> Self {
        self.label(Target::Entity(entity, field), text, false)
    }

    /// A secondary label on a span of the file.
    pub fn also_at(self, span: Span, text: impl Into<String>) -> Self {
        self.label(Target::Span(span), text, false)
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Diagnostics collected while a stage keeps going past problems.
pub type Diagnostics = Vec<Diagnostic>;

/// True when any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| d.severity == Severity::Error)
}
