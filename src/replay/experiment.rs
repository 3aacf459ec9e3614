//! The FGD paper's experiment (Weng et al., USENIX ATC '23, section 6.1; the authors'
//! `experiments/run_scripts/generate_run_scripts.py` and `TunePodsByNodeTotalResource` in
//! `pkg/simulator/simulator.go`): a seeded sample of the pod list arrives one pod at a
//! time until the GPUs it asks reach `max_pct` of the cluster's; each pod is placed by the
//! policy or fails (no queue, no departures); at every `step_pct` of arrived demand the GPU
//! allocation ratio (allocated GPU thousandths over all) and the fragmentation are recorded.
//! Every (seed, policy) run is independent; they run in parallel and are sorted before
//! anything is returned, so the thread count never changes the result.

use rayon::prelude::*;
use serde::Serialize;

use super::frag::Workload;
use super::{policy, Cluster, PodSpec, Rng, State};

/// How a sample is drawn from the pod list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// The simulator's: every pod of the list in a random order, then copies drawn with
    /// replacement until the next copy would pass the target (or pods drawn out at random
    /// while above it).
    Inflate,
    /// Pods drawn with replacement until the target is reached.
    Replacement,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Options {
    pub policies: Vec<String>,
    pub seeds: Vec<u64>,
    /// Arrived demand to stop at, in percent of the cluster's GPUs (130 in the paper).
    pub max_pct: u32,
    /// Where points are recorded, in percent.
    pub step_pct: u32,
    pub sampling: Sampling,
    /// Share of the pods the target workload's typical shapes cover (0.95 in the paper).
    pub popularity: f64,
}

/// One recorded point of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The step, in percent of the cluster's GPUs.
    pub step_pct: u32,
    /// GPU thousandths asked by the pods arrived so far.
    pub arrived_milli: u64,
    pub allocated_milli: u64,
    /// Expected fragmented GPU thousandths ([`super::frag`]).
    pub frag_milli: f64,
    pub placed: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub policy: String,
    pub seed: u64,
    pub pods: usize,
    pub points: Vec<Point>,
}

/// Median and spread over the seeds at one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    pub policy: String,
    pub step_pct: u32,
    /// Allocated GPUs over all GPUs, percent.
    pub allocation_pct: Stat,
    /// Fragmented GPUs over all GPUs, percent.
    pub frag_pct: Stat,
    /// Arrived demand actually reached at this point, percent (within one pod of the step).
    pub arrived_pct: Stat,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Result {
    pub gpus: u64,
    pub gpu_milli: u64,
    pub typical_shapes: usize,
    pub runs: Vec<Run>,
    pub summary: Vec<SummaryRow>,
}

/// The order of pods (indices into `pods`) for one seed.
pub fn sample(pods: &[PodSpec], capacity_milli: u64, opts: &Options, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let target = capacity_milli as f64 * opts.max_pct as f64 / 100.0;
    let mut order: Vec<usize>;
    if pods.is_empty() {
        return Vec::new();
    }
    match opts.sampling {
        Sampling::Inflate => {
            // As `SortClusterPods` then `TunePodsByNodeTotalResource`: the list shuffled, then
            // copies appended in the order drawn (not shuffled in); a copy is refused once
            // its per-GPU share would pass the target (`tuneUpPods` tests `MilliGpu`, not
            // the total, so a last multi-GPU copy may pass it by a few GPUs).
            order = (0..pods.len()).collect();
            for i in (1..order.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                order.swap(i, j);
            }
            let mut total: u64 = pods.iter().map(PodSpec::total_gpu_milli).sum();
            let asks_gpus = pods.iter().any(|p| p.total_gpu_milli() > 0);
            if (total as f64) < target && asks_gpus {
                loop {
                    let k = rng.below(pods.len() as u64) as usize;
                    if (total + pods[k].gpu_milli as u64) as f64 > target {
                        break;
                    }
                    total += pods[k].total_gpu_milli();
                    order.push(k);
                }
            } else {
                while total as f64 > target && !order.is_empty() {
                    let at = rng.below(order.len() as u64) as usize;
                    total -= pods[order[at]].total_gpu_milli();
                    order.remove(at);
                }
            }
        }
        Sampling::Replacement => {
            order = Vec::new();
            let mut total = 0u64;
            if pods.iter().all(|p| p.total_gpu_milli() == 0) {
                return order;
            }
            while (total as f64) < target {
                let k = rng.below(pods.len() as u64) as usize;
                total += pods[k].total_gpu_milli();
                order.push(k);
            }
        }
    }
    order
}

/// The seed of a policy's own random choices in one run.
fn policy_seed(seed: u64, policy_index: usize) -> u64 {
    seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ (policy_index as u64 + 1) << 48
}

