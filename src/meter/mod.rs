//! Metering: request-level usage records in, cost per tenant, project, model and tool out,
//! reconciled to the cent against the fleet's cost for the period (docs/meter.md).
//!
//! Three readers produce [`UsageRecord`]s: fabplan's usage log (CSV or JSONL, the columns
//! of [`COLUMNS`]), the Azure LLM inference trace 2023 CSV (`TIMESTAMP,ContextTokens,
//! GeneratedTokens`, labelled by `--tenant/--model`) and OTLP JSON traces
//! (`crate::formats::otlp`). A record that cannot be used is never dropped silently: it
//! becomes a diagnostic (code FP990-FP994, file:line) and is counted by code.
//! [`attribute`] turns accepted records into GPU-seconds and cost. No IO here.

pub mod attribute;
pub mod prefix;
pub mod render;

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::diag::{Diagnostic, Span};

/// The usage log's columns (CSV header or JSONL keys), in order.
pub const COLUMNS: &[&str] = &[
    "timestamp",
    "tenant",
    "project",
    "model",
    "tool",
    "agent_run_id",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "tool_calls",
    "latency_ms",
];

/// Printed diagnostics per code are capped (the counts never are): a million bad lines
/// would otherwise bury the summary.
pub const MAX_DIAGNOSTICS_PER_CODE: usize = 20;

/// One request (or one agent step) as metered.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// Seconds since the Unix epoch, UTC.
    pub timestamp_s: f64,
    pub tenant: String,
    pub project: String,
    pub model: String,
    pub tool: String,
    pub agent_run_id: Option<String>,
    /// Prompt tokens, cached ones included (OpenTelemetry: the cache-read count SHOULD be
    /// included in `gen_ai.usage.input_tokens`).
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Prompt tokens served from the prefix (KV) cache: no prefill compute.
    pub cached_tokens: u64,
    /// Tool calls the request made; `None` when the input does not say (an empty or absent
    /// `tool_calls` column, the Azure and Mooncake traces, OTLP spans without tool
    /// information): never read as 0.
    pub tool_calls: Option<u64>,
    pub latency_ms: Option<f64>,
    /// Where the record is: the file's index among the inputs and its byte span.
    pub file: usize,
    pub span: Span,
}

/// Labels given on the command line for records (or whole files) that lack them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labels {
    pub tenant: Option<String>,
    pub project: Option<String>,
    pub model: Option<String>,
    pub tool: Option<String>,
}

/// What reading one or more inputs gave: the accepted records, the rejected ones as
/// diagnostics (capped per code) and the rejected count per code (never capped).
#[derive(Debug, Default)]
pub struct Intake {
    pub records: Vec<UsageRecord>,
    /// (file index, diagnostic), in input order.
    pub diagnostics: Vec<(usize, Diagnostic)>,
    pub rejected: BTreeMap<&'static str, u64>,
    /// Per file with prefix-block hashes (Mooncake), what its prefix cache saw.
    pub prefix_caches: BTreeMap<usize, prefix::CacheStats>,
}

impl Intake {
    /// Counts a rejected record and keeps its diagnostic (up to the per-code cap).
    pub fn reject(&mut self, file: usize, d: Diagnostic) {
        let n = self.rejected.entry(d.code).or_insert(0);
        *n += 1;
        if *n as usize <= MAX_DIAGNOSTICS_PER_CODE {
            self.diagnostics.push((file, d));
        }
    }

    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// The inclusive-exclusive metering period, Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub start_s: f64,
    pub end_s: f64,
}

impl Period {
    pub fn hours(&self) -> f64 {
        (self.end_s - self.start_s) / 3600.0
    }
}

pub use crate::util::parse_timestamp;

