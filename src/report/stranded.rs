//! Stranded capacity: free capacity that no pending workload (one the plan did not admit)
//! could use, given the unit it asks for and its tenant's isolation.
//!
//! Free capacity comes in three kinds, each judged on its own GPU:
//! * a free whole GPU (the plan puts nothing on it);
//! * the idle compute slices of a GPU that holds MIG instances;
//! * the idle share of a time-sliced GPU.
//!
//! A pending workload can use a piece when (docs/report.md, "Stranded capacity"):
//! * the GPU is of a model the workload is sized for, and the node admits its tenant: a
//!   `dedicated-node` tenant only takes nodes no other tenant uses, and nobody else takes a
//!   node a `dedicated-node` tenant uses;
//! * free whole GPU: `gpus: k` replicas need k free GPUs on the node; a training gang of n
//!   GPUs needs n free GPUs on one node when n fits a node, else n / GPUs-per-node wholly free
//!   nodes inside one domain of its required level; a MIG or time-sliced unit fits any free
//!   GPU (of a MIG-capable model for MIG);
//! * MIG GPU: the workload asks for a MIG profile that the MIG engine can place next to the
//!   instances workloads hold (unheld instances can be re-created), and every tenant on the
//!   GPU is its own, or all are `mig` tenants with `co_tenancy`;
//! * time-sliced GPU: the workload's share fits the idle share, and its tenant may share with
//!   every tenant on the GPU (the same tenant, or both list each other in `share_with`).
//!
//! A piece no pending workload can use is stranded, whole: the rule does not pack several
//! pending workloads against each other.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{level_name, node_model, r3};
use crate::fabric::levels::Levels;
use crate::mig::{check_layout, Placement, Rules};
use crate::model::demand::{Demand, Isolation, Unit, Workload};
use crate::model::usage::Usage;
use crate::model::*;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stranded {
    /// Pending workloads judged (not admitted by the plan, found in the demand).
    pub pending_workloads: Vec<String>,
    /// Free whole GPUs no pending workload can use.
    pub gpus: u32,
    /// Idle MIG compute slices (on GPUs holding MIG instances) no pending workload can use.
    pub mig_compute_slices: u32,
    /// Idle time-sliced shares no pending workload can use, in GPU-equivalents.
    pub shared_gpu_equivalents: f64,
    /// All of the above in GPU-equivalents (a MIG slice is 1 / the GPU's compute slices).
    pub gpu_equivalents: f64,
    /// Free capacity some pending workload can use, in GPU-equivalents.
    pub usable_gpu_equivalents: f64,
}

/// What one pending workload needs, resolved against the demand's tenants.
struct Pending<'a> {
    w: &'a Workload,
    /// The tenant's name.
    tenant: &'a str,
    isolation: Isolation,
    /// Tenants it may time-slice a GPU with (both must list each other), by name.
    share_with: Vec<&'a str>,
    /// A gang's required level as a capacity level name; `None` for replicas.
    gang_level: Option<&'static str>,
}

