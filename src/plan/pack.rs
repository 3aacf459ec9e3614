//! Balanced packing: placement that keeps each node's GPU, CPU and memory in step, for
//! fabrics whose nodes declare host CPU or memory and whose workloads ask for them.
//!
//! Best fit by free GPUs (`state.rs`) fills a node's GPUs and ignores its CPU: on the openb
//! trace greedy fills the 12-cores-per-GPU G2 nodes with CPU-heavy pods and leaves 489 of
//! their GPUs idle behind exhausted CPU (BENCHMARKS.md). Here a replica goes to the node
//! whose fractions left after it (GPU compute, CPU, memory, each over the node's total) stay
//! closest together, GPUs running ahead of CPU or memory weighing most: a GPU left with no
//! CPU beside it is lost, CPU left with no GPU costs little where GPUs are the scarce
//! resource. This is the norm-based vector bin packing family (Panigrahy et al., "Heuristics
//! for Vector Bin Packing", Microsoft Research 2011), weighted by what strands GPUs, in the
//! spirit of the fragmentation measure of Weng et al., "Beware of Fragmentation" (USENIX
//! ATC '23). The weights were chosen on the openb default pod list (a Python sweep of seven
//! node scores: best fit 91.3%, symmetric |gpu - cpu| 95.9%, these weights 96.3%).
//!
//! Only the choice of node and GPU is made here; placement itself (and every check: tenant
//! sharing, rack power, budgets) is `State::place`, told to use that node and those GPUs.

use crate::model::demand::{Demand, Unit, MILLI_PER_GPU};
use crate::model::{GpuId, TenantId, WorkloadId};

use super::state::{Assignment, GeoNodeId, Geometry, GpuUse, Hold, State};
use super::{finish, greedy, Current, PlanResult};

/// Weight of GPU compute left ahead of CPU (GPUs stranded behind exhausted CPU).
const GPU_AHEAD_OF_CPU: f64 = 1.0;
/// Weight of CPU left ahead of GPU compute (CPU with few GPUs beside it).
const CPU_AHEAD_OF_GPU: f64 = 0.1;
/// Weight of GPU compute left ahead of host memory.
const GPU_AHEAD_OF_MEMORY: f64 = 0.2;
/// Best fit among balanced nodes: prefer the node with less compute left.
const GPU_LEFT: f64 = 0.01;

/// Whether balanced packing can differ from best fit: some node limits CPU or memory and
/// some workload asks for them.
pub fn applies(geo: &Geometry, demand: &Demand) -> bool {
    geo.nodes
        .iter()
        .any(|n| n.cpu_millicores.is_some() || n.memory_mib.is_some())
        && demand
            .workloads
            .iter()
            .any(|w| w.cpu_millicores > 0 || w.memory_mib > 0)
}

/// Whether `w` is placed replica by replica here: one replica of whole GPUs or a share, no
/// gang (MIG instances, gangs and multi-replica workloads keep the placement of `state.rs`).
fn packable(demand: &Demand, w: usize) -> bool {
    let wl = &demand.workloads[w];
    wl.gang.is_none() && wl.replicas == 1 && wl.units.values().all(|u| !matches!(u, Unit::Mig(_)))
}

/// The packing order: running first, required first, then one replica's GPU compute (large
/// first), then CPU and memory (large first), then demand order.
pub fn pack_order(demand: &Demand, current: &Current) -> Vec<usize> {
    let mut order: Vec<usize> = (0..demand.workloads.len()).collect();
    let compute = |w: usize| {
        let wl = &demand.workloads[w];
        let per = wl
            .units
            .values()
            .map(|u| match u {
                Unit::Gpus(k) => *k as u64 * MILLI_PER_GPU as u64,
                Unit::Mig(_) => 0,
                Unit::Share { milli, .. } => *milli as u64,
            })
            .max()
            .unwrap_or(0);
        per * wl.replicas as u64
    };
    order.sort_by(|&a, &b| {
        let (wa, wb) = (&demand.workloads[a], &demand.workloads[b]);
        let ra = current.running.contains_key(&wa.name);
        let rb = current.running.contains_key(&wb.name);
        (!ra, !wa.required)
            .cmp(&(!rb, !wb.required))
            .then(compute(b).cmp(&compute(a)))
            .then(wb.cpu_millicores.cmp(&wa.cpu_millicores))
            .then(wb.memory_mib.cmp(&wa.memory_mib))
            .then(a.cmp(&b))
    });
    order
}

/// Free compute of GPU `g` in thousandths for a share of `tenant` needing `mem` MiB of GPU
/// memory (`None`: the share cannot go there).
fn share_room(st: &State, g: GpuId, tenant: TenantId, mem: u64) -> Option<u32> {
    match &st.gpus[g.index()] {
        GpuUse::Free => Some(MILLI_PER_GPU),
        GpuUse::Shared { members } => {
            let demand = st.demand;
            if !members
                .iter()
                .all(|&(x, _)| demand.may_share(demand.workloads[x.index()].tenant, tenant))
            {
                return None;
            }
            let m = st.geo.model_of_gpu(g);
            let cap = st.geo.models[m].memory_mib as u64;
            if cap > 0 {
                let used: u64 = members
                    .iter()
                    .map(|&(x, _)| {
                        match demand.workloads[x.index()].units.get(&st.geo.models[m].key) {
                            Some(Unit::Share { mem_mib, .. }) => *mem_mib as u64,
                            _ => 0,
                        }
                    })
                    .sum();
                if used + mem > cap {
                    return None;
                }
            }
            Some(MILLI_PER_GPU - members.iter().map(|x| x.1 as u32).sum::<u32>())
        }
        _ => None,
    }
}

