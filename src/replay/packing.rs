//! `packing`: GPU packing in three tiers (the simulator's `GpuPackingScore`,
//! `pkg/simulator/plugin/gpu_packing_score.go`): first a node where the pod fits on GPUs
//! already in use (score `100 - free share of those GPUs / 10`, at least 50), then a used
//! node where it needs fully free GPUs (`50 - free GPUs used`, at least 33), last an idle
//! node (`33 - its GPUs`); CPU-only pods score 0 everywhere. Ties to the run's node order; GPUs by best fit.

use super::{gpus_best_fit, select_host, Placement, PodSpec, Policy, Rng, State, MILLI};

pub struct Packing;

pub fn score(state: &State, i: usize, pod: &PodSpec) -> i64 {
    if pod.num_gpu == 0 {
        return 0;
    }
    let node = &state.nodes[i];
    let gpus = node.gpu_left.len() as i64;
    let free = node.fully_free_gpus() as i64;
    if free == gpus {
        // The simulator caps this from below by the free GPU count (`Int64Max(score, free)`).
        return (100 / 3 - free).max(free);
    }
    // GPUs with the least room first (stable by index), as `SortedMilliGpuLeftIndexList`.
    let mut order: Vec<usize> = (0..node.gpu_left.len()).collect();
    order.sort_by_key(|&g| node.gpu_left[g]);
    let mut want = pod.num_gpu;
    let mut fully_free_used = 0i64;
    let mut used = Vec::new();
    for g in order {
        if want == 0 {
            break;
        }
        if node.gpu_left[g] >= pod.gpu_milli {
            want -= 1;
            used.push(g);
            if node.gpu_left[g] == MILLI {
                fully_free_used += 1;
            }
        }
    }
    if fully_free_used > 0 {
        return (50 - fully_free_used).max(100 / 3);
    }
    let free_pct: i64 = used
        .iter()
        .map(|&g| node.gpu_left[g] as i64 * 100 / MILLI as i64)
        .sum();
    (100 - free_pct / 10).max(50)
}

impl Policy for Packing {
    fn name(&self) -> &'static str {
        "packing"
    }

    fn place(&mut self, state: &State, pod: &PodSpec, _rng: &mut Rng) -> Option<Placement> {
        let i = select_host(state, pod, |i| score(state, i, pod))?;
        Some(Placement {
            node: i,
            gpus: gpus_best_fit(&state.nodes[i as usize], pod),
        })
    }
}
