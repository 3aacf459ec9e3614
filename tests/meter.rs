//! `fabplan meter` (docs/meter.md): GPU-seconds and cents checked by hand on a 3-record log,
//! the same three requests as OTLP spans, reconciliation to the cent on the shipped Azure
//! traces under every idle rule, and bad records -> codes and counts.

mod common;

use serde_json::Value;

const FABRIC: &str = "fabrics/lab-small.yaml";
const PLAN: &str = "tests/fixtures/meter/plan.json";
const DIR: &str = "tests/fixtures/meter";
const PERIOD: &str = "2026-12-01T00:00:00Z/2026-12-01T01:00:00Z";
/// The Azure 2023 traces live in the workspace's shared data (`../shared/data/llm-usage`, beside
/// the repository; `/work/shared` on the project's machines, where CI's clean clone is elsewhere).
fn azure(file: &str) -> String {
    let rel = format!("llm-usage/azure-llm-2023/{file}");
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [manifest.join("../shared/data"), "/work/shared/data".into()]
        .iter()
        .map(|d| d.join(&rel))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("the Azure trace `{rel}` is not in ../shared/data nor /work/shared/data")
        })
        .display()
        .to_string()
}

fn meter(extra: &[&str]) -> common::Run {
    let mut args = vec![
        "meter",
        FABRIC,
        "--plan",
        PLAN,
        "--serve",
        "llama-3.1-8b=chat",
    ];
    args.extend_from_slice(extra);
    common::run(&args)
}

fn json(r: &common::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr))
}

fn snapshot(name: &str, r: &common::Run) {
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, r.transcript());
    });
}

/// The owned and chargeback $/GPU-h of lab-small's H100 from `fabplan report` (the ledger).
fn h100_rates() -> (f64, f64) {
    let r = common::run(&["report", FABRIC, "--format", "json"]);
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    let m = &j["cost"]["models"][0];
    let gpus = m["gpus"].as_f64().unwrap();
    (
        m["owned_usd_per_hour"].as_f64().unwrap() / gpus,
        m["chargeback_usd_per_gpu_hour"].as_f64().unwrap(),
    )
}

fn line<'a>(j: &'a Value, tenant: &str, source: &str) -> &'a Value {
    j["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["tenant"] == tenant && l["source"] == source)
        .unwrap_or_else(|| panic!("no {tenant}/{source} line"))
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
}

