//! The planner: demand -> a named plan (which workloads run where, each GPU's MIG layout),
//! by a greedy best-fit baseline or a MILP through good_lp + HiGHS on pooled capacity.
//!
//! Only this module imports good_lp (`milp.rs`). `verify.rs` re-checks a plan from the fabric
//! and demand alone and shares no code with the model builder.

pub mod export;
mod freeidx;
pub mod gen;
pub mod greedy;
mod highs_hooks;
pub mod host;
pub mod master;
pub mod milp;
pub mod output;
pub mod pack;
pub mod relax;
mod rows;
pub mod state;
pub mod verify;
pub mod verify_host;

use crate::catalog::Catalog;
use crate::model::Fabric;

use crate::model::demand::Demand;
use state::{evaluate, Assignment, Geometry, GpuUse, Hold, State, Terms};

/// Which solver to run (and, in a result, which one produced the plan's report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverChoice {
    Highs,
    Greedy,
}

impl SolverChoice {
    pub fn as_str(&self) -> &'static str {
        match self {
            SolverChoice::Highs => "highs",
            SolverChoice::Greedy => "greedy",
        }
    }
}

/// What a plan's status says, by one rule (`PlanStatus::of`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    /// Within `--mip-gap` of a bound valid for the whole problem.
    Optimal,
    /// The deadline (`--time-limit`) cut the search before the gap was closed.
    TimeLimit,
    /// A plan, not proven within the gap, the search not cut by the deadline.
    Feasible,
    /// Required work cannot be placed.
    Infeasible,
}

impl PlanStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PlanStatus::Optimal => "optimal",
            PlanStatus::TimeLimit => "time-limit",
            PlanStatus::Feasible => "feasible",
            PlanStatus::Infeasible => "infeasible",
        }
    }

    /// The one rule: `infeasible` when required work is out; `optimal` only when `gap` (to
    /// a bound valid for the whole problem) is within `mip_gap`; `time-limit` when the
    /// deadline cut the search; `feasible` otherwise.
    pub fn of(required_out: bool, gap: Option<f64>, mip_gap: f64, cut: bool) -> PlanStatus {
        if required_out {
            PlanStatus::Infeasible
        } else if gap.is_some_and(|g| g <= mip_gap + 1e-9) {
            PlanStatus::Optimal
        } else if cut {
            PlanStatus::TimeLimit
        } else {
            PlanStatus::Feasible
        }
    }
}

/// Which relaxation gave a plan's bound. Every one relaxes the whole problem (frozen
/// workloads included), so its optimum bounds every plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundScope {
    /// No bound: the greedy solver computes none, or no relaxation finished in time.
    None,
    /// `relax.rs`: every workload as a fraction per GPU model, capacity in GPU-equivalents.
    FluidRelaxation,
    /// `master.rs`: whole-node gangs on patterns, the rest fluid.
    GangMaster,
    /// The LP relaxation of the full pooled model (every workload sees every pool).
    PooledLp,
    /// HiGHS's dual bound on the full pooled model.
    PooledMilp,
}

impl BoundScope {
    pub fn as_str(&self) -> &'static str {
        match self {
            BoundScope::None => "none (no valid bound known)",
            BoundScope::FluidRelaxation => {
                "fluid relaxation (work as fractions per GPU model; valid for every plan)"
            }
            BoundScope::GangMaster => "gang master relaxation (valid for every plan)",
            BoundScope::PooledLp => "full pooled model LP relaxation (valid for every plan)",
            BoundScope::PooledMilp => "full pooled model dual bound (valid for every plan)",
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(SolverChoice, PlanStatus, BoundScope);

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
    /// When the command started: `time_limit_seconds` counts from here (the whole command,
    /// input loading included). `None`: from the call to `plan`.
    pub started: Option<std::time::Instant>,
    /// Let HiGHS print its log to stdout (`fabplan -v plan`); quiet otherwise.
    pub solver_log: bool,
    /// Told of each phase as it starts (the CLI's progress line).
    pub progress: Option<ProgressSink>,
}

/// A phase of the planner as it starts, with the figures known at that moment: the best
/// plan's objective so far (greedy's, then the named MILP plans') and the best valid bound
/// (`None`: no new figure at this phase). HiGHS's own incumbent is not reachable through
/// good_lp while it solves, so the figures change between phases, never during one.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub phase: &'static str,
    pub incumbent: Option<f64>,
    pub bound: Option<f64>,
}

/// Where `Progress` goes; any thread may call it.
#[derive(Clone)]
pub struct ProgressSink(pub std::sync::Arc<dyn Fn(&Progress) + Send + Sync>);

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}

