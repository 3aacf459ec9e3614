//! `fabplan import openb` on broken and tricky CSV: every problem with its code and
//! file:line:col (snapshotted), exit 2 and nothing written; a UTF-8 BOM and RFC 4180
//! quoting import; one workload per pod with its exact share, CPU and memory.

mod common;

use common::run_env;

const BAD: &str = "tests/fixtures/openb/bad";

fn import(nodes: &str, pods: &str, dir: &std::path::Path) -> common::Run {
    run_env(
        &["import", "openb", nodes, pods, "-o", dir.to_str().unwrap()],
        &[("COLUMNS", "100")],
    )
}

#[test]
fn broken_openb_lists_are_located_and_write_nothing() {
    let cases = [
        (
            "FP830-unclosed-quote",
            "nodes.csv",
            "FP830-unclosed-quote.csv",
        ),
        (
            "FP831-nodes-as-pods",
            "FP831-nodes-as-pods.csv",
            "FP831-nodes-as-pods.csv",
        ),
        ("FP832-bad-number", "nodes.csv", "FP832-bad-number.csv"),
        (
            "FP833-nodes-duplicate",
            "FP833-nodes-duplicate.csv",
            "FP834-unknown-spec.csv",
        ),
        (
            "FP833-pods-duplicate",
            "nodes.csv",
            "FP833-pods-duplicate.csv",
        ),
        ("FP834-unknown-spec", "nodes.csv", "FP834-unknown-spec.csv"),
    ];
    for (name, nodes, pods) in cases {
        let dir = std::env::temp_dir().join(format!("fabplan-openb-{name}-{}", std::process::id()));
        let r = import(&format!("{BAD}/{nodes}"), &format!("{BAD}/{pods}"), &dir);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        let code = &name[..5];
        assert!(r.stderr.contains(code), "{name}: {}", r.stderr);
        assert!(!dir.exists(), "{name}: something was written");
        common::snapshot(&format!("openb_bad_{name}"), &r.transcript());
    }
}

#[test]
fn bom_and_quoted_fields_import_one_workload_per_pod() {
    let dir = std::env::temp_dir().join(format!("fabplan-openb-good-{}", std::process::id()));
    let r = import(
        &format!("{BAD}/nodes.csv"),
        &format!("{BAD}/good-bom-quoted.csv"),
        &dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let demand = std::fs::read_to_string(dir.join("demand.yaml")).unwrap();
    let fabric = std::fs::read_to_string(dir.join("fabric.yaml")).unwrap();
    common::snapshot("openb_good_bom_quoted_demand", &demand);
    assert!(fabric.contains("cpu_millicores: 96000") && fabric.contains("memory_gib: 384"));
    // The quoted name keeps its doubled quotes as one; the CPU-only pod is counted.
    assert!(demand.contains("p \"one\""), "{demand}");
    assert!(demand.contains("gpu_milli: 460") && demand.contains("gpu_milli: 540"));
    assert!(r.stderr.contains("2 pods with GPUs") && r.stderr.contains("1 CPU-only"));
    // The two shares (0.46 + 0.54) share one G2 GPU in the plan, and the plan verifies.
    let plan = run_env(
        &[
            "plan",
            dir.join("demand.yaml").to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let doc: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let gpus: std::collections::BTreeSet<&str> = doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["assignments"].as_array().unwrap())
        .map(|a| a["gpu"].as_str().unwrap())
        .collect();
    assert_eq!(gpus.len(), 1, "{doc:#}");
    std::fs::write(dir.join("plan.json"), &plan.stdout).unwrap();
    let v = run_env(
        &[
            "verify",
            dir.join("demand.yaml").to_str().unwrap(),
            dir.join("plan.json").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Plans `demand` with `extra` flags; returns the admitted pod names, sorted, after
/// checking that `fabplan verify` accepts the plan.
fn plan_and_verify(dir: &std::path::Path, name: &str, extra: &[&str]) -> Vec<String> {
    let demand = dir.join("demand.yaml");
    let out = dir.join(format!("{name}.json"));
    let mut args = vec![
        "plan",
        demand.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let r = run_env(&args, &[]);
    assert!(r.code == 0 || r.code == 1, "{name}: {}", r.stderr);
    let v = run_env(
        &["verify", demand.to_str().unwrap(), out.to_str().unwrap()],
        &[],
    );
    assert_eq!(v.code, 0, "{name}: {}{}", v.stdout, v.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let mut names = common::planning::admitted(&doc);
    names.sort();
    names
}

/// Per-node CPU decides the fit (hand-checked): `roomy` (2 G2 GPUs, 64 cores) and `tight`
/// (2 T4 GPUs, 16 cores); two light pods (1 GPU, 4 cores) and two heavy ones (1 GPU, 30
/// cores), any GPU model. All four fit only with both heavy pods on `roomy` (60 of 64
/// cores) and both light ones on `tight` (8 of 16). Best fit by GPUs puts the light pods,
/// first in the trace, on `roomy` (equal fit, G2 is the first model), and then neither heavy
/// pod fits `tight`; `plan` places all four (the balanced packing of pack.rs does: heavy
/// first, each where GPU and CPU left stay in step).
#[test]
fn per_node_cpu_decides_the_fit() {
    let dir = std::env::temp_dir().join(format!("fabplan-openb-cpu-{}", std::process::id()));
    let fx = "tests/fixtures/openb/cpu-decides";
    let r = import(&format!("{fx}/nodes.csv"), &format!("{fx}/pods.csv"), &dir);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let greedy = plan_and_verify(&dir, "greedy", &["--solver", "greedy"]);
    assert_eq!(greedy, ["light-1", "light-2"]);
    let highs = plan_and_verify(&dir, "highs", &[]);
    assert_eq!(highs, ["heavy-1", "heavy-2", "light-1", "light-2"]);
    let _ = std::fs::remove_dir_all(&dir);
}
