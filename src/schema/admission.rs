//! Raw admission policy files (`fabplan admit --policy`), what serde reads; `load::admission`
//! validates them into `model::admission::Policy`. Keys are in docs/admission.md.
//!
//! Tenants and agents are lists with a `name` / `workload` key (as in the demand), so every
//! name a diagnostic points at keeps its span. Numbers are read as `f64` so that a negative
//! or fractional count is a located FP722, not a type error.

use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// `p50`, `p90`, `p95` or `p99` (default `p95`).
    #[serde(default)]
    pub percentile: Option<Spanned<String>>,
    #[serde(default)]
    pub tenants: Vec<RawTenantPolicy>,
    #[serde(default)]
    pub agents: Vec<RawAgentPolicy>,
}

/// A value per workload type.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPerKind {
    #[serde(default)]
    pub training: Option<Spanned<f64>>,
    #[serde(default)]
    pub inference: Option<Spanned<f64>>,
    #[serde(default)]
    pub agent: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenantPolicy {
    pub name: Spanned<String>,
    /// USD per hour per type, chargeback basis (docs/cost.md).
    #[serde(default)]
    pub budgets_usd_per_hour: RawPerKind,
    /// Priority per type (a number above 0); default the workload's own.
    #[serde(default)]
    pub priorities: RawPerKind,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    #[serde(default)]
    pub max_steps: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_tokens: Option<Spanned<f64>>,
    #[serde(default)]
    pub max_tool_calls: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToolCall {
    #[serde(default)]
    pub result_tokens: Option<Spanned<f64>>,
    #[serde(default)]
    pub gpu_seconds: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUsage {
    /// The usage log's `project` of the agent's runs (default: the workload's name).
    #[serde(default)]
    pub project: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogNormal {
    pub median_gpu_seconds: Spanned<f64>,
    pub p99_gpu_seconds: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgentPolicy {
    /// The demand's agent workload.
    pub workload: Spanned<String>,
    /// The demand's inference workload (with `model:`) that serves the agent's steps.
    pub serve: Spanned<String>,
    #[serde(default)]
    pub gpu_model: Option<Spanned<String>>,
    #[serde(default)]
    pub percentile: Option<Spanned<String>>,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub tool_call: RawToolCall,
    #[serde(default)]
    pub tool_calls_per_task: Option<Spanned<f64>>,
    // The cost per task: exactly one of the three.
    #[serde(default)]
    pub usage: Option<Spanned<RawUsage>>,
    #[serde(default)]
    pub lognormal: Option<Spanned<RawLogNormal>>,
    #[serde(default)]
    pub empirical_gpu_seconds: Option<Spanned<Vec<f64>>>,
}
