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

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

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

/// The gang levels, in a fixed order (index into a free GPU's class key).
const GANG_LEVELS: [&str; 4] = ["nvlink-domain", "leaf-group", "scalable-unit", "fabric"];

/// The domain of a gang level holding a node: all nodes of one domain have the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum DomainKey {
    Nvlink(DomainId),
    Leaf(usize),
    Su(Option<SuId>),
    Fabric,
    /// A node outside any domain of the level is a domain of its own.
    Node(NodeId),
}

/// Everything a free whole GPU's usability depends on: its node's model, GPUs per node,
/// free GPUs, tenants (as an interned class) and, when the node is wholly free, its domain
/// at each gang level some pending gang asks for (a gang wider than a node needs wholly free
/// nodes there).
type FreeKey<'a> = (&'a str, u32, u32, usize, [Option<DomainKey>; 4]);

/// The usability predicates of one report, shared by every idle GPU.
struct Judge<'a> {
    f: &'a Fabric,
    lv: &'a Levels,
    u: &'a Usage,
    d: &'a Demand,
    /// Tenants on each GPU and each node.
    gpu_tenants: Vec<BTreeSet<&'a str>>,
    node_tenants: Vec<BTreeSet<&'a str>>,
    free_on_node: Vec<u32>,
    /// Nodes of each scalable unit, ascending.
    su_nodes: HashMap<Option<SuId>, Vec<NodeId>>,
    /// Wholly free GPUs of a model in a domain whose nodes admit a tenant, by
    /// (tenant, model, domain): computed once, not once per node of the domain.
    whole_free: RefCell<HashMap<(crate::model::TenantId, &'a str, DomainKey), u32>>,
}

