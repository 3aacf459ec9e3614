//! Load + validate speed on generated fabrics (issue: 100,000 GPUs in at most 1 s on 2 cores,
//! near-linear from 10k to 100k). Run: `cargo bench --bench fabric`.
//!
//! Each size is generated once; load + checks then run `RUNS` times and the median is kept.
//! Sizes are interleaved in one process so machine noise hits them alike; compare ratios.

use std::time::{Duration, Instant};

use fabplan::checks::{run_checks, Ctx, RULES};
use fabplan::fabric::generate::{generate, GenerateRequest, Style};
use fabplan::fabric::topology::Topology;
use fabplan::load::load_fabric_str;

const RUNS: usize = 7;

fn main() {
    let sizes = [10_000u64, 25_000, 50_000, 100_000];
    let inputs: Vec<(u64, String)> = sizes
        .iter()
        .map(|&gpus| {
            let req = GenerateRequest {
                gpus,
                style: Style::RailOptimized,
                radix: 128,
                nic_gbps: 400,
                gpu_model: "h100-80gb".into(),
                roce: true,
            };
            (gpus, generate(&req).expect("generate"))
        })
        .collect();
    let mut samples: Vec<Vec<(Duration, Duration)>> = vec![Vec::new(); sizes.len()];
    for _ in 0..RUNS {
        for (i, (_, yaml)) in inputs.iter().enumerate() {
            let t0 = Instant::now();
            let loaded = load_fabric_str("bench.yaml", yaml);
            let t1 = Instant::now();
            let fabric = loaded.fabric.expect("generated fabrics load");
            let diags = run_checks(&fabric);
            let t2 = Instant::now();
            assert!(
                diags.is_empty(),
                "generated fabrics validate clean: {:?}",
                diags.first()
            );
            samples[i].push((t1 - t0, t2 - t1));
        }
    }
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>12} {:>14}",
        "gpus", "load ms", "checks ms", "total ms", "us per GPU", "vs 10k per GPU"
    );
    let mut base = None;
    for (i, (gpus, _)) in inputs.iter().enumerate() {
        let mut s = samples[i].clone();
        s.sort_by_key(|(a, b)| *a + *b);
        let (load, checks) = s[RUNS / 2];
        let total = (load + checks).as_secs_f64() * 1e3;
        let per = total * 1e3 / *gpus as f64;
        let b = *base.get_or_insert(per);
        println!(
            "{gpus:>8} {:>10.1} {:>10.1} {total:>10.1} {per:>12.3} {:>14.2}",
            load.as_secs_f64() * 1e3,
            checks.as_secs_f64() * 1e3,
            per / b
        );
    }
    // Where the time goes at the largest size: each check alone, single-threaded.
    let (_, yaml) = inputs.last().expect("sizes");
    let fabric = load_fabric_str("bench.yaml", yaml).fabric.expect("loads");
    let t = Instant::now();
    let topo = Topology::new(&fabric);
    let mut rows = vec![("topology".to_string(), t.elapsed())];
    let ctx = Ctx {
        fabric: &fabric,
        topo: &topo,
    };
    for r in RULES {
        let Some(check) = r.check else { continue };
        let t = Instant::now();
        let mut out = Vec::new();
        check(&ctx, &mut out);
        rows.push((format!("{} {}", r.code, r.name), t.elapsed()));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!(
        "\nslowest checks at {} GPUs (one thread):",
        inputs.last().expect("sizes").0
    );
    for (name, d) in rows.iter().take(8) {
        println!("  {name:<32} {:>8.1} ms", d.as_secs_f64() * 1e3);
    }
}