/// Free compute on node `n` in GPUs (free GPUs whole, time-sliced ones by what is left).
fn node_compute_left(st: &State, n: GeoNodeId) -> f64 {
    st.geo
        .node_gpus(n)
        .map(|g| match &st.gpus[g.index()] {
            GpuUse::Free => 1.0,
            GpuUse::Shared { members } => {
                (MILLI_PER_GPU - members.iter().map(|x| x.1 as u32).sum::<u32>()) as f64
                    / MILLI_PER_GPU as f64
            }
            _ => 0.0,
        })
        .sum()
}

/// The balance score of node `n` after taking `gpus` of compute, `cpu` millicores and `mem`
/// MiB (lower is better).
fn score(st: &State, n: GeoNodeId, gpus: f64, cpu: u64, mem: u64) -> f64 {
    let node = &st.geo.nodes[n.index()];
    let gl = (node_compute_left(st, n) - gpus) / node.gpus.max(1) as f64;
    let left = |cap: Option<u64>, used: u64, need: u64| match cap {
        Some(c) if c > 0 => (c.saturating_sub(used + need)) as f64 / c as f64,
        _ => gl,
    };
    let cl = left(node.cpu_millicores, st.cpu_used[n.index()], cpu);
    let ml = left(node.memory_mib, st.mem_used[n.index()], mem);
    GPU_AHEAD_OF_CPU * (gl - cl).max(0.0)
        + CPU_AHEAD_OF_GPU * (cl - gl).max(0.0)
        + GPU_AHEAD_OF_MEMORY * (gl - ml).max(0.0)
        + GPU_LEFT * gl
}

/// Candidate placements of one-replica workload `w` on nodes `allow` admits, best first:
/// (score, node, the GPUs to take).
fn candidates(
    st: &State,
    w: usize,
    allow: &dyn Fn(GeoNodeId) -> bool,
) -> Vec<(f64, GeoNodeId, Vec<Assignment>)> {
    let geo = st.geo;
    let wl = &st.demand.workloads[w];
    let t = wl.tenant;
    let mut out = Vec::new();
    for (n, node) in geo.nodes.iter().enumerate() {
        let n = GeoNodeId::from_index(n);
        let Some(&unit) = wl.units.get(&geo.models[node.model].key) else {
            continue;
        };
        let gpus = match unit {
            Unit::Gpus(k) => k,
            _ => 1,
        };
        let need = super::state::host_need(wl, unit, gpus);
        if !allow(n) || !st.node_open(n, t) || !st.host_ok(n, need) {
            continue;
        }
        match unit {
            Unit::Gpus(k) => {
                if st.free_gpus[n.index()] < k {
                    continue;
                }
                let take: Vec<Assignment> = geo
                    .node_gpus(n)
                    .filter(|&g| st.gpus[g.index()] == GpuUse::Free)
                    .take(k as usize)
                    .map(|gpu| Assignment {
                        gpu,
                        hold: Hold::Whole,
                    })
                    .collect();
                out.push((score(st, n, k as f64, need.0, need.1), n, take));
            }
            Unit::Share { milli, mem_mib } => {
                // Best fit inside the node: the GPU with the least compute left that holds it.
                let best = geo
                    .node_gpus(n)
                    .filter_map(|g| {
                        share_room(st, g, wl.tenant, mem_mib as u64)
                            .filter(|&room| room >= milli as u32)
                            .map(|room| (room, g))
                    })
                    .min();
                if let Some((_, gpu)) = best {
                    let g = milli as f64 / MILLI_PER_GPU as f64;
                    out.push((
                        score(st, n, g, need.0, need.1),
                        n,
                        vec![Assignment {
                            gpu,
                            hold: Hold::Share(milli),
                        }],
                    ));
                }
            }
            Unit::Mig(_) => {}
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    out
}

/// Places workload `w` on the best balanced node `allow` admits (a few candidates are tried
/// in order, for what only `State::place` checks: rack power, budgets); workloads that are
/// not packable here, or that no candidate takes, go to `State::place` as they are.
pub fn place_balanced(
    st: &mut State,
    w: WorkloadId,
    allow: &dyn Fn(GeoNodeId) -> bool,
    prefer: &[Assignment],
) -> Result<(), String> {
    if !prefer.is_empty() || !packable(st.demand, w.index()) {
        return st.place(w, allow, prefer);
    }
    for (_, n, take) in candidates(st, w.index(), allow).into_iter().take(4) {
        // `allow` keeps the placement on node `n` even when `take` is not what it uses.
        if st.place(w, &|x| x == n, &take).is_ok() {
            return Ok(());
        }
    }
    st.place(w, allow, prefer)
}

/// A plan packed by balance over `pack_order`, nothing frozen: running workloads keep their
/// GPUs when they still fit (as in greedy), the rest go to the best balanced node. `None`
/// when `stop` comes first (each placement scans every node: the plan is a candidate, not
/// worth overrunning `--time-limit` for).
pub fn plan_balanced(
    geo: &Geometry,
    demand: &Demand,
    current: &Current,
    stop: std::time::Instant,
) -> Option<PlanResult> {
    let mut st = State::new(geo, demand);
    greedy::restore_layouts(&mut st, current, demand);
    let mut reasons = vec![None; demand.workloads.len()];
    for (i, w) in pack_order(demand, current).into_iter().enumerate() {
        if i % 64 == 0 && std::time::Instant::now() >= stop {
            return None;
        }
        let prefer = current
            .running
            .get(&demand.workloads[w].name)
            .cloned()
            .unwrap_or_default();
        let r = place_balanced(&mut st, WorkloadId::from_index(w), &|_| true, &prefer);
        st.commit();
        reasons[w] = r.err();
    }
    st.release_unused_mig();
    Some(finish(st, reasons, current))
}
