//! SARIF 2.1.0 output for CI code scanning (GitHub, GitLab): one run, the rule registry as
//! the tool's rules, one result per diagnostic with its physical location.
//!
//! Conventions of the OASIS SARIF 2.1.0 standard (sections cited) that code-scanning services
//! rely on: file locations are relative URIs against the `SRCROOT` base (§3.4.4, §3.14.14), so
//! a log made in one checkout matches another; each result has `partialFingerprints` (§3.27.17)
//! that do not depend on line numbers, so an alert survives edits above it; each rule has its
//! documentation (`help`, §3.49.13) and, when the package names its repository, `helpUri`
//! (§3.49.12) to the rule's entry in `docs/rules.md`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::checks::RULES;
use crate::diag::{Diagnostic, Severity};
use crate::source::{primary_file, primary_line_col, Provenance, SourceFile};

/// The `uriBaseId` of every relative file URI: the directory fabplan ran in.
pub const SRCROOT: &str = "SRCROOT";

/// Where the rule documentation lives online: `repository` of Cargo.toml (empty when the
/// package names none; then rules carry their documentation inline only).
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The rule reference, `fabplan explain --list --format md` (one anchor per code).
pub const RULES_DOC: &str = "docs/rules.md";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The documentation URL of a rule: its anchor in `docs/rules.md` of the repository.
pub fn help_uri(code: &str) -> Option<String> {
    (!REPOSITORY.is_empty()).then(|| {
        format!(
            "{}/blob/main/{RULES_DOC}#{}",
            REPOSITORY.trim_end_matches('/'),
            code.to_ascii_lowercase()
        )
    })
}

/// Percent-encodes a path for a URI (RFC 3986: unreserved characters and `/` stay).
fn encode_path(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The `artifactLocation` of an input as the user named it: relative to `SRCROOT`, or an
/// absolute `file://` URI; `None` for standard input, which has no location to show.
pub fn artifact_location(name: &str) -> Option<Value> {
    if name == "<stdin>" {
        return None;
    }
    let path = name.strip_prefix("./").unwrap_or(name);
    Some(if path.starts_with('/') {
        json!({"uri": format!("file://{}", encode_path(path))})
    } else {
        json!({"uri": encode_path(path), "uriBaseId": SRCROOT})
    })
}

/// A `location` in file `name` at `region` (`startLine`...), or `None` for standard input.
pub fn location(name: &str, region: Value) -> Option<Value> {
    let mut physical = json!({"artifactLocation": artifact_location(name)?});
    if region.as_object().is_some_and(|o| !o.is_empty()) {
        physical["region"] = region;
    }
    Some(json!({"physicalLocation": physical}))
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

/// FNV-1a, 64 bits: a fingerprint that is the same in every build and on every machine
/// (std's hasher is not guaranteed to be).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Sets `partialFingerprints` on every result: rule, file and message (which names the
/// entities), never the line, so moving a finding within its file keeps its identity; the
/// n-th of otherwise identical results gets n in its fingerprint.
fn fingerprint(results: &mut [Value]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in results.iter_mut() {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let key = format!(
            "{}\u{0}{uri}\u{0}{}",
            r["ruleId"].as_str().unwrap_or(""),
            r["message"]["text"].as_str().unwrap_or("")
        );
        let n = seen.entry(key.clone()).or_insert(0);
        *n += 1;
        let print = format!("{:016x}:{n}", fnv1a(key.as_bytes()));
        r["partialFingerprints"] = json!({"fabplanFinding/v1": print});
    }
}

/// A SARIF log of one run of fabplan, the registry as its rules, with these results.
pub fn log(mut results: Vec<Value>) -> Value {
    fingerprint(&mut results);
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let mut rule = json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.doc},
                "defaultConfiguration": {"level": level(r.severity)},
                "help": {
                    "text": format!("{}\n\nfabplan explain {}", r.doc, r.code),
                    "markdown": format!("{}\n\n`fabplan explain {}`", r.doc, r.code),
                },
            });
            if let Some(uri) = help_uri(r.code) {
                rule["helpUri"] = json!(uri);
            }
            rule
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "fabplan",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html",
                "rules": rules,
            }},
            // Relative URIs resolve against the directory fabplan ran in; a code-scanning
            // upload resolves them against the checkout.
            "originalUriBaseIds": {SRCROOT: {"description": {"text": "the directory fabplan ran in (the repository root in CI)"}}},
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
            // The file of the primary label: a GPU model file's problem is located in it.
            let file = primary_file(d, file);
            if let Some((line, col, span)) = primary_line_col(d, file, prov) {
                let (end_line, end_col) = file.line_col(span.start + span.len);
                region = json!({"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col.max(col)});
            }
            result["locations"] =
                json!(location(&file.name, region).into_iter().collect::<Vec<_>>());
            results.push(result);
        }
    }
    log(results)
}
