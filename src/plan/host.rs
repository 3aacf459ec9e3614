//! Host-only workloads (`size: {gpus: 0}`, the openb trace's CPU-only pods): each replica
//! on one node, taking CPU and host memory and no GPU, placed before the GPU work.
//!
//! Why first, and why by this rule: by the value rule of the objective (priority-weighted
//! GPU-equivalents, the openb import's rule) a replica without GPUs is worth 0 and costs 0
//! (cost is per GPU-hour), so no objective could trade it against GPU work; the trace ran
//! them (the cluster's scheduler places CPU-only pods like any other), so the plan places
//! them first and plans the GPU work on the CPU and memory they leave. Each replica goes to
//! the node with the most CPU left per GPU after it (then memory left per GPU, then the
//! lowest node), so CPU stays where GPUs need it least. With a [`Reserve`] (the CPU and
//! memory a greedy plan of the GPU work alone takes per node; `plan::host_first` decides when
//! to try it), each replica first goes where it fits beside that need, best fit on what is
//! left. A running replica (`--current`) keeps
//! its node while that node has room. A replica that fits no node leaves its workload out
//! (all replicas or none); a required one makes the plan infeasible.
//!
//! Isolation: a host-only replica is its tenant's work on the node like any GPU replica. A
//! `dedicated-node` tenant's replica goes only to a node no other tenant uses, and makes the
//! node that tenant's: no other tenant's host-only replica goes there after it, and the GPU
//! work planned next sees the node owned (`Geometry::host_tenants`, which `State::new` seeds
//! into its owners and users). A dedicated tenant's replica first tries the nodes it already
//! owns, so its small pods do not each close a node to everyone else.
//!
//! The bound stays valid: see `relax.rs` (host-only work is worth 0 and the relaxation has
//! no host CPU or memory rows).

use super::state::GeoNodeId;
use super::state::Geometry;
use super::Current;
use crate::model::demand::{Demand, Isolation};
use crate::model::TenantId;

/// Where each host-only workload's replicas run (per `Demand::host_workloads`).
#[derive(Debug, Clone, Default)]
pub struct HostPlan {
    /// Node (of `Geometry::nodes`) of each replica; empty: the workload is not admitted.
    pub nodes: Vec<Vec<GeoNodeId>>,
    /// Why a workload is not admitted.
    pub reasons: Vec<Option<String>>,
    /// CPU (millicores) and memory (MiB) taken per node.
    pub cpu_used: Vec<u64>,
    pub mem_used: Vec<u64>,
    /// Tenants (ascending) with a host-only replica on each node.
    pub tenants: Vec<Vec<TenantId>>,
}

impl HostPlan {
    /// Whether any replica holds a node.
    pub fn any(&self) -> bool {
        self.nodes.iter().any(|n| !n.is_empty())
    }
}

/// What is left of `cap` after `used` (`None`: not limited).
fn left(cap: Option<u64>, used: u64) -> Option<u64> {
    cap.map(|c| c.saturating_sub(used))
}

/// Host CPU (millicores) and memory (MiB) per node of `Geometry::nodes` that the GPU work
/// is expected to need: what a greedy plan of the GPU work alone, on the whole geometry,
/// takes there. `place` puts host-only replicas into what this leaves first.
#[derive(Debug, Clone, Default)]
pub struct Reserve {
    pub cpu: Vec<u64>,
    pub mem: Vec<u64>,
}

impl Reserve {
    /// What the admitted workloads of `r` (a plan of the GPU work on `geo`) take per node.
    pub fn of_plan(geo: &Geometry, d: &Demand, r: &super::PlanResult) -> Reserve {
        let mut out = Reserve {
            cpu: vec![0; geo.nodes.len()],
            mem: vec![0; geo.nodes.len()],
        };
        for (w, a) in r.assignments.iter().enumerate() {
            if r.admitted[w] {
                for (n, (cpu, mem)) in super::state::host_use(geo, &d.workloads[w], a) {
                    out.cpu[n.index()] += cpu;
                    out.mem[n.index()] += mem;
                }
            }
        }
        out
    }
}

