//! The long fuzz run (issue 10 §7): `cargo bench --bench fuzz -- --inputs 1000000 [--seed N]
//! [--chunk N] [--inflight DIR]`. Same harness as `tests/fuzz.rs`; prints the figures BENCHMARKS.md records and
//! every minimal failing input; exits 1 when there is any.

#[path = "../tests/common/fuzz.rs"]
mod fuzz;

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| {
                // Decimal, or hex with `0x` (seeds are written as 0xf17a2d in BENCHMARKS.md).
                match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => v.parse(),
                }
                .unwrap_or_else(|_| panic!("{name} takes a number (decimal or 0x hex)"))
            })
            .unwrap_or(default)
    };
    let inputs = flag("--inputs", 100_000);
    let seed = flag("--seed", 0x00f1_7a2d);
    let chunk = flag("--chunk", 2_000);
    // `--inflight DIR`: each thread writes its current input there first (see INFLIGHT_DIR).
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--inflight")
        .and_then(|i| args.get(i + 1))
    {
        std::fs::create_dir_all(dir).expect("--inflight directory");
        let _ = fuzz::INFLIGHT_DIR.set(dir.into());
    }
    let corpus = fuzz::Corpus::load();
    eprintln!(
        "fuzz: {} seed files, {inputs} inputs, seed {seed:#x}, chunks of {chunk}, {} threads",
        corpus.seeds.len(),
        rayon::current_num_threads()
    );
    // A hang or a runaway expansion fails at 60 s; inputs past `fuzz::SLOW` are counted.
    let report = fuzz::run(seed, inputs, chunk, Duration::from_secs(60), true);
    println!("inputs: {}", report.inputs);
    println!("elapsed: {:.1} s", report.elapsed.as_secs_f64());
    println!(
        "rate: {:.0} inputs/s",
        report.inputs as f64 / report.elapsed.as_secs_f64()
    );
    println!(
        "slowest input: {:.1} ms ({})",
        report.slowest.as_secs_f64() * 1e3,
        report.slowest_input.chars().take(300).collect::<String>()
    );
    println!("inputs over {} s: {}", fuzz::SLOW.as_secs(), report.slow);
    for (kind, (n, t)) in &report.by_kind {
        println!(
            "  {kind}: {n} inputs, {:.1} s, {:.2} ms/input",
            t.as_secs_f64(),
            t.as_secs_f64() * 1e3 / *n as f64
        );
    }
    println!("failing chunks: {}", report.failures.len());
    for f in &report.failures {
        println!("\n{f}");
    }
    if !report.failures.is_empty() {
        std::process::exit(1);
    }
}
