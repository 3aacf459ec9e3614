//! OTLP JSON traces in: GenAI spans as usage records (`fabplan meter`).
//!
//! The file is an OTLP/JSON `ExportTraceServiceRequest` (opentelemetry-proto,
//! `resourceSpans[].resource.attributes`, `resourceSpans[].scopeSpans[].spans[]` with
//! `startTimeUnixNano` and `attributes`, each `{key, value: {stringValue | intValue |
//! doubleValue}}`; OTLP/JSON writes 64-bit integers as strings). A span is a usage record
//! when it has `gen_ai.usage.input_tokens` or `gen_ai.usage.output_tokens`; other spans
//! (HTTP, tool executions) are counted as skipped, not rejected.
//!
//! Attributes read (OpenTelemetry GenAI semantic conventions, span attributes; the span's
//! value wins over the resource's): `gen_ai.request.model` (else `gen_ai.response.model`),
//! `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`,
//! `gen_ai.usage.cache_read.input_tokens` (cached, included in the input count),
//! `gen_ai.conversation.id` (the agent run), `gen_ai.tool.name`. Tenant and project have no
//! GenAI convention: `tenant.id` and `project.id`, else `fabplan.tenant` and
//! `fabplan.project`, else `--tenant/--project`. Source: open-telemetry/semantic-conventions,
//! its GenAI spans page (docs/gen-ai/gen-ai-spans) and `model/gen-ai/registry.yaml`.

use serde_json::Value;

use crate::diag::{Diagnostic, Span};
use crate::meter::{check_period, Intake, Labels, Period, UsageRecord};