/// Places every host-only workload of `d` (see the module comment); with `reserve`, each
/// replica goes first to a node where it fits beside the GPU work's expected need (best fit
/// on the CPU that is then left), and only then by the rule of the module comment.
pub fn place(geo: &Geometry, d: &Demand, current: &Current, reserve: Option<&Reserve>) -> HostPlan {
    let nn = geo.nodes.len();
    let mut plan = HostPlan {
        nodes: vec![Vec::new(); d.host_workloads.len()],
        reasons: vec![None; d.host_workloads.len()],
        cpu_used: vec![0; nn],
        mem_used: vec![0; nn],
        tenants: vec![Vec::new(); nn],
    };
    let dedicated = |t: TenantId| d.tenant(t).isolation == Isolation::DedicatedNode;
    // Node `n` is open to tenant `t`: no other tenant's dedicated node, and for a dedicated
    // tenant no other tenant at all.
    let open = |p: &HostPlan, n: usize, t: TenantId| {
        let users = &p.tenants[n];
        if dedicated(t) {
            users.iter().all(|&u| u == t)
        } else {
            users.iter().all(|&u| u == t || !dedicated(u))
        }
    };
    let fits = |p: &HostPlan, n: usize, t: TenantId, cpu: u64, mem: u64| {
        let node = &geo.nodes[n];
        left(node.cpu_millicores, p.cpu_used[n]).is_none_or(|l| cpu <= l)
            && left(node.memory_mib, p.mem_used[n]).is_none_or(|l| mem <= l)
            && open(p, n, t)
    };
    // Running first, then required, then priority, then CPU and memory asked (large
    // first), then demand order.
    let mut order: Vec<usize> = (0..d.host_workloads.len()).collect();
    order.sort_by(|&a, &b| {
        let (ha, hb) = (&d.host_workloads[a], &d.host_workloads[b]);
        let ra = current.hosts.contains_key(&ha.name);
        let rb = current.hosts.contains_key(&hb.name);
        (!ra, !ha.required)
            .cmp(&(!rb, !hb.required))
            .then(hb.priority.total_cmp(&ha.priority))
            .then(hb.cpu_millicores.cmp(&ha.cpu_millicores))
            .then(hb.memory_mib.cmp(&ha.memory_mib))
            .then(a.cmp(&b))
    });
    for h in order {
        let hw = &d.host_workloads[h];
        let t = hw.tenant;
        let (cpu, mem) = (hw.cpu_millicores, hw.memory_mib);
        // Current nodes, as nodes of the geometry (fabric `NodeId`s in `current`).
        let mut was: Vec<GeoNodeId> = current
            .hosts
            .get(&hw.name)
            .map(|ns| {
                ns.iter()
                    .filter_map(|f| geo.node_fabric.iter().position(|x| x == f))
                    .map(GeoNodeId::from_index)
                    .collect()
            })
            .unwrap_or_default();
        let mut taken = Vec::new();
        // Nodes this workload put its tenant on (undone when it does not fit).
        let mut added = Vec::new();
        for _ in 0..hw.replicas {
            // Its current node, while it has room.
            let keep = was
                .iter()
                .position(|&n| fits(&plan, n.index(), t, cpu, mem))
                .map(|i| was.remove(i));
            let best = keep.or_else(|| {
                (0..nn)
                    .filter(|&n| fits(&plan, n, t, cpu, mem))
                    .max_by_key(|&n| {
                        // A dedicated tenant fills the nodes it owns before taking another.
                        let owned = dedicated(t) && plan.tenants[n].contains(&t);
                        let node = &geo.nodes[n];
                        let (cpu_used, mem_used) = (plan.cpu_used[n], plan.mem_used[n]);
                        // Beside the GPU work's expected need: then best fit, the least CPU
                        // (then memory) of that spare left after it, so the large pockets
                        // stay for the large replicas (they come first).
                        let spare = reserve.and_then(|r| {
                            let cpu_left = left(node.cpu_millicores, cpu_used + r.cpu[n] + cpu);
                            let mem_left = left(node.memory_mib, mem_used + r.mem[n] + mem);
                            let fits =
                                |cap: Option<u64>, taken: u64| cap.is_none_or(|c| taken <= c);
                            (fits(node.cpu_millicores, cpu_used + r.cpu[n] + cpu)
                                && fits(node.memory_mib, mem_used + r.mem[n] + mem))
                            .then(|| {
                                (
                                    u128::MAX - cpu_left.map_or(u128::MAX, u128::from),
                                    u128::MAX - mem_left.map_or(u128::MAX, u128::from),
                                )
                            })
                        });
                        let per_gpu = |cap: Option<u64>, used: u64, need: u64| {
                            // Unlimited beats any limit; per GPU, so a node of many GPUs
                            // keeps its CPU for them.
                            cap.map_or(u128::MAX, |c| {
                                (c - used - need) as u128 * 1000 / node.gpus.max(1) as u128
                            })
                        };
                        let (a, b) = spare.unwrap_or((
                            per_gpu(node.cpu_millicores, cpu_used, cpu),
                            per_gpu(node.memory_mib, mem_used, mem),
                        ));
                        (owned, spare.is_some(), a, b, std::cmp::Reverse(n))
                    })
                    .map(GeoNodeId::from_index)
            });
            match best {
                Some(n) => {
                    plan.cpu_used[n.index()] += cpu;
                    plan.mem_used[n.index()] += mem;
                    let users = &mut plan.tenants[n.index()];
                    if let Err(i) = users.binary_search(&t) {
                        users.insert(i, t);
                        added.push(n);
                    }
                    taken.push(n);
                }
                None => break,
            }
        }
        if taken.len() == hw.replicas as usize {
            taken.sort_unstable();
            plan.nodes[h] = taken;
        } else {
            // Room without isolation: then isolation is why.
            let isolated = (0..nn).any(|n| {
                let node = &geo.nodes[n];
                left(node.cpu_millicores, plan.cpu_used[n]).is_none_or(|l| cpu <= l)
                    && left(node.memory_mib, plan.mem_used[n]).is_none_or(|l| mem <= l)
            });
            let why = if isolated {
                format!(
                    "no node open to tenant `{}` (dedicated nodes are not shared) has {cpu} millicores of CPU and {mem} MiB of memory left for the next",
                    d.tenant(t).name
                )
            } else {
                format!(
                    "no node has {cpu} millicores of CPU and {mem} MiB of memory left for the next"
                )
            };
            plan.reasons[h] = Some(format!(
                "{} of {} replicas fit: {why}",
                taken.len(),
                hw.replicas
            ));
            for n in taken {
                plan.cpu_used[n.index()] -= cpu;
                plan.mem_used[n.index()] -= mem;
            }
            for n in added {
                plan.tenants[n.index()].retain(|&u| u != t);
            }
        }
    }
    plan
}

impl Geometry {
    /// This geometry with the host CPU and memory `host` takes removed from each node, and
    /// the tenants it puts on each node, for planning the GPU work on what is left.
    pub fn less_host(&self, host: &HostPlan) -> Geometry {
        let mut g = self.clone();
        g.host_taken = true;
        g.host_tenants = host.tenants.clone();
        for (n, node) in g.nodes.iter_mut().enumerate() {
            node.cpu_millicores = left(node.cpu_millicores, host.cpu_used[n]);
            node.memory_mib = left(node.memory_mib, host.mem_used[n]);
        }
        g
    }
}