/// `START/END`, both timestamps [`parse_timestamp`] reads, END after START.
pub fn parse_period(s: &str) -> Result<Period, String> {
    let (a, b) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}` is not START/END"))?;
    let start_s = parse_timestamp(a).ok_or_else(|| format!("`{a}` is not a timestamp"))?;
    let end_s = parse_timestamp(b).ok_or_else(|| format!("`{b}` is not a timestamp"))?;
    if end_s <= start_s {
        return Err(format!("`{b}` is not after `{a}`"));
    }
    Ok(Period { start_s, end_s })
}

/// The byte span of line `line_start..` (without its line break).
/// The non-blank lines of a JSONL file, trimmed, each with its span (the line without its
/// line break).
fn jsonl_lines(text: &str) -> impl Iterator<Item = (Span, &str)> {
    let mut start = 0;
    text.split_inclusive('\n').filter_map(move |line| {
        let span = line_span(text, start);
        start += line.len();
        let body = line.trim();
        (!body.is_empty()).then_some((span, body))
    })
}

fn line_span(text: &str, start: usize) -> Span {
    let rest = &text[start.min(text.len())..];
    let len = rest.find('\n').unwrap_or(rest.len());
    let len = if rest[..len].ends_with('\r') {
        len - 1
    } else {
        len
    };
    Span { start, len }
}

/// The fields of one usage-log row, as text, before checking.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    timestamp: Option<Field>,
    tenant: Option<Field>,
    project: Option<Field>,
    model: Option<Field>,
    tool: Option<Field>,
    agent_run_id: Option<Field>,
    input_tokens: Option<Field>,
    output_tokens: Option<Field>,
    cached_tokens: Option<Field>,
    tool_calls: Option<Field>,
    latency_ms: Option<Field>,
}

/// A JSONL value may be a string or a number; a CSV cell is text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Field {
    Text(String),
    Number(serde_json::Number),
}

impl Field {
    fn text(&self) -> String {
        match self {
            Field::Text(s) => s.trim().to_string(),
            Field::Number(n) => n.to_string(),
        }
    }
}

fn bad(code: &'static str, span: Span, message: String, help: &str) -> Diagnostic {
    crate::checks::diag(code, message)
        .at(span, "this record")
        .help(help)
}

/// A row's text fields to a record, or the reason it is rejected.
#[allow(clippy::result_large_err)]
fn check_row(
    raw: RawRow,
    labels: &Labels,
    file: usize,
    span: Span,
    period: Period,
) -> Result<UsageRecord, Diagnostic> {
    let text = |f: &Option<Field>| f.as_ref().map(Field::text).filter(|s| !s.is_empty());
    let label = |f: &Option<Field>, l: &Option<String>| {
        text(f).or_else(|| l.clone()).filter(|s| !s.is_empty())
    };
    let missing = |name: &str| {
        bad(
            "FP991",
            span,
            format!("record has no `{name}`"),
            "fill the column, or label the whole file with --tenant/--project/--model/--tool",
        )
    };
    let given = |name: &str, f: &Option<Field>| -> Result<Option<u64>, Diagnostic> {
        text(f)
            .map(|t| {
                t.parse::<u64>().map_err(|_| {
                    bad(
                        "FP992",
                        span,
                        format!("`{name}` is `{t}`, not a whole number of at least 0"),
                        "counts are non-negative integers",
                    )
                })
            })
            .transpose()
    };
    let count = |name: &str, f: &Option<Field>, required: bool| -> Result<u64, Diagnostic> {
        match given(name, f)? {
            None if required => Err(missing(name)),
            n => Ok(n.unwrap_or(0)),
        }
    };
    let ts_text = text(&raw.timestamp).ok_or_else(|| missing("timestamp"))?;
    let timestamp_s = parse_timestamp(&ts_text).ok_or_else(|| {
        bad(
            "FP992",
            span,
            format!("`timestamp` is `{ts_text}`, not a timestamp"),
            "write `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC)",
        )
    })?;
    let tenant = label(&raw.tenant, &labels.tenant).ok_or_else(|| missing("tenant"))?;
    let model = label(&raw.model, &labels.model).ok_or_else(|| missing("model"))?;
    let project = label(&raw.project, &labels.project).unwrap_or_else(|| "-".into());
    let tool = label(&raw.tool, &labels.tool).unwrap_or_else(|| "-".into());
    let input_tokens = count("input_tokens", &raw.input_tokens, true)?;
    let output_tokens = count("output_tokens", &raw.output_tokens, true)?;
    let cached_tokens = count("cached_tokens", &raw.cached_tokens, false)?;
    let tool_calls = given("tool_calls", &raw.tool_calls)?;
    if cached_tokens > input_tokens {
        return Err(bad(
            "FP992",
            span,
            format!("`cached_tokens` ({cached_tokens}) exceeds `input_tokens` ({input_tokens})"),
            "cached tokens are part of the input tokens (OpenTelemetry GenAI conventions)",
        ));
    }
    let latency_ms = match text(&raw.latency_ms) {
        None => None,
        Some(t) => Some(
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    bad(
                        "FP992",
                        span,
                        format!("`latency_ms` is `{t}`, not a non-negative number"),
                        "latency is in milliseconds",
                    )
                })?,
        ),
    };
    let r = UsageRecord {
        timestamp_s,
        tenant,
        project,
        model,
        tool,
        agent_run_id: text(&raw.agent_run_id),
        input_tokens,
        output_tokens,
        cached_tokens,
        tool_calls,
        latency_ms,
        file,
        span,
    };
    check_period(r, &ts_text, period)
}