impl<'a> Judge<'a> {
    fn new(f: &'a Fabric, lv: &'a Levels, u: &'a Usage, d: &'a Demand) -> Self {
        let mut gpu_tenants: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); f.gpus.len()];
        let mut node_tenants: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); f.nodes.len()];
        for w in u.workloads.iter().filter(|w| w.admitted) {
            for g in &w.gpus {
                gpu_tenants[g.index()].insert(&w.tenant);
                node_tenants[f.gpus[g.index()].node.index()].insert(&w.tenant);
            }
        }
        let free_on_node = (0..f.nodes.len())
            .map(|n| {
                f.node_gpus(NodeId::from_index(n))
                    .filter(|g| u.used[g.index()] <= 1e-9)
                    .count() as u32
            })
            .collect();
        let mut su_nodes: HashMap<Option<SuId>, Vec<NodeId>> = HashMap::new();
        for (i, n) in f.nodes.iter().enumerate() {
            su_nodes
                .entry(n.su)
                .or_default()
                .push(NodeId::from_index(i));
        }
        Judge {
            f,
            lv,
            u,
            d,
            gpu_tenants,
            node_tenants,
            free_on_node,
            su_nodes,
            whole_free: RefCell::new(HashMap::new()),
        }
    }

    fn tenant(&self, name: &str) -> Option<&'a crate::model::demand::Tenant> {
        self.d.tenants.iter().find(|t| t.name == name)
    }

    fn isolation(&self, name: &str) -> Isolation {
        self.tenant(name)
            .map(|t| t.isolation.clone())
            .unwrap_or(Isolation::DedicatedGpu)
    }

    fn shares_with(&self, t: &'a crate::model::demand::Tenant) -> Vec<&'a str> {
        t.share_with
            .iter()
            .map(|&i| self.d.tenant(i).name.as_str())
            .collect()
    }

    fn node_ok(&self, p: &Pending, n: NodeId) -> bool {
        let others = self.node_tenants[n.index()]
            .iter()
            .filter(|t| **t != p.tenant);
        if p.isolation == Isolation::DedicatedNode {
            others.count() == 0
        } else {
            others
                .into_iter()
                .all(|t| self.isolation(t) != Isolation::DedicatedNode)
        }
    }

    fn node_empty(&self, n: NodeId) -> bool {
        self.free_on_node[n.index()] == self.f.template_of(n).gpus
    }

    fn domain_key(&self, level: &str, n: NodeId) -> DomainKey {
        match level {
            "nvlink-domain" => self.f.nodes[n.index()]
                .nvlink_domain
                .map_or(DomainKey::Node(n), DomainKey::Nvlink),
            "leaf-group" => self
                .lv
                .node_group
                .get(n.index())
                .copied()
                .flatten()
                .map_or(DomainKey::Node(n), DomainKey::Leaf),
            "scalable-unit" => DomainKey::Su(self.f.nodes[n.index()].su),
            _ => DomainKey::Fabric,
        }
    }

    fn domain_nodes(&self, key: DomainKey) -> Vec<NodeId> {
        match key {
            DomainKey::Nvlink(dm) => self.f.nvlink_domains[dm.index()].nodes.clone(),
            DomainKey::Leaf(gi) => self.lv.tiers[0][gi].nodes.clone(),
            DomainKey::Su(su) => self.su_nodes.get(&su).cloned().unwrap_or_default(),
            DomainKey::Fabric => (0..self.f.nodes.len()).map(NodeId::from_index).collect(),
            DomainKey::Node(n) => vec![n],
        }
    }

    fn whole_gpu_usable(&self, p: &Pending, g: usize) -> bool {
        let f = self.f;
        let n = f.gpus[g].node;
        let model = node_model(f, n);
        let Some(unit) = p.w.units.get(model) else {
            return false;
        };
        if !self.node_ok(p, n) {
            return false;
        }
        let per_node = f.template_of(n).gpus;
        let free_here = self.free_on_node[n.index()];
        match (unit, p.gang_level) {
            (Unit::Gpus(k), None) => free_here >= *k,
            (Unit::Gpus(k), Some(_)) if *k <= per_node => free_here >= *k,
            (Unit::Gpus(k), Some(level)) => {
                if k % per_node != 0 || !self.node_empty(n) {
                    return false;
                }
                let key = (p.w.tenant, model, self.domain_key(level, n));
                if let Some(whole_free) = self.whole_free.borrow().get(&key) {
                    return *whole_free >= *k;
                }
                let whole_free: u32 = self
                    .domain_nodes(key.2)
                    .into_iter()
                    .filter(|m| {
                        node_model(f, *m) == model && self.node_empty(*m) && self.node_ok(p, *m)
                    })
                    .map(|m| f.template_of(m).gpus)
                    .sum();
                self.whole_free.borrow_mut().insert(key, whole_free);
                whole_free >= *k
            }
            (Unit::Mig(_), _) => f.gpu_model(model).and_then(|m| m.mig.as_ref()).is_some(),
            (Unit::Share { .. }, _) => true,
        }
    }

    fn mig_usable(&self, p: &Pending, g: usize) -> bool {
        let f = self.f;
        let n = f.gpus[g].node;
        let model = node_model(f, n);
        let (Some(Unit::Mig(want)), Some(table)) = (
            p.w.units.get(model),
            f.gpu_model(model).and_then(|m| m.mig.as_ref()),
        ) else {
            return false;
        };
        let co_tenant = |iso: &Isolation| *iso == Isolation::Mig { co_tenancy: true };
        let tenants_ok = self.gpu_tenants[g]
            .iter()
            .all(|t| *t == p.tenant || (co_tenant(&p.isolation) && co_tenant(&self.isolation(t))));
        if !tenants_ok || !self.node_ok(p, n) {
            return false;
        }
        let Some(held): Option<Vec<Placement>> = self.u.assigned_instances[g]
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
    }

    fn share_usable(&self, p: &Pending, g: usize) -> bool {
        let n = self.f.gpus[g].node;
        let Some(Unit::Share { milli: e, .. }) = p.w.units.get(node_model(self.f, n)) else {
            return false;
        };
        let may_share = |t: &str| {
            t == p.tenant
                || (p.share_with.contains(&t)
                    && self
                        .tenant(t)
                        .is_some_and(|x| self.shares_with(x).contains(&p.tenant)))
        };
        *e as f64 / 1000.0 <= 1.0 - self.u.used[g] + 1e-9
            && self.gpu_tenants[g].iter().all(|t| may_share(t))
            && self.node_ok(p, n)
    }
}

/// A MIG GPU's class for the memo: model, GPU and node tenants, held instances.
type MigClass<'a> = (&'a str, &'a BTreeSet<&'a str>, usize, &'a [(String, u8)]);