/// One policy over one sample.
#[allow(clippy::too_many_arguments)]
pub fn run_one(
    cluster: &Cluster,
    workload: &Workload,
    pods: &[PodSpec],
    order: &[usize],
    policy_name: &str,
    policy_index: usize,
    seed: u64,
    opts: &Options,
) -> Run {
    let mut policy = policy(policy_name, cluster, workload).expect("known policy");
    let mut rng = Rng::new(policy_seed(seed, policy_index));
    // One tie-break order per sample, shared by every policy (the simulator's node names).
    let mut state = State::new(cluster).with_tie_order(seed);
    let capacity = cluster.gpu_milli();
    let mut frag: Vec<f64> = cluster
        .nodes
        .iter()
        .zip(&state.nodes)
        .map(|(s, n)| workload.frag_of(s.model, n))
        .collect();
    let mut frag_sum: f64 = frag.iter().sum();
    let steps: Vec<u32> = (1..)
        .map(|k| k * opts.step_pct)
        .take_while(|&s| s <= opts.max_pct)
        .collect();
    let mut next = 0;
    let (mut arrived, mut placed, mut failed) = (0u64, 0u64, 0u64);
    let mut points = Vec::with_capacity(steps.len());
    let point = |step: u32, arrived, state: &State, frag_sum, placed, failed| Point {
        step_pct: step,
        arrived_milli: arrived,
        allocated_milli: state.allocated_milli,
        frag_milli: frag_sum,
        placed,
        failed,
    };
    for &k in order {
        let pod = &pods[k];
        arrived += pod.total_gpu_milli();
        match policy.place(&state, pod, &mut rng) {
            Some(p) => {
                debug_assert!(state.fits(p.node as usize, pod));
                state.place(pod, &p);
                policy.changed(&state, p.node);
                let i = p.node as usize;
                let f = workload.frag_of(cluster.nodes[i].model, &state.nodes[i]);
                frag_sum += f - frag[i];
                frag[i] = f;
                placed += 1;
            }
            None => failed += 1,
        }
        while next < steps.len() && arrived * 100 >= steps[next] as u64 * capacity {
            points.push(point(
                steps[next],
                arrived,
                &state,
                frag_sum,
                placed,
                failed,
            ));
            next += 1;
        }
    }
    // The sample ends within one pod of the last step: record what is left there.
    while next < steps.len() {
        points.push(point(
            steps[next],
            arrived,
            &state,
            frag_sum,
            placed,
            failed,
        ));
        next += 1;
    }
    Run {
        policy: policy_name.to_string(),
        seed,
        pods: order.len(),
        points,
    }
}

fn stat(mut v: Vec<f64>) -> Stat {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Stat {
        median,
        min: v.first().copied().unwrap_or(0.0),
        max: v.last().copied().unwrap_or(0.0),
    }
}

/// The whole experiment on one pod list: every policy on every seed's sample.
pub fn run(cluster: &Cluster, pods: &[PodSpec], opts: &Options) -> Result {
    let capacity = cluster.gpu_milli();
    let workload = Workload::typical(pods, opts.popularity);
    let samples: Vec<(u64, Vec<usize>)> = opts
        .seeds
        .par_iter()
        .map(|&s| (s, sample(pods, capacity, opts, s)))
        .collect();
    let jobs: Vec<(usize, usize)> = (0..samples.len())
        .flat_map(|s| (0..opts.policies.len()).map(move |p| (s, p)))
        .collect();
    let mut runs: Vec<(usize, usize, Run)> = jobs
        .par_iter()
        .map(|&(s, p)| {
            let (seed, order) = &samples[s];
            let name = &opts.policies[p];
            (
                p,
                s,
                run_one(cluster, &workload, pods, order, name, p, *seed, opts),
            )
        })
        .collect();
    runs.sort_by_key(|(p, s, _)| (*p, *s));
    let runs: Vec<Run> = runs.into_iter().map(|(_, _, r)| r).collect();
    let pct = |m: f64| 100.0 * m / capacity.max(1) as f64;
    let mut summary = Vec::new();
    for name in &opts.policies {
        let mine: Vec<&Run> = runs.iter().filter(|r| &r.policy == name).collect();
        let n = mine.first().map(|r| r.points.len()).unwrap_or(0);
        for k in 0..n {
            let at = |f: &dyn Fn(&Point) -> f64| -> Vec<f64> {
                mine.iter().map(|r| f(&r.points[k])).collect()
            };
            summary.push(SummaryRow {
                policy: name.clone(),
                step_pct: mine[0].points[k].step_pct,
                allocation_pct: stat(at(&|p: &Point| pct(p.allocated_milli as f64))),
                frag_pct: stat(at(&|p: &Point| pct(p.frag_milli))),
                arrived_pct: stat(at(&|p: &Point| pct(p.arrived_milli as f64))),
            });
        }
    }
    Result {
        gpus: cluster.gpus(),
        gpu_milli: capacity,
        typical_shapes: workload.pods.len(),
        runs,
        summary,
    }
}
