//! The greedy baseline (`--solver greedy`; also the MILP's incumbent and fallback): running
//! workloads first, then required, then priority, then size; best fit inside the tightest
//! domain through the placement primitives of `state.rs`.

use crate::model::demand::{self, Demand};
use crate::model::WorkloadId;

use super::state::{Assignment, GpuUse, State};
use super::state::{GeoNodeId, Geometry};
use super::{finish, state, Current, PlanResult};

/// Greedy order: running first, then required, then priority (high first), then size
/// (large first, for packing), then demand order.
pub fn greedy_order(demand: &Demand, current: &Current) -> Vec<usize> {
    order_by(demand, current, true)
}

/// The naming order of workloads the pooled model chose: running first, then required,
/// then size (large first: first-fit decreasing packs shares and CPU tighter), then demand
/// order; priority no longer matters once the model has chosen who runs.
pub fn packing_order(demand: &Demand, current: &Current) -> Vec<usize> {
    order_by(demand, current, false)
}

fn order_by(demand: &Demand, current: &Current, by_priority: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..demand.workloads.len()).collect();
    // One replica's size: a whole GPU weighs 64, a MIG instance 8, a share 8 per GPU (in
    // thousandths of these units, so shares keep their exact order).
    let size = |w: usize| {
        let wl = &demand.workloads[w];
        wl.units
            .values()
            .next()
            .map(|u| match u {
                demand::Unit::Gpus(k) => *k as u64 * 64_000,
                demand::Unit::Mig(_) => 8_000,
                demand::Unit::Share { milli, .. } => *milli as u64 * 8,
            })
            .unwrap_or(0)
            * wl.replicas as u64
    };
    order.sort_by(|&a, &b| {
        let (wa, wb) = (&demand.workloads[a], &demand.workloads[b]);
        let ra = current.running.contains_key(&wa.name);
        let rb = current.running.contains_key(&wb.name);
        // Partially frozen work after the wholly frozen: its missing replicas must not take
        // GPUs another running workload still holds.
        let pa = current.partial.contains(&wa.name);
        let pb = current.partial.contains(&wb.name);
        let prio = if by_priority {
            wb.priority.total_cmp(&wa.priority)
        } else {
            std::cmp::Ordering::Equal
        };
        (!ra, pa, !wa.required)
            .cmp(&(!rb, pb, !wb.required))
            .then(prio)
            .then(size(b).cmp(&size(a)))
            .then(a.cmp(&b))
    });
    order
}

/// Puts the current MIG layouts back on their GPUs so placement reuses them.
pub(crate) fn restore_layouts(st: &mut State, current: &Current, demand: &Demand) {
    let _ = demand;
    for (&g, pl) in &current.mig {
        if st.gpus[g.index()] == GpuUse::Free {
            // Group: the group of the first running workload on the GPU, else shared group 0.
            let group = current
                .running
                .iter()
                .find(|(_, a)| a.iter().any(|x| x.gpu == g))
                .and_then(|(name, _)| st.demand.workloads.iter().position(|w| &w.name == name))
                .map(|w| state::mig_group(st.demand, st.demand.workloads[w].tenant))
                .unwrap_or(0);
            st.preconfigure(
                g,
                group,
                &crate::mig::Layout {
                    placements: pl.clone(),
                },
            );
        }
    }
}

/// Runs the greedy baseline into `st` over `order`; returns rejection reasons.
pub fn run_greedy(
    st: &mut State,
    order: &[usize],
    current: &Current,
    freeze: bool,
    reasons: &mut [Option<String>],
) {
    run_greedy_until(st, order, current, freeze, reasons, None);
}