impl PlanOptions {
    pub(crate) fn report(&self, phase: &'static str, incumbent: Option<f64>, bound: Option<f64>) {
        if let Some(sink) = &self.progress {
            (sink.0)(&Progress {
                phase,
                incumbent,
                bound,
            });
        }
    }
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
            started: None,
            solver_log: false,
            progress: None,
        }
    }
}

pub use crate::model::plan::Current;

/// The named plan with its solve report.
#[derive(Debug, Clone)]
pub struct PlanResult {
    pub status: PlanStatus,
    pub solver: SolverChoice,
    pub objective: f64,
    pub bound: Option<f64>,
    pub gap: Option<f64>,
    pub solve_seconds: f64,
    pub bound_scope: BoundScope,
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
    /// Host-only workloads (`Demand::host_workloads`): where their replicas run.
    pub hosts: host::HostPlan,
}

pub(crate) fn moved_count(st: &State, current: &Current) -> usize {
    current
        .running
        .iter()
        .filter(|(name, a)| {
            !a.is_empty()
                && match st.demand.workloads.iter().position(|w| &w.name == *name) {
                    // Partially frozen: moved when a surviving replica moved.
                    Some(w) if current.partial.contains(*name) => {
                        !st.admitted[w] || !a.iter().all(|x| st.assignments[w].contains(x))
                    }
                    Some(w) => !st.admitted[w] || &st.assignments[w] != *a,
                    None => true,
                }
        })
        .count()
}

pub(crate) fn finish(st: State, mut reasons: Vec<Option<String>>, current: &Current) -> PlanResult {
    // An admitted elastic workload short of its replicas says why.
    for (w, short) in st.short_of.iter().enumerate() {
        if st.admitted[w] {
            reasons[w] = short.clone();
        }
    }
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
                st.demand.tenant(wl.tenant).name,
                reasons[w].clone().unwrap_or_default()
            )
        })
        .collect();
    PlanResult {
        status: PlanStatus::Feasible,
        solver: SolverChoice::Greedy,
        objective: terms.total(),
        bound: None,
        gap: None,
        solve_seconds: 0.0,
        bound_scope: BoundScope::None,
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
        hosts: host::HostPlan::default(),
    }
}

/// The host-only placement and the greedy plan of the GPU work on what it leaves.
struct HostFirst {
    hosts: host::HostPlan,
    /// The geometry less the host-only work (`None`: no host-only replica placed).
    reduced: Option<Geometry>,
    greedy: PlanResult,
    greedy_cut: bool,
    greedy_seconds: f64,
}

