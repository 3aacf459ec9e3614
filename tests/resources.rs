//! Exact resources, hand-computed: time-sliced shares in thousandths (compute and GPU
//! memory), host CPU and memory on nodes. Every plan here is checked by the independent
//! verifier, for greedy and HiGHS alike.

mod common;

use common::planning::{admitted, demand, opts};
use fabplan::model::demand::Demand;
use fabplan::model::Fabric;
use fabplan::plan::{self, SolverChoice};
use fabplan::schema::plan::PlanDocument;
use serde_json::Value;

/// `nodes` nodes of `gpus` H100s (80 GB) each, 8 cores and 64 GiB of host memory per node.
fn tiny(nodes: u32, gpus: u32) -> Fabric {
    let text = format!(
        "
fabric: tiny
node_templates:
  - {{id: box, gpu: h100-80gb, gpus: {gpus}, power_kw: 2, cpu_cores: 8, memory_gib: 64}}
racks:
  - {{id: r1, power_kw: 40, cooling: air, nodes: [{{template: box, ids: \"n[1-{nodes}]\"}}]}}
"
    );
    let loaded = fabplan::load::load_fabric_str("tiny.yaml", &text);
    loaded
        .fabric
        .unwrap_or_else(|| panic!("tiny loads: {:?}", loaded.diagnostics))
}

fn reason<'a>(doc: &'a Value, name: &str) -> &'a str {
    doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name)
        .and_then(|w| w["reason"].as_str())
        .unwrap_or("")
}

/// Plans with both solvers; asserts both verify clean and the MILP is at least greedy.
fn both(f: &Fabric, d: &Demand) -> (Value, Value) {
    let (g, gdoc) = plan::plan_document(f, d, None, &opts(SolverChoice::Greedy));
    let (h, hdoc) = plan::plan_document(f, d, None, &opts(SolverChoice::Highs));
    for doc in [&gdoc, &hdoc] {
        let v = plan::verify::verify(f, d, doc);
        assert!(v.is_empty(), "{v:?}\n{doc:?}");
    }
    let json = |doc: &PlanDocument| serde_json::to_value(doc).expect("plan document as JSON");
    let (gdoc, hdoc) = (json(&gdoc), json(&hdoc));
    assert!(h.objective + 1e-9 >= g.objective);
    (gdoc, hdoc)
}

const SHARED: &str = "tenants: [{name: s, isolation: shared}]\nweights: {cost_per_usd: 0}\n";

/// 0.46 + 0.54 = 1.000: both fit one GPU, written as thousandths.
#[test]
fn shares_summing_to_one_gpu_share_it() {
    let f = tiny(1, 1);
    let d = demand(
        &f,
        &format!(
            "{SHARED}workloads:
  - {{name: a, tenant: s, kind: inference, size: {{fraction: 0.46}}}}
  - {{name: b, tenant: s, kind: inference, size: {{gpu_milli: 540}}}}
"
        ),
    );
    let (g, h) = both(&f, &d);
    for doc in [&g, &h] {
        assert_eq!(admitted(doc), ["a", "b"], "{doc:#}");
        let shares: Vec<&Value> = doc["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| &w["assignments"][0]["gpu_milli"])
            .collect();
        assert_eq!(shares, [460, 540]);
    }
    assert!(
        (h["objective"].as_f64().unwrap() - 1.0 * 1.0).abs() < 1e-6,
        "{h:#}"
    );
}

/// 0.46 + 0.55 = 1.010: one GPU holds only one of them (nothing is rounded); the MILP
/// keeps the larger (more value), as does greedy (larger first).
#[test]
fn shares_over_one_gpu_do_not_share_it() {
    let f = tiny(1, 1);
    let d = demand(
        &f,
        &format!(
            "{SHARED}workloads:
  - {{name: a, tenant: s, kind: inference, size: {{fraction: 0.46}}}}
  - {{name: b, tenant: s, kind: inference, size: {{fraction: 0.55}}}}
"
        ),
    );
    let (g, h) = both(&f, &d);
    assert_eq!(admitted(&g), ["b"]);
    assert_eq!(admitted(&h), ["b"]);
    assert!(reason(&g, "a").contains("460 thousandths"), "{g:#}");
}

/// GPU memory per share: two 0.3 shares of 50 GiB each exceed an 80 GB H100 together, so
/// they take two GPUs although their compute would fit one.
#[test]
fn share_memory_limits_a_gpu() {
    let f = tiny(1, 2);
    let d = demand(
        &f,
        &format!(
            "{SHARED}workloads:
  - {{name: a, tenant: s, kind: inference, replicas: 2, size: {{fraction: 0.3, gpu_memory_gib: 50}}}}
"
        ),
    );
    let (g, h) = both(&f, &d);
    for doc in [&g, &h] {
        assert_eq!(admitted(doc), ["a"]);
        assert_eq!(doc["gpus"].as_array().unwrap().len(), 2, "{doc:#}");
    }
    // On one GPU alone they do not fit.
    let f1 = tiny(1, 1);
    let d1 = demand(
        &f1,
        &format!(
            "{SHARED}workloads:
  - {{name: a, tenant: s, kind: inference, replicas: 2, size: {{fraction: 0.3, gpu_memory_gib: 50}}}}
"
        ),
    );
    let (g, h) = both(&f1, &d1);
    assert!(admitted(&g).is_empty() && admitted(&h).is_empty());
}

/// Host CPU: a node of 8 cores and 2 GPUs holds one replica asking 6 cores, not two; the
/// 2-core workload still fits beside it.
#[test]
fn cpu_stops_a_replica() {
    let f = tiny(1, 2);
    let d = demand(
        &f,
        "
tenants: [{name: t, isolation: dedicated-gpu}]
weights: {cost_per_usd: 0}
workloads:
  - {name: heavy, tenant: t, kind: inference, replicas: 2, size: {gpus: 1}, cpu_millicores: 6000}
  - {name: light, tenant: t, kind: inference, size: {gpus: 1}, cpu_millicores: 2000, memory_mib: 65536}
",
    );
    let (g, h) = both(&f, &d);
    assert_eq!(admitted(&g), ["light"]);
    assert_eq!(admitted(&h), ["light"]);
    assert!(
        reason(&g, "heavy").contains("6000 millicores of CPU"),
        "{g:#}"
    );
    // On two nodes the replicas spread and both run, the light one beside one of them.
    let f2 = tiny(2, 2);
    let d2 = demand(
        &f2,
        "
tenants: [{name: t, isolation: dedicated-gpu}]
weights: {cost_per_usd: 0}
workloads:
  - {name: heavy, tenant: t, kind: inference, replicas: 2, size: {gpus: 1}, cpu_millicores: 6000}
  - {name: light, tenant: t, kind: inference, size: {gpus: 1}, cpu_millicores: 2000}
",
    );
    let (g, h) = both(&f2, &d2);
    assert_eq!(admitted(&g), ["heavy", "light"]);
    assert_eq!(admitted(&h), ["heavy", "light"]);
}

/// Host memory: 64 GiB per node; a replica asking 40 GiB leaves room for no second one.
#[test]
fn memory_stops_a_replica() {
    let f = tiny(1, 2);
    let d = demand(
        &f,
        "
tenants: [{name: t, isolation: dedicated-gpu}]
workloads:
  - {name: big, tenant: t, kind: inference, replicas: 2, size: {gpus: 1}, memory_mib: 40960}
",
    );
    let (g, h) = both(&f, &d);
    assert!(admitted(&g).is_empty() && admitted(&h).is_empty());
    assert!(reason(&g, "big").contains("40960 MiB of memory"), "{g:#}");
}

/// The verifier checks host resources on its own: a plan with two 6-core replicas on an
/// 8-core node is flagged.
#[test]
fn verify_flags_overbooked_cpu() {
    let f = tiny(1, 2);
    let d = demand(
        &f,
        "
tenants: [{name: t, isolation: dedicated-gpu}]
workloads:
  - {name: heavy, tenant: t, kind: inference, replicas: 2, size: {gpus: 1}, cpu_millicores: 6000}
",
    );
    let plan: PlanDocument = serde_json::from_value(serde_json::json!({
        "workloads": [{"name": "heavy", "admitted": true,
                       "assignments": [{"gpu": "n1/0"}, {"gpu": "n1/1"}]}],
        "gpus": []
    }))
    .unwrap();
    let v = plan::verify::verify(&f, &d, &plan);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].code, "FP863");
    assert!(v[0].message.contains("12000 millicores"), "{v:?}");
}

/// A template states CPU once: cores or millicores, not both.
#[test]
fn template_cpu_given_twice_is_rejected() {
    let loaded = fabplan::load::load_fabric_str(
        "t.yaml",
        "
fabric: t
node_templates:
  - {id: box, gpu: h100-80gb, gpus: 1, power_kw: 2, cpu_cores: 8, cpu_millicores: 8000}
racks:
  - {id: r1, power_kw: 40, cooling: air, nodes: [{template: box, ids: \"n1\"}]}
",
    );
    assert!(loaded.fabric.is_none());
    assert!(loaded
        .diagnostics
        .iter()
        .any(|d| d.code == "FP009" && d.message.contains("both `cpu_cores` and `cpu_millicores`")));
}
