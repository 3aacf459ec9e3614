//! The fluid relaxation: a bound valid for the whole problem, in milliseconds.
//!
//! Every workload that is not frozen becomes one fraction `x[w][m]` in [0, 1] per GPU model
//! it may use (sum at most 1, exactly 1 when required), worth its value less its cost at the
//! model's cheapest power, less the least communication penalty any placement of a gang
//! can get. Rows: GPU-equivalents per model at most the free capacity (free GPUs plus what
//! partly used GPUs of frozen work have left), whole-GPU work at most the free whole GPUs,
//! tenant budgets, GPU and power caps. Dropped, each of which only lowers a plan's
//! objective or only removes plans: integrality, node and domain shapes, MIG layouts and
//! sharing compatibility, rack power, stranding. Frozen work (`--freeze`) enters as the
//! constant its placement scores; a running workload that is not admitted, or one the
//! demand no longer lists, pays its disruption. So the LP optimum bounds every plan,
//! whatever the solve path after it (`BoundScope::FluidRelaxation`).
//!
//! Host-only workloads (`Demand::host_workloads`, no GPU) are not in the relaxation, and the
//! bound stays valid for the whole problem, theirs included. Proof: a host-only replica is
//! worth 0 by the value rule (priority x GPU-equivalents, 0 GPUs) and costs 0 (cost is per
//! GPU-hour and per GPU kW), takes no GPU, no tenant budget, GPU cap or power cap, and no
//! rack power; it only takes host CPU and memory, which this relaxation has no row for. So
//! any plan's objective equals that of its GPU work alone, and that GPU work is a feasible
//! plan of the problem without host-only work, which this LP relaxes (dropping host rows
//! only adds plans). The planner plans GPU work on the CPU and memory host-only replicas
//! leave (`host.rs`, `Geometry::less_host`), which only removes plans, so the bound is still
//! at least the returned objective.
//!
//! Dedicated-node isolation covers host-only replicas too (`host.rs`): a node with another
//! tenant's host-only replica is closed to a dedicated tenant's GPU work, and one with a
//! dedicated tenant's host-only replica to everyone else's. The relaxation has no node rows
//! (isolation is among what it drops), so these rules only remove plans it already admits:
//! it stays a relaxation, and its `base` (`State::new`, which seeds the host-only tenants as
//! node users) differs from the plain one only in owners and users, which it never reads.

use std::collections::BTreeMap;

use good_lp::solvers::highs::highs;
use good_lp::{constraint, variable, Expression, ProblemVariables, SolverModel, Variable};

use super::rows::tenant_rows;
use super::state::{chunks, comm_penalty, evaluate, unit_equiv, usd_per_hour, Geometry};
use super::state::{GpuUse, State};
use super::Current;
use crate::model::demand::{Demand, Level, Unit};
use crate::model::GpuId;

