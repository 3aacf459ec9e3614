//! The CI slice of the fuzz harness (issue 10 §7): a few thousand mutated inputs from the
//! shipped corpus, fixed seed, through every loader and parser; none may panic, take long, or
//! give a diagnostic whose span leaves the text. The long run is `cargo bench --bench fuzz`.

#[path = "common/fuzz.rs"]
mod fuzz;

use std::time::Duration;

#[test]
fn every_loader_and_parser_survives_mutated_corpus() {
    let corpus = fuzz::Corpus::load();
    for kind in [
        fuzz::Kind::Fabric,
        fuzz::Kind::Demand,
        fuzz::Kind::State,
        fuzz::Kind::GpuModel,
        fuzz::Kind::Slurm,
        fuzz::Kind::NvidiaSmi,
        fuzz::Kind::MigParted,
        fuzz::Kind::Openb,
    ] {
        assert!(
            corpus.seeds.iter().any(|s| s.kind == kind),
            "the seed corpus has no {kind:?} file"
        );
    }
    // Debug build, shared machine: a generous per-input bound that still catches a hang or
    // an expansion that runs away.
    let report = fuzz::run(0x00f1_7a2d, 1200, 150, Duration::from_secs(30), false);
    assert!(
        report.failures.is_empty(),
        "{} failing chunk(s):\n{}",
        report.failures.len(),
        report.failures.join("\n\n")
    );
}

/// The unmutated seeds pass too (the property holds on real files, not only on noise).
#[test]
fn every_seed_file_passes_unmutated() {
    let corpus = fuzz::Corpus::load();
    for s in &corpus.seeds {
        if let Err(e) = fuzz::check_input(corpus, s.kind, &s.text) {
            panic!("{}: {e}", s.path);
        }
    }
}
