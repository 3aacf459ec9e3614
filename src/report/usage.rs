//! What a plan uses: GPU-equivalents per GPU, per workload and tenant, read from a plan
//! document written by `fabplan plan --format json|yaml` (docs/demand-format.md, "Plan
//! document keys"). A whole GPU is 1, a MIG instance its compute slices over the GPU's
//! (`3g.40gb` on a 7-slice GPU: 3/7), a time-sliced share its `gpu_milli` / 1000. A
//! host-only workload's replicas (`hosts:`) hold no GPU: their node, CPU and memory are kept
//! for the host section (`report::host`).

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::model::*;
use crate::schema::plan::PlanDocument;

/// One workload's share of the fabric.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadUsage {
    pub name: String,
    pub tenant: String,
    pub kind: String,
    pub admitted: bool,
    /// GPU-equivalents per GPU model.
    pub gpu_equivalents: BTreeMap<String, f64>,
    /// The GPUs it touches, one per assignment (a GPU twice for two instances on it).
    pub gpus: Vec<GpuId>,
    /// A host-only workload's replicas, as placed.
    pub hosts: Vec<HostReplica>,
}

/// One replica of a host-only workload: its node and what it takes there.
#[derive(Debug, Clone, PartialEq)]
pub struct HostReplica {
    pub node: NodeId,
    pub cpu_millicores: u64,
    pub memory_mib: u64,
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

/// A plan document's use of fabric `f`. The document is validated first
/// (`load::state::read_state`): names that are not GPUs of `f` or instances of their model
/// are skipped here, never guessed (so are `hosts` on an unknown node or with a negative
/// value: FP837, FP838).
pub fn from_document(doc: &PlanDocument, f: &Fabric) -> Usage {
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
    for w in &doc.workloads {
        let mut eq: BTreeMap<String, f64> = BTreeMap::new();
        let mut gpus = Vec::new();
        for a in &w.assignments {
            let Some(g) = gpu_id(f, &node_index, &a.gpu.value) else {
                continue;
            };
            let model = &f.template_of(f.gpus[g.index()].node).gpu_model;
            let share = match (&a.instance, &a.gpu_milli) {
                (Some(inst), _) => {
                    let Some((profile, start)) = inst
                        .value
                        .rsplit_once('@')
                        .and_then(|(p, s)| Some((p, s.parse::<u8>().ok()?)))
                    else {
                        continue;
                    };
                    let Some(table) = f
                        .gpu_model(model)
                        .or_else(|| Catalog::builtin().gpu(model))
                        .and_then(|m| m.mig.as_ref())
                    else {
                        continue;
                    };
                    let Some(p) = table.profile_index(profile) else {
                        continue;
                    };
                    assigned_instances[g.index()].push((profile.to_string(), start));
                    table.profile(p).compute_slices as f64 / table.compute_slices as f64
                }
                (None, Some(milli)) => {
                    time_sliced[g.index()] = true;
                    milli.value as f64 / 1000.0
                }
                (None, None) => 1.0,
            };
            used[g.index()] += share;
            *eq.entry(model.clone()).or_default() += share;
            gpus.push(g);
        }
        let hosts = w
            .hosts
            .iter()
            .filter_map(|h| {
                Some(HostReplica {
                    node: *node_index.get(h.node.value.as_str())?,
                    cpu_millicores: u64::try_from(h.cpu_millicores.value).ok()?,
                    memory_mib: u64::try_from(h.memory_mib.value).ok()?,
                })
            })
            .collect();
        workloads.push(WorkloadUsage {
            name: w.name.value.clone(),
            tenant: w.tenant.clone().unwrap_or_else(|| "-".into()),
            kind: w.kind.clone().unwrap_or_else(|| "-".into()),
            admitted: w.admitted,
            gpu_equivalents: eq,
            gpus,
            hosts,
        });
    }
    let mut mig_layouts = Vec::new();
    for g in &doc.gpus {
        let Some(layout) = g.mig.as_ref().filter(|m| !m.value.trim().is_empty()) else {
            continue;
        };
        let Some(id) = gpu_id(f, &node_index, &g.gpu.value) else {
            continue;
        };
        let slots = layout
            .value
            .split_whitespace()
            .filter_map(|word| {
                word.rsplit_once('@')
                    .and_then(|(p, s)| s.parse::<u8>().ok().map(|s| (p.to_string(), s)))
            })
            .collect();
        mig_layouts.push((id, slots));
    }
    Usage {
        used,
        workloads,
        mig_layouts,
        assigned_instances,
        time_sliced,
    }
}

fn gpu_id(f: &Fabric, nodes: &BTreeMap<&str, NodeId>, text: &str) -> Option<GpuId> {
    let (node, idx) = text.rsplit_once('/')?;
    let n = *nodes.get(node)?;
    let i: u32 = idx.parse().ok().filter(|i| *i < f.template_of(n).gpus)?;
    Some(GpuId(f.nodes[n.index()].first_gpu.0 + i))
}
