//! `fabplan admit` (docs/admission.md): the cost per task of three usage-log runs and two
//! declared distributions checked by hand (prefill, decode, nearest rank, the lognormal
//! quantile, the gate), the decisions and their reasons, the worked example of
//! examples/governance end to end (plan, meter, FOCUS rows, admit with what-ifs), and every
//! policy diagnostic (FP720-FP725, FP997) rendered.

mod common;

use serde_json::Value;

const DIR: &str = "tests/fixtures/admit";
const EXAMPLE: &str = "examples/governance";

fn snapshot(name: &str, r: &common::Run) {
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, r.transcript());
    });
}

fn json(r: &common::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr))
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-9 * b.abs().max(1e-9), "{a} vs {b}");
}

/// GPU-seconds of one step of the fixture's 8B FP8 model on one H100, by the formulas of
/// docs/meter.md with the figures written out: prefill 2 x 8e9 FLOPs per uncached token at
/// 1,979 dense FP8 TFLOPS x MFU 0.5; decode output / tps with tps = 3.35 TB/s / (8e9 weight
/// bytes + 8 sequences x 131,072 KV bytes per token (2 x 32 x 8 x 128 x 2) x context) x 8.
fn step_gpu_seconds(input: u64, cached: u64, output: u64) -> f64 {
    let prefill = 2.0 * 8e9 * (input - cached) as f64 / (1979e12 * 0.5);
    let bytes_per_step = 8e9 + 8.0 * 131_072.0 * (input + output) as f64;
    let tps = 3.35e12 / bytes_per_step * 8.0;
    prefill + output as f64 / tps
}

/// lab-small's H100 on the demand's basis: $24/h / 8 GPUs + 10.2 kW / 8 x PUE 1.2 x $0.10.
const RATE: f64 = 3.0 + 10.2 / 8.0 * 1.2 * 0.1;

fn usd(gpu_seconds: f64) -> f64 {
    gpu_seconds / 3600.0 * RATE
}

