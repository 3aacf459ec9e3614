//! `bestfit`: the node left with the least free CPU and GPU after the pod, each normalized
//! by the largest node of the trace and weighted one half (the simulator's `BestFitScore`,
//! `pkg/simulator/plugin/best_fit_score.go`: score `100 * (1 - sum_i w_i (free_i - req_i) /
//! max_i)` truncated to an integer, `max = (128,000 milli-CPU, 8,000 milli-GPU)`); ties to
//! the run's node order ([`State::tie_rank`]); GPUs by best fit.
//!
//! The simulator then min-max normalizes the scores over the nodes; with integer scores
//! already in 0..=100 that never merges two scores, so the choice is the same without it.

use super::{gpus_best_fit, select_host, Placement, PodSpec, Policy, Rng, State};

/// The simulator's normalization constants (`MaxSpecCpu`, `MaxSpecGpu`,
/// `pkg/type/open-gpu-share/utils/const.go`): the largest openb node.
pub const MAX_CPU_MILLI: f64 = 128_000.0;
pub const MAX_GPU_MILLI: f64 = 8_000.0;

pub struct BestFit;

/// The integer score of one node (higher is tighter).
pub fn score(state: &State, i: usize, pod: &PodSpec) -> i64 {
    let node = &state.nodes[i];
    let cpu = (node.cpu_left - pod.cpu_milli) as f64 / MAX_CPU_MILLI;
    let gpu = (node.gpu_left_total() - pod.total_gpu_milli()) as f64 / MAX_GPU_MILLI;
    ((1.0 - (0.5 * cpu + 0.5 * gpu)) * 100.0) as i64
}

impl Policy for BestFit {
    fn name(&self) -> &'static str {
        "bestfit"
    }

    fn place(&mut self, state: &State, pod: &PodSpec, _rng: &mut Rng) -> Option<Placement> {
        let i = select_host(state, pod, |i| score(state, i, pod))?;
        Some(Placement {
            node: i,
            gpus: gpus_best_fit(&state.nodes[i as usize], pod),
        })
    }
}
