//! OTLP JSON traces in: GenAI spans as usage records (`fabplan meter`).
//!
//! The file is an OTLP/JSON `ExportTraceServiceRequest` (opentelemetry-proto,
//! `resourceSpans[].resource.attributes`, `resourceSpans[].scopeSpans[].spans[]` with
//! `startTimeUnixNano` and `attributes`, each `{key, value: {stringValue | intValue |
//! doubleValue}}`; OTLP/JSON writes 64-bit integers as strings). A span is a usage record
//! when it has `gen_ai.usage.input_tokens` or `gen_ai.usage.output_tokens`; other spans
//! (HTTP, tool executions) are not records and are not rejected.
//!
//! Tool calls per record ([`tool_calls`]), from what the conventions put in a trace:
//! 1. the `tool_call` (and provider-run `server_tool_call`) parts of the record's
//!    `gen_ai.output.messages` (opt-in content capture; on the span or one of its events; a
//!    JSON string or a structured value);
//! 2. else the tool execution spans (`gen_ai.operation.name = execute_tool`, or a span named
//!    `execute_tool ...` without an operation name) of its trace that it asked for: each tool
//!    span goes to the record without captured messages that started last at or before it
//!    (the model asks, then the tool runs; the trace's first such record if none did), except
//!    a span whose `gen_ai.tool.call.id` is a captured tool-call part's id in its trace
//!    (counted by 1 already);
//! 3. else 0 when `gen_ai.response.finish_reasons` name no tool call, or when they are absent
//!    and the file has tool spans (its tools are traced);
//! 4. else unknown (`None`, "not in the input"): nothing in the trace says, or the record
//!    stopped for `tool_calls` with nothing to count them by.
//!
//! Source: open-telemetry/semantic-conventions, the GenAI spans page (execute-tool span),
//! `docs/gen-ai/gen-ai-output-messages.json` and the non-normative "Tool calls (functions)"
//! example (github.com/open-telemetry/semantic-conventions/blob/main/docs/gen-ai/non-normative/examples-llm-calls.md).
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

/// An OTLP `AnyValue` as JSON: a string holding JSON is parsed (the conventions record
/// structured attributes such as `gen_ai.output.messages` as JSON strings), arrays
/// (`arrayValue.values`) and maps (`kvlistValue.values`) are converted.
fn any_value_json(v: &Value) -> Option<Value> {
    let o = v.as_object()?;
    if let Some(s) = o.get("stringValue").and_then(Value::as_str) {
        return serde_json::from_str(s).ok();
    }
    if let Some(a) = o.get("arrayValue") {
        let values = a.get("values").and_then(Value::as_array)?;
        return Some(Value::Array(
            values.iter().filter_map(any_value_json_scalar).collect(),
        ));
    }
    if let Some(m) = o.get("kvlistValue") {
        let values = m.get("values").and_then(Value::as_array)?;
        return Some(Value::Object(
            values
                .iter()
                .filter_map(|kv| {
                    let k = kv.get("key")?.as_str()?.to_string();
                    Some((k, any_value_json_scalar(kv.get("value")?)?))
                })
                .collect(),
        ));
    }
    None
}

/// Inside a structured value a string is a string, not JSON text.
fn any_value_json_scalar(v: &Value) -> Option<Value> {
    let o = v.as_object()?;
    if let Some(s) = o.get("stringValue") {
        return Some(s.clone());
    }
    if o.contains_key("arrayValue") || o.contains_key("kvlistValue") {
        return any_value_json(v);
    }
    value_text(v).map(Value::String)
}

/// The raw (unconverted) value of attribute `key` in an OTLP attribute list.
fn raw_attribute<'a>(list: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    list?
        .as_array()?
        .iter()
        .find(|kv| kv.get("key").and_then(Value::as_str) == Some(key))?
        .get("value")
}

/// What a span says about the tool calls its model response asked for.
#[derive(Debug, Default, Clone, PartialEq)]
struct ToolInfo {
    /// The tool-call parts of its captured output messages, with their ids (`None`: not
    /// captured).
    message_calls: Option<Vec<Option<String>>>,
    /// `gen_ai.response.finish_reasons`: `Some(true)` when one is a tool call.
    finish_tool: Option<bool>,
}

const TOOL_CALL_PARTS: &[&str] = &["tool_call", "server_tool_call"];

fn tool_info(span: &Value) -> ToolInfo {
    let messages = raw_attribute(span.get("attributes"), "gen_ai.output.messages")
        .or_else(|| {
            span.get("events")?
                .as_array()?
                .iter()
                .find_map(|e| raw_attribute(e.get("attributes"), "gen_ai.output.messages"))
        })
        .and_then(any_value_json);
    let message_calls = messages.as_ref().and_then(Value::as_array).map(|ms| {
        ms.iter()
            .filter_map(|m| m.get("parts")?.as_array())
            .flatten()
            .filter(|p| {
                p.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| TOOL_CALL_PARTS.contains(&t))
            })
            .map(|p| p.get("id").and_then(Value::as_str).map(str::to_string))
            .collect()
    });
    let finish_tool = raw_attribute(span.get("attributes"), "gen_ai.response.finish_reasons")
        .and_then(|v| {
            let o = v.as_object()?;
            let reasons: Vec<String> = match o.get("arrayValue") {
                Some(a) => a
                    .get("values")?
                    .as_array()?
                    .iter()
                    .filter_map(value_text)
                    .collect(),
                None => vec![value_text(v)?],
            };
            Some(
                reasons
                    .iter()
                    .any(|r| r == "tool_calls" || r == "tool_call"),
            )
        });
    ToolInfo {
        message_calls,
        finish_tool,
    }
}

