//! Planner tests: hand-proven optima, infeasibility in words, the independent verifier
//! catching injected violations, current state and diff, mig-parted export, the shipped
//! examples (snapshotted), and a property test over 10,000 small random scenarios.

mod common;

use common::planning::{admitted, demand, opts};
use fabplan::model::demand::Demand;
use fabplan::model::Fabric;
use fabplan::plan::gen::Rng;
use fabplan::plan::{self, Current, PlanOptions, PlanResult, SolverChoice};
use fabplan::schema::plan::PlanDocument;
use serde_json::Value;

fn lab() -> Fabric {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fabrics/lab-small.yaml");
    fabplan::load::load_fabric_file(std::path::Path::new(path))
        .fabric
        .expect("lab-small loads")
}

/// Plans and returns the document as JSON, for tests that inspect or damage it.
fn plan_json(
    f: &Fabric,
    d: &Demand,
    current: Option<&Current>,
    o: &PlanOptions,
) -> (PlanResult, Value) {
    let (r, doc) = plan::plan_document(f, d, current, o);
    (
        r,
        serde_json::to_value(&doc).expect("plan document as JSON"),
    )
}

fn violations(f: &Fabric, d: &Demand, doc: &Value) -> Vec<String> {
    let raw: PlanDocument = serde_json::from_value(doc.clone()).expect("plan reads as a plan");
    plan::verify::verify(f, d, &raw)
        .into_iter()
        .map(|v| format!("{}: {}", v.code, v.message))
        .collect()
}

/// Capacity 32 GPUs; gangs of 24, 16 and 16 of equal priority. Admitted value is at most 32
/// GPUs, reached only by {16, 16}; 24 excludes both others (24 + 16 > 32). Greedy (largest
/// first) takes 24 and stops there.
#[test]
fn knapsack_optimum_beats_greedy() {
    let f = lab();
    let d = demand(
        &f,
        "
tenants: [{name: a, isolation: dedicated-gpu}]
weights: {cost_per_usd: 0}
workloads:
  - {name: big, tenant: a, kind: training, gpus: 24}
  - {name: left, tenant: a, kind: training, gpus: 16}
  - {name: right, tenant: a, kind: training, gpus: 16}
",
    );
    let (g, gdoc) = plan_json(&f, &d, None, &opts(SolverChoice::Greedy));
    let (h, hdoc) = plan_json(&f, &d, None, &opts(SolverChoice::Highs));
    assert_eq!(admitted(&gdoc), ["big"]);
    assert_eq!(admitted(&hdoc), ["left", "right"]);
    assert_eq!(hdoc["status"], "optimal");
    assert!((h.terms.value - 32.0).abs() < 1e-9 && (g.terms.value - 24.0).abs() < 1e-9);
    assert!(violations(&f, &d, &hdoc).is_empty() && violations(&f, &d, &gdoc).is_empty());
    let bound = h.bound.expect("bound");
    assert!(bound + 1e-6 >= h.objective && h.gap.unwrap() <= 1e-6);
}

/// One 3g.40gb and four 1g.10gb instances of one tenant fill one H100 exactly
/// (1g@0..3 + 3g@4 is a valid layout using all 7 compute slices): the optimum strands nothing.
#[test]
fn mig_instances_pack_onto_one_gpu() {
    let f = lab();
    let d = demand(
        &f,
        "
tenants: [{name: m, isolation: mig}]
workloads:
  - {name: big, tenant: m, kind: inference, replicas: 1, size: {mig: 3g.40gb}}
  - {name: small, tenant: m, kind: inference, replicas: 4, size: {mig: 1g.10gb}}
",
    );
    let (h, doc) = plan_json(&f, &d, None, &opts(SolverChoice::Highs));
    assert_eq!(admitted(&doc).len(), 2);
    assert_eq!(doc["gpus"].as_array().unwrap().len(), 1, "{doc:#}");
    assert!(h.terms.stranded.abs() < 1e-9);
    assert!(violations(&f, &d, &doc).is_empty());
}

