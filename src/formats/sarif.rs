//! SARIF 2.1.0 output for CI code scanning (GitHub, GitLab): one run, the rule registry as
//! the tool's rules, one result per diagnostic with its physical location.
//!
//! Conventions of the OASIS SARIF 2.1.0 standard (sections cited) that code-scanning services
//! rely on: file locations are relative URIs against the `SRCROOT` base (§3.4.4, §3.14.14), so
//! a log made in one checkout matches another; each result has `partialFingerprints` (§3.27.17)
//! that do not depend on line numbers, so an alert survives edits above it; each rule has its
//! documentation inline (`help`, §3.49.13) and, when the user gives where the rule
//! documentation is published (`--help-uri-base URL`, `FABPLAN_HELP_URI_BASE`), `helpUri`
//! (§3.49.12, an absolute URI). fabplan has no public URL of its own, so none is invented.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::checks::RULES;
use crate::diag::{Diagnostic, Severity};
use crate::source::{primary_file, primary_line_col, Provenance, SourceFile};

/// The `uriBaseId` of every relative file URI: the directory fabplan ran in.
pub const SRCROOT: &str = "SRCROOT";

/// The rule reference, `fabplan explain --list --format md` (one anchor per code).
pub const RULES_DOC: &str = "docs/rules.md";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Where the rule documentation is published, for `helpUri`: an absolute URI (RFC 3986
/// section 4.3: a scheme, `:`, the rest) that a rule's code is appended to, as a path segment
/// (`https://example.org/fabplan/rules` gives `.../rules/FP101`) or, when it ends with `#`,
/// as the lowercase anchor of `docs/rules.md` (`.../docs/rules.md#` gives `...#fp101`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpUriBase(String);

impl HelpUriBase {
    /// The environment variable read when the flag is not given.
    pub const ENV: &'static str = "FABPLAN_HELP_URI_BASE";

    /// Checks `text` is an absolute URI: a scheme (a letter, then letters, digits, `+`, `-`,
    /// `.`), `:`, a non-empty rest of URI characters (RFC 3986 unreserved, reserved or `%`),
    /// with at most a `#` at the very end.
    pub fn parse(text: &str) -> Result<HelpUriBase, String> {
        let bad = |why: &str| {
            Err(format!(
                "`{text}` is not an absolute URI ({why}); give e.g. https://example.org/fabplan/docs/rules.md#"
            ))
        };
        let Some((scheme, rest)) = text.split_once(':') else {
            return bad("no scheme such as `https:`");
        };
        let mut chars = scheme.chars();
        if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return bad("the scheme must be a letter followed by letters, digits, `+`, `-` or `.`");
        }
        if rest.is_empty() || rest == "#" {
            return bad("nothing after the scheme");
        }
        let body = rest.strip_suffix('#').unwrap_or(rest);
        if let Some(c) = body
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~:/?[]@!$&'()*+,;=%".contains(*c)))
        {
            return bad(&format!("`{}` is not allowed in a URI", c.escape_default()));
        }
        Ok(HelpUriBase(text.to_string()))
    }

    /// The flag's value, else `FABPLAN_HELP_URI_BASE` when set and not empty (checked the same
    /// way: a bad value is a usage error, exit 2), else none.
    pub fn resolve(flag: Option<&HelpUriBase>) -> crate::error::Result<Option<HelpUriBase>> {
        if let Some(b) = flag {
            return Ok(Some(b.clone()));
        }
        match std::env::var(Self::ENV) {
            Ok(v) if !v.is_empty() => HelpUriBase::parse(&v).map(Some).map_err(|e| {
                crate::error::Error::usage(
                    format!("{}: {e}", Self::ENV),
                    Some("unset it, or give --help-uri-base URL".to_string()),
                )
            }),
            _ => Ok(None),
        }
    }

    /// The documentation URI of rule `code`.
    pub fn uri(&self, code: &str) -> String {
        if self.0.ends_with('#') {
            format!("{}{}", self.0, code.to_ascii_lowercase())
        } else {
            format!("{}/{code}", self.0.trim_end_matches('/'))
        }
    }
}

/// Sets `helpUri` on every rule of a log from `base`; without a base the rules keep only
/// their inline `help` (text and markdown).
pub fn with_help_uris(mut log: Value, base: Option<&HelpUriBase>) -> Value {
    let Some(base) = base else { return log };
    if let Some(runs) = log["runs"].as_array_mut() {
        for run in runs {
            if let Some(rules) = run["tool"]["driver"]["rules"].as_array_mut() {
                for rule in rules {
                    let uri = base.uri(rule["id"].as_str().unwrap_or_default());
                    rule["helpUri"] = json!(uri);
                }
            }
        }
    }
    log
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
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.doc},
                "defaultConfiguration": {"level": level(r.severity)},
                "help": {
                    "text": format!("{}\n\nfabplan explain {}", r.doc, r.code),
                    "markdown": format!("{}\n\n`fabplan explain {}`", r.doc, r.code),
                },
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
