//! The offline upper reference (issue 9, "the offline plan on the same samples beside it,
//! with its bound"): the pods a seed's sample has brought by a step are planned all at once
//! by the planner, as `fabplan plan` plans an imported openb demand, and its allocation,
//! status, bound and gap stand beside each online policy's allocation at that step.
//!
//! The demand is the import's own (`formats::openb::demand_yaml`, read back through the
//! demand loader): one workload per pod, each sampled copy its own workload named
//! `<pod>-a<arrival>`. Its objective is then set to the one the experiment measures, GPU
//! units allocated: every priority 1, value weight 1, and cost, communication, stranding and
//! disruption weights 0 (the import's QoS priorities and default prices would make the
//! objective, and so the bound, a priority-weighted sum instead). With those weights the
//! objective of a plan is its allocated GPU-equivalents (shares counted exactly), and the
//! planner's bound (the fluid relaxation or better, `plan::BoundScope`) is a bound on the
//! allocation of every plan of these pods, online ones included.
//!
//! A pod no empty node could hold (FP980) is left out of the demand (the loader would refuse
//! its GPU model); it is counted as failed, as it fails under every online policy.

use rayon::prelude::*;
use serde::Serialize;

use super::experiment::{sample, Options, Stat};
use super::{trace, Cluster, PodSpec};
use crate::formats::openb::{self, OpenbPod};
use crate::model::Fabric;
use crate::plan::{self, PlanOptions, SolverChoice};

/// What the offline plans need beside the experiment's options.
pub struct Source<'a> {
    /// The cluster as a fabric (the imported node list).
    pub fabric: &'a Fabric,
    /// The pod list as parsed, index for index with the replay's pods.
    pub openb_pods: &'a [OpenbPod],
    /// HiGHS's wall-clock limit per plan (`fabplan plan --time-limit`).
    pub time_limit_s: f64,
}

/// The offline plan of one seed's sample at one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflineRun {
    pub seed: u64,
    pub step_pct: u32,
    /// Pods arrived by this step (the sample's prefix the plan sees).
    pub pods: usize,
    pub arrived_milli: u64,
    pub allocated_milli: u64,
    pub placed: u64,
    pub failed: u64,
    /// The planner's status (`optimal`, `feasible`, `time-limit`, `infeasible`).
    pub status: &'static str,
    /// The planner's bound on the allocation, in GPU thousandths, when it has one (at most
    /// the cluster's GPUs and the GPUs the planned pods ask).
    pub bound_milli: Option<u64>,
    /// `(bound - allocation) / bound`, when there is a bound.
    pub gap: Option<f64>,
    pub bound_scope: &'static str,
}

/// Median and spread over the seeds at one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflineRow {
    pub step_pct: u32,
    pub allocation_pct: Stat,
    /// Over the seeds with a bound; `None` when no seed has one.
    pub bound_pct: Option<Stat>,
    /// Seeds per status, `status: count`, in the order of `plan::PlanStatus`.
    pub statuses: Vec<(String, usize)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Result {
    pub time_limit_s: f64,
    pub runs: Vec<OfflineRun>,
    pub summary: Vec<OfflineRow>,
}

/// The steps the offline plan is run at: 100% (when the sample reaches it) and the last.
pub fn steps(opts: &Options) -> Vec<u32> {
    let last = (opts.max_pct / opts.step_pct) * opts.step_pct;
    let mut v = Vec::new();
    if last > 100 && 100 % opts.step_pct == 0 {
        v.push(100);
    }
    if last > 0 {
        v.push(last);
    }
    v
}

/// How many pods of `order` have arrived at `step_pct`, by the experiment's rule
/// (`experiment::run_one`): up to and including the first pod that takes arrived demand to
/// the step, or the whole sample when it ends before.
pub fn arrived_by(pods: &[PodSpec], order: &[usize], capacity_milli: u64, step_pct: u32) -> usize {
    let mut arrived = 0u64;
    for (n, &k) in order.iter().enumerate() {
        arrived += pods[k].total_gpu_milli();
        if arrived * 100 >= step_pct as u64 * capacity_milli {
            return n + 1;
        }
    }
    order.len()
}