#[allow(clippy::result_large_err)]
pub(crate) fn check_period(
    r: UsageRecord,
    ts_text: &str,
    period: Period,
) -> Result<UsageRecord, Diagnostic> {
    if r.timestamp_s < period.start_s || r.timestamp_s >= period.end_s {
        return Err(bad(
            "FP993",
            r.span,
            format!("record at `{ts_text}` is outside the metering period"),
            "widen --period, or meter this record in the period it belongs to",
        ));
    }
    Ok(r)
}

/// The kind of a usage file, from its extension and first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// fabplan's usage log, CSV with a header of [`COLUMNS`] names.
    Csv,
    /// fabplan's usage log, one JSON object per line.
    Jsonl,
    /// The Azure LLM inference trace 2023 (`TIMESTAMP,ContextTokens,GeneratedTokens`).
    Azure,
    /// An OTLP JSON trace export (`resourceSpans`).
    Otlp,
    /// A Mooncake FAST'25 trace: JSON lines of `timestamp` (ms from the period's start),
    /// `input_length`, `output_length`, `hash_ids` (512-token prefix blocks).
    Mooncake,
}

pub fn detect(name: &str, text: &str) -> InputKind {
    let first = text.lines().next().unwrap_or("").trim();
    if first.trim_start_matches('\u{feff}') == "TIMESTAMP,ContextTokens,GeneratedTokens" {
        return InputKind::Azure;
    }
    if first.starts_with('{')
        && first.contains("\"hash_ids\"")
        && first.contains("\"input_length\"")
    {
        return InputKind::Mooncake;
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        InputKind::Jsonl
    } else if lower.ends_with(".json") || first.starts_with('{') && text.contains("resourceSpans") {
        InputKind::Otlp
    } else {
        InputKind::Csv
    }
}

/// Reads one usage file's text into `intake`. A file whose header cannot be read is one
/// FP990 diagnostic and `false` (the caller exits 2: nothing of it can be trusted).
pub fn read(
    intake: &mut Intake,
    file: usize,
    text: &str,
    kind: InputKind,
    labels: &Labels,
    period: Period,
) -> Result<(), Diagnostic> {
    read_with_cache(intake, file, text, kind, labels, period, None)
}