/// The attribute's value as text (strings, integers, doubles, booleans).
fn value_text(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    if let Some(s) = o.get("stringValue").and_then(Value::as_str) {
        return Some(s.to_string());
    }
    if let Some(i) = o.get("intValue") {
        return match i {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
    }
    if let Some(d) = o.get("doubleValue") {
        return Some(d.to_string());
    }
    o.get("boolValue").map(|b| b.to_string())
}

fn attributes(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|kv| {
                    let k = kv.get("key")?.as_str()?.to_string();
                    Some((k, value_text(kv.get("value")?)?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Where the `n`-th occurrence of `"spanId"` is, for a file:line on a span (serde_json
/// keeps no positions; spans are visited in document order, as they are written).
fn span_locations(text: &str) -> Vec<usize> {
    text.match_indices("\"spanId\"").map(|(i, _)| i).collect()
}

pub fn read(
    intake: &mut Intake,
    file: usize,
    text: &str,
    labels: &Labels,
    period: Period,
) -> Result<(), Diagnostic> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        let offset = crate::source::SourceFile::new("", text).offset_of(e.line(), e.column());
        crate::checks::diag("FP996", format!("the OTLP document cannot be read: {e}"))
            .at(Span { start: offset, len: 1 }, "here")
            .help("write OTLP/JSON: {\"resourceSpans\": [{\"resource\": ..., \"scopeSpans\": [{\"spans\": [...]}]}]}")
    })?;
    let Some(resource_spans) = doc.get("resourceSpans").and_then(Value::as_array) else {
        return Err(
            crate::checks::diag("FP996", "the OTLP document has no `resourceSpans` array")
                .at(Span { start: 0, len: 1 }, "here")
                .help("export traces as OTLP/JSON (ExportTraceServiceRequest)"),
        );
    };
    let locations = span_locations(text);
    let mut nth = 0usize;
    for rs in resource_spans {
        let resource = attributes(rs.get("resource").and_then(|r| r.get("attributes")));
        for ss in rs
            .get("scopeSpans")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for span in ss
                .get("spans")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let at = if span.get("spanId").is_some() {
                    let s = locations.get(nth).copied().unwrap_or(0);
                    nth += 1;
                    s
                } else {
                    0
                };
                let pos = Span {
                    start: at,
                    len: "\"spanId\"".len(),
                };
                let attrs = attributes(span.get("attributes"));
                let get = |keys: &[&str]| -> Option<String> {
                    for k in keys {
                        for list in [&attrs, &resource] {
                            if let Some((_, v)) = list.iter().find(|(n, _)| n == k) {
                                if !v.is_empty() {
                                    return Some(v.clone());
                                }
                            }
                        }
                    }
                    None
                };
                let input = get(&["gen_ai.usage.input_tokens"]);
                let output = get(&["gen_ai.usage.output_tokens"]);
                if input.is_none() && output.is_none() {
                    continue;
                }
                match record(span, &get, labels, file, pos, period) {
                    Ok(r) => intake.records.push(r),
                    Err(d) => intake.reject(file, d),
                }
            }
        }
    }
    Ok(())
}

#[allow(clippy::result_large_err)]
fn record(
    span: &Value,
    get: &dyn Fn(&[&str]) -> Option<String>,
    labels: &Labels,
    file: usize,
    pos: Span,
    period: Period,
) -> Result<UsageRecord, Diagnostic> {
    let bad = |code: &'static str, m: String, help: &str| {
        crate::checks::diag(code, m).at(pos, "this span").help(help)
    };
    let count = |key: &str, required: bool| -> Result<u64, Diagnostic> {
        match get(&[key]) {
            None if required => Err(bad(
                "FP991",
                format!("span has no `{key}`"),
                "a GenAI span carries both gen_ai.usage.input_tokens and gen_ai.usage.output_tokens",
            )),
            None => Ok(0),
            Some(t) => t.parse::<u64>().map_err(|_| {
                bad("FP992", format!("`{key}` is `{t}`, not a whole number of at least 0"), "token counts are non-negative integers")
            }),
        }
    };
    let nanos = span
        .get("startTimeUnixNano")
        .and_then(|v| match v {
            Value::String(s) => s.parse::<u64>().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .ok_or_else(|| {
            bad(
                "FP991",
                "span has no `startTimeUnixNano`".into(),
                "OTLP spans carry their start time in nanoseconds since the epoch",
            )
        })?;
    let model = get(&["gen_ai.request.model", "gen_ai.response.model"])
        .or_else(|| labels.model.clone())
        .ok_or_else(|| {
            bad(
                "FP991",
                "span has no `gen_ai.request.model`".into(),
                "set the attribute, or label the file with --model",
            )
        })?;
    let tenant = get(&["tenant.id", "fabplan.tenant"])
        .or_else(|| labels.tenant.clone())
        .ok_or_else(|| {
            bad(
                "FP991",
                "span has no tenant (`tenant.id`)".into(),
                "set `tenant.id` on the resource or the span, or label the file with --tenant",
            )
        })?;
    let input_tokens = count("gen_ai.usage.input_tokens", true)?;
    let output_tokens = count("gen_ai.usage.output_tokens", true)?;
    let cached_tokens = count("gen_ai.usage.cache_read.input_tokens", false)?;
    if cached_tokens > input_tokens {
        return Err(bad(
            "FP992",
            format!("`gen_ai.usage.cache_read.input_tokens` ({cached_tokens}) exceeds `gen_ai.usage.input_tokens` ({input_tokens})"),
            "the cache-read count is included in the input count",
        ));
    }
    let end = span
        .get("endTimeUnixNano")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<u64>().ok());
    let r = UsageRecord {
        timestamp_s: nanos as f64 / 1e9,
        tenant,
        project: get(&["project.id", "fabplan.project"])
            .or_else(|| labels.project.clone())
            .unwrap_or_else(|| "-".into()),
        model,
        tool: get(&["gen_ai.tool.name"])
            .or_else(|| labels.tool.clone())
            .unwrap_or_else(|| "-".into()),
        agent_run_id: get(&["gen_ai.conversation.id"]),
        input_tokens,
        output_tokens,
        cached_tokens,
        tool_calls: 0,
        latency_ms: end
            .filter(|e| *e >= nanos)
            .map(|e| (e - nanos) as f64 / 1e6),
        file,
        span: pos,
    };
    check_period(r, &format!("{nanos} ns"), period)
}
