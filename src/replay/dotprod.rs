//! `dotprod`: Tetris's alignment score (Grandl et al., SIGCOMM '14) as the FGD paper runs
//! it (the simulator's `DotProductScore` with `-dimext merge -norm max`,
//! `pkg/simulator/plugin/dot_product_score.go`): the dot product of the node's free
//! (CPU, GPU) and the pod's request, both divided by the largest node (128 CPUs, 8 GPUs),
//! averaged over the two dimensions; the node with the smallest product scores highest
//! (`100 * (1 - product)`, truncated). Ties to the run's node order; GPUs by best fit.

use super::bestfit::{MAX_CPU_MILLI, MAX_GPU_MILLI};
use super::{gpus_best_fit, select_host, Placement, PodSpec, Policy, Rng, State};

pub struct DotProduct;

pub fn score(state: &State, i: usize, pod: &PodSpec) -> i64 {
    let node = &state.nodes[i];
    let cpu = node.cpu_left as f64 / MAX_CPU_MILLI * (pod.cpu_milli as f64 / MAX_CPU_MILLI);
    let gpu = node.gpu_left_total() as f64 / MAX_GPU_MILLI
        * (pod.total_gpu_milli() as f64 / MAX_GPU_MILLI);
    ((1.0 - (cpu + gpu) / 2.0) * 100.0) as i64
}

impl Policy for DotProduct {
    fn name(&self) -> &'static str {
        "dotprod"
    }

    fn place(&mut self, state: &State, pod: &PodSpec, _rng: &mut Rng) -> Option<Placement> {
        let i = select_host(state, pod, |i| score(state, i, pod))?;
        Some(Placement {
            node: i,
            gpus: gpus_best_fit(&state.nodes[i as usize], pod),
        })
    }
}