/// [`read`], with the prefix-cache model of traces with prefix-block hashes:
/// `cache_tokens` `None` for an unbounded cache, else LRU of that many tokens.
pub fn read_with_cache(
    intake: &mut Intake,
    file: usize,
    text: &str,
    kind: InputKind,
    labels: &Labels,
    period: Period,
    cache_tokens: Option<u64>,
) -> Result<(), Diagnostic> {
    match kind {
        InputKind::Mooncake => {
            read_mooncake(intake, file, text, labels, period, cache_tokens);
            Ok(())
        }
        InputKind::Csv => read_csv(intake, file, text, labels, period, false),
        InputKind::Azure => read_csv(intake, file, text, labels, period, true),
        InputKind::Jsonl => {
            read_jsonl(intake, file, text, labels, period);
            Ok(())
        }
        InputKind::Otlp => crate::formats::otlp::read(intake, file, text, labels, period),
    }
}

fn read_csv(
    intake: &mut Intake,
    file: usize,
    text: &str,
    labels: &Labels,
    period: Period,
    azure: bool,
) -> Result<(), Diagnostic> {
    let mut rd = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_span = line_span(text, 0);
    let headers = rd.headers().map_err(|e| {
        bad(
            "FP990",
            header_span,
            format!("the header cannot be read: {e}"),
            "the first line names the columns",
        )
    })?;
    let names: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
    // Azure columns map onto the usage log's.
    let mapped: Vec<&str> = if azure {
        vec!["timestamp", "input_tokens", "output_tokens"]
    } else {
        for n in &names {
            if !COLUMNS.contains(&n.as_str()) {
                return Err(crate::checks::diag(
                    "FP990",
                    format!("column `{n}` is not a usage-log column"),
                )
                .at(header_span, "the header")
                .help(format!("columns: {}", COLUMNS.join(", "))));
            }
        }
        names.iter().map(String::as_str).collect()
    };
    let mut rec = ::csv::StringRecord::new();
    loop {
        match rd.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let start = rec.position().map(|p| p.byte() as usize).unwrap_or(0);
                let span = line_span(text, start);
                if rec.len() != mapped.len() {
                    intake.reject(
                        file,
                        bad(
                            "FP990",
                            span,
                            format!(
                                "record has {} fields, the header {}",
                                rec.len(),
                                mapped.len()
                            ),
                            "each line has one value per header column (empty for none)",
                        ),
                    );
                    continue;
                }
                let mut raw = RawRow::default();
                for (k, v) in mapped.iter().zip(rec.iter()) {
                    let f = Some(Field::Text(v.to_string()));
                    match *k {
                        "timestamp" => raw.timestamp = f,
                        "tenant" => raw.tenant = f,
                        "project" => raw.project = f,
                        "model" => raw.model = f,
                        "tool" => raw.tool = f,
                        "agent_run_id" => raw.agent_run_id = f,
                        "input_tokens" => raw.input_tokens = f,
                        "output_tokens" => raw.output_tokens = f,
                        "cached_tokens" => raw.cached_tokens = f,
                        "tool_calls" => raw.tool_calls = f,
                        _ => raw.latency_ms = f,
                    }
                }
                match check_row(raw, labels, file, span, period) {
                    Ok(r) => intake.records.push(r),
                    Err(d) => intake.reject(file, d),
                }
            }
            Err(e) => {
                let start = e.position().map(|p| p.byte() as usize).unwrap_or(0);
                intake.reject(
                    file,
                    bad(
                        "FP990",
                        line_span(text, start),
                        format!("record cannot be read as CSV: {e}"),
                        "quote fields that contain commas or quotes",
                    ),
                );
                if e.position().is_none() {
                    break;
                }
            }
        }
    }
    Ok(())
}

fn read_jsonl(intake: &mut Intake, file: usize, text: &str, labels: &Labels, period: Period) {
    for (span, body) in jsonl_lines(text) {
        match serde_json::from_str::<RawRow>(body) {
            Ok(raw) => match check_row(raw, labels, file, span, period) {
                Ok(r) => intake.records.push(r),
                Err(d) => intake.reject(file, d),
            },
            Err(e) => intake.reject(
                file,
                bad(
                    "FP990",
                    span,
                    format!("record is not a usage-log JSON object: {e}"),
                    "one JSON object per line with the usage-log keys (docs/meter.md)",
                ),
            ),
        }
    }
}