/// Stranded capacity against the pending workloads of `u` (`pending` names them; names not in
/// `d` are skipped, the caller notes them).
pub fn stranded(f: &Fabric, lv: &Levels, u: &Usage, d: &Demand, pending: &[&str]) -> Stranded {
    let tenant = |name: &str| d.tenants.iter().find(|t| t.name == name);
    let isolation = |name: &str| {
        tenant(name)
            .map(|t| t.isolation.clone())
            .unwrap_or(Isolation::DedicatedGpu)
    };
    let shares_with = |t: &crate::model::demand::Tenant| -> Vec<&str> {
        t.share_with
            .iter()
            .map(|i| d.tenants[*i].name.as_str())
            .collect()
    };
    let pend: Vec<Pending> = pending
        .iter()
        .filter_map(|n| d.workloads.iter().find(|w| w.name == *n))
        .map(|w| {
            let t = &d.tenants[w.tenant];
            Pending {
                w,
                tenant: t.name.as_str(),
                isolation: t.isolation.clone(),
                share_with: shares_with(t),
                gang_level: w.gang.as_ref().map(|g| level_name(g.required)),
            }
        })
        .collect();
    // Tenants on each GPU and each node.
    let mut gpu_tenants: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); f.gpus.len()];
    let mut node_tenants: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); f.nodes.len()];
    for w in u.workloads.iter().filter(|w| w.admitted) {
        for g in &w.gpus {
            gpu_tenants[g.index()].insert(&w.tenant);
            node_tenants[f.gpus[g.index()].node.index()].insert(&w.tenant);
        }
    }
    let node_ok = |p: &Pending, n: NodeId| -> bool {
        let others = node_tenants[n.index()].iter().filter(|t| **t != p.tenant);
        if p.isolation == Isolation::DedicatedNode {
            others.count() == 0
        } else {
            others
                .into_iter()
                .all(|t| isolation(t) != Isolation::DedicatedNode)
        }
    };
    let free = |g: usize| u.used[g] <= 1e-9;
    let free_on_node = |n: NodeId| f.node_gpus(n).filter(|g| free(g.index())).count() as u32;
    let node_empty = |n: NodeId| free_on_node(n) == f.template_of(n).gpus;
    // The domain of `level` holding node `n`, as its nodes.
    let domain = |level: &str, n: NodeId| -> Vec<NodeId> {
        let all = (0..f.nodes.len()).map(NodeId::from_index);
        match level {
            "nvlink-domain" => match f.nodes[n.index()].nvlink_domain {
                Some(dm) => f.nvlink_domains[dm.index()].nodes.clone(),
                None => vec![n],
            },
            "leaf-group" => match lv.node_group.get(n.index()).copied().flatten() {
                Some(gi) => lv.tiers[0][gi].nodes.clone(),
                None => vec![n],
            },
            "scalable-unit" => all
                .filter(|m| f.nodes[m.index()].su == f.nodes[n.index()].su)
                .collect(),
            _ => all.collect(),
        }
    };
    let whole_gpu_usable = |p: &Pending, g: usize| -> bool {
        let n = f.gpus[g].node;
        let model = node_model(f, n);
        let Some(unit) = p.w.units.get(model) else {
            return false;
        };
        if !node_ok(p, n) {
            return false;
        }
        let per_node = f.template_of(n).gpus;
        match (unit, p.gang_level) {
            (Unit::Gpus(k), None) => free_on_node(n) >= *k,
            (Unit::Gpus(k), Some(_)) if *k <= per_node => free_on_node(n) >= *k,
            (Unit::Gpus(k), Some(level)) => {
                if k % per_node != 0 || !node_empty(n) {
                    return false;
                }
                let whole_free: u32 = domain(level, n)
                    .into_iter()
                    .filter(|m| node_model(f, *m) == model && node_empty(*m) && node_ok(p, *m))
                    .map(|m| f.template_of(m).gpus)
                    .sum();
                whole_free >= *k
            }
            (Unit::Mig(_), _) => f.gpu_model(model).and_then(|m| m.mig.as_ref()).is_some(),
            (Unit::Share { .. }, _) => true,
        }
    };
    let mig_usable = |p: &Pending, g: usize| -> bool {
        let n = f.gpus[g].node;
        let model = node_model(f, n);
        let (Some(Unit::Mig(want)), Some(table)) = (
            p.w.units.get(model),
            f.gpu_model(model).and_then(|m| m.mig.as_ref()),
        ) else {
            return false;
        };
        let co_tenant = |iso: &Isolation| *iso == Isolation::Mig { co_tenancy: true };
        let tenants_ok = gpu_tenants[g]
            .iter()
            .all(|t| *t == p.tenant || (co_tenant(&p.isolation) && co_tenant(&isolation(t))));
        if !tenants_ok || !node_ok(p, n) {
            return false;
        }
        let Some(held): Option<Vec<Placement>> = u.assigned_instances[g]
            .iter()
            .map(|(name, start)| {
                table.profile_index(name).map(|profile| Placement {
                    profile,
                    start: *start,
                })
            })
            .collect()
        else {
            return false;
        };
        // The demand's profile index is into this model's table (`fabric_catalog`).
        let want = *want;
        table.profile(want).starts.iter().any(|&start| {
            let mut layout = held.clone();
            layout.push(Placement {
                profile: want,
                start,
            });
            check_layout(table, Rules::default(), &layout).is_ok()
        })
    };
    let share_usable = |p: &Pending, g: usize| -> bool {
        let n = f.gpus[g].node;
        let Some(Unit::Share { milli: e, .. }) = p.w.units.get(node_model(f, n)) else {
            return false;
        };
        let may_share = |t: &str| {
            t == p.tenant
                || (p.share_with.contains(&t)
                    && tenant(t).is_some_and(|x| shares_with(x).contains(&p.tenant)))
        };
        *e as f64 / 1000.0 <= 1.0 - u.used[g] + 1e-9
            && gpu_tenants[g].iter().all(|t| may_share(t))
            && node_ok(p, n)
    };
    let mut out = Stranded {
        pending_workloads: pend.iter().map(|p| p.w.name.clone()).collect(),
        gpus: 0,
        mig_compute_slices: 0,
        shared_gpu_equivalents: 0.0,
        gpu_equivalents: 0.0,
        usable_gpu_equivalents: 0.0,
    };
    let mut shared = 0.0;
    let mut total = 0.0;
    let mut usable = 0.0;
    for g in 0..f.gpus.len() {
        let idle = (1.0 - u.used[g]).max(0.0);
        if idle <= 1e-9 {
            continue;
        }
        let model = node_model(f, f.gpus[g].node);
        if free(g) {
            if pend.iter().any(|p| whole_gpu_usable(p, g)) {
                usable += 1.0;
            } else {
                out.gpus += 1;
                total += 1.0;
            }
        } else if !u.assigned_instances[g].is_empty() {
            if pend.iter().any(|p| mig_usable(p, g)) {
                usable += idle;
            } else {
                let slices = f
                    .gpu_model(model)
                    .and_then(|m| m.mig.as_ref())
                    .map(|t| t.compute_slices as f64)
                    .unwrap_or(7.0);
                out.mig_compute_slices += (idle * slices).round() as u32;
                total += idle;
            }
        } else if u.time_sliced[g] {
            if pend.iter().any(|p| share_usable(p, g)) {
                usable += idle;
            } else {
                shared += idle;
                total += idle;
            }
        }
    }
    out.shared_gpu_equivalents = r3(shared);
    out.gpu_equivalents = r3(total);
    out.usable_gpu_equivalents = r3(usable);
    out
}