/// Stranded capacity against the pending workloads of `u` (`pending` names them; names not in
/// `d` are skipped, the caller notes them).
///
/// Whether some pending workload can use an idle GPU depends only on a few facts about the
/// GPU (its class: model, its node's and its own tenants, free GPUs on the node, held MIG
/// instances, used share) and on the workload's needs (units, tenant, gang level). So the
/// pending workloads are deduplicated by need, each class is judged once against them, and
/// every GPU looks its class up: linear in GPUs plus classes x distinct needs, where judging
/// every GPU against every pending workload was GPUs x pending (1M GPUs / 40,640 pending:
/// 142.6 s CPU, BENCHMARKS.md "Scaling"). The figures are the same as that definition's,
/// summed in the same GPU order (`stranded_reference` in the tests checks it).
pub fn stranded(f: &Fabric, lv: &Levels, u: &Usage, d: &Demand, pending: &[&str]) -> Stranded {
    let j = Judge::new(f, lv, u, d);
    // The first workload of each name, as a search by name finds it.
    let mut by_name: HashMap<&str, &Workload> = HashMap::new();
    for w in &d.workloads {
        by_name.entry(w.name.as_str()).or_insert(w);
    }
    let pend: Vec<Pending> = pending
        .iter()
        .filter_map(|n| by_name.get(n).copied())
        .map(|w| {
            let t = d.tenant(w.tenant);
            Pending {
                w,
                tenant: t.name.as_str(),
                isolation: t.isolation.clone(),
                share_with: j.shares_with(t),
                gang_level: w.gang.as_ref().map(|g| level_name(g.required)),
            }
        })
        .collect();
    // One pending workload per distinct need: the predicates read nothing else of it.
    let mut needs = BTreeSet::new();
    let reps: Vec<&Pending> = pend
        .iter()
        .filter(|p| needs.insert((p.w.tenant, &p.w.units, p.gang_level)))
        .collect();
    let gang_levels: [bool; 4] = GANG_LEVELS.map(|l| reps.iter().any(|p| p.gang_level == Some(l)));
    // Nodes with the same tenants share a class id.
    let mut tenant_classes: HashMap<&BTreeSet<&str>, usize> = HashMap::new();
    let node_class: Vec<usize> = j
        .node_tenants
        .iter()
        .map(|t| {
            let next = tenant_classes.len();
            *tenant_classes.entry(t).or_insert(next)
        })
        .collect();
    let mut free_memo: HashMap<FreeKey, bool> = HashMap::new();
    let mut mig_memo: HashMap<MigClass, bool> = HashMap::new();
    let mut share_memo: HashMap<(&str, u64, &BTreeSet<&str>, usize), bool> = HashMap::new();

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
        let n = f.gpus[g].node;
        let model = node_model(f, n);
        if u.used[g] <= 1e-9 {
            let mut domains = [None; 4];
            if j.node_empty(n) {
                for (i, level) in GANG_LEVELS.iter().enumerate() {
                    if gang_levels[i] {
                        domains[i] = Some(j.domain_key(level, n));
                    }
                }
            }
            let key = (
                model,
                f.template_of(n).gpus,
                j.free_on_node[n.index()],
                node_class[n.index()],
                domains,
            );
            let ok = *free_memo
                .entry(key)
                .or_insert_with(|| reps.iter().any(|p| j.whole_gpu_usable(p, g)));
            if ok {
                usable += 1.0;
            } else {
                out.gpus += 1;
                total += 1.0;
            }
        } else if !u.assigned_instances[g].is_empty() {
            let key = (
                model,
                &j.gpu_tenants[g],
                node_class[n.index()],
                u.assigned_instances[g].as_slice(),
            );
            let ok = *mig_memo
                .entry(key)
                .or_insert_with(|| reps.iter().any(|p| j.mig_usable(p, g)));
            if ok {
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
            let key = (
                model,
                u.used[g].to_bits(),
                &j.gpu_tenants[g],
                node_class[n.index()],
            );
            let ok = *share_memo
                .entry(key)
                .or_insert_with(|| reps.iter().any(|p| j.share_usable(p, g)));
            if ok {
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

#[cfg(test)]
mod tests {
    use super::*;

    struct RefPending<'a> {
        w: &'a Workload,
        tenant: &'a str,
        isolation: Isolation,
        share_with: Vec<&'a str>,
        gang_level: Option<&'static str>,
    }

    /// The definition before classes: every pending workload against every idle GPU.
    fn stranded_reference(
        f: &Fabric,
        lv: &Levels,
        u: &Usage,
        d: &Demand,
        pending: &[&str],
    ) -> Stranded {
        let tenant = |name: &str| d.tenants.iter().find(|t| t.name == name);
        let isolation = |name: &str| {
            tenant(name)
                .map(|t| t.isolation.clone())
                .unwrap_or(Isolation::DedicatedGpu)
        };
        let shares_with = |t: &crate::model::demand::Tenant| -> Vec<&str> {
            t.share_with
                .iter()
                .map(|&i| d.tenant(i).name.as_str())
                .collect()
        };
        let pend: Vec<RefPending> = pending
            .iter()
            .filter_map(|n| d.workloads.iter().find(|w| w.name == *n))
            .map(|w| {
                let t = d.tenant(w.tenant);
                RefPending {
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
        let node_ok = |p: &RefPending, n: NodeId| -> bool {
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
        let whole_gpu_usable = |p: &RefPending, g: usize| -> bool {
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
        let mig_usable = |p: &RefPending, g: usize| -> bool {
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
        let share_usable = |p: &RefPending, g: usize| -> bool {
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

    use crate::plan::gen::Rng;

    /// A random use of `f` by `d`'s workloads: each GPU free, whole, holding random MIG
    /// instances (valid or not) or a time-sliced share, with random tenants on it; nodes are
    /// often left wholly free so that gangs wider than a node are judged.
    fn random_usage(f: &Fabric, d: &Demand, rng: &mut Rng) -> Usage {
        let mut used = vec![0.0; f.gpus.len()];
        let mut assigned_instances = vec![Vec::new(); f.gpus.len()];
        let mut time_sliced = vec![false; f.gpus.len()];
        let mut gpus_of: Vec<Vec<GpuId>> = vec![Vec::new(); d.tenants.len()];
        for n in 0..f.nodes.len() {
            let node = NodeId::from_index(n);
            let busy_node = rng.index(3) != 0;
            for g in f.node_gpus(node) {
                if !busy_node || rng.index(3) == 0 {
                    continue;
                }
                let i = g.index();
                match rng.index(4) {
                    0 => used[i] = 1.0,
                    1 => {
                        let table = f
                            .gpu_model(node_model(f, node))
                            .and_then(|m| m.mig.as_ref());
                        if let Some(t) = table {
                            for _ in 0..1 + rng.index(3) {
                                let pr = &t.profiles[rng.index(t.profiles.len())];
                                let start = pr.starts[rng.index(pr.starts.len())];
                                assigned_instances[i].push((pr.name.clone(), start));
                            }
                            used[i] = (1 + rng.index(6)) as f64 / 7.0;
                        } else {
                            used[i] = 1.0;
                        }
                    }
                    _ => {
                        time_sliced[i] = true;
                        used[i] = [0.125, 0.25, 0.5, 0.75, 0.9, 1.0][rng.index(6)];
                    }
                }
                for _ in 0..1 + rng.index(2) {
                    gpus_of[rng.index(d.tenants.len())].push(g);
                }
            }
        }
        let workloads = gpus_of
            .into_iter()
            .enumerate()
            .map(|(t, gpus)| super::super::usage::WorkloadUsage {
                name: format!("held-{t}"),
                tenant: d.tenants[t].name.clone(),
                kind: "inference".to_string(),
                admitted: true,
                gpu_equivalents: Default::default(),
                gpus,
                hosts: Vec::new(),
            })
            .collect();
        Usage {
            used,
            workloads,
            mig_layouts: Vec::new(),
            assigned_instances,
            time_sliced,
        }
    }

    /// The class-based pass gives exactly the figures of the definition (every pending
    /// workload against every idle GPU), on random uses of shipped fabrics and demands.
    #[test]
    fn classes_match_the_reference_on_random_cases() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let cases = [
            (
                "fabrics/dgx-h100-su1-ib.yaml",
                "tests/fixtures/report/mixed-tenants-h100.yaml",
            ),
            (
                "fabrics/lab-small.yaml",
                "tests/fixtures/report/lab-small-demand.yaml",
            ),
            (
                "fabrics/gb200-nvl72-su.yaml",
                "examples/nvl72-training.yaml",
            ),
            (
                "fabrics/hgx-h200-roce-1k.yaml",
                "examples/mig-inference-h200.yaml",
            ),
        ];
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
        let mut judged = 0;
        // Over all cases, each kind of piece is found both stranded and usable somewhere.
        let (mut whole, mut mig, mut share, mut usable) = (0, 0, 0.0, 0.0);
        for (fabric, demand) in cases {
            let f = crate::load::load_fabric_file(&root.join(fabric))
                .fabric
                .expect(fabric);
            let text = std::fs::read_to_string(root.join(demand)).unwrap();
            let d = crate::load::demand::demand_from_str(demand, &text, &f)
                .unwrap_or_else(|e| panic!("{demand}: {e:?}"));
            let lv = crate::fabric::levels::levels(&f);
            for _ in 0..12 {
                let u = random_usage(&f, &d, &mut rng);
                let mut pending: Vec<&str> = d
                    .workloads
                    .iter()
                    .filter(|_| rng.index(3) != 0)
                    .map(|w| w.name.as_str())
                    .collect();
                pending.push("not-in-the-demand");
                let want = stranded_reference(&f, &lv, &u, &d, &pending);
                let got = stranded(&f, &lv, &u, &d, &pending);
                assert_eq!(got, want, "{fabric} / {demand}");
                judged += 1;
                whole += want.gpus;
                mig += want.mig_compute_slices;
                share += want.shared_gpu_equivalents;
                usable += want.usable_gpu_equivalents;
            }
        }
        assert_eq!(judged, 48);
        assert!(whole > 0 && mig > 0 && share > 0.0 && usable > 0.0);
    }
}
