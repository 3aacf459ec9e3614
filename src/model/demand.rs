//! The validated demand: tenants, workloads sized per GPU model, pricing and weights.
//! Span-free, no IO; built by `load::demand` from `schema::demand::RawDemand` against a loaded
//! fabric and the catalog. The planner and the report both read it.

use std::collections::BTreeMap;

use crate::mig::ProfileIdx;
use crate::model::TenantId;

/// A topology level a gang must (or would like to) stay inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// One NVLink domain (an HGX board or an NVL72 rack).
    Nvlink = 0,
    /// One leaf group: nodes cabled to the same set of leaves (a rail group).
    Leaf = 1,
    /// One scalable unit.
    Su = 2,
    /// Anywhere on the fabric.
    Fabric = 3,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Nvlink, Level::Leaf, Level::Su, Level::Fabric];

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "nvlink" => Some(Level::Nvlink),
            "leaf" | "rail-group" => Some(Level::Leaf),
            "su" | "scalable-unit" => Some(Level::Su),
            "fabric" => Some(Level::Fabric),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Nvlink => "nvlink",
            Level::Leaf => "leaf",
            Level::Su => "su",
            Level::Fabric => "fabric",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Level::Nvlink => "NVLink domain",
            Level::Leaf => "leaf group",
            Level::Su => "scalable unit",
            Level::Fabric => "fabric",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Isolation {
    /// Whole nodes: no other tenant on a node this tenant uses.
    DedicatedNode,
    /// Whole GPUs, never shared.
    DedicatedGpu,
    /// MIG instances (hardware-isolated); `co_tenancy` lets other co-tenant tenants' instances
    /// share the GPU.
    Mig { co_tenancy: bool },
    /// Time-sliced fractions of a GPU, shared only within `group` (tenants that list each other).
    Shared,
}

impl Isolation {
    pub fn as_str(&self) -> &'static str {
        match self {
            Isolation::DedicatedNode => "dedicated-node",
            Isolation::DedicatedGpu => "dedicated-gpu",
            Isolation::Mig { .. } => "mig",
            Isolation::Shared => "shared",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub name: String,
    pub budget_usd_per_hour: Option<f64>,
    pub max_gpus: Option<f64>,
    pub max_power_kw: Option<f64>,
    pub priority: f64,
    pub isolation: Isolation,
    /// Tenants this one may time-slice a GPU with; both must list each other.
    pub share_with: Vec<TenantId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Training,
    Inference,
    Agent,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Training => "training",
            Kind::Inference => "inference",
            Kind::Agent => "agent",
        }
    }
}

/// What one replica takes on a GPU of a given model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    /// Whole GPUs inside one node (a gang's total for training).
    Gpus(u32),
    /// One MIG instance of this profile (index into the model's MIG table).
    Mig(ProfileIdx),
    /// A time-sliced share of one GPU in thousandths of its compute (1..=999, exact as
    /// asked), with the GPU memory it needs in MiB (0: not stated). The shares on one GPU
    /// fit when their thousandths sum to at most 1000 and their memory to at most the GPU's.
    Share { milli: u16, mem_mib: u32 },
}

impl Workload {
    /// Whether the workload may be admitted with fewer replicas than it asks for.
    pub fn is_elastic(&self) -> bool {
        self.gang.is_none() && self.min_replicas < self.replicas
    }

    /// Whether its replicas may land on different GPU models.
    pub fn may_mix_models(&self) -> bool {
        self.gang.is_none() && !self.same_model && self.units.len() > 1
    }
}

