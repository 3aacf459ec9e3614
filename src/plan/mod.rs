//! The planner: demand -> a named plan (which workloads run where, each GPU's MIG layout),
//! by a greedy best-fit baseline or a MILP through good_lp + HiGHS on pooled capacity.
//!
//! Only this module imports good_lp (`milp.rs`). `verify.rs` re-checks a plan from the fabric
//! and demand alone and shares no code with the model builder.

pub mod export;
pub mod gen;
pub mod greedy;
pub mod master;
pub mod milp;
pub mod output;
pub mod state;
pub mod verify;

use crate::catalog::Catalog;
use crate::model::Fabric;

use crate::model::demand::Demand;
use state::{evaluate, Assignment, Geometry, GpuUse, Hold, State, Terms};

/// Which solver to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverChoice {
    Highs,
    Greedy,
}

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub solver: SolverChoice,
    pub time_limit_seconds: f64,
    pub mip_gap: f64,
    pub freeze: bool,
    /// Candidate pools per workload in the MILP (0 = all).
    pub candidates: usize,
    /// Hand HiGHS the greedy plan as a starting solution (off: see `milp::solve_highs`).
    pub warm_start: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            solver: SolverChoice::Highs,
            time_limit_seconds: 30.0,
            mip_gap: 0.01,
            freeze: false,
            candidates: 0,
            warm_start: false,
        }
    }
}

pub use crate::model::plan::Current;

/// The named plan with its solve report.
#[derive(Debug, Clone)]
pub struct PlanResult {
    pub status: String,
    pub solver: String,
    pub objective: f64,
    pub bound: Option<f64>,
    pub gap: Option<f64>,
    pub solve_seconds: f64,
    pub bound_scope: String,
    pub terms: Terms,
    pub admitted: Vec<bool>,
    pub reasons: Vec<Option<String>>,
    pub assignments: Vec<Vec<Assignment>>,
    pub model_of: Vec<Option<usize>>,
    pub gpus: Vec<GpuUse>,
    pub tenant_usd: Vec<f64>,
    pub tenant_gpus: Vec<f64>,
    pub rack_used_kw: Vec<f64>,
    /// Required workloads that could not be placed, explained in words.
    pub infeasible: Vec<String>,
    pub moved: usize,
    pub notes: Vec<String>,
}

pub(crate) fn moved_count(st: &State, current: &Current) -> usize {
    current
        .running
        .iter()
        .filter(|(name, a)| {
            !a.is_empty()
                && match st.demand.workloads.iter().position(|w| &w.name == *name) {
                    Some(w) => !st.admitted[w] || &st.assignments[w] != *a,
                    None => true,
                }
        })
        .count()
}

pub(crate) fn finish(st: State, reasons: Vec<Option<String>>, current: &Current) -> PlanResult {
    let moved = moved_count(&st, current);
    let terms = evaluate(&st, moved);
    let infeasible = st
        .demand
        .workloads
        .iter()
        .enumerate()
        .filter(|(w, wl)| wl.required && !st.admitted[*w])
        .map(|(w, wl)| {
            format!(
                "required workload `{}` of tenant `{}` cannot be placed: {}",
                wl.name,
                st.demand.tenants[wl.tenant].name,
                reasons[w].clone().unwrap_or_default()
            )
        })
        .collect();
    PlanResult {
        status: String::new(),
        solver: String::new(),
        objective: terms.total(),
        bound: None,
        gap: None,
        solve_seconds: 0.0,
        bound_scope: String::new(),
        terms,
        admitted: st.admitted.clone(),
        reasons,
        assignments: st.assignments.clone(),
        model_of: st.model_of.clone(),
        gpus: st.gpus.clone(),
        tenant_usd: st.tenant_usd.clone(),
        tenant_gpus: st.tenant_gpus.clone(),
        rack_used_kw: st.rack_used_kw.clone(),
        infeasible,
        moved,
        notes: Vec::new(),
    }
}

/// Plans `demand` on `fabric`.
pub fn plan(
    fabric: &Fabric,
    catalog: &Catalog,
    demand: &Demand,
    current: &Current,
    opts: &PlanOptions,
) -> PlanResult {
    let started = std::time::Instant::now();
    let geo = Geometry::new(fabric, catalog, demand);
    let greedy = greedy::plan_greedy(&geo, demand, current, opts.freeze);
    let mut result = match opts.solver {
        SolverChoice::Greedy => {
            let mut r = greedy;
            r.status = if r.infeasible.is_empty() {
                "feasible".into()
            } else {
                "infeasible".into()
            };
            r.solver = "greedy".into();
            r.bound_scope = "none (greedy computes no bound)".into();
            r
        }
        SolverChoice::Highs => {
            // --time-limit is the whole run's budget: HiGHS gets what is left after the greedy
            // plan, less about as long again for naming its solution.
            let used = started.elapsed().as_secs_f64();
            let mut o = opts.clone();
            o.time_limit_seconds =
                (opts.time_limit_seconds - 2.2 * used - 0.5).max(opts.time_limit_seconds.min(1.0));
            milp::solve_and_name(&geo, demand, current, &o, greedy)
        }
    };
    result.solve_seconds = started.elapsed().as_secs_f64();
    result
}

impl PlanResult {
    pub(crate) fn from_state(
        st: State,
        reasons: Vec<Option<String>>,
        current: &Current,
    ) -> PlanResult {
        finish(st, reasons, current)
    }
}

/// Whether a hold is a MIG instance (for rendering).
pub fn hold_is_mig(h: &Hold) -> bool {
    matches!(h, Hold::Mig(_))
}

/// Plans and builds the plan document in one call (tests, benches, examples).
pub fn plan_document(
    fabric: &Fabric,
    demand: &Demand,
    current: Option<&Current>,
    opts: &PlanOptions,
) -> (PlanResult, crate::schema::plan::PlanDocument) {
    let catalog = crate::load::demand::fabric_catalog(fabric);
    let empty = Current::default();
    let r = plan(fabric, &catalog, demand, current.unwrap_or(&empty), opts);
    let geo = Geometry::new(fabric, &catalog, demand);
    let doc = output::document(&geo, demand, &r, opts, current);
    (r, doc)
}
