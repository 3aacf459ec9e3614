//! Host-only replicas (`size: {gpus: 0}`) under `dedicated-node` isolation, hand-computed:
//! a host-only replica is its tenant's work on its node, so a dedicated tenant's replica
//! makes the node that tenant's and a dedicated tenant's GPU work never lands beside another
//! tenant's host-only replica. Both solvers, each plan verified (and checked with
//! `plan::verify_host`, which `verify` calls for FP860).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::planning::{admitted, demand, opts};
use fabplan::model::demand::Demand;
use fabplan::model::{Fabric, NodeId, TenantId};
use fabplan::plan::{self, verify_host, SolverChoice};
use fabplan::schema::plan::PlanDocument;
use serde_json::Value;

/// `nodes` nodes of 8 H100s each, 8 cores and 64 GiB of host memory per node.
fn fabric(nodes: u32) -> Fabric {
    let text = format!(
        "
fabric: hosts
node_templates:
  - {{id: box, gpu: h100-80gb, gpus: 8, power_kw: 10, cpu_cores: 8, memory_gib: 64}}
racks:
  - {{id: r1, power_kw: 80, cooling: air, nodes: [{{template: box, ids: \"n[1-{nodes}]\"}}]}}
"
    );
    let loaded = fabplan::load::load_fabric_str("hosts.yaml", &text);
    loaded
        .fabric
        .unwrap_or_else(|| panic!("fabric loads: {:?}", loaded.diagnostics))
}

/// Tenants of each node in `doc`: GPU assignments and host-only replicas alike.
fn node_tenants(
    f: &Fabric,
    d: &Demand,
    doc: &PlanDocument,
) -> BTreeMap<NodeId, BTreeSet<TenantId>> {
    let node_by_name: BTreeMap<&str, NodeId> = f
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), NodeId::from_index(i)))
        .collect();
    let mut out: BTreeMap<NodeId, BTreeSet<TenantId>> = BTreeMap::new();
    for pw in doc.workloads.iter().filter(|w| w.admitted) {
        let Some(wl) = d.workloads.iter().find(|w| w.name == pw.name.value) else {
            continue;
        };
        for a in &pw.assignments {
            let node = a.gpu.value.split('/').next().unwrap();
            out.entry(node_by_name[node]).or_default().insert(wl.tenant);
        }
    }
    verify_host::add_host_tenants(d, doc, &node_by_name, &mut out);
    out
}

/// Plans with both solvers; each plan verifies clean and keeps dedicated nodes whole.
fn both(f: &Fabric, d: &Demand) -> [Value; 2] {
    [SolverChoice::Greedy, SolverChoice::Highs].map(|s| {
        let (_, doc) = plan::plan_document(f, d, None, &opts(s));
        let v = plan::verify::verify(f, d, &doc);
        assert!(v.is_empty(), "{s:?}: {v:?}\n{doc:?}");
        let shared = verify_host::dedicated_conflicts(d, &node_tenants(f, d, &doc));
        assert!(
            shared.is_empty(),
            "{s:?}: dedicated nodes shared: {shared:?}\n{doc:?}"
        );
        serde_json::to_value(&doc).expect("plan document as JSON")
    })
}

fn workload<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` in {doc:#}"))
}

/// Nodes of a workload's GPUs, or of its host-only replicas.
fn nodes_of(doc: &Value, name: &str) -> Vec<String> {
    let w = workload(doc, name);
    let mut n: Vec<String> = match w["hosts"].as_array() {
        Some(h) => h
            .iter()
            .map(|h| h["node"].as_str().unwrap().into())
            .collect(),
        None => w["assignments"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|a| a["gpu"].as_str().unwrap().split('/').next().unwrap().into())
                    .collect()
            })
            .unwrap_or_default(),
    };
    n.dedup();
    n
}

/// Two 8-GPU nodes. A dedicated tenant's 1-core host-only pod goes first, to `n1` (the
/// tie on CPU per GPU goes to the lowest node), and makes `n1` its tenant's: of tenant `o`'s
/// two whole-node workloads only the higher-priority one fits, on `n2`. Ignoring the rule,
/// both would run.
#[test]
fn dedicated_host_only_replica_owns_its_node() {
    let f = fabric(2);
    let d = demand(
        &f,
        "
tenants: [{name: d, isolation: dedicated-node}, {name: o, isolation: dedicated-gpu}]
weights: {cost_per_usd: 0}
workloads:
  - {name: pod, tenant: d, kind: inference, size: {gpus: 0}, cpu_millicores: 1000}
  - {name: o1, tenant: o, kind: inference, priority: 2, size: {gpus: 8}}
  - {name: o2, tenant: o, kind: inference, priority: 1, size: {gpus: 8}}
",
    );
    for doc in both(&f, &d) {
        assert_eq!(admitted(&doc), ["o1", "pod"], "{doc:#}");
        assert_eq!(nodes_of(&doc, "pod"), ["n1"]);
        assert_eq!(nodes_of(&doc, "o1"), ["n2"]);
    }
}

/// The converse: tenant `o`'s host-only pod on `n1` closes `n1` to the dedicated tenant's
/// GPU work, so one of its two whole-node workloads runs, on `n2`.
#[test]
fn dedicated_gpu_work_avoids_other_tenants_host_only_pods() {
    let f = fabric(2);
    let d = demand(
        &f,
        "
tenants: [{name: d, isolation: dedicated-node}, {name: o, isolation: dedicated-gpu}]
weights: {cost_per_usd: 0}
workloads:
  - {name: pod, tenant: o, kind: inference, size: {gpus: 0}, cpu_millicores: 1000}
  - {name: d1, tenant: d, kind: inference, priority: 2, size: {gpus: 8}}
  - {name: d2, tenant: d, kind: inference, priority: 1, size: {gpus: 8}}
",
    );
    for doc in both(&f, &d) {
        assert_eq!(admitted(&doc), ["d1", "pod"], "{doc:#}");
        assert_eq!(nodes_of(&doc, "pod"), ["n1"]);
        assert_eq!(nodes_of(&doc, "d1"), ["n2"]);
    }
}

/// A dedicated tenant's own host-only pod does not close its node to its own GPU work: both
/// of its whole-node workloads run, one of them beside its pod.
#[test]
fn dedicated_tenant_shares_its_node_with_its_own_pods() {
    let f = fabric(2);
    let d = demand(
        &f,
        "
tenants: [{name: d, isolation: dedicated-node}]
weights: {cost_per_usd: 0}
workloads:
  - {name: pod, tenant: d, kind: inference, size: {gpus: 0}, cpu_millicores: 1000}
  - {name: d1, tenant: d, kind: inference, size: {gpus: 8}}
  - {name: d2, tenant: d, kind: inference, size: {gpus: 8}}
",
    );
    for doc in both(&f, &d) {
        assert_eq!(admitted(&doc), ["d1", "d2", "pod"], "{doc:#}");
    }
}

/// Host-only pods among themselves. Tenant `d` (dedicated) asks two 2-core replicas and goes
/// first (larger); the first lands on `n1`, the second on `n1` too (a dedicated tenant fills
/// its own nodes first; by CPU left per GPU alone it would take `n2`), so tenant `s`'s pod
/// gets `n2`. On one node, `s`'s pod has nowhere to go and says why.
#[test]
fn dedicated_host_only_pods_fill_their_own_node_first() {
    let text = "
tenants: [{name: d, isolation: dedicated-node}, {name: s, isolation: shared}]
workloads:
  - {name: dpods, tenant: d, kind: inference, replicas: 2, size: {gpus: 0}, cpu_millicores: 2000}
  - {name: spod, tenant: s, kind: inference, size: {gpus: 0}, cpu_millicores: 1000}
";
    let f = fabric(2);
    let d = demand(&f, text);
    for doc in both(&f, &d) {
        assert_eq!(admitted(&doc), ["dpods", "spod"], "{doc:#}");
        assert_eq!(nodes_of(&doc, "dpods"), ["n1"]);
        assert_eq!(nodes_of(&doc, "spod"), ["n2"]);
    }
    let f = fabric(1);
    let d = demand(&f, text);
    for doc in both(&f, &d) {
        assert_eq!(admitted(&doc), ["dpods"], "{doc:#}");
        let why = workload(&doc, "spod")["reason"].as_str().unwrap_or("");
        assert!(why.contains("no node open to tenant `s`"), "{why}");
    }
}

/// A hand-written plan with tenant `o`'s host-only pod on the node of the dedicated tenant's
/// GPU work: `verify_host` finds the node, and `verify` reports it as FP860.
#[test]
fn verify_host_flags_a_pod_on_a_dedicated_node() {
    let f = fabric(1);
    let d = demand(
        &f,
        "
tenants: [{name: d, isolation: dedicated-node}, {name: o, isolation: dedicated-gpu}]
workloads:
  - {name: pod, tenant: o, kind: inference, size: {gpus: 0}, cpu_millicores: 1000}
  - {name: d1, tenant: d, kind: inference, size: {gpus: 1}}
",
    );
    let doc: PlanDocument = serde_json::from_value(serde_json::json!({
        "workloads": [
            {"name": "pod", "admitted": true,
             "hosts": [{"node": "n1", "cpu_millicores": 1000, "memory_mib": 0}]},
            {"name": "d1", "admitted": true, "assignments": [{"gpu": "n1/0"}]}
        ],
        "gpus": []
    }))
    .unwrap();
    assert_eq!(
        verify_host::dedicated_conflicts(&d, &node_tenants(&f, &d, &doc)),
        [NodeId(0)]
    );
    let codes: Vec<&str> = plan::verify::verify(&f, &d, &doc)
        .iter()
        .map(|x| x.code)
        .collect();
    assert_eq!(codes, ["FP860"]);
}

/// Host-only work goes first into the CPU the GPU work leaves (`plan::host_first`). `big` has
/// 8 H100s and 16 cores, `small` one A100 and 16 cores. By CPU per GPU alone the 8-core
/// host-only pod would go to `small` (16 - 8 cores over 1 GPU beats 8 over 8), leaving it 8
/// cores, and the A100 workload, which asks for 12, would not run. A greedy plan of the GPU
/// work alone puts it on `small`; the pod then goes where it fits beside that: `big`. Both
/// run, with either solver.
#[test]
fn host_only_work_goes_where_the_gpu_work_leaves_cpu() {
    let text = "
fabric: spare
node_templates:
  - {id: big, gpu: h100-80gb, gpus: 8, power_kw: 10, cpu_cores: 16, memory_gib: 64}
  - {id: small, gpu: a100-80gb, gpus: 1, power_kw: 2, cpu_cores: 16, memory_gib: 64}
racks:
  - {id: r1, power_kw: 80, cooling: air, nodes: [{template: big, ids: \"big\"}, {template: small, ids: \"small\"}]}
";
    let loaded = fabplan::load::load_fabric_str("spare.yaml", text);
    let f = loaded
        .fabric
        .unwrap_or_else(|| panic!("fabric loads: {:?}", loaded.diagnostics));
    let d = demand(
        &f,
        "
tenants: [{name: t, isolation: shared}]
weights: {cost_per_usd: 0}
workloads:
  - {name: pod, tenant: t, kind: inference, size: {gpus: 0}, cpu_millicores: 8000}
  - {name: a100-job, tenant: t, kind: inference, gpu_models: [a100-80gb], size: {gpus: 1}, cpu_millicores: 12000}
",
    );
    for doc in both(&f, &d) {
        assert_eq!(admitted(&doc), ["a100-job", "pod"], "{doc:#}");
        assert_eq!(nodes_of(&doc, "pod"), ["big"]);
        assert_eq!(nodes_of(&doc, "a100-job"), ["small"]);
    }
}
