//! `clustering`: keep pods of one kind together (the simulator's `GpuClusteringScore`,
//! `pkg/simulator/plugin/gpu_clustering_score.go`, after the GPU-type clustering of
//! Alibaba's production scheduler): a GPU pod's kind is "share" or "N GPUs"; a node that
//! holds only pods of its kind scores in (75, 100], one that holds its kind among others in
//! (50, 75], an idle node in (25, 50], a node of other kinds in (0, 25]; within a tier the
//! node with less free GPU scores higher (`25 * (8000 - free) / 8000`, integer). CPU-only
//! pods score 0. Ties to the run's node order ([`State::tie_rank`](super::State)); GPUs by best fit.

use super::{gpus_best_fit, pod_kind, select_host, Placement, PodSpec, Policy, Rng, State};

pub struct Clustering;

pub fn score(state: &State, i: usize, pod: &PodSpec) -> i64 {
    if pod.num_gpu == 0 {
        return 0;
    }
    let node = &state.nodes[i];
    let kind = pod_kind(pod);
    let fill = 100 / 4 * (8000 - node.gpu_left_total() as i64) / 8000;
    let has = node.kinds.iter().any(|&(k, n)| k == kind && n > 0);
    let tier = match (has, node.kinds.len()) {
        (true, 1) => 3,
        (true, _) => 2,
        (false, 0) => 1,
        (false, _) => 0,
    };
    fill + 100 * tier / 4
}

impl Policy for Clustering {
    fn name(&self) -> &'static str {
        "clustering"
    }

    fn place(&mut self, state: &State, pod: &PodSpec, _rng: &mut Rng) -> Option<Placement> {
        let i = select_host(state, pod, |i| score(state, i, pod))?;
        Some(Placement {
            node: i,
            gpus: gpus_best_fit(&state.nodes[i as usize], pod),
        })
    }
}
