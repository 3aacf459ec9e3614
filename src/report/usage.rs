//! What a plan uses: GPU-equivalents per GPU, per workload and tenant, read from a plan
//! document written by `fabplan plan --format json|yaml` (docs/demand-format.md, "Plan
//! document keys"). A whole GPU is 1, a MIG instance its compute slices over the GPU's
//! (`3g.40gb` on a 7-slice GPU: 3/7), a time-sliced share its fraction.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::*;

#[derive(Debug, Deserialize)]
struct PlanDoc {
    #[serde(default)]
    workloads: Vec<PlanWorkload>,
    #[serde(default)]
    gpus: Vec<PlanGpu>,
}

#[derive(Debug, Deserialize)]
struct PlanGpu {
    gpu: String,
    #[serde(default)]
    mig: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PlanWorkload {
    name: String,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default = "yes")]
    admitted: bool,
    #[serde(default)]
    assignments: Vec<PlanAssignment>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct PlanAssignment {
    gpu: String,
    #[serde(default)]
    instance: Option<String>,
    #[serde(default)]
    fraction: Option<f64>,
    /// A share in thousandths (the plan's unit; `fraction` is read for older plans).
    #[serde(default)]
    gpu_milli: Option<u32>,
}

/// One workload's share of the fabric.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadUsage {
    pub name: String,
    pub tenant: String,
    pub kind: String,
    pub admitted: bool,
    /// GPU-equivalents per GPU model.
    pub gpu_equivalents: BTreeMap<String, f64>,
    /// The GPUs it touches.
    pub gpus: Vec<GpuId>,
}

/// A plan's use of a fabric.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    /// GPU-equivalents in use per GPU (0..=1).
    pub used: Vec<f64>,
    pub workloads: Vec<WorkloadUsage>,
    /// MIG layouts of the plan's MIG GPUs: (GPU, [(profile, start)]), in plan order.
    pub mig_layouts: Vec<(GpuId, Vec<(String, u8)>)>,
    /// MIG instances workloads hold, per GPU: (profile, start).
    pub assigned_instances: Vec<Vec<(String, u8)>>,
    /// The GPU holds time-sliced shares (`fraction` assignments).
    pub time_sliced: Vec<bool>,
}

impl Usage {
    pub fn busy(&self, g: GpuId) -> bool {
        self.used[g.index()] > 1e-9
    }
}

/// Reads a plan document (JSON or YAML) against the fabric. Errors are sentences for exit 2.
pub fn read_plan(text: &str, f: &Fabric) -> Result<Usage, String> {
    let doc: PlanDoc = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| format!("not a plan document: {e}"))?
    } else {
        serde_saphyr::from_str(text).map_err(|e| format!("not a plan document: {e}"))?
    };
    let node_index: BTreeMap<&str, NodeId> = f
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), NodeId::from_index(i)))
        .collect();
    let mut used = vec![0.0; f.gpus.len()];
    let mut assigned_instances: Vec<Vec<(String, u8)>> = vec![Vec::new(); f.gpus.len()];
    let mut time_sliced = vec![false; f.gpus.len()];
    let mut workloads = Vec::new();
    for w in doc.workloads {
        let mut eq: BTreeMap<String, f64> = BTreeMap::new();
        let mut gpus = Vec::new();
        for a in &w.assignments {
            let (node, idx) = a.gpu.rsplit_once('/').ok_or_else(|| {
                format!("workload `{}`: GPU `{}` is not NODE/INDEX", w.name, a.gpu)
            })?;
            let n = *node_index.get(node).ok_or_else(|| {
                format!(
                    "workload `{}`: node `{node}` is not in fabric `{}`",
                    w.name, f.name
                )
            })?;
            let t = f.template_of(n);
            let i: u32 = idx.parse().ok().filter(|i| *i < t.gpus).ok_or_else(|| {
                format!(
                    "workload `{}`: `{}` is not a GPU of node `{node}`",
                    w.name, a.gpu
                )
            })?;
            let g = GpuId(f.nodes[n.index()].first_gpu.0 + i);
            let share = match (
                &a.instance,
                a.gpu_milli.map(|m| m as f64 / 1000.0).or(a.fraction),
            ) {
                (Some(inst), _) => {
                    let profile = inst.split('@').next().unwrap_or(inst);
                    if let Some(start) = inst
                        .rsplit_once('@')
                        .and_then(|(_, s)| s.parse::<u8>().ok())
                    {
                        assigned_instances[g.index()].push((profile.to_string(), start));
                    }
                    let slices: f64 = profile
                        .split('g')
                        .next()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| {
                            format!(
                                "workload `{}`: MIG instance `{inst}` has no `Ng` size",
                                w.name
                            )
                        })?;
                    let total = f
                        .gpu_model(&t.gpu_model)
                        .and_then(|m| m.mig.as_ref())
                        .map(|m| m.compute_slices as f64)
                        .unwrap_or(7.0);
                    slices / total
                }
                (None, Some(fr)) => {
                    time_sliced[g.index()] = true;
                    fr
                }
                (None, None) => 1.0,
            };
            used[g.index()] += share;
            *eq.entry(t.gpu_model.clone()).or_default() += share;
            gpus.push(g);
        }
        workloads.push(WorkloadUsage {
            name: w.name,
            tenant: w.tenant.unwrap_or_else(|| "-".into()),
            kind: w.kind.unwrap_or_else(|| "-".into()),
            admitted: w.admitted,
            gpu_equivalents: eq,
            gpus,
        });
    }
    for (i, u) in used.iter().enumerate() {
        if *u > 1.0 + 1e-6 {
            let g = &f.gpus[i];
            return Err(format!(
                "GPU `{}/{}` is used {u:.3} times over in the plan",
                f.nodes[g.node.index()].name,
                g.index
            ));
        }
    }
    let mut mig_layouts = Vec::new();
    for g in doc.gpus {
        let Some(layout) = g.mig.filter(|m| !m.trim().is_empty()) else {
            continue;
        };
        let Some(id) = gpu_id(f, &node_index, &g.gpu) else {
            return Err(format!(
                "GPU `{}` of the plan is not in fabric `{}`",
                g.gpu, f.name
            ));
        };
        let mut slots = Vec::new();
        for word in layout.split_whitespace() {
            let (profile, start) = word
                .rsplit_once('@')
                .and_then(|(p, s)| s.parse::<u8>().ok().map(|s| (p.to_string(), s)))
                .ok_or_else(|| format!("GPU `{}`: `{word}` is not PROFILE@START", g.gpu))?;
            slots.push((profile, start));
        }
        mig_layouts.push((id, slots));
    }
    Ok(Usage {
        used,
        workloads,
        mig_layouts,
        assigned_instances,
        time_sliced,
    })
}

fn gpu_id(f: &Fabric, nodes: &BTreeMap<&str, NodeId>, text: &str) -> Option<GpuId> {
    let (node, idx) = text.rsplit_once('/')?;
    let n = *nodes.get(node)?;
    let i: u32 = idx.parse().ok().filter(|i| *i < f.template_of(n).gpus)?;
    Some(GpuId(f.nodes[n.index()].first_gpu.0 + i))
}
