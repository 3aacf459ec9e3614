//! `random`: a node drawn uniformly among those the pod fits, and for a GPU-share pod a GPU
//! drawn uniformly among those with room (the simulator's `RandomScore` with
//! `-gpusel random`, `pkg/simulator/plugin/random_score.go` and `allocateGpuIdBasedOnRandomFit`).

use super::{first_free, Placement, PodSpec, Policy, Rng, State};

pub struct Random;

impl Policy for Random {
    fn name(&self) -> &'static str {
        "random"
    }

    fn place(&mut self, state: &State, pod: &PodSpec, rng: &mut Rng) -> Option<Placement> {
        let fit: Vec<usize> = (0..state.nodes.len())
            .filter(|&i| state.fits(i, pod))
            .collect();
        if fit.is_empty() {
            return None;
        }
        let i = fit[rng.below(fit.len() as u64) as usize];
        let node = &state.nodes[i];
        let gpus = if pod.is_share() {
            let mut chosen = 0u8;
            let mut seen = 0u64;
            for (g, &left) in node.gpu_left.iter().enumerate() {
                if left >= pod.gpu_milli {
                    seen += 1;
                    if rng.below(seen) == 0 {
                        chosen = g as u8;
                    }
                }
            }
            vec![chosen]
        } else {
            first_free(node, pod.num_gpu)
        };
        Some(Placement {
            node: i as u32,
            gpus,
        })
    }
}