/// `run_greedy` that stops placing at `stop` (`--time-limit`): the workloads it did not get
/// to are rejected with that reason. Returns whether it stopped early.
pub fn run_greedy_until(
    st: &mut State,
    order: &[usize],
    current: &Current,
    freeze: bool,
    reasons: &mut [Option<String>],
    stop: Option<std::time::Instant>,
) -> bool {
    let geo = st.geo;
    let mut cut = false;
    // Partially frozen work (`Current::partial`): first its surviving replicas alone, each
    // exactly where it is (as fixed capacity no one else can take), then, in its turn below,
    // the whole workload again with those GPUs preferred, so only the missing replicas are
    // placed anew.
    let mut pinned = vec![false; st.demand.workloads.len()];
    if freeze {
        for &w in order {
            let wl = &st.demand.workloads[w];
            let Some(keep) = current.running.get(&wl.name) else {
                continue;
            };
            if st.admitted[w] || keep.is_empty() || !current.partial.contains(&wl.name) {
                continue;
            }
            let full = st.replica_target[w];
            let have: u32 = super::state::replicas_by_model(geo, wl, keep)
                .values()
                .sum();
            st.replica_target[w] = have.min(full);
            let nodes: Vec<GeoNodeId> = keep.iter().map(|a| geo.node_of(a.gpu)).collect();
            let r = st.place(WorkloadId::from_index(w), &|n| nodes.contains(&n), keep);
            if r.is_ok() && st.assignments[w] != *keep {
                st.remove(WorkloadId::from_index(w));
            }
            st.commit();
            st.replica_target[w] = full;
            pinned[w] = st.admitted[w];
        }
    }
    for (i, &w) in order.iter().enumerate() {
        if pinned[w] {
            pinned[w] = false;
            st.remove(WorkloadId::from_index(w));
        } else if st.admitted[w] {
            continue;
        }
        if !cut && i % 16 == 0 && stop.is_some_and(|t| std::time::Instant::now() >= t) {
            cut = true;
        }
        if cut {
            reasons[w] = Some("not considered: --time-limit reached during the greedy pass".into());
            continue;
        }
        let name = &st.demand.workloads[w].name;
        let prefer: Vec<Assignment> = current.running.get(name).cloned().unwrap_or_default();
        let res = if freeze && !prefer.is_empty() && current.partial.contains(name) {
            let r = st.place_any(WorkloadId::from_index(w), &prefer);
            if r.is_ok() && !prefer.iter().all(|a| st.assignments[w].contains(a)) {
                st.remove(WorkloadId::from_index(w));
                Err("its surviving replicas are frozen (--freeze) and the rest cannot be placed around them".into())
            } else {
                r
            }
        } else if freeze && !prefer.is_empty() {
            let nodes: Vec<GeoNodeId> = prefer.iter().map(|a| geo.node_of(a.gpu)).collect();
            let r = st.place(WorkloadId::from_index(w), &|n| nodes.contains(&n), &prefer);
            if r.is_ok() && st.assignments[w] != prefer {
                st.remove(WorkloadId::from_index(w));
                Err("frozen (--freeze) and its current GPUs cannot hold it as it is now".into())
            } else {
                r
            }
        } else {
            st.place_any(WorkloadId::from_index(w), &prefer)
        };
        st.commit();
        reasons[w] = res.err();
    }
    cut
}

/// The greedy plan (also the MILP's warm start and fallback).
pub fn plan_greedy(geo: &Geometry, demand: &Demand, current: &Current, freeze: bool) -> PlanResult {
    plan_greedy_until(geo, demand, current, freeze, None).0
}

/// The greedy plan, stopped at `stop`; with whether it stopped early.
pub fn plan_greedy_until(
    geo: &Geometry,
    demand: &Demand,
    current: &Current,
    freeze: bool,
    stop: Option<std::time::Instant>,
) -> (PlanResult, bool) {
    let mut st = State::new(geo, demand);
    restore_layouts(&mut st, current, demand);
    let order = greedy_order(demand, current);
    let mut reasons = vec![None; demand.workloads.len()];
    let cut = run_greedy_until(&mut st, &order, current, freeze, &mut reasons, stop);
    st.release_unused_mig();
    (finish(st, reasons, current), cut)
}