/// Plans the pods `order[..n]` offline.
fn plan_prefix(
    src: &Source,
    cluster: &Cluster,
    pods: &[PodSpec],
    order: &[usize],
    seed: u64,
    step_pct: u32,
) -> OfflineRun {
    let prefix = &order[..arrived_by(pods, order, cluster.gpu_milli(), step_pct)];
    let arrived_milli = prefix.iter().map(|&k| pods[k].total_gpu_milli()).sum();
    // One openb pod per arrival, named by its arrival so sampled copies stay apart; the
    // GPU thousandths of each, by that name.
    let mut sampled: Vec<OpenbPod> = Vec::with_capacity(prefix.len());
    let mut milli_of = std::collections::HashMap::with_capacity(prefix.len());
    for (pos, &k) in prefix.iter().enumerate() {
        if !trace::ever_fits(cluster, &pods[k]) {
            continue;
        }
        let mut p = src.openb_pods[k].clone();
        p.name = format!("{}-a{pos}", p.name);
        milli_of.insert(p.name.clone(), pods[k].total_gpu_milli());
        sampled.push(p);
    }
    let text = openb::demand_yaml("fabric.yaml", &sampled, "");
    let mut demand = crate::load::demand::demand_from_str("offline.yaml", &text, src.fabric)
        .expect("the import's demand of pods that fit loads against the imported fabric");
    demand.weights = crate::model::demand::Weights {
        value: 1.0,
        cost_per_usd: 0.0,
        communication: 0.0,
        stranded: 0.0,
        disruption: 0.0,
    };
    for w in &mut demand.workloads {
        w.priority = 1.0;
    }
    for h in &mut demand.host_workloads {
        h.priority = 1.0;
    }
    let opts = PlanOptions {
        solver: SolverChoice::Highs,
        time_limit_seconds: src.time_limit_s,
        ..PlanOptions::default()
    };
    let catalog = crate::load::demand::fabric_catalog(src.fabric);
    let r = plan::plan(
        src.fabric,
        &catalog,
        &demand,
        &plan::Current::default(),
        &opts,
    );
    let mut allocated_milli = 0u64;
    let mut placed = 0u64;
    for (w, wl) in demand.workloads.iter().enumerate() {
        if r.admitted[w] {
            allocated_milli += milli_of[&wl.name];
            placed += 1;
        }
    }
    placed += r.hosts.nodes.iter().filter(|n| !n.is_empty()).count() as u64;
    // The objective is the allocation in GPUs (weights above). The bound is rounded up to
    // a thousandth, or to the nearest one within the LP's relative tolerance (an optimum of
    // exactly 2 GPUs comes back a hair above 2); never below what the plan reaches.
    let to_milli = |b: f64| {
        let x = b * 1000.0;
        let near = x.round();
        let m = if (x - near).abs() <= 1e-6 * x.abs().max(1.0) {
            near
        } else {
            x.ceil()
        };
        m.max(0.0) as u64
    };
    // No plan allocates more than the cluster's GPUs or the demand planned, so the least of
    // the three bounds the allocation too (the LP's optimum can sit a hair above either).
    let planned_milli: u64 = milli_of.values().sum();
    let bound_milli = r.bound.map(|b| {
        to_milli(b)
            .min(cluster.gpu_milli())
            .min(planned_milli)
            .max(allocated_milli)
    });
    OfflineRun {
        seed,
        step_pct,
        pods: prefix.len(),
        arrived_milli,
        allocated_milli,
        placed,
        failed: prefix.len() as u64 - placed,
        status: r.status.as_str(),
        bound_milli,
        gap: bound_milli.map(|b| {
            if b == 0 {
                0.0
            } else {
                (b - allocated_milli) as f64 / b as f64
            }
        }),
        bound_scope: r.bound_scope.as_str(),
    }
}

fn stat(mut v: Vec<f64>) -> Stat {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Stat {
        median,
        min: v[0],
        max: v[n - 1],
    }
}

/// The offline plans of every seed's sample (the experiment's samples: `experiment::sample`
/// with the same options and seeds) at [`steps`].
pub fn run(src: &Source, cluster: &Cluster, pods: &[PodSpec], opts: &Options) -> Result {
    let capacity = cluster.gpu_milli();
    let at = steps(opts);
    let jobs: Vec<(u64, u32)> = opts
        .seeds
        .iter()
        .flat_map(|&s| at.iter().map(move |&st| (s, st)))
        .collect();
    let orders: Vec<(u64, Vec<usize>)> = opts
        .seeds
        .par_iter()
        .map(|&s| (s, sample(pods, capacity, opts, s)))
        .collect();
    // One plan at a time: each has a wall-clock limit, and plans run side by side would
    // take each other's time (on 2 busy cores, 20 at once cut one plan to 93.4% where it
    // reaches 96.3% alone).
    let mut runs: Vec<OfflineRun> = jobs
        .iter()
        .map(|&(seed, step)| {
            let order = &orders.iter().find(|(s, _)| *s == seed).expect("sampled").1;
            plan_prefix(src, cluster, pods, order, seed, step)
        })
        .collect();
    runs.sort_by_key(|r| (r.step_pct, r.seed));
    let pct = |m: u64| 100.0 * m as f64 / capacity.max(1) as f64;
    let summary = at
        .iter()
        .map(|&step| {
            let mine: Vec<&OfflineRun> = runs.iter().filter(|r| r.step_pct == step).collect();
            let bounds: Vec<f64> = mine.iter().filter_map(|r| r.bound_milli.map(pct)).collect();
            let mut statuses: Vec<(String, usize)> = Vec::new();
            for s in ["optimal", "feasible", "time-limit", "infeasible"] {
                let n = mine.iter().filter(|r| r.status == s).count();
                if n > 0 {
                    statuses.push((s.to_string(), n));
                }
            }
            OfflineRow {
                step_pct: step,
                allocation_pct: stat(mine.iter().map(|r| pct(r.allocated_milli)).collect()),
                bound_pct: (!bounds.is_empty()).then(|| stat(bounds)),
                statuses,
            }
        })
        .collect();
    Result {
        time_limit_s: src.time_limit_s,
        runs,
        summary,
    }
}
