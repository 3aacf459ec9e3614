//! `fgd`: Fragmentation Gradient Descent (Weng et al., "Beware of Fragmentation", USENIX
//! ATC '23, section 4.2, Algorithm 1): place the pod where the cluster's expected
//! fragmentation against the target workload ([`super::frag`]) grows least. As in the
//! authors' simulator (`pkg/simulator/plugin/fgd_score.go`): a node's score is
//! `100 * sigmoid((F_before - F_after) / 1000)` truncated to an integer, ties broken at
//! random; a GPU-share pod goes to the GPU of that node with the best score (lowest index on
//! ties), whole GPUs are the first fully free ones.

use super::frag::Workload;
use super::{first_free, select_host, Cluster, NodeState, Placement, PodSpec, Policy, Rng, State};

pub struct Fgd {
    workload: Workload,
    /// Each node's fragmentation now (kept up to date through `changed`).
    now: Vec<f64>,
}

impl Fgd {
    pub fn new(cluster: &Cluster, workload: &Workload) -> Self {
        let state = State::new(cluster);
        Fgd {
            now: frag_now(workload, &state),
            workload: workload.clone(),
        }
    }
}

/// Every node's fragmentation in `state`.
pub fn frag_now(workload: &Workload, state: &State) -> Vec<f64> {
    state
        .cluster
        .nodes
        .iter()
        .zip(&state.nodes)
        .map(|(spec, n)| workload.frag_of(spec.model, n))
        .collect()
}

/// The fragmentation of `node` after `pod`, for each way of placing it that matters: for a
/// share, each distinct free amount among GPUs with room (the lowest index of each); for
/// whole GPUs (and CPU-only pods) the one result. Calls `f(gpu, frag_after)`; `gpu` is the
/// share's GPU, or `None`.
pub fn frag_after(
    workload: &Workload,
    model: u16,
    node: &NodeState,
    pod: &PodSpec,
    buf: &mut Vec<u32>,
    mut f: impl FnMut(Option<u8>, f64),
) {
    let cpu = node.cpu_left - pod.cpu_milli;
    buf.clear();
    buf.extend_from_slice(&node.gpu_left);
    if pod.is_share() {
        for g in 0..node.gpu_left.len() {
            let left = node.gpu_left[g];
            if left < pod.gpu_milli || node.gpu_left[..g].contains(&left) {
                continue;
            }
            buf[g] = left - pod.gpu_milli;
            f(Some(g as u8), workload.node_frag(model, cpu, buf));
            buf[g] = left;
        }
    } else {
        // Whole GPUs take fully free ones; which ones does not change the measure.
        let mut want = pod.num_gpu;
        for g in buf.iter_mut() {
            if want > 0 && *g >= pod.gpu_milli {
                *g -= pod.gpu_milli;
                want -= 1;
            }
        }
        f(None, workload.node_frag(model, cpu, buf));
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The simulator's integer score of a fragmentation change.
pub fn score_of(before: f64, after: f64) -> i64 {
    (sigmoid((before - after) / 1000.0) * 100.0) as i64
}

impl Policy for Fgd {
    fn name(&self) -> &'static str {
        "fgd"
    }

    fn place(&mut self, state: &State, pod: &PodSpec, _rng: &mut Rng) -> Option<Placement> {
        let mut buf = Vec::new();
        let mut best_gpu: Vec<Option<u8>> = vec![None; state.nodes.len()];
        let i = select_host(state, pod, |i| {
            let mut best: Option<(i64, Option<u8>)> = None;
            let model = state.cluster.nodes[i].model;
            frag_after(
                &self.workload,
                model,
                &state.nodes[i],
                pod,
                &mut buf,
                |g, after| {
                    let s = score_of(self.now[i], after);
                    if best.is_none_or(|(b, _)| s > b) {
                        best = Some((s, g));
                    }
                },
            );
            let (s, g) = best.expect("a fitting pod has a placement");
            best_gpu[i] = g;
            s
        })?;
        let node = &state.nodes[i as usize];
        let gpus = match best_gpu[i as usize] {
            Some(g) => vec![g],
            None => first_free(node, pod.num_gpu),
        };
        Some(Placement { node: i, gpus })
    }

    fn changed(&mut self, state: &State, node: u32) {
        let i = node as usize;
        self.now[i] = self
            .workload
            .frag_of(state.cluster.nodes[i].model, &state.nodes[i]);
    }
}
