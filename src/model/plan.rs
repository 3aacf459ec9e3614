//! A plan's placements, span-free: what a workload holds on each GPU and the current state
//! (`--current`) the planner starts from. `load::state` builds these from a plan document;
//! the planner reads and produces them.

use std::collections::{BTreeMap, BTreeSet};

use crate::mig::Placement;
use crate::model::{GpuId, NodeId};

/// What a workload holds on one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hold {
    Whole,
    Mig(Placement),
    /// A time-sliced share, thousandths of the GPU.
    Share(u16),
}

/// One GPU (the fabric's `GpuId`, an index into `Fabric::gpus`) and what is held on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Assignment {
    pub gpu: GpuId,
    pub hold: Hold,
}

/// Where workloads run now and each GPU's MIG layout (`--current`).
#[derive(Debug, Clone, Default)]
pub struct Current {
    /// Running workloads (by name; a name may be absent from the demand) and their GPUs.
    pub running: BTreeMap<String, Vec<Assignment>>,
    /// Current MIG layouts by GPU.
    pub mig: BTreeMap<GpuId, Vec<Placement>>,
    /// Partially frozen workloads (what-if: replicas lost with a failed node): `running`
    /// lists only their surviving replicas. Under `--freeze` those stay exactly where they
    /// are and the missing replicas are placed like any replica; a plan from `--current`
    /// has none.
    pub partial: BTreeSet<String>,
    /// Running host-only workloads (by name) and the fabric node of each replica.
    pub hosts: BTreeMap<String, Vec<NodeId>>,
}
