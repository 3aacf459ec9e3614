//! SARIF 2.1.0 output for CI code scanning (GitHub, GitLab): one run, the rule registry as
//! the tool's rules, one result per diagnostic with its physical location.

use serde_json::{json, Value};

use crate::checks::RULES;
use crate::diag::{Diagnostic, Severity};
use crate::source::{primary_line_col, Provenance, SourceFile};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// One SARIF result for a diagnostic: rule, level and message (the caller adds locations).
pub fn result(d: &Diagnostic) -> Value {
    let mut result = json!({
        "ruleId": d.code,
        "level": level(d.severity),
        "message": {"text": match &d.help { Some(h) => format!("{}\nhelp: {h}", d.message), None => d.message.clone() }},
    });
    if let Some(i) = RULES.iter().position(|r| r.code == d.code) {
        result["ruleIndex"] = json!(i);
    }
    result
}

/// A SARIF log of one run of fabplan, the registry as its rules, with these results.
pub fn log(results: Vec<Value>) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.doc},
                "defaultConfiguration": {"level": level(r.severity)},
                "help": {"text": format!("fabplan explain {}", r.code)},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "fabplan",

                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// Builds a SARIF log for diagnostics grouped by file.
pub fn sarif_log(files: &[(&SourceFile, &Provenance, &[Diagnostic])]) -> Value {
    let mut results = Vec::new();
    for (file, prov, diags) in files {
        for d in diags.iter() {
            let mut result = result(d);
            let mut region = json!({});
            if let Some((line, col, span)) = primary_line_col(d, file, prov) {
                let (end_line, end_col) = file.line_col(span.start + span.len);
                region = json!({"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col.max(col)});
            }
            let mut physical = json!({"artifactLocation": {"uri": file.name}});
            if region.as_object().is_some_and(|o| !o.is_empty()) {
                physical["region"] = region;
            }
            result["locations"] = json!([{"physicalLocation": physical}]);
            results.push(result);
        }
    }
    log(results)
}