/// Budgets bind: 3 USD/GPU-h, 50 USD/h buys at most 16 GPUs (incl. power), so of two
/// 16-GPU gangs only one runs; the rejection says why.
#[test]
fn budget_limits_admission() {
    let f = lab();
    let d = demand(
        &f,
        "
pricing: {gpu_usd_per_hour: {h100-80gb: 3.0}}
tenants: [{name: a, isolation: dedicated-gpu, budget_usd_per_hour: 55}]
workloads:
  - {name: one, tenant: a, kind: training, gpus: 16}
  - {name: two, tenant: a, kind: training, gpus: 16}
",
    );
    for s in [SolverChoice::Greedy, SolverChoice::Highs] {
        let (_, doc) = plan_json(&f, &d, None, &opts(s));
        assert_eq!(admitted(&doc).len(), 1);
        let rej = doc["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["admitted"] == false)
            .unwrap();
        assert!(rej["reason"].as_str().unwrap().contains("budget"), "{rej}");
        assert!(violations(&f, &d, &doc).is_empty());
    }
}

#[test]
fn infeasible_required_demand_is_explained() {
    let r = common::run(&["plan", "tests/fixtures/plan/infeasible.yaml"]);
    assert_eq!(r.code, 1);
    common::snapshot(
        "plan_infeasible",
        &r.transcript()
            .replace(|c: char| c.is_ascii_digit(), "#")
            .lines()
            .filter(|l| !l.starts_with("plan:"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    assert!(
        r.stdout.contains(
            "needs 40 h100-80gb GPUs inside one scalable unit; the largest free one has 32"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn verify_catches_injected_violations() {
    let f = lab();
    let d = demand(
        &f,
        "
tenants:
  - {name: a, isolation: dedicated-node, budget_usd_per_hour: 40}
  - {name: b, isolation: mig}
  - {name: c, isolation: mig}
workloads:
  - {name: gang, tenant: a, kind: training, required: true, gpus: 8, topology: {required: nvlink}}
  - {name: m1, tenant: b, kind: inference, replicas: 2, size: {mig: 1g.10gb}}
  - {name: m2, tenant: c, kind: inference, replicas: 1, size: {mig: 1g.10gb}}
",
    );
    let (_, doc) = plan_json(&f, &d, None, &opts(SolverChoice::Highs));
    assert!(violations(&f, &d, &doc).is_empty());
    let gang_gpu = doc["workloads"][0]["assignments"][0]["gpu"].clone();
    let m1 = doc["workloads"][1]["assignments"][0].clone();
    // 1. a MIG instance of another tenant on the dedicated node's GPU + non-co-tenant MIG mix.
    let mut bad = doc.clone();
    bad["workloads"][2]["assignments"] = serde_json::json!([m1]);
    let v = violations(&f, &d, &bad);
    assert!(
        v.iter().any(|x| x.starts_with("FP860")) && v.iter().any(|x| x.starts_with("FP859")),
        "{v:?}"
    );
    // 2. the required gang dropped.
    let mut bad = doc.clone();
    bad["workloads"][0]["admitted"] = false.into();
    bad["workloads"][0]["assignments"] = serde_json::json!([]);
    assert!(violations(&f, &d, &bad)
        .iter()
        .any(|x| x.starts_with("FP857")));
    // 3. the gang split across two nodes and short of GPUs.
    let mut bad = doc.clone();
    let other = if gang_gpu.as_str().unwrap().starts_with("lab4/") {
        "lab1/7"
    } else {
        "lab4/7"
    };
    bad["workloads"][0]["assignments"] = serde_json::json!([{"gpu": gang_gpu}, {"gpu": other}]);
    let v = violations(&f, &d, &bad);
    assert!(
        v.iter().any(|x| x.starts_with("FP855")) && v.iter().any(|x| x.starts_with("FP856")),
        "{v:?}"
    );
    // 4. budget exceeded: a second 8-GPU gang charged to a 40 USD/h tenant.
    let d2 = demand(
        &f,
        "
tenants: [{name: a, isolation: dedicated-node, budget_usd_per_hour: 20}]
workloads: [{name: gang, tenant: a, kind: training, gpus: 8}]
",
    );
    let mut bad = doc.clone();
    bad["workloads"] = serde_json::json!([doc["workloads"][0].clone()]);
    assert!(violations(&f, &d2, &bad)
        .iter()
        .any(|x| x.starts_with("FP862")));
}

#[test]
fn replanning_on_own_output_changes_nothing() {
    let fabric = "fabrics/dgx-h100-su1-ib.yaml";
    let _ = fabric;
    let dir = std::env::temp_dir().join(format!("fabplan-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p1 = dir.join("p1.json");
    let r = common::run(&[
        "plan",
        "examples/mixed-tenants-h100.yaml",
        "--format",
        "json",
        "-o",
        p1.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for extra in [&[][..], &["--freeze"][..]] {
        let mut args = vec![
            "plan",
            "examples/mixed-tenants-h100.yaml",
            "--format",
            "json",
            "--current",
            p1.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let r = common::run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let doc: Value = serde_json::from_str(&r.stdout).unwrap();
        let diff = &doc["diff"];
        for k in [
            "new_placements",
            "moves",
            "evictions",
            "repartitions",
            "steps",
        ] {
            assert_eq!(
                diff[k],
                serde_json::json!([]),
                "{k} with {extra:?}: {diff:#}"
            );
        }
    }
    let v = common::run(&[
        "verify",
        "examples/mixed-tenants-h100.yaml",
        p1.to_str().unwrap(),
    ]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    let e = common::run(&["export", "mig-parted", p1.to_str().unwrap()]);
    assert_eq!(e.code, 0);
    common::snapshot("export_mig_parted_mixed_tenants", &e.stdout);
    std::fs::remove_dir_all(&dir).ok();
}

/// mig-parted takes counts only: GPUs with the same counts but different planned starts get
/// a device group each, whose planned starts (in start order) the header comment lists; the
/// document after the header is one serialized piece with no comment in it, reads back as a
/// mig-parted config with those counts, and has the shape of NVIDIA's own config-default.yaml
/// (/work/shared/data/mig-parted, copied to tests/fixtures/mig-parted/).
#[test]
fn mig_parted_export_keeps_planned_starts_as_comments() {
    let raw: PlanDocument = serde_json::from_value(serde_json::json!({
        "workloads": [{"name": "svc", "gpu_model": "h100-80gb"}],
        "gpus": [
        {"gpu": "n1/0", "mode": "mig", "mig": "3g.40gb@4 2g.20gb@0 1g.10gb@2", "workloads": ["svc"]},
        {"gpu": "n1/1", "mode": "mig", "mig": "3g.40gb@0 2g.20gb@4 1g.10gb@6", "workloads": ["svc"]},
        {"gpu": "n1/2", "mode": "mig", "mig": "2g.20gb@0 1g.10gb@2 3g.40gb@4", "workloads": ["svc"]},
        {"gpu": "n1/3", "mode": "whole"},
    ]}))
    .unwrap();
    let text = plan::export::mig_parted(&raw, None).expect("valid layouts export");
    let body_at = text.find("version: v1\n").expect("document");
    let (header, body) = text.split_at(body_at);
    assert!(header.lines().all(|l| l.starts_with("# ")), "{header}");
    assert!(
        !body.contains('#'),
        "no comment inside the document:\n{body}"
    );
    for planned in [
        "#   planned: fabplan-n1 devices [0, 2]: 2g.20gb@0 1g.10gb@2 3g.40gb@4\n",
        "#   planned: fabplan-n1 devices [1]: 3g.40gb@0 2g.20gb@4 1g.10gb@6\n",
        "#   kubectl label node n1 nvidia.com/mig.config=fabplan-n1 --overwrite\n",
    ] {
        assert!(header.contains(planned), "{planned:?} not in\n{header}");
    }
    assert!(
        body.contains("    - devices: [3]\n      mig-enabled: false\n"),
        "{body}"
    );
    mig_parted_shape_matches_nvidias(body);
    let (cfg, diags) =
        fabplan::formats::mig_parted::parse(&fabplan::source::SourceFile::new("export", text));
    let cfg = cfg.unwrap_or_else(|| panic!("valid mig-parted: {diags:?}"));
    let entries = &cfg.configs["fabplan-n1"];
    assert_eq!(entries.len(), 3);
    for e in &entries[..2] {
        let counts: Vec<(&str, u32)> = e
            .mig_devices
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(counts, [("1g.10gb", 1), ("2g.20gb", 1), ("3g.40gb", 1)]);
    }
}

/// The document has the shape of NVIDIA's `config-default.yaml` (mig-parted
/// `deployments/systemd/config-default.yaml` @bd7160f4): the same top-level keys and version,
/// entries with keys the real file uses, each value of the type it has there (`devices` is
/// `all` there; mig-parted's api/spec/v1 also takes a list of GPU indices, docs/sources.md).
fn mig_parted_shape_matches_nvidias(ours: &str) {
    use serde_json::Value;
    let real = std::fs::read_to_string("tests/fixtures/mig-parted/config-default.yaml").unwrap();
    let real: Value = serde_saphyr::from_str(&real).expect("NVIDIA's config parses");
    let ours: Value = serde_saphyr::from_str(ours).expect("the export parses as YAML");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(&real));
    assert_eq!(ours["version"], real["version"]);
    let entries = |v: &Value| -> Vec<Value> {
        v["mig-configs"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|c| c.as_array().unwrap().clone())
            .collect()
    };
    let real_keys: std::collections::BTreeSet<String> =
        entries(&real).iter().flat_map(keys).collect();
    let ours = entries(&ours);
    assert!(!ours.is_empty());
    for e in &ours {
        for k in keys(e) {
            assert!(
                real_keys.contains(&k),
                "`{k}` is not a key of mig-parted entries"
            );
        }
        assert!(e["mig-enabled"].is_boolean(), "{e}");
        let devices = &e["devices"];
        assert!(
            devices == "all"
                || devices
                    .as_array()
                    .is_some_and(|d| d.iter().all(|i| i.is_u64())),
            "{e}"
        );
        if let Some(m) = e.get("mig-devices") {
            assert!(m.as_object().unwrap().values().all(|n| n.is_u64()), "{e}");
            // Profile names as the real file writes them (`1g.10gb`, `1g.5gb+me`).
            let real_profiles: std::collections::BTreeSet<String> = entries(&real)
                .iter()
                .filter_map(|r| r.get("mig-devices"))
                .flat_map(keys)
                .collect();
            for p in keys(m) {
                assert!(
                    real_profiles.contains(&p),
                    "profile `{p}` is not one mig-parted names"
                );
            }
        }
    }
}

/// `export mig-parted` never writes an invalid config: a profile the GPU's model lacks, an
/// overlapping layout, or a GPU whose model the plan does not tell is an error.
#[test]
fn mig_parted_export_refuses_layouts_the_gpu_cannot_hold() {
    let codes = |gpus: Value| -> Vec<&'static str> {
        let raw: PlanDocument = serde_json::from_value(serde_json::json!({
            "workloads": [{"name": "svc", "gpu_model": "h100-80gb"}],
            "gpus": gpus,
        }))
        .unwrap();
        match plan::export::mig_parted(&raw, None) {
            Ok(text) => panic!("exported an invalid plan:\n{text}"),
            Err(d) => d.iter().map(|d| d.code).collect(),
        }
    };
    // `1g.5gb` is an A100-40GB profile, not an H100's.
    assert_eq!(
        codes(serde_json::json!([{"gpu": "n1/0", "mig": "1g.5gb@0", "workloads": ["svc"]}])),
        ["FP806"]
    );
    // 1g.10gb@0 overlaps 4g.40gb@0.
    assert_eq!(
        codes(
            serde_json::json!([{"gpu": "n1/0", "mig": "4g.40gb@0 3g.40gb@4 1g.10gb@0", "workloads": ["svc"]}])
        ),
        ["FP811"]
    );
    assert_eq!(
        codes(serde_json::json!([{"gpu": "n1/0", "mig": "3g.40gb@0"}])),
        ["FP815"]
    );
}

#[test]
fn a_dropped_workload_is_evicted_and_its_gpus_drained() {
    let f = lab();
    let d = demand(
        &f,
        "
tenants: [{name: m, isolation: mig}, {name: w, isolation: dedicated-gpu}]
workloads:
  - {name: small, tenant: m, kind: inference, replicas: 7, size: {mig: 1g.10gb}}
",
    );
    let (_, doc) = plan_json(&f, &d, None, &opts(SolverChoice::Highs));
    let raw: PlanDocument = serde_json::from_value(doc.clone()).unwrap();
    let (cur, diags) = fabplan::load::state::state_from_document(&raw, &f);
    assert!(diags.is_empty());
    // Now the MIG service is gone and a whole-GPU gang takes every GPU.
    let d2 = demand(
        &f,
        "
tenants: [{name: m, isolation: mig}, {name: w, isolation: dedicated-gpu}]
workloads:
  - {name: all, tenant: w, kind: training, gpus: 32, required: true}
",
    );
    let (_, doc2) = plan_json(&f, &d2, Some(&cur), &opts(SolverChoice::Highs));
    let diff = &doc2["diff"];
    assert_eq!(diff["evictions"][0]["workload"], "small");
    assert_eq!(
        diff["repartitions"][0]["drain"],
        serde_json::json!(["small"])
    );
    assert_eq!(diff["steps"][0], "evict `small`");
    let _: &Current = &cur;
}

fn example(name: &str) {
    let path = format!("examples/{name}.yaml");
    let r = common::run(&["plan", &path, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut doc: Value = serde_json::from_str(&r.stdout).unwrap();
    doc["solve_seconds"] = "[redacted]".into();
    common::snapshot(
        &format!("plan_example_{}", name.replace('-', "_")),
        &serde_json::to_string_pretty(&doc).unwrap(),
    );
    let dir = std::env::temp_dir().join(format!("fabplan-ex-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("plan.json");
    std::fs::write(&p, &r.stdout).unwrap();
    let v = common::run(&["verify", &path, p.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    let g = common::run(&["plan", &path, "--solver", "greedy", "--format", "json"]);
    let gdoc: Value = serde_json::from_str(&g.stdout).unwrap();
    assert!(doc["objective"].as_f64().unwrap() + 1e-6 >= gdoc["objective"].as_f64().unwrap());
    let human = common::run(&["plan", &path]);
    common::snapshot(
        &format!("plan_example_{}_human", name.replace('-', "_")),
        &human.stdout.lines().skip(1).collect::<Vec<_>>().join("\n"),
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn example_mixed_tenants_h100() {
    example("mixed-tenants-h100");
}

#[test]
fn example_mig_inference_h200() {
    example("mig-inference-h200");
}

#[test]
fn example_nvl72_training() {
    example("nvl72-training");
}

/// A random small scenario on lab-small: 1-4 tenants of random isolation, 1-8 workloads.
fn scenario(rng: &mut Rng) -> String {
    let iso = ["dedicated-node", "dedicated-gpu", "mig", "shared"];
    let nt = 1 + rng.below(4) as usize;
    let mut s = String::from("tenants:\n");
    for t in 0..nt {
        let i = iso[rng.below(4) as usize];
        s.push_str(&format!(
            "  - {{name: t{t}, isolation: {i}, priority: {}",
            ["critical", "high", "normal", "low"][rng.below(4) as usize]
        ));
        if rng.below(2) == 0 {
            s.push_str(&format!(", budget_usd_per_hour: {}", 10 + rng.below(90)));
        }
        if rng.below(3) == 0 {
            s.push_str(&format!(", max_gpus: {}", 4 + rng.below(24)));
        }
        if i == "mig" && rng.below(2) == 0 {
            s.push_str(", co_tenancy: true");
        }
        if i == "shared" {
            s.push_str(&format!(", share_with: [t{}]", rng.below(nt as u64)));
        }
        s.push_str("}\n");
    }
    s.push_str("workloads:\n");
    for w in 0..1 + rng.below(8) {
        let t = rng.below(nt as u64);
        s.push_str(&format!(
            "  - {{name: w{w}, tenant: t{t}, priority: {}",
            1 + rng.below(8)
        ));
        match rng.below(3) {
            0 => s.push_str(&format!(", kind: training, gpus: {}, topology: {{required: {}}}, collective: {{bytes_per_step: 4e9, steps_per_hour: 1000}}",
                [1, 2, 4, 8, 16, 24][rng.below(6) as usize], ["nvlink", "leaf", "su", "fabric"][rng.below(4) as usize])),
            1 => {
                let size = match rng.below(3) {
                    0 => format!("{{gpus: {}}}", [1, 2, 4][rng.below(3) as usize]),
                    1 => format!("{{mig: {}}}", ["1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb"][rng.below(4) as usize]),
                    _ => format!("{{fraction: {}}}", ["0.125", "0.25", "0.5"][rng.below(3) as usize]),
                };
                s.push_str(&format!(", kind: inference, replicas: {}, size: {size}", 1 + rng.below(6)));
            }
            _ => s.push_str(&format!(", kind: agent, tasks_per_hour: {}, max_tokens: 1000, max_steps: {}", 10 + rng.below(500), 1 + rng.below(8))),
        }
        s.push_str("}\n");
    }
    s
}

/// 10,000 random small scenarios: every plan of both solvers passes `verify`, and the MILP's
/// objective is never below greedy's.
#[test]
fn property_plans_verify_and_milp_dominates_greedy() {
    use rayon::prelude::*;
    let f = lab();
    let failures: Vec<String> = (0..10_000u64)
        .into_par_iter()
        .filter_map(|seed| {
            let mut rng = Rng::new(seed);
            let text = scenario(&mut rng);
            // Sizes a tenant's isolation forbids are load errors (FP803): a valid rejection.
            let d = fabplan::load::demand::demand_from_str("p.yaml", &text, &f).ok()?;
            let o = PlanOptions {
                time_limit_seconds: 5.0,
                mip_gap: 1e-4,
                ..PlanOptions::default()
            };
            let (g, gdoc) = plan_json(
                &f,
                &d,
                None,
                &PlanOptions {
                    solver: SolverChoice::Greedy,
                    ..o.clone()
                },
            );
            let (h, hdoc) = plan_json(&f, &d, None, &o);
            let mut why = Vec::new();
            why.extend(
                violations(&f, &d, &gdoc)
                    .into_iter()
                    .filter(|v| !v.starts_with("FP857"))
                    .map(|v| format!("greedy {v}")),
            );
            why.extend(
                violations(&f, &d, &hdoc)
                    .into_iter()
                    .filter(|v| !v.starts_with("FP857"))
                    .map(|v| format!("highs {v}")),
            );
            if h.objective + 1e-6 < g.objective {
                why.push(format!("highs {} < greedy {}", h.objective, g.objective));
            }
            if let Some(b) = h.bound {
                if b + 1e-6 < h.objective {
                    why.push(format!("bound {b} below objective {}", h.objective));
                }
            }
            // The printed bound is clamped to the objective; the raw one is noted when lower.
            why.extend(
                h.notes
                    .iter()
                    .filter(|n| n.contains("modelling gap"))
                    .map(|n| format!("highs: {n}")),
            );
            (!why.is_empty()).then(|| format!("seed {seed}: {why:?}\n{text}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures; first: {}",
        failures.len(),
        failures[0]
    );
}

/// Everything admitted and frozen: the MILP has no columns; HiGHS is not asked, nothing panics.
#[test]
fn fully_frozen_plan_has_nothing_to_decide() {
    let dir = std::env::temp_dir().join(format!("fabplan-frozen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("p.json");
    let demand = "examples/mig-inference-h200.yaml";
    assert_eq!(
        common::run(&[
            "plan",
            demand,
            "--format",
            "json",
            "-o",
            p.to_str().unwrap()
        ])
        .code,
        0
    );
    let r = common::run(&["plan", demand, "--current", p.to_str().unwrap(), "--freeze"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.transcript());
    assert!(r.stdout.contains("diff: no changes"), "{}", r.stdout);
    std::fs::remove_dir_all(&dir).ok();
}

/// Maximal patterns by hand: gangs of 64, 40 and 32 nodes in a 64-node SU give {64}, {40}
/// (24 nodes left, too few for 32) and {32, 32}; over the limit there is no answer.
#[test]
fn maximal_patterns_by_hand() {
    use fabplan::plan::milp::maximal_patterns;
    let p = maximal_patterns(&[64, 40, 32], 64, 100).expect("few patterns");
    assert_eq!(p, vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 0, 2]]);
    let p = maximal_patterns(&[5, 3], 11, 100).expect("few patterns");
    // 5+5 (1 left), 5+3+3 (0 left), 3+3+3 (2 left): each leaves less than the smallest size.
    assert_eq!(p, vec![vec![2, 0], vec![1, 2], vec![0, 3]]);
    assert!(maximal_patterns(&[5, 3], 11, 2).is_none());
}

/// The contended profile on 8 generated SUs (4,096 GPUs): a fine-tuning gang of 9/16-11/16
/// SU at priority 4 per SU and whole-SU pretraining at priority 3. Greedy gives every SU a
/// fine-tuning gang; the optimum gives most to pretraining. The MILP must admit at least 10%
/// more priority-weighted GPUs, prove it within 1%, and pass `verify`.
#[test]
fn contended_profile_milp_beats_greedy_by_ten_percent() {
    use fabplan::fabric::generate::{generate, GenerateRequest, Style};
    let yaml = generate(&GenerateRequest {
        gpus: 4096,
        style: Style::RailOptimized,
        radix: 128,
        nic_gbps: 400,
        gpu_model: "h100-80gb".into(),
        roce: true,
    })
    .expect("generate");
    let f = fabplan::load::load_fabric_str("gen.yaml", &yaml)
        .fabric
        .expect("generated fabric loads");
    let text = plan::gen::generate_demand(&f, None, 300, 7, plan::gen::Profile::Contended);
    let d = fabplan::load::demand::demand_from_str("demand.yaml", &text, &f)
        .expect("generated demand loads");
    let (_, gdoc) = plan_json(&f, &d, None, &opts(SolverChoice::Greedy));
    let (h, hdoc) = plan_json(&f, &d, None, &opts(SolverChoice::Highs));
    let pw = |doc: &Value| doc["summary"]["priority_weighted_gpus"].as_f64().unwrap();
    assert!(
        pw(&hdoc) >= 1.10 * pw(&gdoc),
        "highs {} vs greedy {}",
        pw(&hdoc),
        pw(&gdoc)
    );
    assert!(h.gap.expect("gap") <= 0.01, "gap {:?}", h.gap);
    assert_ne!(h.bound_scope, plan::BoundScope::None);
    // At a 1e-6 gap the search runs into --time-limit (10 s). How closely the limit holds is a
    // wall-clock figure, measured in the planner benchmarks (docs/planner-benchmarks.md), not
    // asserted here: on a loaded machine it failed a correct plan.
    assert!(
        matches!(
            h.status,
            plan::PlanStatus::TimeLimit | plan::PlanStatus::Optimal
        ),
        "{}",
        h.status
    );
    assert!(violations(&f, &d, &hdoc).is_empty() && violations(&f, &d, &gdoc).is_empty());
}

/// `plan` places work only on a valid design: a fabric with design errors (here a rack over
/// its power budget, FP501) stops the run with exit 2 and the findings, as `validate` shows
/// them; `verify` still re-checks plans on it (the verify corpus uses this fabric).
#[test]
fn plan_refuses_a_fabric_with_design_errors() {
    let dir = std::env::temp_dir().join(format!("fabplan-design-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("tests/fixtures/plan/verify-mixed-fabric.yaml"),
        dir.join("fabric.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("demand.yaml"),
        "fabric: fabric.yaml\ntenants: [{name: t, isolation: dedicated-gpu}]\nworkloads:\n  - {name: a, tenant: t, kind: inference, size: {gpus: 1}}\n",
    )
    .unwrap();
    let r = common::run_in(&dir, &["plan", "demand.yaml", "-o", "plan.json"], &[]);
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(r.stderr.contains("FP501"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was planned"), "{}", r.stderr);
    assert!(!dir.join("plan.json").exists(), "no plan is written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The workload entry of a plan document (as JSON) by name.
fn entry<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` in the plan"))
}

/// `tests/fixtures/plan/elastic-demand.yaml` (hand-proven in its header): the MILP admits
/// all three workloads on all 32 GPUs at 30.87104 with `web` over both models as counted
/// (naming used to fill H100 first, which left `cheap` nothing); greedy rejects `cheap`.
/// Both plans verify. Human and JSON output snapshotted.
#[test]
fn elastic_and_multi_model_replicas_plan_and_verify() {
    let path = "tests/fixtures/plan/elastic-demand.yaml";
    let r = common::run(&["plan", path, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["status"], "optimal");
    assert!((doc["objective"].as_f64().unwrap() - 30.87104).abs() < 1e-6);
    assert_eq!(doc["summary"]["gpus_used"], 32);
    let web = entry(&doc, "web");
    assert_eq!(web["gpus"], 20.0);
    assert_eq!(
        web["gpu_models"],
        serde_json::json!(["h100-80gb", "h200-141gb"])
    );
    assert!(web["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["gpu_model"].is_string()));
    let pinned = entry(&doc, "pinned");
    assert_eq!(
        (
            pinned["replicas"].as_u64(),
            pinned["replicas_requested"].as_u64()
        ),
        (Some(8), Some(8))
    );
    assert!(pinned["gpu_models"].is_null(), "same_model: one model");
    let cheap = entry(&doc, "cheap");
    assert_eq!(cheap["admitted"], true);
    assert_eq!(
        (
            cheap["replicas"].as_u64(),
            cheap["replicas_requested"].as_u64(),
            cheap["min_replicas"].as_u64()
        ),
        (Some(4), Some(10), Some(2))
    );
    let reason = cheap["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("admitted 4 of 10 replicas (min 2): no node with 1 free h100-80gb GPUs"),
        "{reason}"
    );
    let dir = std::env::temp_dir().join(format!("fabplan-elastic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("plan.json");
    std::fs::write(&p, &r.stdout).unwrap();
    let v = common::run(&["verify", path, p.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    let g = common::run(&["plan", path, "--solver", "greedy", "--format", "json"]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    std::fs::write(&p, &g.stdout).unwrap();
    let v = common::run(&["verify", path, p.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    let gdoc: Value = serde_json::from_str(&g.stdout).unwrap();
    assert_eq!(admitted(&gdoc), ["web", "pinned"]);
    assert!(entry(&gdoc, "cheap")["reason"]
        .as_str()
        .unwrap()
        .starts_with("only 0 of 10 replicas fit (min 2): "));
    std::fs::remove_dir_all(&dir).ok();
    doc["solve_seconds"] = "[redacted]".into();
    common::snapshot(
        "plan_elastic_multi_model",
        &serde_json::to_string_pretty(&doc).unwrap(),
    );
    let human = common::run(&["plan", path]);
    common::snapshot(
        "plan_elastic_multi_model_human",
        &human.stdout.lines().skip(1).collect::<Vec<_>>().join("\n"),
    );
}

/// An elastic service under a budget with GPUs to spare: $20/h buys 6 replicas at $3.153/h
/// (a 3.00 H100-hour plus 1.275 kW x 1.2 PUE x $0.10/kWh), so 6 of 10 run, in greedy and
/// the MILP alike, and the reason names the budget. With `min_replicas: 7` it is rejected.
#[test]
fn elastic_replicas_stop_at_the_tenant_budget() {
    let f = lab();
    let text = |min: u32| {
        format!(
            "tenants:\n  - {{name: lean, isolation: dedicated-gpu, budget_usd_per_hour: 20}}\n\
             workloads:\n  - {{name: chat, tenant: lean, kind: inference, replicas: 10, \
             min_replicas: {min}, size: {{gpus: 1}}}}\n"
        )
    };
    let d = demand(&f, &text(2));
    for solver in [SolverChoice::Greedy, SolverChoice::Highs] {
        let (r, doc) = plan_json(&f, &d, None, &opts(solver));
        let chat = entry(&doc, "chat");
        assert_eq!(chat["replicas"], 6, "{solver:?}");
        assert_eq!(r.assignments[0].len(), 6);
        let reason = chat["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("admitted 6 of 10 replicas (min 2): tenant `lean` budget"),
            "{solver:?}: {reason}"
        );
        assert!(violations(&f, &d, &doc).is_empty());
        assert!(doc["cost_per_hour"]["lean"].as_f64().unwrap() <= 20.0);
    }
    let d = demand(&f, &text(7));
    let (r, doc) = plan_json(&f, &d, None, &opts(SolverChoice::Highs));
    assert!(!r.admitted[0]);
    let reason = entry(&doc, "chat")["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("only 6 of 10 replicas fit (min 7): tenant `lean` budget"),
        "{reason}"
    );
}

/// Verify counts elastic replicas: a plan holding fewer than `min_replicas` is FP864, one
/// holding more than `replicas` too; between them it passes.
#[test]
fn verify_checks_the_elastic_replica_count() {
    let f = lab();
    let d = demand(
        &f,
        "tenants:\n  - {name: p, isolation: dedicated-gpu}\nworkloads:\n  - {name: chat, tenant: p, kind: inference, replicas: 4, min_replicas: 2, size: {gpus: 1}}\n",
    );
    let (_, doc) = plan_json(&f, &d, None, &opts(SolverChoice::Greedy));
    assert!(violations(&f, &d, &doc).is_empty());
    let with = |gpus: &[&str]| {
        let mut bad = doc.clone();
        bad["workloads"][0]["assignments"] =
            gpus.iter().map(|g| serde_json::json!({"gpu": g})).collect();
        violations(&f, &d, &bad)
    };
    assert!(with(&["lab1/0", "lab1/1"]).is_empty());
    assert_eq!(
        with(&["lab1/0"]),
        ["FP864: `chat` runs 1 replicas; the demand allows 2 to 4"]
    );
    let five = with(&["lab1/0", "lab1/1", "lab1/2", "lab1/3", "lab1/4"]);
    assert!(five.iter().any(|v| v.starts_with("FP864")), "{five:?}");
}

/// The counted and the named plan agree on replicas over two models (issue 14 §1): `web`
/// fits only split over H100 and H200, `pinned` only on H200 and `cheap` only on H100. The
/// pooled model counts all 32 GPUs busy (30.87104); naming used to try one model for all of
/// `web`, fall back to greedy and return 11.56164 (`web` rejected) against that bound.
#[test]
fn multi_model_naming_matches_the_counted_plan() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/plan/two-models-fabric.yaml"
    );
    let f = fabplan::load::load_fabric_file(std::path::Path::new(path))
        .fabric
        .expect("two-models fabric loads");
    let d = demand(
        &f,
        "tenants:\n  - {name: svc, isolation: dedicated-gpu}\nworkloads:\n\
         \x20 - {name: web, tenant: svc, kind: inference, replicas: 20, gpu_models: [h100-80gb, h200-141gb], size: {gpus: 1}}\n\
         \x20 - {name: pinned, tenant: svc, kind: inference, replicas: 8, gpu_models: [h200-141gb], size: {gpus: 1}}\n\
         \x20 - {name: cheap, tenant: svc, kind: inference, replicas: 4, gpu_models: [h100-80gb], size: {gpus: 1}}\n",
    );
    let (r, doc) = plan_json(&f, &d, None, &opts(SolverChoice::Highs));
    assert_eq!(admitted(&doc), ["web", "pinned", "cheap"]);
    assert!((r.objective - 30.87104).abs() < 1e-6, "{}", r.objective);
    assert!(r.gap.is_some_and(|g| g < 1e-6), "{:?}", r.gap);
    let by_model = |name: &str, model: &str| {
        entry(&doc, name)["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["gpu_model"] == model)
            .count()
    };
    assert_eq!(
        by_model("web", "h100-80gb") + by_model("web", "h200-141gb"),
        20
    );
    assert_eq!(by_model("web", "h200-141gb"), 8);
    assert!(violations(&f, &d, &doc).is_empty());
}