#[test]
fn cost_per_task_and_decisions_by_hand() {
    let r = common::run(&[
        "admit",
        &format!("{DIR}/demand.yaml"),
        "--policy",
        &format!("{DIR}/policy.yaml"),
        "--usage",
        &format!("{DIR}/usage.csv"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = json(&r);
    let base = &j["scenarios"][0];
    let tc = &base["task_costs"];

    // Runs: r1 = A; r2 = A + B; r3 = A + A (its third step is past max_steps 2).
    let a = step_gpu_seconds(1000, 0, 100);
    let b = step_gpu_seconds(2000, 1000, 100);
    assert!(a < b);
    let runs = &tc["runs"];
    assert_eq!(runs["tasks"], 3);
    assert_eq!(runs["cut"]["max_steps"], 1);
    // Sorted A < 2A < A + B: p50 is rank ceil(0.5 x 3) = 2, p90..p99 rank 3.
    close(
        runs["percentiles_usd"]["p50"].as_f64().unwrap(),
        usd(2.0 * a),
    );
    close(runs["percentiles_usd"]["p99"].as_f64().unwrap(), usd(a + b));
    close(runs["mean_usd"].as_f64().unwrap(), usd((4.0 * a + b) / 3.0));

    // Empirical [1, 2, 3, 10] GPU-s: p50 rank 2 (2 s), p95 rank ceil(3.8) = 4 (10 s).
    let listed = &tc["listed"];
    close(listed["percentiles_usd"]["p50"].as_f64().unwrap(), usd(2.0));
    close(
        listed["percentiles_usd"]["p95"].as_f64().unwrap(),
        usd(10.0),
    );
    close(listed["mean_usd"].as_f64().unwrap(), usd(4.0));

    // Lognormal, median 10 s and p99 100 s: p99 is 100 s, p95 50.9394 s (computed by hand
    // with Python: 10 x exp(ln 10 / 2.3263479 x 1.6448536)), p50 the median.
    let tail = &tc["tail"];
    close(tail["percentiles_usd"]["p99"].as_f64().unwrap(), usd(100.0));
    close(tail["percentiles_usd"]["p50"].as_f64().unwrap(), usd(10.0));
    assert!((tail["percentiles_usd"]["p95"].as_f64().unwrap() - usd(50.9394)).abs() < usd(1e-4));

    // Decisions, agents first (priority 3 > the inference's 1), then demand order:
    // runs p99 x 3,600/h, listed p50 (its own percentile) x 360/h, tail p99 x 36/h = $3.153/h
    // which no longer fits the $2/h agent budget.
    let d = base["decisions"].as_array().unwrap();
    let names: Vec<&str> = d.iter().map(|x| x["workload"].as_str().unwrap()).collect();
    assert_eq!(names, ["runs", "listed", "tail", "llm", "small", "big"]);
    close(d[0]["usd_per_hour"].as_f64().unwrap(), usd(a + b) * 3600.0);
    close(d[1]["usd_per_hour"].as_f64().unwrap(), usd(2.0) * 360.0);
    close(d[2]["usd_per_hour"].as_f64().unwrap(), usd(100.0) * 36.0);
    close(d[3]["usd_per_hour"].as_f64().unwrap(), RATE);
    let admitted: Vec<bool> = d.iter().map(|x| x["admitted"].as_bool().unwrap()).collect();
    assert_eq!(admitted, [true, true, false, true, true, false]);
    // Tenant `lab` has no policy entry: only its demand budget, $5/h, holds; one GPU each.
    assert_eq!(
        d[5]["reason"],
        format!(
            "inference `big` reserves $3.15/h exceeds tenant `lab`'s budget $5.00/h (${RATE:.2} already admitted)"
        )
    );
    let spent = usd(a + b) * 3600.0 + usd(2.0) * 360.0;
    assert_eq!(
        d[2]["reason"],
        format!(
            "agent `tail` p99 cost $0.08758/task x 36 tasks/h = $3.15/h exceeds tenant `ops`'s agent budget $2.00/h (${spent:.2} already admitted); p50 would be $0.32/h"
        )
    );
    assert!(r
        .stderr
        .contains("7 usage records read, 0 rejected; 1 agent runs cut"));
    assert!(r.stderr.contains("FP997"));
}

#[test]
fn percentile_flag_and_what_ifs() {
    // At p50 the tail agent fits: 36 x $0.008758 = $0.32/h.
    let r = common::run(&[
        "admit",
        &format!("{DIR}/demand.yaml"),
        "--policy",
        &format!("{DIR}/policy.yaml"),
        "--usage",
        &format!("{DIR}/usage.csv"),
        "--percentile",
        "p50",
        "--what-if",
        "steps=2",
        "--what-if",
        "context=2,tools=3",
        "--format",
        "json",
    ]);
    // Exit 1: tenant `lab`'s `big` is still over its budget.
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = json(&r);
    let sc = j["scenarios"].as_array().unwrap();
    let tail = sc[0]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["workload"] == "tail")
        .unwrap();
    assert_eq!(tail["admitted"], true, "{tail}");
    close(tail["usd_per_hour"].as_f64().unwrap(), usd(10.0) * 36.0);
    assert_eq!(sc.len(), 3);
    assert_eq!(sc[1]["label"], "steps x2");
    assert_eq!(sc[2]["label"], "tools x3, context x2");
    // steps x2 under max_steps 2: r1 becomes A, A (2 steps, not cut); r2 and r3 are cut to
    // their first two steps: r2 = A + B, r3 = 2A. The runs' p99 stays A + B.
    let a = step_gpu_seconds(1000, 0, 100);
    let b = step_gpu_seconds(2000, 1000, 100);
    let runs = &sc[1]["task_costs"]["runs"];
    close(runs["percentiles_usd"]["p99"].as_f64().unwrap(), usd(a + b));
    close(
        runs["percentiles_usd"]["p50"].as_f64().unwrap(),
        usd(2.0 * a),
    );
    assert_eq!(runs["cut"]["max_steps"], 2);
    // Declared: context x2 doubles the GPU-seconds (2 s -> 4 s at p50); tools x3 adds
    // (3 - 1) x 2 declared calls per task, each 0.5 GPU-s plus the prefill of its 500 result
    // tokens (2 x 8e9 x 500 / (1979e12 x 0.5) s).
    let listed = &sc[2]["task_costs"]["listed"];
    let per_call = 0.5 + 2.0 * 8e9 * 500.0 / (1979e12 * 0.5);
    close(
        listed["percentiles_usd"]["p50"].as_f64().unwrap(),
        usd(4.0 + 4.0 * per_call),
    );
    // steps x2 alone doubles it.
    close(
        sc[1]["task_costs"]["listed"]["percentiles_usd"]["p50"]
            .as_f64()
            .unwrap(),
        usd(4.0),
    );
    // context x2, tools x3 on the runs: r2's step 1 has 1 tool call -> 3, +2 x 500 result
    // tokens, input 1000 x 2 + 1000 = 3000; step 2 input 4000, cached 2000.
    let r2 = step_gpu_seconds(3000, 0, 100) + step_gpu_seconds(4000, 2000, 100);
    let r3 = 2.0 * step_gpu_seconds(3000, 0, 100);
    let runs = &sc[2]["task_costs"]["runs"];
    close(
        runs["percentiles_usd"]["p99"].as_f64().unwrap(),
        usd(r2.max(r3)),
    );
}

/// The same runs as JSONL give the same costs and decisions (records are grouped by run the
/// same way whatever the format).
#[test]
fn jsonl_log_gives_the_same_decisions() {
    let run = |usage: &str| {
        json(&common::run(&[
            "admit",
            &format!("{DIR}/demand.yaml"),
            "--policy",
            &format!("{DIR}/policy.yaml"),
            "--usage",
            &format!("{DIR}/{usage}"),
            "--format",
            "json",
        ]))
    };
    let (csv, jsonl) = (run("usage.csv"), run("usage.jsonl"));
    assert_eq!(csv["scenarios"], jsonl["scenarios"]);
}

/// OTLP GenAI spans: runs are `gen_ai.conversation.id`, tenant and project the resource's
/// `tenant.id` / `project.id`. Two runs, r1 = A and r2 = A + B: p50 is rank 1 (A), p99 rank 2.
#[test]
fn otlp_spans_are_runs_by_conversation() {
    let r = common::run(&[
        "admit",
        &format!("{DIR}/demand.yaml"),
        "--policy",
        &format!("{DIR}/policy.yaml"),
        "--usage",
        &format!("{DIR}/runs.otlp.json"),
        "--format",
        "json",
    ]);
    let j = json(&r);
    let runs = &j["scenarios"][0]["task_costs"]["runs"];
    assert_eq!(runs["tasks"], 2, "{}", r.stderr);
    let a = step_gpu_seconds(1000, 0, 100);
    let b = step_gpu_seconds(2000, 1000, 100);
    close(runs["percentiles_usd"]["p50"].as_f64().unwrap(), usd(a));
    close(runs["percentiles_usd"]["p99"].as_f64().unwrap(), usd(a + b));
}

/// OTLP chat spans without tool information carry no tool-call count: `tools=2` cannot
/// change them, and admit says so (FP011, a warning on the first such step) instead of
/// scaling a false 0; the what-if's cost stays the baseline's. Without a policy or what-if
/// that reads tool calls, no warning.
#[test]
fn tool_calls_not_in_the_input_are_named() {
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "admit".to_string(),
            format!("{DIR}/demand.yaml"),
            "--policy".to_string(),
            format!("{DIR}/policy.yaml"),
            "--usage".to_string(),
            format!("{DIR}/runs.otlp.json"),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let plain = args(&["--format", "json"]);
    let r = common::run(&plain.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!r.stderr.contains("FP011"), "{}", r.stderr);
    let what_if = args(&["--what-if", "tools=2", "--format", "json"]);
    let r = common::run(&what_if.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        r.stderr.contains("FP011")
            && r.stderr.contains(
                "agent `runs`: 3 of its 3 steps carry no tool-call count (not in the input)"
            ),
        "{}",
        r.stderr
    );
    let j = json(&r);
    assert_eq!(
        j["scenarios"][1]["task_costs"]["runs"]["percentiles_usd"],
        j["scenarios"][0]["task_costs"]["runs"]["percentiles_usd"]
    );
    let human = args(&["--what-if", "tools=2", "-o", "/dev/null"]);
    let r = common::run(&human.iter().map(String::as_str).collect::<Vec<_>>());
    snapshot("admit_tool_calls_not_in_input", &r);
}

#[test]
fn worked_example_end_to_end() {
    let dir = std::env::temp_dir().join(format!("fabplan-admit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = dir.join("plan.json");
    let plan_s = plan.display().to_string();
    let demand = format!("{EXAMPLE}/demand.yaml");
    let p = common::run(&["plan", &demand, "--format", "json", "-o", &plan_s]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    let meter = |format: &str| {
        common::run(&[
            "meter",
            "fabrics/lab-small.yaml",
            "--plan",
            &plan_s,
            "--demand",
            &demand,
            "--usage",
            &format!("{EXAMPLE}/usage.csv"),
            "--period",
            "2026-12-01T00:00:00Z/2026-12-01T01:00:00Z",
            "--serve",
            "llama-3.1-70b=chat-70b",
            "--format",
            format,
        ])
    };
    let human = meter("human");
    assert_eq!(human.code, 0, "{}", human.stderr);
    snapshot("admit_example_meter", &human);
    let focus = meter("focus");
    assert_eq!(focus.code, 0, "{}", focus.stderr);
    snapshot("admit_example_focus", &focus);
    let j = json(&meter("json"));
    let t = &j["totals"];
    assert_eq!(
        t["attributed_chargeback_cents"].as_u64().unwrap()
            + t["idle_chargeback_cents"].as_u64().unwrap(),
        t["fleet_chargeback_cents"].as_u64().unwrap()
    );

    let admit = common::run(&[
        "admit",
        &demand,
        "--policy",
        &format!("{EXAMPLE}/policy.yaml"),
        "--usage",
        &format!("{EXAMPLE}/usage.csv"),
        "--what-if",
        "tools=2",
        "--what-if",
        "context=1.5",
        "--what-if",
        "steps=2",
    ]);
    assert_eq!(admit.code, 1, "{}", admit.stderr);
    snapshot("admit_example", &admit);
    assert!(admit.stdout.contains(
        "triage: agent `triage` p99 cost $0.03611/task x 2,000 tasks/h = $72.21/h exceeds tenant `support`'s agent budget $40.00/h; p50 would be $12.46/h"
    ), "{}", admit.stdout);
    // The same log admits triage at p50.
    let p50 = common::run(&[
        "admit",
        &demand,
        "--policy",
        &format!("{EXAMPLE}/policy.yaml"),
        "--usage",
        &format!("{EXAMPLE}/usage.csv"),
        "--percentile",
        "p50",
        "--format",
        "json",
    ]);
    let j = json(&p50);
    let triage = j["scenarios"][0]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["workload"] == "triage")
        .unwrap()
        .clone();
    assert_eq!(triage["admitted"], true, "{triage}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn policy_diagnostics() {
    let demand = format!("{DIR}/demand.yaml");
    let usage = format!("{DIR}/usage.csv");
    for (name, args) in [
        (
            "names",
            vec![
                "admit",
                &demand,
                "--policy",
                "tests/fixtures/admit/bad-names.yaml",
            ],
        ),
        (
            "percentile",
            vec![
                "admit",
                &demand,
                "--policy",
                "tests/fixtures/admit/bad-percentile.yaml",
            ],
        ),
        (
            "numbers",
            vec![
                "admit",
                &demand,
                "--policy",
                "tests/fixtures/admit/bad-numbers.yaml",
            ],
        ),
        (
            "sources",
            vec![
                "admit",
                &demand,
                "--policy",
                "tests/fixtures/admit/bad-sources.yaml",
            ],
        ),
        (
            "schema",
            vec![
                "admit",
                &demand,
                "--policy",
                "tests/fixtures/admit/bad-schema.yaml",
            ],
        ),
        (
            "no_runs",
            vec![
                "admit",
                &demand,
                "--policy",
                "tests/fixtures/admit/bad-no-runs.yaml",
                "--usage",
                &usage,
            ],
        ),
        (
            "unpriced",
            vec![
                "admit",
                "tests/fixtures/admit/rtx-demand.yaml",
                "--policy",
                "tests/fixtures/admit/rtx-policy.yaml",
            ],
        ),
        (
            "what_if",
            vec![
                "admit",
                &demand,
                "--policy",
                "tests/fixtures/admit/policy.yaml",
                "--what-if",
                "tool=2",
            ],
        ),
    ] {
        let r = common::run(&args);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{name}: nothing on stdout");
        snapshot(&format!("admit_bad_{name}"), &r);
    }
    // The gate's warning (FP997) on the hand-checked log.
    let r = common::run(&[
        "admit",
        &demand,
        "--policy",
        &format!("{DIR}/policy.yaml"),
        "--usage",
        &usage,
    ]);
    snapshot("admit_hand", &r);
}
