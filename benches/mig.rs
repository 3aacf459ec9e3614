//! MIG engine benchmark (plain `std::time::Instant`, no harness). Run:
//!     cargo bench --bench mig
//! Targets (issue 3): every layout of every catalog GPU in <= 10 ms total; `fit` for a
//! demand of 1,000 instances in <= 50 ms. Figures go in BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use fabplan::catalog::Catalog;
use fabplan::mig::{self, Rules};

/// Runs `f` `rounds` times and returns (min, median).
fn time(rounds: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    (samples[0], samples[rounds / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let catalog = Catalog::builtin();
    let tables: Vec<_> = catalog
        .gpus()
        .map(|m| (m.key.as_str(), m.mig.as_ref().unwrap()))
        .collect();

    // 1. Enumerate (and collect) every valid layout of every catalog GPU.
    let mut total_layouts = 0;
    let (min, med) = time(50, || {
        total_layouts = 0;
        for (_, t) in &tables {
            total_layouts += black_box(mig::enumerate_layouts(t, Rules::default())).len();
        }
    });
    println!(
        "enumerate all layouts, {} GPUs, {} layouts: min {:.3} ms, median {:.3} ms (target <= 10 ms)",
        tables.len(),
        total_layouts,
        ms(min),
        ms(med)
    );
    let (min, med) = time(50, || {
        for (_, t) in &tables {
            black_box(mig::maximal_layouts(t, Rules::default()));
        }
    });
    println!(
        "maximal layouts, every GPU: min {:.3} ms, median {:.3} ms",
        ms(min),
        ms(med)
    );

    // 2. fit for a demand of 1,000 instances mixing every profile size.
    for (key, mix) in [
        (
            "h100-80gb",
            &[
                ("1g.10gb", 400),
                ("1g.20gb", 100),
                ("2g.20gb", 200),
                ("3g.40gb", 150),
                ("4g.40gb", 50),
                ("7g.80gb", 100),
            ][..],
        ),
        (
            "b200",
            &[("1g.23gb", 500), ("2g.45gb", 300), ("3g.90gb", 200)][..],
        ),
        (
            "rtx-pro-6000-blackwell",
            &[("1g.24gb", 600), ("2g.48gb", 300), ("4g.96gb", 100)][..],
        ),
    ] {
        let t = catalog.gpu(key).unwrap().mig.as_ref().unwrap();
        let mut demand = vec![0u32; t.profiles.len()];
        for (name, n) in mix {
            demand[t.profile_index(name).unwrap().get()] = *n;
        }
        assert_eq!(demand.iter().sum::<u32>(), 1000);
        let mut gpus = 0;
        let mut lb = 0;
        let (min, med) = time(20, || {
            let f = mig::fit(t, Rules::default(), black_box(&demand)).unwrap();
            gpus = f.gpus;
            lb = f.lower_bound;
        });
        println!(
            "fit 1000 instances on {key}: {gpus} GPUs (lower bound {lb}): min {:.3} ms, median {:.3} ms (target <= 50 ms)",
            ms(min),
            ms(med)
        );
    }
}