/// Thousandths of a GPU in one whole GPU.
pub const MILLI_PER_GPU: u32 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct Gang {
    pub required: Level,
    pub preferred: Level,
    pub bytes_per_step: f64,
    pub steps_per_hour: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub name: String,
    pub tenant: TenantId,
    pub kind: Kind,
    pub priority: f64,
    pub required: bool,
    /// Independent replicas (inference, agent); 1 for a training gang.
    pub replicas: u32,
    /// Elastic replicas: the workload may be admitted with any count from this to
    /// `replicas`, each replica worth its share of the value (`min_replicas: 0`: fully
    /// optional). Equal to `replicas` (all or nothing) unless the demand says otherwise;
    /// always 1 for a training gang.
    pub min_replicas: u32,
    /// All replicas on one GPU model (`same_model: true`); else replicas may land on
    /// different models of `units`, each sized for its model.
    pub same_model: bool,
    /// Per eligible GPU model (catalog key): what one replica takes.
    pub units: BTreeMap<String, Unit>,
    /// Training: all-or-nothing gang with topology levels.
    pub gang: Option<Gang>,
    /// Derived memory per replica (model spec), for the explanation.
    pub memory_gib: Option<f64>,
    /// Host CPU per replica (per GPU for a training gang), millicores; 0: none asked.
    pub cpu_millicores: u64,
    /// Host memory per replica (per GPU for a training gang), MiB; 0: none asked.
    pub memory_mib: u64,
    /// Agent: expected GPU-seconds per task.
    pub gpu_seconds_per_task: Option<f64>,
    pub tasks_per_hour: Option<f64>,
    /// The served model (`model:`), for the report's token economics.
    pub model: Option<ModelSpec>,
}

/// An inference workload's model (docs/demand-format.md, `workloads[].model`).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    pub parameters_b: f64,
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    /// Bytes per weight of the dtype (bf16 2, fp8 1, ...).
    pub bytes_per_param: f64,
    pub context_tokens: u64,
    pub concurrent_sequences: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// Per priority-weighted GPU admitted.
    pub value: f64,
    /// Per USD per hour spent.
    pub cost_per_usd: f64,
    /// Per GPU-hour per hour lost to all-reduce communication.
    pub communication: f64,
    /// Per GPU-equivalent left stranded on MIG or time-sliced GPUs.
    pub stranded: f64,
    /// Per running workload moved or evicted.
    pub disruption: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            value: 1.0,
            cost_per_usd: 0.01,
            communication: 1.0,
            stranded: 0.05,
            disruption: 2.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    pub gpu_usd_per_hour: BTreeMap<String, f64>,
    pub power_usd_per_kwh: f64,
    pub pue: f64,
}

/// Default on-demand prices (USD per GPU-hour), specialist-cloud midpoints, May 2026
/// (docs/sources.md §5); GB200 is half the quoted superchip price.
pub const DEFAULT_GPU_USD_PER_HOUR: &[(&str, f64)] = &[
    ("a100-40gb", 1.5),
    ("a100-80gb", 1.8),
    ("b200", 6.0),
    ("gb200", 4.54),
    ("h100-80gb", 3.0),
    ("h100-nvl-94gb", 3.0),
    ("h200-141gb", 4.0),
    ("rtx-pro-6000-blackwell", 1.8),
];

/// A host-only workload (`size: {gpus: 0}`): replicas that ask CPU and host memory of a
/// node and no GPU (the openb trace's CPU-only pods). Kept apart from `workloads`, which all
/// hold GPUs: the planner places these on nodes before the GPU work (`plan::host`), and a
/// plan lists each replica's node (`hosts:` in the plan document).
#[derive(Debug, Clone, PartialEq)]
pub struct HostWorkload {
    pub name: String,
    pub tenant: TenantId,
    pub kind: Kind,
    pub priority: f64,
    pub required: bool,
    pub replicas: u32,
    /// Per replica; at least one of the two is above 0 (FP835).
    pub cpu_millicores: u64,
    pub memory_mib: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    pub fabric: Option<String>,
    pub tenants: Vec<Tenant>,
    pub workloads: Vec<Workload>,
    /// Host-only workloads (no GPU), in demand order.
    pub host_workloads: Vec<HostWorkload>,
    pub pricing: Pricing,
    pub weights: Weights,
}

impl Demand {
    /// Tenant `t`.
    pub fn tenant(&self, t: TenantId) -> &Tenant {
        &self.tenants[t.index()]
    }

    pub fn tenant_index(&self, name: &str) -> Option<TenantId> {
        self.tenants
            .iter()
            .position(|t| t.name == name)
            .map(TenantId::from_index)
    }

    /// Whether tenants `a` and `b` may time-slice one GPU.
    pub fn may_share(&self, a: TenantId, b: TenantId) -> bool {
        a == b || (self.tenant(a).share_with.contains(&b) && self.tenant(b).share_with.contains(&a))
    }

    /// USD per GPU-hour for `model`, given the node's listed price when the demand has none.
    pub fn gpu_price(&self, model: &str) -> f64 {
        self.pricing
            .gpu_usd_per_hour
            .get(model)
            .copied()
            .unwrap_or(2.0)
    }
}
