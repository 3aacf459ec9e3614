//! Building a replay's cluster and pods: from the openb node and pod lists (the trace
//! itself, `creation_time` and `deletion_time` kept), from a validated fabric, and from a
//! seeded arrival process. Problems are returned as diagnostics (FP980-FP982).

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::formats::openb::{OpenbNode, OpenbPod};

use super::{Cluster, NodeSpec, PodSpec, Rng};

/// The pods of a trace, with the tenant names their `tenant` indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub pods: Vec<PodSpec>,
    pub tenants: Vec<String>,
}

/// A cluster from the openb node list (GPU nodes; the list's order is the tie order).
pub fn cluster_from_openb(nodes: &[OpenbNode]) -> Cluster {
    let models: Vec<String> = nodes
        .iter()
        .map(|n| n.model.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Cluster {
        nodes: nodes
            .iter()
            .map(|n| NodeSpec {
                name: n.name.clone(),
                model: models.iter().position(|m| *m == n.model).expect("listed") as u16,
                gpus: n.gpus,
                cpu_milli: n.cpu_milli,
                memory_mib: n.memory_mib,
            })
            .collect(),
        models,
    }
}

/// A cluster from a validated fabric: every node with GPUs, its template's GPU model, GPU
/// count, CPU and memory (not limited when the template does not say).
pub fn cluster_from_fabric(fabric: &crate::model::Fabric) -> Cluster {
    let models: Vec<String> = fabric
        .templates
        .iter()
        .filter(|t| t.gpus > 0)
        .map(|t| t.gpu_model.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let nodes = fabric
        .nodes
        .iter()
        .filter_map(|n| {
            let t = &fabric.templates[n.template.0 as usize];
            (t.gpus > 0).then(|| NodeSpec {
                name: n.name.clone(),
                model: models
                    .iter()
                    .position(|m| *m == t.gpu_model)
                    .expect("listed") as u16,
                gpus: t.gpus,
                cpu_milli: t.cpu_millicores.unwrap_or(u64::MAX / 4),
                memory_mib: t.memory_mib.unwrap_or(u64::MAX / 4),
            })
        })
        .collect();
    Cluster { models, nodes }
}

/// The pods of an openb pod list against `cluster`. A `gpu_spec` code matches a model of
/// the cluster by name or by its catalog key (`G2` or `openb-g2`). Diagnostics:
/// FP980 (a warning; the pod is kept) for a pod no empty node of the cluster could ever hold, FP981 for a pod that is
/// deleted before it is created, FP982 for a multi-GPU pod asking part of each GPU.
pub fn pods_from_openb(pods: &[OpenbPod], cluster: &Cluster) -> (Trace, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let tenants: Vec<String> = pods
        .iter()
        .map(|p| p.qos.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for p in pods {
        let mut models = 0u64;
        for code in &p.gpu_spec {
            let key = crate::formats::openb::model_key(code);
            if let Some(m) = cluster.models.iter().position(|m| m == code || *m == key) {
                models |= 1u64 << m;
            }
        }
        if p.num_gpu > 1 && p.gpu_milli < super::MILLI {
            diags.push(
                Diagnostic::error(
                    "FP982",
                    format!(
                        "pod `{}` asks {} GPUs of {} thousandths each",
                        p.name, p.num_gpu, p.gpu_milli
                    ),
                )
                .at(p.span, "this pod")
                .help("a shared GPU serves one pod's share; ask `num_gpu: 1` with a share, or whole GPUs (`gpu_milli: 1000`)"),
            );
            continue;
        }
        if let (Some(c), Some(d)) = (p.creation_time, p.deletion_time) {
            if d < c {
                diags.push(
                    Diagnostic::error(
                        "FP981",
                        format!(
                            "pod `{}` is deleted at {d} s, before it is created at {c} s",
                            p.name
                        ),
                    )
                    .at(p.span, "this pod")
                    .help("`deletion_time` is at or after `creation_time` (seconds since the trace start)"),
                );
                continue;
            }
        }
        let pod = PodSpec {
            name: p.name.clone(),
            tenant: tenants.iter().position(|t| *t == p.qos).expect("listed") as u16,
            cpu_milli: p.cpu_milli,
            memory_mib: p.memory_mib,
            num_gpu: p.num_gpu,
            gpu_milli: if p.num_gpu == 0 { 0 } else { p.gpu_milli },
            models: if p.gpu_spec.is_empty() || p.num_gpu == 0 {
                0
            } else if models == 0 {
                // No model of the cluster matches: the pod can run nowhere (FP980 below).
                u64::MAX
            } else {
                models
            },
            arrival_s: p.creation_time,
            duration_s: match (p.creation_time, p.deletion_time) {
                (Some(c), Some(d)) => Some(d - c),
                _ => None,
            },
        };
        if !ever_fits(cluster, &pod) {
            diags.push(
                Diagnostic::new(
                    "FP980",
                    crate::diag::Severity::Warning,
                    format!(
                        "pod `{}` fits no node of the cluster even when the cluster is empty",
                        p.name
                    ),
                )
                .at(p.span, "this pod")
                .help(format!(
                    "it asks {} GPU(s) of {} thousandths{}, {} milli-CPU and {} MiB; the largest node has {} GPUs, {} milli-CPU and {} MiB",
                    pod.num_gpu,
                    pod.gpu_milli,
                    if p.gpu_spec.is_empty() { String::new() } else { format!(" on {}", p.gpu_spec.join("|")) },
                    pod.cpu_milli,
                    pod.memory_mib,
                    cluster.nodes.iter().map(|n| n.gpus).max().unwrap_or(0),
                    cluster.nodes.iter().map(|n| n.cpu_milli).max().unwrap_or(0),
                    cluster.nodes.iter().map(|n| n.memory_mib).max().unwrap_or(0),
                )),
            );
        }
        out.push(pod);
    }
    (Trace { pods: out, tenants }, diags)
}

/// Whether some node of the empty cluster holds `pod`.
pub fn ever_fits(cluster: &Cluster, pod: &PodSpec) -> bool {
    cluster.nodes.iter().any(|n| {
        n.cpu_milli >= pod.cpu_milli
            && n.memory_mib >= pod.memory_mib
            && (pod.num_gpu == 0 || (pod.may_use(n.model) && n.gpus >= pod.num_gpu))
    })
}

/// A seeded arrival process over the shapes of `shapes`: Poisson arrivals at
/// `rate_per_hour`, each pod's shape drawn uniformly from the list (with replacement), its
/// run time exponential with mean `mean_duration_s`; `count` pods.
pub fn generated(
    shapes: &Trace,
    count: usize,
    rate_per_hour: f64,
    mean_duration_s: f64,
    seed: u64,
) -> Trace {
    let mut rng = Rng::new(seed);
    let mut t = 0.0f64;
    let mut pods = Vec::with_capacity(count);
    if shapes.pods.is_empty() {
        return Trace {
            pods,
            tenants: shapes.tenants.clone(),
        };
    }
    for k in 0..count {
        // Inverse-CDF draws; 1 - unit() is in (0, 1], so ln is finite.
        t += -(1.0 - rng.unit()).ln() * 3600.0 / rate_per_hour;
        let shape = &shapes.pods[rng.below(shapes.pods.len() as u64) as usize];
        let run = (-(1.0 - rng.unit()).ln() * mean_duration_s)
            .round()
            .max(1.0);
        pods.push(PodSpec {
            name: format!("gen-{k:06}"),
            arrival_s: Some(t.floor() as u64),
            duration_s: Some(run as u64),
            ..shape.clone()
        });
    }
    Trace {
        pods,
        tenants: shapes.tenants.clone(),
    }
}

/// The pods of a validated demand with arrivals (`fabplan replay --demand`): each replica of
/// each workload one pod at the workload's `arrival`, running its `duration`; `timed` gives
/// every workload of the file (name, where it is written, timing), FP989 already checked.
/// Whole-GPU workloads ask their GPUs on one node (a training gang its total, with CPU and
/// memory per GPU); shares their thousandths of one GPU; host-only workloads CPU and memory.
/// The GPU models are the workload's eligible ones on the cluster. Diagnostics: FP980 (a
/// warning; left out of the timeline) for a workload no empty node could hold, FP803 for one
/// the replay cannot express (MIG instances, or a size that differs between GPU models).
pub fn pods_from_demand(
    demand: &crate::model::demand::Demand,
    timed: &[(
        String,
        Option<crate::diag::Span>,
        crate::load::arrivals::Timing,
    )],
    cluster: &Cluster,
) -> (Trace, Vec<Diagnostic>) {
    use crate::model::demand::Unit;
    let mut diags = Vec::new();
    let tenants: Vec<String> = demand.tenants.iter().map(|t| t.name.clone()).collect();
    let find = |name: &str| timed.iter().find(|(n, _, _)| n == name);
    // (file position, pods): pods listed in the file's order of workloads.
    let mut by_position: Vec<(usize, Vec<PodSpec>)> = Vec::new();
    let mut push = |name: &str, replicas: u32, base: PodSpec, diags: &mut Vec<Diagnostic>| {
        let pos = timed
            .iter()
            .position(|(n, _, _)| n == name)
            .expect("validated");
        let (_, span, timing) = find(name).expect("validated");
        let pod = PodSpec {
            arrival_s: timing.arrival_s,
            duration_s: timing.duration_s,
            ..base
        };
        if !ever_fits(cluster, &pod) {
            diags.push(
                Diagnostic::new(
                    "FP980",
                    crate::diag::Severity::Warning,
                    format!("workload `{name}` fits no node of the cluster even when the cluster is empty"),
                )
                .at_opt(*span, "this workload")
                .help("a replica runs on one node: it is left out of the replay"),
            );
        }
        let pods = (0..replicas)
            .map(|r| PodSpec {
                name: if replicas == 1 {
                    name.to_string()
                } else {
                    format!("{name}-{r}")
                },
                ..pod.clone()
            })
            .collect();
        by_position.push((pos, pods));
    };
    for w in &demand.workloads {
        let mut units = w.units.values();
        let first = units.next().copied();
        let same = units.all(|u| Some(*u) == first);
        let (num_gpu, gpu_milli) = match (first, same) {
            (Some(Unit::Gpus(n)), true) => (n, super::MILLI),
            (Some(Unit::Share { milli, .. }), true) => (1, milli as u32),
            _ => {
                let (_, span, _) = find(&w.name).expect("validated");
                diags.push(
                    Diagnostic::error(
                        "FP803",
                        format!("workload `{}`: replay places whole GPUs or shares, the same on every GPU model", w.name),
                    )
                    .at_opt(*span, "this workload")
                    .help("give `size: {gpus: N}`, `{gpu_milli: N}` or `{fraction: F}` (MIG instances and model-derived sizes are planned by `fabplan plan`, not replayed)"),
                );
                continue;
            }
        };
        let mut models = 0u64;
        for key in w.units.keys() {
            if let Some(m) = cluster.models.iter().position(|c| c == key) {
                models |= 1u64 << m;
            }
        }
        // Training: CPU and memory are per GPU of the gang.
        let per = if w.gang.is_some() { num_gpu as u64 } else { 1 };
        push(
            &w.name,
            w.replicas,
            PodSpec {
                name: String::new(),
                tenant: w.tenant.0 as u16,
                cpu_milli: w.cpu_millicores * per,
                memory_mib: w.memory_mib * per,
                num_gpu,
                gpu_milli,
                models: if models == 0 { u64::MAX } else { models },
                arrival_s: None,
                duration_s: None,
            },
            &mut diags,
        );
    }
    for h in &demand.host_workloads {
        push(
            &h.name,
            h.replicas,
            PodSpec {
                name: String::new(),
                tenant: h.tenant.0 as u16,
                cpu_milli: h.cpu_millicores,
                memory_mib: h.memory_mib,
                num_gpu: 0,
                gpu_milli: 0,
                models: 0,
                arrival_s: None,
                duration_s: None,
            },
            &mut diags,
        );
    }
    by_position.sort_by_key(|(p, _)| *p);
    (
        Trace {
            pods: by_position.into_iter().flat_map(|(_, p)| p).collect(),
            tenants,
        },
        diags,
    )
}
