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

/// CPU-only pods are host-only workloads (`size: {gpus: 0}`), placed first, and they change
/// the outcome (hand-checked, `tests/fixtures/openb/cpu-only`): one T4 node `tight` with 16
/// cores and two GPUs; two GPU pods of 6 cores each fit it alone (12 of 16). With the
/// CPU-only pod `c-1` (8 cores) on it, 8 cores are left: one GPU pod fits (14 of 16), the
/// second would need 20. `c-big` (20 cores) fits no node and is rejected with its reason;
/// `idle-1` asks nothing and is left out of the import. Both solvers, both verified.
#[test]
fn cpu_only_pods_take_cpu_from_gpu_pods() {
    let fx = "tests/fixtures/openb/cpu-only";
    let base = std::env::temp_dir().join(format!("fabplan-openb-cpuonly-{}", std::process::id()));
    let (gpu_dir, cpu_dir) = (base.join("gpu"), base.join("cpu"));
    let r = import(
        &format!("{fx}/nodes.csv"),
        &format!("{fx}/pods-gpu.csv"),
        &gpu_dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for solver in ["greedy", "highs"] {
        let names = plan_and_verify(&gpu_dir, solver, &["--solver", solver]);
        assert_eq!(names, ["g-1", "g-2"], "{solver}");
    }
    let r = import(
        &format!("{fx}/nodes.csv"),
        &format!("{fx}/pods-cpu.csv"),
        &cpu_dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("2 pods with GPUs and 2 CPU-only pods")
            && r.stderr.contains("1 pods asking nothing left out"),
        "{}",
        r.stderr
    );
    let demand = std::fs::read_to_string(cpu_dir.join("demand.yaml")).unwrap();
    common::snapshot("openb_cpu_only_demand", &demand);
    for solver in ["greedy", "highs"] {
        let names = plan_and_verify(&cpu_dir, solver, &["--solver", solver]);
        let gpu_pods = names.iter().filter(|n| n.starts_with("g-")).count();
        assert_eq!(gpu_pods, 1, "{solver}: {names:?}");
        assert!(names.contains(&"c-1".to_string()), "{solver}: {names:?}");
        assert!(!names.contains(&"c-big".to_string()), "{solver}: {names:?}");
        let doc: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(cpu_dir.join(format!("{solver}.json"))).unwrap(),
        )
        .unwrap();
        let w = |name: &str| {
            doc["workloads"]
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["name"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(
            w("c-1")["hosts"],
            serde_json::json!([{"node": "tight", "cpu_millicores": 8000, "memory_mib": 2048}]),
            "{solver}"
        );
        assert!(
            w("c-big")["reason"]
                .as_str()
                .unwrap()
                .contains("20000 millicores"),
            "{solver}: {doc:#}"
        );
        // The bound is the fluid relaxation's (no host rows, valid for every plan).
        if solver == "highs" {
            assert!(
                doc["bound_scope"].as_str().unwrap().starts_with("fluid"),
                "{doc:#}"
            );
            assert!(doc["bound"].as_f64().unwrap() >= doc["objective"].as_f64().unwrap());
        }
    }
    let human = run_env(
        &[
            "plan",
            cpu_dir.join("demand.yaml").to_str().unwrap(),
            "--solver",
            "greedy",
        ],
        &[("COLUMNS", "100")],
    );
    assert!(
        human.stdout.contains(
            "c-1 (be, inference): no GPU, 1 replica(s) of 8000 millicores and 2048 MiB on tight"
        ),
        "{}",
        human.stdout
    );
    let _ = std::fs::remove_dir_all(&base);
}

/// Verify counts host-only replicas in a node's CPU (FP863) and checks their placement
/// (FP867); `--current` refuses host-only replicas over a node's CPU (FP839). Built from the
/// greedy plan of `cpu-only/pods-cpu.csv` (see above), edited by hand; transcripts
/// snapshotted.
#[test]
fn host_only_placements_are_verified() {
    let fx = "tests/fixtures/openb/cpu-only";
    let dir = std::env::temp_dir().join(format!("fabplan-openb-hostverify-{}", std::process::id()));
    let r = import(
        &format!("{fx}/nodes.csv"),
        &format!("{fx}/pods-cpu.csv"),
        &dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    plan_and_verify(&dir, "greedy", &["--solver", "greedy"]);
    let demand = dir.join("demand.yaml");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("greedy.json")).unwrap()).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut p = plan.clone();
        for w in p["workloads"].as_array_mut().unwrap() {
            f(w);
        }
        p
    };
    let cases: [(&str, serde_json::Value, &str); 3] = [
        (
            // c-big (20 cores) admitted on the 16-core node beside c-1 and g-1.
            "FP863-host-only-no-room",
            edit(&|w| {
                if w["name"] == "c-big" {
                    w["admitted"] = true.into();
                    w["reason"] = serde_json::Value::Null;
                    w["hosts"] = serde_json::json!([
                        {"node": "tight", "cpu_millicores": 20000, "memory_mib": 1024}
                    ]);
                }
            }),
            "FP863",
        ),
        (
            "FP867-host-only-unknown-node",
            edit(&|w| {
                if w["name"] == "c-1" {
                    w["hosts"][0]["node"] = "nowhere".into();
                }
            }),
            "FP867",
        ),
        (
            "FP867-host-only-less-cpu",
            edit(&|w| {
                if w["name"] == "c-1" {
                    w["hosts"][0]["cpu_millicores"] = 1000.into();
                }
            }),
            "FP867",
        ),
    ];
    for (name, doc, code) in cases {
        let p = dir.join(format!("{name}.json"));
        std::fs::write(&p, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        let v = run_env(
            &["verify", demand.to_str().unwrap(), p.to_str().unwrap()],
            &[("COLUMNS", "100")],
        );
        assert_eq!(v.code, 1, "{name}: {}{}", v.stdout, v.stderr);
        let out = format!("{}{}", v.stdout, v.stderr);
        assert!(out.contains(code), "{name}: {out}");
        let out = out.replace(dir.to_str().unwrap(), "DIR");
        common::snapshot(&format!("openb_verify_{name}"), &out);
    }
    // A current state with two host-only replicas of 10 cores on the 16-core node.
    let state = dir.join("state.yaml");
    std::fs::write(
        &state,
        "workloads:\n  - name: c-1\n    hosts:\n      - {node: tight, cpu_millicores: 10000, memory_mib: 0}\n      - {node: tight, cpu_millicores: 10000, memory_mib: 0}\n",
    )
    .unwrap();
    let r = run_env(
        &[
            "plan",
            demand.to_str().unwrap(),
            "--current",
            state.to_str().unwrap(),
        ],
        &[("COLUMNS", "100")],
    );
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr.contains("FP839") && r.stderr.contains("state.yaml:4:"),
        "{}",
        r.stderr
    );
    common::snapshot(
        "openb_state_FP839",
        &r.transcript().replace(dir.to_str().unwrap(), "DIR"),
    );
    // A valid current state: c-1 running on `tight` stays there.
    std::fs::write(
        &state,
        "workloads:\n  - name: c-1\n    hosts:\n      - {node: tight, cpu_millicores: 8000, memory_mib: 2048}\n",
    )
    .unwrap();
    let r = run_env(
        &[
            "plan",
            demand.to_str().unwrap(),
            "--current",
            state.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert!(r.code == 0 || r.code == 1, "{}", r.transcript());
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let c1 = doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "c-1")
        .unwrap();
    assert_eq!(c1["hosts"][0]["node"], "tight");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file of the Alibaba openb trace in the workspace's shared data (`../shared/data`
/// beside the repository; `/work/shared/data` on the project's machines).
fn openb_trace(file: &str) -> String {
    let rel = format!("alibaba-openb/{file}");
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [manifest.join("../shared/data"), "/work/shared/data".into()]
        .iter()
        .map(|d| d.join(&rel))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("`{rel}` is not in ../shared/data nor /work/shared/data"))
        .display()
        .to_string()
}

/// `report --plan --demand` on the imported `openb_pod_list_cpu050.csv` (greedy plan): the
/// host section counts every admitted pod's CPU and memory, summed here from the plan and
/// the demand without the report's code: host-only pods from the plan's `hosts:`, GPU pods
/// (one replica each) from the demand's `cpu_millicores`/`memory_mib`. Node rows sum to the
/// totals and tenant rows too, and no node is over what it declares (the plan verifies).
#[test]
fn report_counts_host_use_on_openb_cpu050() {
    let dir = std::env::temp_dir().join(format!("fabplan-openb-cpu050-{}", std::process::id()));
    let r = import(
        &openb_trace("openb_node_list_gpu_node.csv"),
        &openb_trace("openb_pod_list_cpu050.csv"),
        &dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    plan_and_verify(&dir, "greedy", &["--solver", "greedy"]);
    let (fabric, demand, plan) = (
        dir.join("fabric.yaml"),
        dir.join("demand.yaml"),
        dir.join("greedy.json"),
    );
    let rep = run_env(
        &[
            "report",
            fabric.to_str().unwrap(),
            "--plan",
            plan.to_str().unwrap(),
            "--demand",
            demand.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(rep.code, 0, "{}", rep.stderr);
    let report: serde_json::Value = serde_json::from_str(&rep.stdout).unwrap();
    let h = &report["host"];
    let num = |v: &serde_json::Value| v.as_u64().unwrap();

    // The same figures from the plan and the demand directly.
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let loaded = fabplan::load::load_fabric_file(&fabric);
    let f = loaded.fabric.expect("the imported fabric loads");
    let d = fabplan::load::demand::demand_from_str(
        "demand.yaml",
        &std::fs::read_to_string(&demand).unwrap(),
        &f,
    )
    .expect("the imported demand validates");
    let (mut cpu, mut mem, mut host_only) = (0u64, 0u64, 0u64);
    for w in plan["workloads"].as_array().unwrap() {
        if w["admitted"] != true {
            continue;
        }
        let name = w["name"].as_str().unwrap();
        if let Some(hosts) = w["hosts"].as_array() {
            for x in hosts {
                cpu += x["cpu_millicores"].as_u64().unwrap();
                mem += x["memory_mib"].as_u64().unwrap();
                host_only += 1;
            }
            continue;
        }
        let dw = d.workloads.iter().find(|x| x.name == name).unwrap();
        assert_eq!(dw.replicas, 1, "openb imports one workload per pod");
        cpu += dw.cpu_millicores;
        mem += dw.memory_mib;
    }
    assert_eq!(host_only, 375, "every CPU-only pod of cpu050 is placed");
    assert_eq!(num(&h["host_only_replicas"]), host_only);
    assert_eq!(
        (num(&h["cpu_millicores"]), num(&h["memory_mib"])),
        (cpu, mem)
    );
    for (key, name) in [("nodes", "node"), ("tenants", "tenant")] {
        let rows = h[key].as_array().unwrap();
        let sum = |k: &str| rows.iter().map(|r| num(&r[k])).sum::<u64>();
        assert_eq!(
            (
                sum("cpu_millicores"),
                sum("memory_mib"),
                sum("host_only_replicas")
            ),
            (cpu, mem, host_only),
            "{key}"
        );
        assert!(rows.iter().all(|r| r[name].is_string()));
    }
    for n in h["nodes"].as_array().unwrap() {
        assert!(
            num(&n["cpu_millicores"]) <= num(&n["cpu_millicores_capacity"]),
            "{n}"
        );
        assert!(
            num(&n["memory_mib"]) <= num(&n["memory_mib_capacity"]),
            "{n}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
