//! GPU fragmentation against a target workload, as the FGD paper defines it (Weng et al.,
//! "Beware of Fragmentation", USENIX ATC '23, section 4.1, and the authors' simulator,
//! `pkg/utils/frag.go`: `NodeGpuShareFragAmount`, `GetNodePodFrag`, `GetTypicalPods`).
//!
//! For one node and one task `m` of the target workload, the node's free GPU thousandths
//! that `m` cannot use are fragments: all of them when `m` cannot run on the node (no GPU,
//! a GPU model it may not use, too little CPU, too few GPUs with room), otherwise the free
//! thousandths of each GPU with less room than `m` asks per GPU. A node's fragmentation is
//! the expectation over the workload (`sum_m p_m F_n(m)`); the cluster's is the sum over
//! nodes. Host memory is not part of the measure (it is not in the paper or the simulator).
//! A CPU-only task counts all free GPU thousandths as fragments, as the simulator does
//! (`xl_satisfied` and `xr_lack_cpu` are summed with the others).

use std::collections::BTreeMap;

use super::{Cluster, NodeState, PodSpec};

/// One typical task of the target workload.
#[derive(Debug, Clone, PartialEq)]
pub struct TypicalPod {
    pub cpu_milli: u64,
    pub num_gpu: u32,
    pub gpu_milli: u32,
    pub models: u64,
    /// Popularity, summing to 1 over the workload.
    pub weight: f64,
}

/// The target workload: the most common pod shapes (CPU, GPUs, share, models) covering
/// `popularity` of the pods, renormalized (the simulator's `GetTypicalPods` with
/// `podPopularityThreshold: 95`, `podIncreaseStep: 1`, `isInvolvedCpuPods: true`).
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub pods: Vec<TypicalPod>,
    /// Pods of one GPU shape (`num_gpu`, `gpu_milli`, models), sorted by CPU, with the
    /// running sum of their weights: what [`Workload::node_frag`] reads.
    classes: Vec<Class>,
    /// Sum of the weights (1 unless empty).
    total: f64,
}

#[derive(Debug, Clone, PartialEq)]
struct Class {
    num_gpu: u32,
    gpu_milli: u32,
    models: u64,
    /// (cpu_milli, weight of the pods of this class with at most this CPU).
    cum: Vec<(u64, f64)>,
}

impl Workload {
    pub fn typical(pods: &[PodSpec], popularity: f64) -> Workload {
        let mut counts: BTreeMap<(u64, u32, u32, u64), u64> = BTreeMap::new();
        for p in pods {
            *counts
                .entry((p.cpu_milli, p.num_gpu, p.gpu_milli, p.models))
                .or_default() += 1;
        }
        let total: u64 = counts.values().sum();
        let mut shapes: Vec<((u64, u32, u32, u64), u64)> = counts.into_iter().collect();
        // Most common first; ties to the larger shape by (CPU, share, GPUs, models), as the
        // simulator's `sort.Reverse` of `TargetPodList.Less` (it compares the GPU type
        // string where this compares the model bitmask).
        shapes.sort_by(|a, b| {
            let key = |s: &(u64, u32, u32, u64)| (s.0, s.2, s.1, s.3);
            b.1.cmp(&a.1).then(key(&b.0).cmp(&key(&a.0)))
        });
        let want = popularity * total as f64;
        let mut cum = 0u64;
        let mut kept = Vec::new();
        for (shape, n) in shapes {
            if cum as f64 >= want && !kept.is_empty() {
                break;
            }
            cum += n;
            kept.push((shape, n));
        }
        let typical = kept
            .into_iter()
            .map(|((cpu_milli, num_gpu, gpu_milli, models), n)| TypicalPod {
                cpu_milli,
                num_gpu,
                gpu_milli,
                models,
                weight: n as f64 / cum.max(1) as f64,
            })
            .collect();
        Workload::new(typical)
    }

    pub fn new(pods: Vec<TypicalPod>) -> Workload {
        let mut by_class: BTreeMap<(u32, u32, u64), Vec<(u64, f64)>> = BTreeMap::new();
        for p in &pods {
            if p.num_gpu > 0 {
                by_class
                    .entry((p.num_gpu, p.gpu_milli, p.models))
                    .or_default()
                    .push((p.cpu_milli, p.weight));
            }
        }
        let classes = by_class
            .into_iter()
            .map(|((num_gpu, gpu_milli, models), mut v)| {
                v.sort_by_key(|a| a.0);
                let mut run = 0.0;
                let mut cum: Vec<(u64, f64)> = Vec::new();
                for (cpu, w) in v {
                    run += w;
                    match cum.last_mut() {
                        Some(last) if last.0 == cpu => last.1 = run,
                        _ => cum.push((cpu, run)),
                    }
                }
                Class {
                    num_gpu,
                    gpu_milli,
                    models,
                    cum,
                }
            })
            .collect();
        let total = pods.iter().map(|p| p.weight).sum();
        Workload {
            pods,
            classes,
            total,
        }
    }

    /// Expected fragmented GPU thousandths of a node with `cpu_left` and these free GPUs,
    /// against this workload: `sum_m p_m F_n(m)`.
    pub fn node_frag(&self, model: u16, cpu_left: u64, gpu_left: &[u32]) -> f64 {
        let left: u64 = gpu_left.iter().map(|&g| g as u64).sum();
        if left == 0 {
            return 0.0;
        }
        // Start from "everything is a fragment for every task" and give back, for each task
        // that fits, the free thousandths on GPUs with room for it.
        let mut usable = 0.0;
        for c in &self.classes {
            if c.models != 0 && c.models & (1u64 << model) == 0 {
                continue;
            }
            let mut room = 0u64;
            let mut fit = 0u32;
            for &g in gpu_left {
                if g >= c.gpu_milli {
                    room += g as u64;
                    fit += 1;
                }
            }
            if fit < c.num_gpu {
                continue;
            }
            // Weight of this class's tasks with at most `cpu_left` CPU.
            let k = c.cum.partition_point(|&(cpu, _)| cpu <= cpu_left);
            if k > 0 {
                usable += c.cum[k - 1].1 * room as f64;
            }
        }
        self.total * left as f64 - usable
    }

    /// [`Workload::node_frag`] of a node state.
    pub fn frag_of(&self, model: u16, node: &NodeState) -> f64 {
        self.node_frag(model, node.cpu_left, &node.gpu_left)
    }
}

/// The cluster's fragmentation: the sum over nodes, in GPU thousandths.
pub fn cluster_frag(workload: &Workload, cluster: &Cluster, nodes: &[NodeState]) -> f64 {
    cluster
        .nodes
        .iter()
        .zip(nodes)
        .map(|(spec, n)| workload.frag_of(spec.model, n))
        .sum()
}

/// A task's fragment of one node, by the definition (for tests: the fast sum above must
/// agree with it).
pub fn task_frag(task: &TypicalPod, model: u16, cpu_left: u64, gpu_left: &[u32]) -> u64 {
    let left: u64 = gpu_left.iter().map(|&g| g as u64).sum();
    let accessible = task.models == 0 || task.models & (1u64 << model) != 0;
    if task.num_gpu == 0 || !accessible || cpu_left < task.cpu_milli {
        return left;
    }
    let fit = gpu_left.iter().filter(|&&g| g >= task.gpu_milli).count() as u32;
    if fit < task.num_gpu {
        return left;
    }
    gpu_left
        .iter()
        .filter(|&&g| g < task.gpu_milli)
        .map(|&g| g as u64)
        .sum()
}
