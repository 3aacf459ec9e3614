//! The plan document: what `fabplan plan --format json|yaml` writes and what `verify`,
//! `export mig-parted`, `report --plan` and `plan --current` read. One type for both
//! directions; the keys are listed in docs/demand-format.md ("Plan document keys").
//!
//! The values a diagnostic points at (workload and GPU names, MIG instances and layouts,
//! shares) are `Spanned`: serde-saphyr reads JSON as YAML and records byte spans, and
//! `Spanned` serializes as its bare value, so writing is unaffected. A document built by the
//! planner carries unknown locations ([`unspanned`]), which diagnostics skip.
//!
//! Reading is strict about keys (`deny_unknown_fields`: `asignments` or a `fraction` share is
//! an error) and lenient about presence: a current state written by hand may give only
//! `workloads` (name and assignments) and `gpus` (name and layout).

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_saphyr::{Location, Spanned};

/// A value with no source location (a document the planner built).
pub fn unspanned<T>(value: T) -> Spanned<T> {
    Spanned::new(value, Location::UNKNOWN, Location::UNKNOWN)
}

fn yes() -> bool {
    true
}

/// The plan document. `solve_seconds` is the one field that varies between runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanDocument {
    /// `optimal`, `feasible`, `time-limit` or `infeasible`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub solver: String,
    #[serde(default)]
    pub objective: f64,
    #[serde(default)]
    pub bound: Option<f64>,
    #[serde(default)]
    pub gap: Option<f64>,
    #[serde(default)]
    pub solve_seconds: f64,
    #[serde(default)]
    pub time_limit_seconds: f64,
    #[serde(default)]
    pub mip_gap: f64,
    #[serde(default)]
    pub bound_scope: String,
    #[serde(default)]
    pub objective_terms: ObjectiveTerms,
    #[serde(default)]
    pub summary: Summary,
    /// Required workloads that cannot be placed, in sentences.
    #[serde(default)]
    pub infeasible: Vec<String>,
    #[serde(default)]
    pub workloads: Vec<PlanWorkload>,
    /// Each used GPU; unlisted GPUs are free.
    #[serde(default)]
    pub gpus: Vec<PlanGpu>,
    /// Chargeback USD per hour by tenant (list price + energy, `crate::model::cost`), in the
    /// demand's tenant order.
    #[serde(default)]
    pub cost_per_hour: TenantCosts,
    /// Present with `--current`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<PlanDiff>,
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveTerms {
    pub value: f64,
    pub cost: f64,
    pub communication: f64,
    pub stranded: f64,
    pub disruption: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub workloads: usize,
    pub admitted: usize,
    pub rejected: usize,
    pub priority_weighted_gpus: f64,
    pub gpus_total: usize,
    pub gpus_used: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanWorkload {
    pub name: Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(default = "yes")]
    pub admitted: bool,
    /// The GPU model the workload runs on (its first assignment's when it spans several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_model: Option<String>,
    /// Every GPU model the replicas run on, when more than one (each assignment then names
    /// its `gpu_model`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu_models: Vec<String>,
    /// Replicas admitted, for an elastic workload (`min_replicas` below `replicas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Replicas the demand asks for, for an elastic workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_requested: Option<u32>,
    /// The demand's `min_replicas`, for an elastic workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<u32>,
    /// GPU-equivalents held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<f64>,
    /// The tightest level a gang's GPUs share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<String>,
    /// Why a workload is not admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gib_per_replica: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_seconds_per_task: Option<f64>,
    #[serde(default)]
    pub assignments: Vec<PlanAssignment>,
    /// A host-only workload (`size: {gpus: 0}`): one entry per replica, on a node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<PlanHost>,
}

/// One replica of a host-only workload: the node it runs on and the CPU and host memory it
/// takes there. Signed so that a negative value is read and diagnosed (FP838).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanHost {
    pub node: Spanned<String>,
    pub cpu_millicores: Spanned<i64>,
    pub memory_mib: Spanned<i64>,
}

/// What a workload holds on one GPU: the whole GPU, a MIG instance, or a time-sliced share.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanAssignment {
    /// `node/index`, e.g. `dgx-001/3`.
    pub gpu: Spanned<String>,
    /// The GPU's model, written when the workload's replicas span several models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_model: Option<String>,
    /// `profile@start`, e.g. `1g.10gb@3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<Spanned<String>>,
    /// A time-sliced share in thousandths of a GPU (1..=1000). Signed so that a negative
    /// value is read and diagnosed rather than rejected as a type error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_milli: Option<Spanned<i64>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanGpu {
    pub gpu: Spanned<String>,
    /// `whole`, `mig` or `shared`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Spanned<String>>,
    /// The MIG layout as `profile@start` words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mig: Option<Spanned<String>>,
    /// The sum of the time-sliced shares, in thousandths of a GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_gpu_milli: Option<u32>,
    #[serde(default)]
    pub workloads: Vec<String>,
}

/// New placements, moves, evictions and MIG re-partitions, as ordered steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanDiff {
    #[serde(default)]
    pub new_placements: Vec<NewPlacement>,
    #[serde(default)]
    pub moves: Vec<Move>,
    #[serde(default)]
    pub evictions: Vec<Eviction>,
    #[serde(default)]
    pub repartitions: Vec<Repartition>,
    #[serde(default)]
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPlacement {
    pub workload: String,
    pub gpus: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Move {
    pub workload: String,
    pub from: Vec<String>,
    pub to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eviction {
    pub workload: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repartition {
    pub gpu: String,
    /// The layout before (`None`: not partitioned).
    pub from: Option<String>,
    /// The layout after (`None`: whole).
    pub to: Option<String>,
    /// Workloads running on the GPU that must stop first.
    pub drain: Vec<String>,
}

/// Tenant -> USD per hour, kept in the order written (the demand's tenant order), so the
/// document's bytes do not depend on tenant names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantCosts(pub Vec<(String, f64)>);

impl TenantCosts {
    pub fn get(&self, tenant: &str) -> Option<f64> {
        self.0.iter().find(|(t, _)| t == tenant).map(|(_, v)| *v)
    }
}

impl Serialize for TenantCosts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for TenantCosts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TenantCosts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of tenant to USD per hour")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<TenantCosts, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, f64>()? {
                    out.push((k, v));
                }
                Ok(TenantCosts(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The keys of a demand file that a plan never has: their presence means the user passed a
/// demand where a plan or current state was expected.
#[derive(Debug, Default, Deserialize)]
pub struct DemandProbe {
    #[serde(default)]
    pub tenants: Option<Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    pub fabric: Option<Spanned<serde::de::IgnoredAny>>,
    #[serde(default)]
    pub pricing: Option<Spanned<serde::de::IgnoredAny>>,
}
