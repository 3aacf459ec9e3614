//! `fabplan`: fabplan's own online rule. FGD's measure, used exactly: the node and GPU
//! where the expected fragmentation grows least, compared as real numbers (the simulator
//! truncates `100 * sigmoid(delta / 1000)` to an integer, so changes within a few hundredths
//! of a GPU tie and are broken at random). Remaining ties go to the placement that leaves the
//! least free GPU and then CPU on the node (best fit: keep empty nodes empty for the large
//! pods), then to the lowest node index; no randomness.

use super::fgd::{frag_after, frag_now};
use super::frag::Workload;
use super::{first_free, Cluster, Placement, PodSpec, Policy, Rng, State};

pub struct Fabplan {
    workload: Workload,
    now: Vec<f64>,
}

impl Fabplan {
    pub fn new(cluster: &Cluster, workload: &Workload) -> Self {
        let state = State::new(cluster);
        Fabplan {
            now: frag_now(workload, &state),
            workload: workload.clone(),
        }
    }
}

/// Fragmentation changes closer than this (thousandths of a GPU) are equal.
const EPS: f64 = 1e-6;

impl Policy for Fabplan {
    fn name(&self) -> &'static str {
        "fabplan"
    }

    fn place(&mut self, state: &State, pod: &PodSpec, _rng: &mut Rng) -> Option<Placement> {
        let mut buf = Vec::new();
        // (delta, GPU left after, CPU left after, node, share GPU)
        let mut best: Option<(f64, u64, u64, u32, Option<u8>)> = None;
        for i in 0..state.nodes.len() {
            if !state.fits(i, pod) {
                continue;
            }
            let node = &state.nodes[i];
            let model = state.cluster.nodes[i].model;
            let gpu_after = node.gpu_left_total() - pod.total_gpu_milli();
            let cpu_after = node.cpu_left - pod.cpu_milli;
            let now = self.now[i];
            frag_after(&self.workload, model, node, pod, &mut buf, |g, after| {
                let cand = (after - now, gpu_after, cpu_after, i as u32, g);
                let better = match &best {
                    None => true,
                    Some(b) => {
                        if cand.0 < b.0 - EPS {
                            true
                        } else if cand.0 > b.0 + EPS {
                            false
                        } else {
                            (cand.1, cand.2) < (b.1, b.2)
                        }
                    }
                };
                if better {
                    best = Some(cand);
                }
            });
        }
        let (_, _, _, i, g) = best?;
        let gpus = match g {
            Some(g) => vec![g],
            None => first_free(&state.nodes[i as usize], pod.num_gpu),
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
