//! Rendering diagnostics for people (miette) and machines (JSON).

use serde_json::{json, Value};

use crate::diag::{Diagnostic, Severity};
use crate::source::{
    primary_file, primary_line_col, resolve_label, Provenance, Rendered, SourceFile,
};

/// Width of rendered diagnostics; fixed so output does not depend on the terminal.
pub const RENDER_WIDTH: usize = 100;

/// Renders diagnostics with miette's graphical handler, colours only when `color`.
pub fn human(diags: &[Diagnostic], file: &SourceFile, prov: &Provenance, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(RENDER_WIDTH)
        .with_context_lines(crate::source::excerpt::CONTEXT_LINES)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let r = Rendered::new(d, file, prov);
        let _ = handler.render_report(&mut out, &r);
        out.push('\n');
    }
    out
}

/// Counts of errors, warnings and notes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl Tally {
    pub fn of(diags: &[Diagnostic]) -> Self {
        let mut t = Tally::default();
        for d in diags {
            match d.severity {
                Severity::Error => t.errors += 1,
                Severity::Warning => t.warnings += 1,
                Severity::Note => t.notes += 1,
            }
        }
        t
    }

    pub fn add(&mut self, other: Tally) {
        self.errors += other.errors;
        self.warnings += other.warnings;
        self.notes += other.notes;
    }

    pub fn describe(&self) -> String {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}",
            plural(self.errors, "error"),
            plural(self.warnings, "warning")
        )
    }
}

/// One diagnostic as JSON: code, rule name, severity, message, location, labels, help.
pub fn diagnostic_json(d: &Diagnostic, file: &SourceFile, prov: &Provenance) -> Value {
    let name = crate::checks::rule(d.code).map(|r| r.name).unwrap_or("");
    let loc = primary_line_col(d, file, prov);
    let labels: Vec<Value> = d
        .labels
        .iter()
        .filter_map(|l| {
            let span = resolve_label(l, prov)?;
            let in_file = l.file.as_deref().unwrap_or(file);
            let (line, column) = in_file.line_col(span.start);
            let mut label =
                json!({"line": line, "column": column, "text": l.text, "primary": l.primary});
            // A label in another file than the diagnostic's (a GPU model file's problem and
            // its `gpu_models:` entry) names its file.
            if !std::ptr::eq(in_file, primary_file(d, file)) {
                label["file"] = json!(in_file.name);
            }
            Some(label)
        })
        .collect();
    json!({
        "code": d.code,
        "rule": name,
        "severity": d.severity.as_str(),
        "message": d.message,
        "file": primary_file(d, file).name,
        "line": loc.map(|l| l.0),
        "column": loc.map(|l| l.1),
        "labels": labels,
        "help": d.help,
    })
}

/// Diagnostics of several files as one JSON document (`validate --format json`, and the
/// load diagnostics of `plan --format json|yaml`): per file its name, whether it loaded, and
/// its diagnostics with locations; then the totals.
pub fn files_json(files: &[(&SourceFile, &Provenance, &[Diagnostic], bool)]) -> Value {
    let mut total = Tally::default();
    let entries: Vec<Value> = files
        .iter()
        .map(|(file, prov, diags, loaded)| {
            total.add(Tally::of(diags));
            json!({
                "file": file.name,
                "loaded": loaded,
                "diagnostics": diags.iter().map(|d| diagnostic_json(d, file, prov)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "files": entries,
        "summary": {"errors": total.errors, "warnings": total.warnings, "notes": total.notes},
    })
}