/// A tool execution span: its trace, start and call id.
#[derive(Debug, Clone, PartialEq)]
struct ToolSpan {
    trace: Option<String>,
    start_ns: u64,
    call_id: Option<String>,
}

/// A record's trace and start, for matching tool spans to it.
#[derive(Debug, Clone, PartialEq)]
struct RecordSpan {
    trace: Option<String>,
    start_ns: u64,
    info: ToolInfo,
}

/// Tool calls per record (same order as `records`) by the rules in the module doc.
fn tool_calls(records: &[RecordSpan], tools: &[ToolSpan]) -> Vec<Option<u64>> {
    // Call ids of captured tool-call parts, per trace.
    let captured: std::collections::BTreeSet<(&Option<String>, &str)> = records
        .iter()
        .filter_map(|r| Some((&r.trace, r.info.message_calls.as_ref()?)))
        .flat_map(|(t, calls)| calls.iter().filter_map(move |id| Some((t, id.as_deref()?))))
        .collect();
    // Records without captured messages by trace, in start order.
    let mut by_trace: std::collections::BTreeMap<&Option<String>, Vec<(u64, usize)>> =
        std::collections::BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if r.info.message_calls.is_none() {
            by_trace.entry(&r.trace).or_default().push((r.start_ns, i));
        }
    }
    for v in by_trace.values_mut() {
        v.sort_unstable();
    }
    let mut spans = vec![0u64; records.len()];
    for t in tools {
        if t.call_id
            .as_deref()
            .is_some_and(|id| captured.contains(&(&t.trace, id)))
        {
            continue;
        }
        // The record of the same trace that started last at or before the tool (the model
        // asks, then the tool runs); clock skew aside, else the trace's first record.
        let Some(same) = by_trace.get(&t.trace) else {
            continue;
        };
        let before = same.partition_point(|&(start, _)| start <= t.start_ns);
        spans[same[before.saturating_sub(1)].1] += 1;
    }
    let traced = !tools.is_empty();
    records
        .iter()
        .zip(spans)
        .map(|(r, n)| match (&r.info.message_calls, r.info.finish_tool) {
            (Some(calls), _) => Some(calls.len() as u64),
            (None, _) if n > 0 => Some(n),
            (None, Some(true)) => None,
            (None, Some(false)) => Some(0),
            (None, None) => traced.then_some(0),
        })
        .collect()
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
    // The records of this file (index into `intake.records`) and its tool spans.
    let mut mine: Vec<(usize, RecordSpan)> = Vec::new();
    let mut tools: Vec<ToolSpan> = Vec::new();
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
                let trace = span
                    .get("traceId")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let start_ns = start_nanos(span);
                let input = get(&["gen_ai.usage.input_tokens"]);
                let output = get(&["gen_ai.usage.output_tokens"]);
                if input.is_none() && output.is_none() {
                    let operation = attrs
                        .iter()
                        .find(|(k, _)| k == "gen_ai.operation.name")
                        .map(|(_, v)| v.as_str());
                    let named = span
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.starts_with("execute_tool"));
                    if operation == Some("execute_tool") || (operation.is_none() && named) {
                        tools.push(ToolSpan {
                            trace,
                            start_ns: start_ns.unwrap_or(0),
                            call_id: attrs
                                .iter()
                                .find(|(k, _)| k == "gen_ai.tool.call.id")
                                .map(|(_, v)| v.clone()),
                        });
                    }
                    continue;
                }
                match record(span, &get, labels, file, pos, period) {
                    Ok(r) => {
                        mine.push((
                            intake.records.len(),
                            RecordSpan {
                                trace,
                                start_ns: start_ns.unwrap_or(0),
                                info: tool_info(span),
                            },
                        ));
                        intake.records.push(r);
                    }
                    Err(d) => intake.reject(file, d),
                }
            }
        }
    }
    let spans: Vec<RecordSpan> = mine.iter().map(|(_, r)| r.clone()).collect();
    for ((i, _), n) in mine.iter().zip(tool_calls(&spans, &tools)) {
        intake.records[*i].tool_calls = n;
    }
    Ok(())
}

fn start_nanos(span: &Value) -> Option<u64> {
    span.get("startTimeUnixNano").and_then(|v| match v {
        Value::String(s) => s.parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    })
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
    let nanos = start_nanos(span).ok_or_else(|| {
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
        // Set from the whole file once every span is read (`tool_calls`).
        tool_calls: None,
        latency_ms: end
            .filter(|e| *e >= nanos)
            .map(|e| (e - nanos) as f64 / 1e6),
        file,
        span: pos,
    };
    check_period(r, &format!("{nanos} ns"), period)
}
