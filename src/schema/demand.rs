//! Raw demand files: what serde reads (current states and plans: `schema::plan`). `plan::demand` validates them into
//! the span-free `Demand`. Keys are documented in docs/demand-format.md.
//!
//! Values a diagnostic can point at are `Spanned` (names, references, enumerated words,
//! sizes); a state read from JSON through serde_json gets unknown locations, which the
//! diagnostics skip (`source::known_span_of`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDemand {
    /// Path to the fabric, relative to the demand file; `--fabric` overrides it.
    #[serde(default)]
    pub fabric: Option<String>,
    #[serde(default)]
    pub pricing: RawPricing,
    #[serde(default)]
    pub weights: RawWeights,
    /// Priority classes: name -> weight (defaults: critical 8, high 4, normal 2, low 1).
    #[serde(default)]
    pub priority_classes: BTreeMap<String, f64>,
    pub tenants: Vec<RawTenant>,
    #[serde(default)]
    pub workloads: Vec<RawWorkload>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPricing {
    /// USD per GPU-hour by catalog key (`h100-80gb: 3.0`).
    #[serde(default)]
    pub gpu_usd_per_hour: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    pub power_usd_per_kwh: Option<Spanned<f64>>,
    #[serde(default)]
    pub pue: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeights {
    pub value: Option<Spanned<f64>>,
    pub cost_per_usd: Option<Spanned<f64>>,
    pub communication: Option<Spanned<f64>>,
    pub stranded: Option<Spanned<f64>>,
    pub disruption: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub name: Spanned<String>,
    #[serde(default)]
    pub budget_usd_per_hour: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_gpus: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_power_kw: Option<Spanned<f64>>,
    #[serde(default)]
    pub priority: Option<Spanned<String>>,
    /// `dedicated-node`, `dedicated-gpu`, `mig` or `shared`.
    pub isolation: Spanned<String>,
    /// `mig`: whether other tenants' instances may share a GPU (default false).
    #[serde(default)]
    pub co_tenancy: Option<bool>,
    /// `shared`: tenants this one may time-slice a GPU with (both must list each other).
    #[serde(default)]
    pub share_with: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub name: Spanned<String>,
    pub tenant: Spanned<String>,
    /// `training`, `inference` or `agent`.
    pub kind: Spanned<String>,
    /// A number, or a priority class name; default: the tenant's class.
    #[serde(default)]
    pub priority: Option<Spanned<RawPriority>>,
    #[serde(default)]
    pub required: bool,
    /// Catalog keys the workload may run on; default any.
    #[serde(default)]
    pub gpu_models: Vec<Spanned<String>>,
    // training
    #[serde(default)]
    pub gpus: Option<Spanned<u32>>,
    #[serde(default)]
    pub topology: Option<RawTopology>,
    #[serde(default)]
    pub collective: Option<RawCollective>,
    /// Host CPU (millicores) and memory (MiB) per replica, per GPU for a training gang.
    #[serde(default)]
    pub cpu_millicores: Option<Spanned<u64>>,
    #[serde(default)]
    pub memory_mib: Option<Spanned<u64>>,
    // inference
    #[serde(default)]
    pub replicas: Option<Spanned<u32>>,
    /// Elastic: admitted with any count from this to `replicas` (default: all of them).
    #[serde(default)]
    pub min_replicas: Option<Spanned<u32>>,
    /// All replicas on one GPU model (default false: replicas may mix `gpu_models`).
    #[serde(default)]
    pub same_model: Option<Spanned<bool>>,
    #[serde(default)]
    pub size: Option<Spanned<RawSize>>,
    #[serde(default)]
    pub model: Option<RawModelSpec>,
    // agent
    #[serde(default)]
    pub tasks_per_hour: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_tokens: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_steps: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_tool_calls: Option<Spanned<f64>>,
    #[serde(default)]
    pub tokens_per_gpu_second: Option<Spanned<f64>>,
    #[serde(default)]
    pub gpu_seconds_per_tool_call: Option<Spanned<f64>>,
    // replay (`fabplan replay --demand`; `plan` ignores them): `load::arrivals`
    /// When the workload arrives: seconds since the trace start, or an RFC 3339 time.
    #[serde(default)]
    pub arrival: Option<Spanned<RawTime>>,
    /// How long it runs once started: seconds, or a number with a unit (`90m`, `2h`).
    #[serde(default)]
    pub duration: Option<Spanned<RawTime>>,
}

/// A time or a duration as written: a number (seconds) or a text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawTime {
    Seconds(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawPriority {
    Number(f64),
    Class(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopology {
    /// `nvlink`, `leaf`, `su` or `fabric`.
    pub required: Spanned<String>,
    #[serde(default)]
    pub preferred: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCollective {
    pub bytes_per_step: Spanned<f64>,
    pub steps_per_hour: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSize {
    #[serde(default)]
    pub gpus: Option<Spanned<u32>>,
    #[serde(default)]
    pub mig: Option<Spanned<String>>,
    /// A time-sliced share as a fraction of one GPU's compute, `0 < f < 1`, in thousandths
    /// (`0.46`); or the same in thousandths (`gpu_milli: 460`, the openb trace's unit).
    #[serde(default)]
    pub fraction: Option<Spanned<f64>>,
    #[serde(default)]
    pub gpu_milli: Option<Spanned<u32>>,
    /// GPU memory one share needs (GiB); shares on a GPU fit within its memory.
    #[serde(default)]
    pub gpu_memory_gib: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModelSpec {
    /// Parameters in billions.
    pub parameters_b: Spanned<f64>,
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    /// `fp32`, `bf16`, `fp16`, `fp8`, `int8`, `fp4`, `int4`.
    pub dtype: Spanned<String>,
    pub context_tokens: u64,
    pub concurrent_sequences: u32,
}