/// One line of a Mooncake trace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MooncakeRow {
    timestamp: f64,
    input_length: u64,
    output_length: u64,
    hash_ids: Vec<u64>,
}

/// A Mooncake trace: each request's cached tokens come from the prefix cache replayed in
/// file order (docs/meter.md, "Prefix cache"); timestamps are milliseconds from the start of
/// the period; tenant and model come from the labels.
fn read_mooncake(
    intake: &mut Intake,
    file: usize,
    text: &str,
    labels: &Labels,
    period: Period,
    cache_tokens: Option<u64>,
) {
    let mut cache = prefix::PrefixCache::new(cache_tokens);
    for (span, body) in jsonl_lines(text) {
        let row = match serde_json::from_str::<MooncakeRow>(body) {
            Ok(r) => r,
            Err(e) => {
                intake.reject(
                    file,
                    bad(
                        "FP990",
                        span,
                        format!("record is not a Mooncake trace line: {e}"),
                        "one JSON object per line: timestamp (ms), input_length, output_length, hash_ids",
                    ),
                );
                continue;
            }
        };
        let blocks_needed = row.input_length.div_ceil(prefix::BLOCK_TOKENS);
        if !row.timestamp.is_finite() || row.timestamp < 0.0 {
            intake.reject(
                file,
                bad(
                    "FP992",
                    span,
                    format!(
                        "`timestamp` is `{}`, not milliseconds of at least 0",
                        row.timestamp
                    ),
                    "Mooncake timestamps are milliseconds from the start of the trace",
                ),
            );
            continue;
        }
        if row.hash_ids.len() as u64 != blocks_needed {
            intake.reject(
                file,
                bad(
                    "FP992",
                    span,
                    format!(
                        "`hash_ids` has {} blocks, but {} input tokens make {blocks_needed} blocks of {}",
                        row.hash_ids.len(),
                        row.input_length,
                        prefix::BLOCK_TOKENS
                    ),
                    "a Mooncake trace has one hash id per 512-token block of the input",
                ),
            );
            continue;
        }
        let cached_tokens = cache.request(&row.hash_ids, row.input_length);
        let (Some(tenant), Some(model)) = (labels.tenant.clone(), labels.model.clone()) else {
            intake.reject(
                file,
                bad(
                    "FP991",
                    span,
                    "record has no `tenant` or `model`".to_string(),
                    "label a Mooncake trace with --tenant NAME --model NAME",
                ),
            );
            continue;
        };
        let r = UsageRecord {
            timestamp_s: period.start_s + row.timestamp / 1000.0,
            tenant,
            project: labels.project.clone().unwrap_or_else(|| "-".into()),
            model,
            tool: labels.tool.clone().unwrap_or_else(|| "-".into()),
            agent_run_id: None,
            input_tokens: row.input_length,
            output_tokens: row.output_length,
            cached_tokens,
            tool_calls: None,
            latency_ms: None,
            file,
            span,
        };
        let ts = format!("+{} ms", row.timestamp);
        match check_period(r, &ts, period) {
            Ok(r) => intake.records.push(r),
            Err(d) => intake.reject(file, d),
        }
    }
    intake.prefix_caches.insert(file, cache.stats);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_timestamp("2026-12-01T00:00:00Z"),
            Some(1_796_083_200.0)
        );
        let a = parse_timestamp("2023-11-16 18:17:03.9799600").unwrap();
        assert!((a - (1_700_158_623.0 + 0.97996)).abs() < 1e-6, "{a}");
        assert_eq!(parse_timestamp("2023-13-01T00:00:00Z"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