/// Host-only work first; the GPU work is planned on the CPU and memory it leaves
/// (`host.rs`). When the GPU work asks for host CPU or memory too and its GPU-equivalents
/// fit the cluster's GPUs, two host placements are tried: by `host.rs`'s rule alone, and first into what a greedy plan of the GPU work alone
/// on the whole geometry leaves (`host::Reserve`). The one that places more host-only
/// workloads wins, then the one whose greedy GPU plan is worth more, then the plain rule
/// (the second is not tried when its two greedy passes would take over a quarter of the
/// time limit);
/// its greedy plan is kept as the MILP's start. Measured on the openb trace (BENCHMARKS.md,
/// "host-only work first"): neither placement is ahead on every list.
fn host_first(
    full: &Geometry,
    gpus: usize,
    demand: &Demand,
    current: &Current,
    opts: &PlanOptions,
    stop: std::time::Instant,
) -> HostFirst {
    let try_hosts = |hosts: host::HostPlan| {
        let t = std::time::Instant::now();
        let reduced = hosts.any().then(|| full.less_host(&hosts));
        let geo = reduced.as_ref().unwrap_or(full);
        let (greedy, greedy_cut) =
            greedy::plan_greedy_until(geo, demand, current, opts.freeze, Some(stop));
        HostFirst {
            hosts,
            reduced,
            greedy,
            greedy_cut,
            greedy_seconds: t.elapsed().as_secs_f64(),
        }
    };
    let plain = try_hosts(host::place(full, demand, current, None));
    let gpu_work_needs_host = demand
        .workloads
        .iter()
        .any(|w| w.cpu_millicores > 0 || w.memory_mib > 0);
    // GPU-equivalents the GPU work asks for, each replica on its smallest model.
    let asked: f64 = demand
        .workloads
        .iter()
        .map(|w| {
            let smallest = (0..full.models.len())
                .filter_map(|m| {
                    let unit = *w.units.get(&full.models[m].key)?;
                    Some(state::unit_equiv(full, m, unit))
                })
                .fold(f64::INFINITY, f64::min);
            w.replicas as f64 * if smallest.is_finite() { smallest } else { 0.0 }
        })
        .sum();
    // When the GPU work cannot all fit, which of it runs is the MILP's choice, and a
    // reserve drawn from greedy's choice only steers it (measured: -2.9 points on openb
    // `cpu200` at 130%). 10% over the GPUs still counts as fitting: the replay's 100% samples
    // draw pods until their demand passes the GPUs, and there placement, not selection,
    // decides (+2 to +5 points on `cpu200`-`cpu250`).
    let all_fit = asked <= 1.1 * gpus as f64;
    // The second placement costs two more greedy passes: tried only when they take at most
    // a quarter of the time limit, so the MILP keeps its time.
    let affordable = 2.0 * plain.greedy_seconds <= 0.25 * opts.time_limit_seconds;
    if demand.host_workloads.is_empty()
        || !gpu_work_needs_host
        || !all_fit
        || plain.greedy_cut
        || !affordable
    {
        return plain;
    }
    let (alone, cut) = greedy::plan_greedy_until(full, demand, current, opts.freeze, Some(stop));
    if cut {
        return plain;
    }
    let reserve = host::Reserve::of_plan(full, demand, &alone);
    let spare = try_hosts(host::place(full, demand, current, Some(&reserve)));
    let placed = |h: &HostFirst| h.hosts.nodes.iter().filter(|n| !n.is_empty()).count();
    let better = !spare.greedy_cut
        && (placed(&spare), spare.greedy.objective) > (placed(&plain), plain.greedy.objective);
    if better {
        spare
    } else {
        plain
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
    let started = opts.started.unwrap_or_else(std::time::Instant::now);
    let full = Geometry::new(fabric, catalog, demand);
    let gpus = full.gpu_node.len();
    let mut deadline = milp::Deadline::new(started, opts.time_limit_seconds, gpus);
    // The greedy pass itself stops at the deadline (on 1M GPUs it can take longer), early
    // enough for the fluid relaxation to still give a bound (0.15 s at 14k workloads on 100k
    // GPUs; the margin covers finishing the greedy plan at 1M GPUs).
    let fluid_seconds = (1.0 + 1e-4 * demand.workloads.len() as f64 + 2e-6 * gpus as f64)
        .min(0.1 * opts.time_limit_seconds);
    let stop = deadline
        .end
        .checked_sub(std::time::Duration::from_secs_f64(fluid_seconds))
        .unwrap_or(deadline.end);
    opts.report("greedy", None, None);
    let HostFirst {
        hosts,
        reduced,
        greedy,
        greedy_cut,
        greedy_seconds,
    } = host_first(&full, gpus, demand, current, opts, stop);
    let geo = reduced.as_ref().unwrap_or(&full);
    deadline.naming_seconds = greedy_seconds;
    let mut result = match opts.solver {
        SolverChoice::Greedy => {
            let mut r = greedy;
            r.status = PlanStatus::of(!r.infeasible.is_empty(), None, opts.mip_gap, greedy_cut);
            r.solver = SolverChoice::Greedy;
            r.bound_scope = BoundScope::None;
            r
        }
        SolverChoice::Highs if greedy_cut => {
            // No time left for anything but the partial greedy plan and, when nothing is
            // frozen, the fluid relaxation's bound.
            let mut r = greedy;
            let bound = (!opts.freeze)
                .then(|| {
                    let base = State::new(geo, demand);
                    let fixed = vec![false; demand.workloads.len()];
                    let t = std::time::Instant::now();
                    let b = relax::fluid_bound(
                        geo,
                        demand,
                        current,
                        &base,
                        &fixed,
                        deadline.left().max(1.0),
                    );
                    if std::env::var_os("FABPLAN_TIMING").is_some() {
                        eprintln!(
                            "plan: greedy cut; fluid relaxation {b:?} in {:.2} s",
                            t.elapsed().as_secs_f64()
                        );
                    }
                    b
                })
                .flatten()
                .map(|b| b.max(r.objective));
            r.bound = bound;
            r.gap = bound.map(|b| ((b - r.objective) / b.abs().max(1e-9)).max(0.0));
            r.bound_scope = if bound.is_some() {
                BoundScope::FluidRelaxation
            } else {
                BoundScope::None
            };
            r.status = PlanStatus::of(!r.infeasible.is_empty(), r.gap, opts.mip_gap, true);
            r.solver = SolverChoice::Highs;
            r.notes.push(
                "--time-limit reached during the greedy pass: its partial plan is returned".into(),
            );
            r
        }
        SolverChoice::Highs => milp::solve_and_name(geo, demand, current, opts, greedy, &deadline),
    };
    for (h, hw) in demand.host_workloads.iter().enumerate() {
        if hw.required && hosts.nodes[h].is_empty() {
            result.infeasible.push(format!(
                "required workload `{}` of tenant `{}` cannot be placed: {}",
                hw.name,
                demand.tenant(hw.tenant).name,
                hosts.reasons[h].clone().unwrap_or_default()
            ));
            result.status = PlanStatus::Infeasible;
        }
    }
    result.hosts = hosts;
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
