//! What a plan uses: GPU-equivalents per GPU, per workload and tenant (span-free; built from
//! a plan document by `load::usage`, docs/demand-format.md "Plan document keys"). A whole GPU is 1, a MIG instance its compute slices over the GPU's
//! (`3g.40gb` on a 7-slice GPU: 3/7), a time-sliced share its `gpu_milli` / 1000. A
//! host-only workload's replicas (`hosts:`) hold no GPU: their node, CPU and memory are kept
//! for the host section (`report::host`).

use std::collections::BTreeMap;

use super::{GpuId, NodeId};

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
