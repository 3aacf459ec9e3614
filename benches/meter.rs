//! Attribution on a million usage records (issue 13, "Done when"): the shipped Azure LLM
//! inference traces 2023 (`../shared/data/llm-usage/azure-llm-2023`, 28,185 requests with
//! their real input and output token counts) replicated to 1,000,000 usage-log rows, each
//! labelled with one of 8 tenants, 4 projects and 6 tools and given a cached-prefix share
//! (0-50 % of its prompt) by a seeded SplitMix64, timestamps spread over one hour. The log is
//! written as CSV through the `csv` crate, then read (`meter::read`) and attributed
//! (`meter::attribute::attribute`) on a fixed fleet: Llama-3.1-8B at FP8 on 64 H100 (8
//! replicas of 8, batch 8) beside 192 idle GPUs. Three runs; the median time and records/s
//! are printed, with the process's peak RSS (VmHWM, reset before each run where the kernel
//! allows). Run: `cargo bench --bench meter` (`-- --records N` for another size, `-- --write
//! FILE` to keep the CSV for timing `fabplan meter` itself). Figures go to BENCHMARKS.md.

use std::time::Instant;

use fabplan::meter::attribute::{self, Chain, Deployment, Fleet, IdleRule, Options, Rates, Share};
use fabplan::meter::{self, InputKind, Intake, Labels, Period};

const SEED: u64 = 13;

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn azure_dir() -> std::path::PathBuf {
    for d in [
        "../shared/data/llm-usage/azure-llm-2023",
        "/work/shared/data/llm-usage/azure-llm-2023",
    ] {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(d);
        if p.join("AzureLLMInferenceTrace_conv.csv").exists() {
            return p;
        }
    }
    panic!("the Azure LLM traces are not in ../shared/data/llm-usage/azure-llm-2023");
}

/// (input, output) tokens of every request of both Azure traces, in file order.
fn azure_requests() -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for f in [
        "AzureLLMInferenceTrace_code.csv",
        "AzureLLMInferenceTrace_conv.csv",
    ] {
        let mut rd = csv::Reader::from_path(azure_dir().join(f)).unwrap();
        for r in rd.records() {
            let r = r.unwrap();
            out.push((r[1].parse().unwrap(), r[2].parse().unwrap()));
        }
    }
    out
}

/// A usage-log CSV of `n` records built from the Azure requests.
fn usage_log(n: usize, azure: &[(u64, u64)]) -> String {
    let mut rng = SplitMix(SEED);
    let mut w = csv::Writer::from_writer(Vec::new());
    // The documented columns up to `cached_tokens` (`tool_calls` and `latency_ms` left out).
    let cached = fabplan::meter::COLUMNS
        .iter()
        .position(|c| *c == "cached_tokens")
        .expect("a documented column");
    w.write_record(&fabplan::meter::COLUMNS[..=cached]).unwrap();
    for i in 0..n {
        let (input, output) = azure[i % azure.len()];
        let tenant = format!("tenant-{}", rng.next() % 8);
        let project = format!("project-{}", rng.next() % 4);
        let tool = format!("tool-{}", rng.next() % 6);
        let cached = input * (rng.next() % 51) / 100;
        // Spread over the hour: i-th of n, to the millisecond.
        let ms = (i as u64 * 3_600_000) / n as u64;
        let ts = format!(
            "2026-12-01T00:{:02}:{:02}.{:03}Z",
            ms / 60_000,
            (ms / 1000) % 60,
            ms % 1000
        );
        let run = format!("run-{}", i / 8);
        w.write_record([
            ts.as_str(),
            &tenant,
            &project,
            "llama-3.1-8b",
            &tool,
            &run,
            &input.to_string(),
            &output.to_string(),
            &cached.to_string(),
        ])
        .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn fleet() -> Fleet {
    let rates = Rates {
        owned: 1.229,
        chargeback: 3.153,
    };
    let share = |tenant: &str, workload: &str, eq: f64, idle: bool| Share {
        tenant: tenant.into(),
        workload: workload.into(),
        kind: "inference".into(),
        gpu_model: "h100-80gb".into(),
        gpu_equivalents: eq,
        rates,
        idle,
    };
    let mut deployments = std::collections::BTreeMap::new();
    deployments.insert(
        "llama-3.1-8b".to_string(),
        Deployment {
            model: "llama-3.1-8b".into(),
            workload: "chat".into(),
            gpu_model: "h100-80gb".into(),
            gpu_equivalents: 64.0,
            replicas: 8,
            params_billion: 8.0,
            bytes_per_param: 1.0,
            kv_bytes_per_token: 131_072,
            batch: 8,
            hbm_tbps: 3.35,
            dense_tflops: 1979.0,
            hbm_kv_gb_per_gpu: 80.0 * (1u64 << 30) as f64 * 0.9 / 1e9 - 1.0,
        },
    );
    Fleet {
        hours: 1.0,
        shares: vec![
            share("chat-team", "chat", 64.0, false),
            share("unallocated", "idle", 192.0, true),
        ],
        deployments,
        unserved_why: Default::default(),
        chain: Chain::default(),
    }
}

/// Peak RSS of this process, kB (VmHWM).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let n: usize = arg("--records")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let azure = azure_requests();
    let t = Instant::now();
    let text = usage_log(n, &azure);
    println!(
        "meter bench: {n} records from {} Azure requests (seed {SEED}), {:.1} MB of CSV, generated in {:.2} s",
        azure.len(),
        text.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    if let Some(path) = arg("--write") {
        std::fs::write(&path, &text).unwrap();
        println!("written to {path}");
    }
    let period = Period {
        start_s: meter::parse_timestamp("2026-12-01T00:00:00Z").unwrap(),
        end_s: meter::parse_timestamp("2026-12-01T01:00:00Z").unwrap(),
    };
    let fleet = fleet();
    let mut runs = Vec::new();
    for run in 1..=3 {
        let resettable = reset_peak();
        let base = peak_rss_kb();
        let t0 = Instant::now();
        let mut intake = Intake::default();
        meter::read(
            &mut intake,
            0,
            &text,
            InputKind::Csv,
            &Labels::default(),
            period,
        )
        .unwrap();
        let read_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let (a, _warnings) = attribute::attribute(
            &mut intake,
            &fleet,
            Options {
                idle: IdleRule::Proportional,
                mfu: 0.5,
            },
        );
        let attr_s = t1.elapsed().as_secs_f64();
        let total = t0.elapsed().as_secs_f64();
        let peak = peak_rss_kb();
        assert_eq!(a.records as usize, n, "every record attributed");
        assert_eq!(intake.rejected_total(), 0);
        let sum: u64 = a.lines.iter().map(|l| l.owned_cents).sum();
        assert_eq!(sum, a.totals.fleet_owned_cents, "reconciles");
        println!(
            "run {run}: read {read_s:.3} s + attribute {attr_s:.3} s = {total:.3} s, {:.0} records/s; {} lines; peak RSS {:.1} MB ({:.1} MB above the generated text{})",
            n as f64 / total,
            a.lines.len(),
            peak as f64 / 1024.0,
            peak.saturating_sub(base) as f64 / 1024.0,
            if resettable { "" } else { "; VmHWM not resettable: process peak" }
        );
        runs.push((total, read_s, attr_s, peak));
        drop(intake);
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (total, read_s, attr_s, peak) = runs[1];
    println!(
        "median of 3: {total:.3} s (read {read_s:.3} s, attribute {attr_s:.3} s), {:.0} records/s, peak RSS {:.1} MB",
        n as f64 / total,
        peak as f64 / 1024.0
    );
}
