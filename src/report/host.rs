//! Host CPU and memory a plan takes, per node and per tenant: host-only replicas as the
//! plan places them (`hosts:`, one entry per replica), and, with the demand (`--demand`),
//! the GPU workloads' `cpu_millicores`/`memory_mib` per replica (per GPU for a training
//! gang, docs/demand-format.md), which the plan document does not record: their replicas per
//! node are counted from the assignments as `verify` counts them for FP863.
//!
//! The cost ledger (`model::cost`, docs/cost.md) prices GPU-hours only, so host CPU and
//! memory carry no dollar figure: a host-only workload is charged nothing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::demand::{Demand, Unit};
use crate::model::Fabric;

use super::usage::Usage;

/// What the plan's replicas take of the nodes' CPU and memory.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HostUse {
    /// The GPU workloads' asks are counted (they need the demand); else host-only only.
    pub gpu_workloads_counted: bool,
    pub cpu_millicores: u64,
    pub memory_mib: u64,
    /// CPU and memory the fabric's nodes declare (a node that declares none is not limited
    /// and adds nothing here).
    pub cpu_millicores_capacity: u64,
    pub memory_mib_capacity: u64,
    pub host_only_replicas: u32,
    /// Every node asked any CPU or memory, in fabric order.
    pub nodes: Vec<NodeHost>,
    /// Every tenant with an ask, by name.
    pub tenants: Vec<TenantHost>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodeHost {
    pub node: String,
    pub cpu_millicores: u64,
    /// What the node's template declares; `None`: not limited.
    pub cpu_millicores_capacity: Option<u64>,
    pub memory_mib: u64,
    pub memory_mib_capacity: Option<u64>,
    pub host_only_replicas: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TenantHost {
    pub tenant: String,
    pub cpu_millicores: u64,
    pub memory_mib: u64,
    pub host_only_replicas: u32,
}

#[derive(Default)]
struct Ask {
    cpu: u64,
    mem: u64,
    host_only: u32,
}

/// The host use of the plan `u` on fabric `f`, with the GPU workloads' asks when `demand`
/// is given; `None` when the plan takes no CPU and no memory anywhere.
pub fn host_use(f: &Fabric, u: &Usage, demand: Option<&Demand>) -> Option<HostUse> {
    let mut nodes: BTreeMap<usize, Ask> = BTreeMap::new();
    let mut tenants: BTreeMap<&str, Ask> = BTreeMap::new();
    for w in u.workloads.iter().filter(|w| w.admitted) {
        for h in &w.hosts {
            for a in [
                nodes.entry(h.node.index()).or_default(),
                tenants.entry(w.tenant.as_str()).or_default(),
            ] {
                a.cpu += h.cpu_millicores;
                a.mem += h.memory_mib;
                a.host_only += 1;
            }
        }
        let Some(dw) = demand.and_then(|d| d.workloads.iter().find(|x| x.name == w.name)) else {
            continue;
        };
        if dw.cpu_millicores == 0 && dw.memory_mib == 0 {
            continue;
        }
        // Assignments per (node, GPU model): a replica per whole-GPU chunk of `k`, per MIG
        // instance or share; a training gang asks per GPU.
        let mut per_node: BTreeMap<(usize, &str), u64> = BTreeMap::new();
        for g in &w.gpus {
            let node = f.gpus[g.index()].node;
            let model = f.template_of(node).gpu_model.as_str();
            *per_node.entry((node.index(), model)).or_default() += 1;
        }
        for ((n, model), count) in per_node {
            let replicas = match dw.units.get(model) {
                Some(Unit::Gpus(k)) if dw.gang.is_none() => count / u64::from((*k).max(1)),
                Some(_) => count,
                // A model the demand did not size the workload for: `verify` reports it.
                None => continue,
            };
            for a in [
                nodes.entry(n).or_default(),
                tenants.entry(w.tenant.as_str()).or_default(),
            ] {
                a.cpu += dw.cpu_millicores * replicas;
                a.mem += dw.memory_mib * replicas;
            }
        }
    }
    let cpu: u64 = nodes.values().map(|a| a.cpu).sum();
    let mem: u64 = nodes.values().map(|a| a.mem).sum();
    if cpu == 0 && mem == 0 {
        return None;
    }
    let templates = |n: usize| f.template_of(crate::model::NodeId::from_index(n));
    let mut notes = Vec::new();
    if demand.is_none() {
        notes.push(
            "host-only replicas only: the GPU workloads' CPU and memory are counted with the demand (--demand); the plan does not record them"
                .to_string(),
        );
    }
    notes.push(
        "host CPU and memory are not priced: the cost ledger charges GPU-hours only (docs/cost.md)"
            .to_string(),
    );
    Some(HostUse {
        gpu_workloads_counted: demand.is_some(),
        cpu_millicores: cpu,
        memory_mib: mem,
        cpu_millicores_capacity: (0..f.nodes.len())
            .filter_map(|n| templates(n).cpu_millicores)
            .sum(),
        memory_mib_capacity: (0..f.nodes.len())
            .filter_map(|n| templates(n).memory_mib)
            .sum(),
        host_only_replicas: nodes.values().map(|a| a.host_only).sum(),
        nodes: nodes
            .iter()
            .map(|(&n, a)| NodeHost {
                node: f.nodes[n].name.clone(),
                cpu_millicores: a.cpu,
                cpu_millicores_capacity: templates(n).cpu_millicores,
                memory_mib: a.mem,
                memory_mib_capacity: templates(n).memory_mib,
                host_only_replicas: a.host_only,
            })
            .collect(),
        tenants: tenants
            .iter()
            .filter(|(_, a)| a.cpu > 0 || a.mem > 0)
            .map(|(t, a)| TenantHost {
                tenant: t.to_string(),
                cpu_millicores: a.cpu,
                memory_mib: a.mem,
                host_only_replicas: a.host_only,
            })
            .collect(),
        notes,
    })
}

impl HostUse {
    /// The nodes with the largest share of their CPU taken (then of memory, then the
    /// largest asks), at most `n`: what the human and HTML reports list.
    pub fn fullest_nodes(&self, n: usize) -> Vec<&NodeHost> {
        let share = |used: u64, cap: Option<u64>| match cap {
            Some(c) if c > 0 => used as f64 / c as f64,
            _ => 0.0,
        };
        let mut v: Vec<&NodeHost> = self.nodes.iter().collect();
        v.sort_by(|a, b| {
            let key = |x: &NodeHost| {
                (
                    share(x.cpu_millicores, x.cpu_millicores_capacity),
                    share(x.memory_mib, x.memory_mib_capacity),
                    x.cpu_millicores,
                    x.memory_mib,
                )
            };
            key(b)
                .partial_cmp(&key(a))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.node.cmp(&b.node))
        });
        v.truncate(n);
        v
    }
}

/// Millicores as cores, without trailing zeros (`22`, `0.5`, `1.25`).
pub fn cores(millicores: u64) -> String {
    let whole = millicores / 1000;
    match millicores % 1000 {
        0 => whole.to_string(),
        m => format!("{whole}.{m:03}").trim_end_matches('0').to_string(),
    }
}

/// MiB as GiB, without trailing zeros.
pub fn gib(mib: u64) -> String {
    let x = mib as f64 / 1024.0;
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_and_gib_are_exact_and_short() {
        assert_eq!(cores(22000), "22");
        assert_eq!(cores(500), "0.5");
        assert_eq!(cores(1250), "1.25");
        assert_eq!(cores(1), "0.001");
        assert_eq!(gib(65536), "64");
        assert_eq!(gib(1536), "1.5");
        assert_eq!(gib(0), "0");
    }
}