/// The fluid relaxation's optimum (`None` when HiGHS finds none in `time_limit`, e.g.
/// required work that cannot fit even as fractions).
pub fn fluid_bound(
    geo: &Geometry,
    d: &Demand,
    current: &Current,
    base: &State,
    fixed: &[bool],
    time_limit: f64,
) -> Option<f64> {
    let nm = geo.models.len();
    let nt = d.tenants.len();
    let running = |name: &str| current.running.get(name).is_some_and(|a| !a.is_empty());
    // Constant part: frozen work as placed (value, cost, communication; stranding dropped)
    // and the disruption no plan can avoid.
    let bt = evaluate(base, 0);
    let mut constant = bt.value - bt.cost - bt.communication;
    for (name, a) in &current.running {
        if a.is_empty() {
            continue;
        }
        match d.workloads.iter().position(|w| &w.name == name) {
            None => constant -= d.weights.disruption,
            Some(w) if fixed[w] && !base.admitted[w] => constant -= d.weights.disruption,
            Some(w) if !fixed[w] => constant -= d.weights.disruption,
            Some(_) => {}
        }
    }
    // Capacity per model: free GPUs and what partly used GPUs have left.
    let mut whole = vec![0.0f64; nm];
    let mut cap = vec![0.0f64; nm];
    for (g, u) in base.gpus.iter().enumerate() {
        let m = geo.model_of_gpu(GpuId::from_index(g));
        match u {
            GpuUse::Free => {
                whole[m] += 1.0;
                cap[m] += 1.0;
            }
            GpuUse::Whole(_) => {}
            GpuUse::Mig { layout, .. } => {
                let t = geo.models[m]
                    .mig
                    .as_ref()
                    .expect("mig layout on a MIG model");
                let used: u32 = layout
                    .iter()
                    .filter(|x| x.1.is_some())
                    .map(|x| t.profile(x.0.profile).compute_slices as u32)
                    .sum();
                cap[m] += (1.0 - used as f64 / t.compute_slices as f64).max(0.0);
            }
            GpuUse::Shared { members } => {
                let used: u32 = members.iter().map(|x| x.1 as u32).sum();
                cap[m] += (1.0 - used as f64 / 8.0).max(0.0);
            }
        }
    }
    // Free whole GPUs per (model, level, domain), for the tightest level a gang can reach.
    let mut dom_free: BTreeMap<(usize, usize, u32), u32> = BTreeMap::new();
    for (n, node) in geo.nodes.iter().enumerate() {
        let free = base.free_gpus[n];
        for lvl in 0..4 {
            if node.domain[lvl] != u32::MAX {
                *dom_free
                    .entry((node.model, lvl, node.domain[lvl]))
                    .or_default() += free;
            }
        }
    }
    let mut largest = vec![[0u32; 4]; nm];
    for (&(m, lvl, _), &f) in &dom_free {
        largest[m][lvl] = largest[m][lvl].max(f);
    }
    let kw = geo.min_gpu_kw_per_model();
    let mut vars = ProblemVariables::new();
    let mut objective = Expression::from(0.0);
    let mut rows = Vec::new();
    let mut t_usd = vec![Expression::from(0.0); nt];
    let mut t_eq = vec![Expression::from(0.0); nt];
    let mut t_kw = vec![Expression::from(0.0); nt];
    let mut m_eq = vec![Expression::from(0.0); nm];
    let mut m_whole = vec![Expression::from(0.0); nm];
    for (w, wl) in d.workloads.iter().enumerate() {
        if fixed[w] {
            continue;
        }
        let mut take: Vec<Variable> = Vec::new();
        for m in 0..nm {
            let Some(&unit) = wl.units.get(&geo.models[m].key) else {
                continue;
            };
            let pools_fit = geo
                .pools
                .iter()
                .filter(|p| p.model == m)
                .any(|p| match unit {
                    Unit::Gpus(_) => chunks(wl, unit, p.gpus_per_node).is_some(),
                    _ => true,
                });
            if !pools_fit {
                continue;
            }
            let mut pen = 0.0;
            if let (Some(g), Unit::Gpus(k)) = (&wl.gang, unit) {
                // The tightest level with a domain holding all k GPUs free; a plan's gang sits
                // inside one domain at that level or looser, and pays at least the least
                // penalty from there up.
                let Some(tight) = Level::ALL
                    .into_iter()
                    .find(|&l| l == Level::Fabric || largest[m][l as usize] >= k)
                else {
                    continue;
                };
                if tight > g.required {
                    continue;
                }
                pen = Level::ALL
                    .into_iter()
                    .filter(|&l| l >= tight)
                    .map(|l| comm_penalty(geo, d, wl, m, l))
                    .fold(f64::INFINITY, f64::min);
            }
            let reps = if wl.gang.is_some() { 1 } else { wl.replicas };
            let eq = unit_equiv(geo, m, unit) * reps as f64;
            let usd = usd_per_hour(geo, d, m, eq, kw[m]);
            let x = vars.add(variable().min(0.0).max(1.0));
            let mut score = d.weights.value * wl.priority * eq - d.weights.cost_per_usd * usd - pen;
            if running(&wl.name) {
                score += d.weights.disruption;
            }
            objective += score * x;
            t_usd[wl.tenant.index()] += usd * x;
            t_eq[wl.tenant.index()] += eq * x;
            t_kw[wl.tenant.index()] += eq * kw[m] * x;
            m_eq[m] += eq * x;
            if matches!(unit, Unit::Gpus(_)) {
                m_whole[m] += eq * x;
            }
            take.push(x);
        }
        if take.is_empty() {
            if wl.required {
                return None;
            }
            continue;
        }
        let sum: Expression = take.into_iter().sum();
        if wl.required && wl.is_elastic() {
            // At least `min_replicas` of `replicas` (each fraction counts replicas on a
            // model; any admitted count is a point of [min/replicas, 1]).
            let least = wl.min_replicas as f64 / wl.replicas as f64;
            rows.push(constraint!(sum.clone() <= 1));
            rows.push(constraint!(sum >= least));
        } else if wl.required {
            rows.push(constraint!(sum == 1));
        } else {
            rows.push(constraint!(sum <= 1));
        }
    }
    if vars.is_empty() {
        return Some(constant);
    }
    for m in 0..nm {
        let (e, c) = (std::mem::take(&mut m_eq[m]), cap[m] + 1e-9);
        rows.push(constraint!(e <= c));
        let (e, c) = (std::mem::take(&mut m_whole[m]), whole[m]);
        rows.push(constraint!(e <= c));
    }
    rows.extend(tenant_rows(d, base, t_usd, t_eq, t_kw));
    let mut problem = highs(vars.maximise(objective));
    for r in rows {
        problem.add_constraint(r);
    }
    let mut model = problem.into_inner();
    model.make_quiet();
    model.set_option("time_limit", time_limit.max(0.01));
    model.set_option("threads", 1);
    model.set_option("parallel", "off");
    let solved = model.try_solve().ok()?;
    if solved.status() != highs::HighsModelStatus::Optimal {
        return None;
    }
    // The LP optimum, a hair up so HiGHS's tolerances never make it cut a plan.
    let obj = solved.objective_value();
    Some(constant + obj + 1e-7 * obj.abs().max(1.0))
}