/// Llama-3.1-8B at FP8 on one H100 (3.35 TB/s, 1,979 dense FP8 TFLOPS), MFU 0.5, batch 8,
/// KV at FP16 = 2 x 32 x 8 x 128 x 2 = 131,072 B/token.
/// Prefill s = 2 x 8e9 x uncached / (1979e12 x 0.5); decode s = out / (3.35e12 /
/// (8e9 + 8 x 131072 x ctx) x 8).
#[test]
fn three_records_by_hand() {
    let r = meter(&[
        "--usage",
        &format!("{DIR}/three.csv"),
        "--period",
        PERIOD,
        "--idle",
        "keep",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("3 records attributed, 0 rejected"),
        "{}",
        r.stderr
    );
    let j = json(&r);
    let prefill = |t: f64| 2.0 * 8e9 * t / (1979e12 * 0.5);
    let decode = |ctx: f64, out: f64| out / (3.35e12 / (8e9 + 8.0 * 131_072.0 * ctx) * 8.0);
    // acme: 1000 + (2000 - 1000 cached) uncached prompt tokens; contexts 1100 and 2050.
    let acme = line(&j, "acme", "metered");
    close(
        acme["prefill_gpu_seconds"].as_f64().unwrap(),
        prefill(1000.0) + prefill(1000.0),
    );
    close(
        acme["decode_gpu_seconds"].as_f64().unwrap(),
        decode(1100.0, 100.0) + decode(2050.0, 50.0),
    );
    assert_eq!(acme["requests"], 2);
    assert_eq!(acme["agent_runs"], 1);
    assert_eq!(acme["cached_tokens"], 1000);
    assert_eq!(acme["tool"], "search");
    let globex = line(&j, "globex", "metered");
    close(
        globex["prefill_gpu_seconds"].as_f64().unwrap(),
        prefill(500.0),
    );
    close(
        globex["decode_gpu_seconds"].as_f64().unwrap(),
        decode(1000.0, 500.0),
    );
    assert_eq!(globex["tool"], "-");
    // Usage cost: GPU-seconds / 3600 x the ledger's owned $/GPU-h.
    let (owned, charge) = h100_rates();
    let acme_usd =
        (prefill(2000.0) + decode(1100.0, 100.0) + decode(2050.0, 50.0)) / 3600.0 * owned;
    close(acme["usage_owned_usd"].as_f64().unwrap(), acme_usd);
    // Fleet: 32 H100 for 1 h; chat's reservation is 1 GPU-hour, pretrain's 2.
    let t = &j["totals"];
    let fleet = t["fleet_owned_cents"].as_u64().unwrap();
    assert_eq!(fleet, (32.0 * owned * 100.0_f64).round() as u64);
    // The report prints the chargeback rate to 0.001 $: 32 GPUs x 0.0005 $ = 1.6 cents.
    let charged = t["fleet_chargeback_cents"].as_f64().unwrap();
    assert!((charged - 32.0 * charge * 100.0).abs() <= 1.6, "{charged}");
    let plan = line(&j, "research", "plan");
    assert!((plan["owned_cents"].as_f64().unwrap() - 2.0 * owned * 100.0).abs() <= 1.0);
    // Keep: chat's unused GPU time is its headroom line, the 29 unassigned GPUs idle.
    let head = line(&j, "acme", "headroom");
    let used: f64 =
        (acme["owned_cents"].as_u64().unwrap() + globex["owned_cents"].as_u64().unwrap()) as f64;
    assert!((used + head["owned_cents"].as_f64().unwrap() - owned * 100.0).abs() <= 2.0);
    let idle = line(&j, "unallocated", "idle");
    assert!((idle["owned_cents"].as_f64().unwrap() - 29.0 * owned * 100.0).abs() <= 1.0);
    reconciles(&j);
}

/// Every line's cents add up to the fleet's, on both bases, exactly.
fn reconciles(j: &Value) {
    let t = &j["totals"];
    for (basis, fleet) in [
        ("owned_cents", "fleet_owned_cents"),
        ("chargeback_cents", "fleet_chargeback_cents"),
    ] {
        let sum: u64 = j["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l[basis].as_u64().unwrap())
            .sum();
        assert_eq!(sum, t[fleet].as_u64().unwrap(), "{basis}");
    }
    assert_eq!(
        t["attributed_owned_cents"].as_u64().unwrap() + t["idle_owned_cents"].as_u64().unwrap(),
        t["fleet_owned_cents"].as_u64().unwrap()
    );
}

#[test]
fn proportional_and_even_hand_out_all_idle() {
    for rule in ["proportional", "even"] {
        let r = meter(&[
            "--usage",
            &format!("{DIR}/three.csv"),
            "--period",
            PERIOD,
            "--idle",
            rule,
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j = json(&r);
        reconciles(&j);
        assert_eq!(j["totals"]["idle_owned_cents"], 0, "{rule}");
        if rule == "even" {
            // chat's headroom evenly over acme and globex: they differ by their usage only.
            let a = line(&j, "acme", "metered");
            let g = line(&j, "globex", "metered");
            assert!(
                a["owned_cents"]
                    .as_u64()
                    .unwrap()
                    .abs_diff(g["owned_cents"].as_u64().unwrap())
                    <= 2 + (a["usage_owned_usd"].as_f64().unwrap()
                        - g["usage_owned_usd"].as_f64().unwrap())
                    .abs()
                    .ceil() as u64
                        * 100
                        * 3
            );
        }
    }
}

/// The same three requests as OTLP GenAI spans attribute to the same GPU-seconds; the
/// span without input tokens is rejected (FP991). The tool span (`execute_tool search`,
/// after the first request in its trace) is that request's one tool call, and the second
/// request, in a file that traces its tools, made none: 1 on the line.
#[test]
fn otlp_spans_match_the_log() {
    let r = meter(&[
        "--usage",
        &format!("{DIR}/spans.otlp.json"),
        "--period",
        PERIOD,
        "--tenant",
        "globex",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("2 records attributed, 1 rejected (FP991 1)"),
        "{}",
        r.stderr
    );
    let j = json(&r);
    let csv = json(&meter(&[
        "--usage",
        &format!("{DIR}/three.csv"),
        "--period",
        PERIOD,
        "--format",
        "json",
    ]));
    let (a, b) = (line(&j, "acme", "metered"), line(&csv, "acme", "metered"));
    for k in [
        "prefill_gpu_seconds",
        "decode_gpu_seconds",
        "requests",
        "agent_runs",
        "input_tokens",
        "cached_tokens",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
    assert_eq!(a["project"], "support");
    assert_eq!(a["tool_calls"], 1);
    reconciles(&j);
}

/// Tool calls per OTLP record, as the GenAI conventions mark them, on spans shaped like the
/// conventions' "Tool calls (functions)" example
/// (github.com/open-telemetry/semantic-conventions/blob/main/docs/gen-ai/non-normative/examples-llm-calls.md):
/// trace A without content capture (the
/// `execute_tool get_weather` span goes to the chat span that asked for it: 1, the answer 0
/// by its finish reason `stop`); trace B with `gen_ai.output.messages` captured (two
/// `tool_call` parts: 2, the two tool spans with those call ids not counted again; the
/// answer 0); trace C asks for tools (`finish_reasons: [tool_calls]`) with nothing to count
/// them by: unknown; trace D carries structured messages on an event with one
/// `server_tool_call` (1), and a tool span named `execute_tool search` without an operation
/// name after the second chat span (1).
#[test]
fn otlp_tool_calls_per_record() {
    let text = std::fs::read_to_string(format!("{DIR}/tools.otlp.json")).unwrap();
    let mut intake = fabplan::meter::Intake::default();
    let all = fabplan::meter::Period {
        start_s: f64::NEG_INFINITY,
        end_s: f64::INFINITY,
    };
    fabplan::formats::otlp::read(&mut intake, 0, &text, &Default::default(), all).unwrap();
    assert!(intake.diagnostics.is_empty(), "{:?}", intake.diagnostics);
    let calls: Vec<(String, Option<u64>)> = intake
        .records
        .iter()
        .map(|r| (r.agent_run_id.clone().unwrap(), r.tool_calls))
        .collect();
    let want = [
        ("conv-a", Some(1)),
        ("conv-a", Some(0)),
        ("conv-b", Some(2)),
        ("conv-b", Some(0)),
        ("conv-c", None),
        ("conv-d", Some(1)),
        ("conv-d", Some(1)),
    ];
    let want: Vec<(String, Option<u64>)> = want.iter().map(|(r, n)| (r.to_string(), *n)).collect();
    assert_eq!(calls, want);
}

/// Chat spans without any tool information (no tool spans, messages or finish reasons)
/// give no tool-call count ("not in the input"): `null` in the JSON, never a false 0; so
/// does a line where one request of several has none (tools.otlp.json, trace C).
#[test]
fn tool_calls_not_in_the_input_are_null() {
    for file in ["no-tools.otlp.json", "tools.otlp.json"] {
        let r = meter(&[
            "--usage",
            &format!("{DIR}/{file}"),
            "--period",
            PERIOD,
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        let l = line(&json(&r), "acme", "metered").clone();
        assert!(l["tool_calls"].is_null(), "{file}: {l}");
    }
    let r = meter(&[
        "--usage",
        &format!("{DIR}/no-tools.otlp.json"),
        "--period",
        PERIOD,
        "--format",
        "json",
    ]);
    let j = json(&r);
    let metered: Vec<&Value> = j["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["source"] == "metered")
        .collect();
    assert!(!metered.is_empty(), "{}", r.stderr);
    for l in metered {
        assert!(l["tool_calls"].is_null(), "{l}");
    }
    let csv = json(&meter(&[
        "--usage",
        &format!("{DIR}/three.csv"),
        "--period",
        PERIOD,
        "--format",
        "json",
    ]));
    assert_eq!(line(&csv, "acme", "metered")["tool_calls"], 3);
}

#[test]
fn bad_records_get_codes_lines_and_counts() {
    let r = meter(&["--usage", &format!("{DIR}/bad.jsonl"), "--period", PERIOD]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "1 records attributed, 7 rejected (FP990 2, FP991 1, FP992 2, FP993 1, FP994 1)"
        ),
        "{}",
        r.stderr
    );
    snapshot("meter_bad_records", &r);
}

#[test]
fn human_and_focus_output() {
    let r = meter(&["--usage", &format!("{DIR}/three.csv"), "--period", PERIOD]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    snapshot("meter_three_human", &r);
    let r = meter(&[
        "--usage",
        &format!("{DIR}/three.csv"),
        "--period",
        PERIOD,
        "--format",
        "focus",
        "--focus-version",
        "1.3",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    snapshot("meter_three_focus", &r);
    // FOCUS: every row's BilledCost adds to the fleet's owned cost.
    let j = json(&meter(&[
        "--usage",
        &format!("{DIR}/three.csv"),
        "--period",
        PERIOD,
        "--format",
        "json",
    ]));
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    let h = rd.headers().unwrap().clone();
    let billed = h.iter().position(|c| c == "BilledCost").unwrap();
    let tags = h.iter().position(|c| c == "Tags").unwrap();
    let mut cents = 0u64;
    for row in rd.records() {
        let row = row.unwrap();
        let (d, c) = row[billed].split_once('.').unwrap();
        cents += d.parse::<u64>().unwrap() * 100 + c.parse::<u64>().unwrap();
        let t: Value = serde_json::from_str(&row[tags]).unwrap();
        for k in ["tenant", "project", "model", "tool"] {
            assert!(t[format!("fabplan/{k}")].is_string(), "{k}");
        }
    }
    assert_eq!(cents, j["totals"]["fleet_owned_cents"].as_u64().unwrap());
}

/// The shipped Azure traces (28,185 requests, 2023-11-16 18:15-19:15) as two tenants of one
/// deployment: every request attributed, and the cents reconcile under every rule.
#[test]
fn azure_traces_reconcile_to_the_cent() {
    let period = "2023-11-16T18:00:00Z/2023-11-16T20:00:00Z";
    for rule in ["keep", "proportional", "even"] {
        let mut totals = Vec::new();
        for (tenant, file, n) in [
            ("code", azure("AzureLLMInferenceTrace_code.csv"), 8819),
            ("conv", azure("AzureLLMInferenceTrace_conv.csv"), 19_366),
        ] {
            let r = meter(&[
                "--usage",
                &file,
                "--tenant",
                tenant,
                "--model",
                "llama-3.1-8b",
                "--period",
                period,
                "--idle",
                rule,
                "--format",
                "json",
            ]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert!(
                r.stderr
                    .contains(&format!("{n} records attributed, 0 rejected")),
                "{}",
                r.stderr
            );
            let j = json(&r);
            reconciles(&j);
            totals.push(j["totals"]["fleet_owned_cents"].as_u64().unwrap());
            let l = line(&j, tenant, "metered");
            assert_eq!(l["requests"], n);
            // Code is prompt-heavy (1.4 % output/input), conversation decode-heavy (18 %):
            // prefill dominates code's GPU time, decode conversation's.
            let (p, d) = (
                l["prefill_gpu_seconds"].as_f64().unwrap(),
                l["decode_gpu_seconds"].as_f64().unwrap(),
            );
            if tenant == "code" {
                assert!(p > d, "{p} {d}");
            } else {
                assert!(d > p, "{p} {d}");
            }
        }
        assert_eq!(totals[0], totals[1]);
    }
}

#[test]
fn azure_trace_needs_labels_and_period_must_parse() {
    let code = azure("AzureLLMInferenceTrace_code.csv");
    let r = meter(&["--usage", &code, "--period", PERIOD]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--tenant NAME --model NAME"),
        "{}",
        r.stderr
    );
    let r = meter(&[
        "--usage",
        &format!("{DIR}/three.csv"),
        "--period",
        "2026-12-01T01:00:00Z/2026-12-01T00:00:00Z",
    ]);
    assert_eq!(r.code, 2);
}

/// FP995: 50M output tokens in an hour on one H100 is beyond the roofline: usage is scaled
/// to the reservation and the cents still add up. FP996: a truncated OTLP file, exit 2.
#[test]
fn over_capacity_and_truncated_otlp() {
    let r = meter(&["--usage", &format!("{DIR}/huge.csv"), "--period", PERIOD]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    snapshot("meter_over_capacity", &r);
    let r = meter(&[
        "--usage",
        &format!("{DIR}/huge.csv"),
        "--period",
        PERIOD,
        "--format",
        "json",
        "--idle",
        "keep",
    ]);
    let j = json(&r);
    reconciles(&j);
    let (owned, _) = h100_rates();
    let l = line(&j, "acme", "metered");
    assert!((l["owned_cents"].as_f64().unwrap() - owned * 100.0).abs() <= 1.0);
    let r = meter(&[
        "--usage",
        &format!("{DIR}/truncated.otlp.json"),
        "--period",
        PERIOD,
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    snapshot("meter_otlp_truncated", &r);
}

/// The Mooncake FAST'25 conversation trace (`../shared/data/llm-usage/mooncake-fast25`).
fn mooncake(file: &str) -> String {
    azure(&format!("../mooncake-fast25/{file}"))
}

/// Prefix reuse from the trace's block hashes: unbounded, 54,098,411 of 144,793,823 prompt
/// tokens are in a reused prefix (37.4 %, the trace README's "share of input tokens in a
/// reused prefix", computed independently in Python); an LRU of 10M tokens (19,531 blocks)
/// keeps 42,103,262 (29.1 %, the same Python with an OrderedDict). Every request is
/// attributed and the cents reconcile, network and storage included.
#[test]
fn mooncake_prefix_hit_rate_on_the_shipped_trace() {
    let trace = mooncake("conversation_trace.jsonl");
    for (cache, cached, model) in [
        (None, 54_098_411u64, "unbounded"),
        (Some("10000000"), 42_103_262, "lru"),
    ] {
        let mut args = vec![
            "--usage",
            &trace,
            "--tenant",
            "kimi",
            "--model",
            "llama-3.1-8b",
            "--period",
            PERIOD,
            "--format",
            "json",
        ];
        if let Some(c) = cache {
            args.extend_from_slice(&["--prefix-cache-tokens", c]);
        }
        let r = meter(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.contains("12031 records attributed, 0 rejected"),
            "{}",
            r.stderr
        );
        let j = json(&r);
        let c = &j["context"][0];
        assert_eq!(c["cache_model"], model);
        assert_eq!(c["input_tokens"], 144_793_823u64);
        assert_eq!(c["cached_tokens"], cached);
        close(
            c["hit_rate"].as_f64().unwrap(),
            cached as f64 / 144_793_823.0,
        );
        assert_eq!(line(&j, "kimi", "metered")["cached_tokens"], cached);
        reconciles(&j);
        let t = &j["totals"];
        let lines = j["lines"].as_array().unwrap();
        for (field, total) in [
            ("network_cents", "network_cents"),
            ("storage_cents", "storage_cents"),
        ] {
            let sum: u64 = lines.iter().map(|l| l[field].as_u64().unwrap()).sum();
            assert_eq!(sum, t[total].as_u64().unwrap(), "{field}");
        }
        assert_eq!(
            t["total_owned_cents"].as_u64().unwrap(),
            t["fleet_owned_cents"].as_u64().unwrap()
                + t["network_cents"].as_u64().unwrap()
                + t["storage_cents"].as_u64().unwrap()
        );
    }
    // Without labels a Mooncake trace is refused (exit 2), as the Azure trace is.
    let r = meter(&["--usage", &trace, "--period", PERIOD]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("a Mooncake trace"), "{}", r.stderr);
}

/// One 600K-token RAG request (500K cached) on lab-small's H100 serving Llama-3.1-8B at FP8,
/// batch 1, no host DRAM, pooled storage 1,000 GB/GPU at 50 GB/s and $7.30/GB-month
/// ($0.01/GB-h), network $0.01/GB. By hand (KV 131,072 B/token):
/// - HBM for KV: 80 GiB x 0.9 - 8 GB = 69.309411328 GB; in-flight KV 600,100 x 131,072 =
///   78.6563072 GB: 69.309411328 in HBM, 9.346895872 in pooled; the 500K-token prefix
///   (65.536 GB) all in pooled.
/// - A cached token: fetch 131,072 / 50e9 = 2.62144 us < prefill 2 x 8e9 / 989.5e12 = 16.17 us:
///   fetched, 500,000 x 2.62144e-6 = 1.31072 GPU-s; prefill 100,000 x 16.17 us = 1.61698 s.
/// - Network 65.536 GB x $0.01 = 66 cents; storage (9.346895872 + 65.536) GB x 1 h x $0.01 =
///   75 cents.
/// - Decode: a step reads 8 GB + 69.309 GB at 3.35 TB/s and 9.347 GB at 50 GB/s = 0.2100154 s:
///   4.7616 tok/s, 100 tokens = 21.0015 GPU-s (the all-HBM roofline would say 2.5868 s).
#[test]
fn long_context_spills_to_pooled_storage_by_hand() {
    let r = meter(&[
        "--usage",
        &format!("{DIR}/long-context.csv"),
        "--period",
        PERIOD,
        "--batch",
        "1",
        "--context-tier",
        "host-dram=0:64",
        "--context-tier",
        "pooled=1000:50:7.3",
        "--network-usd-per-gb",
        "0.01",
        "--idle",
        "keep",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = json(&r);
    let kv = 131_072.0;
    let hbm = 80.0 * (1u64 << 30) as f64 * 0.9 / 1e9 - 8.0;
    let active = 600_100.0 * kv / 1e9;
    let c = &j["context"][0];
    close(c["active_kv_gb"].as_f64().unwrap(), active);
    close(c["prefix_cache_gb"].as_f64().unwrap(), 65.536);
    let tier = |name: &str| {
        c["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tier"] == name)
            .unwrap()
            .clone()
    };
    close(tier("hbm")["active_gb"].as_f64().unwrap(), hbm);
    close(tier("pooled")["active_gb"].as_f64().unwrap(), active - hbm);
    close(tier("pooled")["cache_gb"].as_f64().unwrap(), 65.536);
    assert_eq!(tier("pooled")["cached_tokens_by"], "fetch");
    assert_eq!(tier("nvme")["cached_tokens_by"], "recompute");
    assert_eq!(c["deepest_tier"], "pooled");
    let l = line(&j, "acme", "metered");
    close(
        l["kv_fetch_gpu_seconds"].as_f64().unwrap(),
        500_000.0 * kv / 50e9,
    );
    close(
        l["prefill_gpu_seconds"].as_f64().unwrap(),
        2.0 * 8e9 * 100_000.0 / (1979e12 * 0.5),
    );
    close(l["kv_transfer_gb"].as_f64().unwrap(), 65.536);
    assert_eq!(l["network_cents"], 66);
    close(
        l["context_gb_hours"].as_f64().unwrap(),
        active - hbm + 65.536,
    );
    assert_eq!(l["storage_cents"], 75);
    let step = 8e9 / 3.35e12 + hbm * 1e9 / 3.35e12 + (active - hbm) * 1e9 / 50e9;
    close(l["decode_gpu_seconds"].as_f64().unwrap(), 100.0 * step);
    close(
        c["decode_tokens_per_s_placed"].as_f64().unwrap(),
        1.0 / step,
    );
    assert!((c["decode_tokens_per_s_hbm"].as_f64().unwrap() - 38.6585).abs() < 1e-3);
    reconciles(&j);
    assert_eq!(j["totals"]["network_cents"], 66);
    assert_eq!(j["totals"]["storage_cents"], 75);
    // FOCUS: the line's GPU, Networking and Storage rows; BilledCost adds to the total.
    let r = meter(&[
        "--usage",
        &format!("{DIR}/long-context.csv"),
        "--period",
        PERIOD,
        "--batch",
        "1",
        "--context-tier",
        "host-dram=0:64",
        "--context-tier",
        "pooled=1000:50:7.3",
        "--idle",
        "keep",
        "--format",
        "focus",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    let h = rd.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (billed, cat, unit, qty) = (
        col("BilledCost"),
        col("ServiceCategory"),
        col("ConsumedUnit"),
        col("ConsumedQuantity"),
    );
    let mut cents = 0u64;
    let mut seen = Vec::new();
    for row in rd.records() {
        let row = row.unwrap();
        let (d, c) = row[billed].split_once('.').unwrap();
        cents += d.parse::<u64>().unwrap() * 100 + c.parse::<u64>().unwrap();
        if row[cat] != *"AI and Machine Learning" {
            seen.push((
                row[cat].to_string(),
                row[unit].to_string(),
                row[billed].to_string(),
                row[qty].to_string(),
            ));
        }
    }
    assert_eq!(
        seen,
        [
            (
                "Networking".into(),
                "GB".into(),
                "0.66".into(),
                "65.536000".into()
            ),
            (
                "Storage".into(),
                "GB-Hours".into(),
                "0.75".into(),
                format!("{:.6}", active - hbm + 65.536)
            ),
        ]
    );
    assert_eq!(cents, j["totals"]["total_owned_cents"].as_u64().unwrap());
}

/// `--disaggregated`: the prompt's KV (600,000 x 131,072 B = 78.6432 GB) also crosses the
/// network, prefill -> decode, on top of the 65.536 GB fetched from pooled storage: 144.1792
/// GB x $0.01 = 144 cents.
#[test]
fn disaggregated_prefill_moves_the_prompt_kv() {
    let r = meter(&[
        "--usage",
        &format!("{DIR}/long-context.csv"),
        "--period",
        PERIOD,
        "--batch",
        "1",
        "--context-tier",
        "host-dram=0:64",
        "--context-tier",
        "pooled=1000:50:7.3",
        "--disaggregated",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = json(&r);
    let l = line(&j, "acme", "metered");
    close(l["kv_transfer_gb"].as_f64().unwrap(), 65.536 + 78.6432);
    assert_eq!(l["network_cents"], 144);
    assert_eq!(j["chain"]["disaggregated"], true);
    reconciles(&j);
}

/// A model whose serving workload the plan admits, but whose shape fabplan does not know (not
/// built in, no `--demand`), is not called "served by no workload": FP994 says what is
/// missing (the `--serve` mapping was right).
#[test]
fn unserved_model_says_what_is_missing() {
    let dir = std::env::temp_dir().join(format!("fabplan-meter-unserved-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let usage = dir.join("mystery.jsonl");
    std::fs::write(
        &usage,
        "{\"timestamp\": \"2026-12-01T00:00:01Z\", \"tenant\": \"acme\", \"model\": \"mystery-llm\", \"input_tokens\": 10, \"output_tokens\": 5}\n",
    )
    .unwrap();
    let usage = usage.display().to_string();
    let r = common::run(&[
        "meter",
        FABRIC,
        "--plan",
        PLAN,
        "--serve",
        "mystery-llm=chat",
        "--usage",
        &usage,
        "--period",
        PERIOD,
    ]);
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert!(r.stderr.contains("FP994"), "{}", r.stderr);
    assert!(
        r.stderr.contains("its serving workload `chat` is admitted"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("served by no workload"), "{}", r.stderr);
    // A model with no serving workload at all keeps the old words.
    let r = common::run(&[
        "meter", FABRIC, "--plan", PLAN, "--usage", &usage, "--period", PERIOD,
    ]);
    assert!(
        r.stderr
            .contains("model `mystery-llm` is served by no workload of the plan"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}
