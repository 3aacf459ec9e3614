//! Numeric ranges and expansion budgets (docs/limits.md, issue 10 §1 and §3).
//!
//! The fabric cases are in the broken corpus (`tests/fixtures/broken/limit-*.yaml`, rendered
//! by `tests/validate.rs`); here: GPU model files, numeric CLI flags, the YAML alias budget
//! and the Slurm import's expansion budget.

mod common;

use common::{run, run_stdin, snapshot};
use fabplan::load::{load_fabric_file, load_fabric_str};

/// A bad number in a GPU model file that a fabric references: exit 2, FP009 at the value in
/// the model file, with the valid range, and a note on the fabric's reference.
#[test]
fn gpu_model_files_with_numbers_out_of_range() {
    let mut all = String::new();
    for case in ["gpu-memory-nan", "gpu-tdp-huge", "gpu-mig-memory-negative"] {
        let path = format!("tests/fixtures/limits/fabric-{case}.yaml");
        let r = run(&["validate", &path]);
        assert_eq!(r.code, 2, "{path}:\n{}", r.stderr);
        assert!(
            r.transcript().contains("FP009"),
            "{path}:\n{}",
            r.transcript()
        );
        all.push_str(&format!("$ fabplan validate {path}\n{}\n", r.transcript()));
    }
    // The same file given directly.
    let r = run(&[
        "mig",
        "profiles",
        "--gpu",
        "h100-lab-sample",
        "--gpu-file",
        "tests/fixtures/limits/gpu-memory-nan.yaml",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    all.push_str(&format!(
        "$ fabplan mig profiles --gpu h100-lab-sample --gpu-file tests/fixtures/limits/gpu-memory-nan.yaml\n{}",
        r.transcript()
    ));
    snapshot("limits-gpu-model-files", &all);
}

/// Every problem of a GPU model file is reported, each located in that file (issue 10 §6):
/// the human output draws it on the model file, JSON and SARIF name the model file and its
/// line; `mig --gpu-file` reports the same list. The broken corpus renders the fabric side
/// (`tests/fixtures/broken/gpu-model-*.yaml`).
#[test]
fn gpu_model_file_problems_are_all_located_in_the_model_file() {
    let fabric = "tests/fixtures/broken/gpu-model-many-problems.yaml";
    let model = "tests/fixtures/broken/gpu-models/many-problems.yaml";
    // (line, code) of each mistake in the model file, in file order.
    let expected = [
        (4, "FP009"),
        (6, "FP009"),
        (7, "FP009"),
        (16, "FP010"),
        (17, "FP010"),
        (18, "FP010"),
        (18, "FP009"),
    ];
    let r = run(&["validate", "--format", "json", fabric]);
    assert_eq!(r.code, 2, "{}", r.transcript());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let diags = v["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics");
    let got: Vec<(u64, &str)> = diags
        .iter()
        .map(|d| {
            assert_eq!(d["file"], model, "{d}");
            // The secondary label is the fabric's `gpu_models:` entry (line 5).
            let note = &d["labels"][1];
            assert_eq!(
                (note["file"].as_str(), note["line"].as_u64()),
                (Some(fabric), Some(5))
            );
            (
                d["line"].as_u64().expect("line"),
                d["code"].as_str().expect("code"),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let r = run(&["validate", "--format", "sarif", fabric]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("sarif");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), expected.len());
    for (res, (line, _)) in results.iter().zip(expected) {
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], model);
        assert_eq!(loc["region"]["startLine"], line);
    }
    let r = run(&[
        "mig",
        "profiles",
        "--gpu",
        "h100-lab-sample",
        "--gpu-file",
        model,
    ]);
    assert_eq!(r.code, 2, "{}", r.transcript());
    for (line, code) in expected {
        assert!(
            r.stderr.contains(&format!("{model}:{line}:")) && r.stderr.contains(code),
            "{line} {code}:\n{}",
            r.stderr
        );
    }
    snapshot(
        "limits-gpu-model-file-all-problems",
        &format!(
            "$ fabplan mig profiles --gpu h100-lab-sample --gpu-file {model}\n{}",
            r.transcript()
        ),
    );
}

/// Every numeric flag refuses NaN, infinities, negative and out-of-range values with a message
/// that names the range, and exit 2.
#[test]
fn numeric_flags_refuse_bad_values() {
    let fab = "fabrics/lab-small.yaml";
    let cases: &[&[&str]] = &[
        &["generate", "--gpus", "1000000000"],
        &["generate", "--gpus", "0"],
        &["generate", "--gpus", "1024", "--radix", "0"],
        &["generate", "--gpus", "1024", "--nic-gbps", "99999"],
        &["generate", "demand", "--fabric", fab, "--workloads", "0"],
        &[
            "generate",
            "demand",
            "--fabric",
            fab,
            "--workloads",
            "100000000",
        ],
        &[
            "size",
            "--gpus",
            "1e9",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
        ],
        &[
            "size",
            "--gpus",
            "1024",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
            "--planes",
            "9",
        ],
        &[
            "size",
            "--gpus",
            "1024",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
            "--module-watts=-1",
        ],
        &[
            "size",
            "--gpus",
            "1024",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
            "--switch-watts",
            "inf",
        ],
        &["plan", "d.yaml", "--time-limit", "0"],
        &["plan", "d.yaml", "--time-limit", "nan"],
        &["plan", "d.yaml", "--mip-gap=-0.5"],
        &["plan", "d.yaml", "--mip-gap", "2"],
        &["report", fab, "--pue", "0"],
        &["report", fab, "--pue", "nan"],
        &["report", fab, "--usd-per-kwh=-0.1"],
        &["report", fab, "--depreciation-years", "0"],
        &["report", fab, "--network-share", "1.5"],
        &["report", fab, "--capex-usd-per-gpu", "inf"],
        &["report", fab, "--cloud-usd-per-gpu-hour=-2"],
        &["report", fab, "--utilization", "0"],
        &["report", fab, "--utilization", "NaN"],
        &["report", fab, "--context", "0"],
        &["report", fab, "--concurrency", "0"],
        &["import", "openb", "x", "--node-power-kw", "0"],
        &["import", "slurm", "x", "--link-gbps", "0"],
        &["validate", fab, "--limit=-1"],
    ];
    let mut all = String::new();
    for args in cases {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}:\n{}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?} wrote output");
        assert!(
            r.stderr.contains("invalid value"),
            "{args:?}:\n{}",
            r.stderr
        );
        // clap's usage tail is the same for every case; keep the message line.
        let first = r.stderr.lines().next().unwrap_or_default();
        all.push_str(&format!(
            "$ fabplan {}\nexit {}: {first}\n",
            args.join(" "),
            r.code
        ));
    }
    snapshot("limits-numeric-flags", &all);
    // Values inside the ranges still work (the defaults go through the same parsers).
    let ok = run(&[
        "size",
        "--gpus",
        "1000000",
        "--radix",
        "256",
        "--nic-gbps",
        "400",
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let ok = run(&["report", fab, "--pue", "1.0", "--utilization", "1"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}

/// A hand-cabled fabric that reuses 3 scalar anchors 72,000 times is a legitimate file: the
/// alias budget counts what aliases expand to, not how many there are.
#[test]
fn a_file_reusing_three_anchors_72000_times_loads() {
    let nodes = 3003;
    let mut y = String::from(
        "fabric: hand-cabled\n\
         node_templates:\n  - {id: h, gpu: h100-80gb, gpus: 8, power_kw: 10.2, rail_nics: {gbps: 400}}\n\
         racks:\n",
    );
    for r in 0..nodes / 3 {
        y.push_str(&format!(
            "  - {{id: r{r}, power_kw: 35, nodes: [{{template: h, ids: \"n[{}-{}]\"}}]}}\n",
            r * 3 + 1,
            r * 3 + 3
        ));
    }
    y.push_str(
        "switch_models:\n  - {id: big, ports: 2048, port_gbps: 400}\n\
         switches:\n  - {ids: \"leaf[0-7]\", tier: leaf, model: big, rail: 0}\n\
         links:\n",
    );
    let mut first = true;
    for n in 1..=nodes {
        for g in 0..8 {
            let (gbps, medium, len) = if first {
                first = false;
                ("&g 400", "&m aoc", "&l 10")
            } else {
                ("*g", "*m", "*l")
            };
            y.push_str(&format!(
                "  - {{a: n{n}:nic{g}, b: leaf{g}:{n}, gbps: {gbps}, medium: {medium}, length_m: {len}}}\n"
            ));
        }
    }
    assert_eq!(y.matches('*').count(), 3 * (nodes * 8 - 1));
    assert!(y.matches('*').count() >= 72_000);
    let loaded = load_fabric_str("hand-cabled.yaml", &y);
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.is_empty(), "{codes:?}");
    let fabric = loaded.fabric.expect("loads");
    assert_eq!(fabric.links.len(), nodes * 8);
    assert!(fabric
        .links
        .iter()
        .all(|l| l.gbps == 400 && l.length_m == Some(10.0)));
}

/// A billion-laughs alias bomb is still refused, with FP005.
#[test]
fn an_alias_bomb_is_still_refused() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = load_fabric_file(&root.join("tests/fixtures/broken/alias-bomb.yaml"));
    assert!(loaded.fabric.is_none());
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["FP005"]);
}

/// `links_per_pair: 2000000` (64,000,000 links, 4.8 GB before) is refused at once: the test
/// finishes because nothing is allocated for the links.
#[test]
fn two_million_links_per_pair_are_refused_without_allocating() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, code) in [
        ("limit-links-per-pair-2m.yaml", "FP009"),
        ("limit-uplinks-link-budget.yaml", "FP015"),
    ] {
        let loaded = load_fabric_file(&root.join("tests/fixtures/broken").join(file));
        assert!(loaded.fabric.is_none(), "{file} loaded");
        assert!(
            loaded.diagnostics.iter().any(|d| d.code == code),
            "{file}: {:?}",
            loaded.diagnostics
        );
    }
}

/// A Slurm topology whose hostlists together expand past the import budget is refused with
/// the computed count, before the names are expanded.
#[test]
fn slurm_import_counts_names_before_expanding() {
    let conf = "SwitchName=s1 Nodes=a[1-3000000]\nSwitchName=s2 Nodes=b[1-3000000]\nSwitchName=top Switches=s[1-2]\n";
    let r = run_stdin(&["import", "slurm", "-"], &[], conf);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("6000000 names") && r.stderr.contains("4194304"),
        "{}",
        r.stderr
    );
}
