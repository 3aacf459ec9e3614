//! Dedicated-node isolation over host-only replicas, for `verify` (`plan/verify.rs`) to call:
//! a host-only replica is its tenant's work on its node like a GPU replica (`plan/host.rs`),
//! so a node that holds a `dedicated-node` tenant's work, host-only or on GPUs, holds no other
//! tenant's (FP860). No placement code: it reads the plan document and the demand only.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::demand::{Demand, Isolation};
use crate::model::{NodeId, TenantId};
use crate::schema::plan::PlanDocument;

/// Adds the tenant of every admitted host-only replica in `plan` to its node's tenants
/// (`node_by_name`: fabric node name to its id; unknown nodes are FP867's, skipped here).
pub fn add_host_tenants(
    demand: &Demand,
    plan: &PlanDocument,
    node_by_name: &BTreeMap<&str, NodeId>,
    node_tenants: &mut BTreeMap<NodeId, BTreeSet<TenantId>>,
) {
    let host_by_name: BTreeMap<&str, TenantId> = demand
        .host_workloads
        .iter()
        .map(|h| (h.name.as_str(), h.tenant))
        .collect();
    for pw in plan.workloads.iter().filter(|pw| pw.admitted) {
        let Some(&t) = host_by_name.get(pw.name.value.as_str()) else {
            continue;
        };
        for h in &pw.hosts {
            if let Some(&n) = node_by_name.get(h.node.value.as_str()) {
                node_tenants.entry(n).or_default().insert(t);
            }
        }
    }
}

/// Nodes (ascending) that hold a `dedicated-node` tenant and another tenant.
pub fn dedicated_conflicts(
    demand: &Demand,
    node_tenants: &BTreeMap<NodeId, BTreeSet<TenantId>>,
) -> Vec<NodeId> {
    node_tenants
        .iter()
        .filter(|(_, ts)| {
            ts.len() > 1
                && ts
                    .iter()
                    .any(|&t| demand.tenant(t).isolation == Isolation::DedicatedNode)
        })
        .map(|(&n, _)| n)
        .collect()
}
