//! The validated admission policy (docs/admission.md): budgets and priorities per tenant and
//! workload type, and per agent workload the limits enforced at the gate and where its cost
//! per task comes from (a usage log or a declared distribution). Span-free, no IO; built by
//! `load::admission` from `schema::admission::RawPolicy` against a validated demand.

use std::collections::BTreeMap;

use crate::model::demand::Kind;
use crate::model::TenantId;

/// A named percentile of the cost per task. Nearest rank on a list (the smallest value with
/// at least `p` of the values at or below it); the exact quantile on a lognormal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Percentile {
    P50,
    P90,
    P95,
    P99,
}

impl Percentile {
    pub const ALL: [Percentile; 4] = [
        Percentile::P50,
        Percentile::P90,
        Percentile::P95,
        Percentile::P99,
    ];

    pub fn parse(s: &str) -> Option<Percentile> {
        match s {
            "p50" => Some(Percentile::P50),
            "p90" => Some(Percentile::P90),
            "p95" => Some(Percentile::P95),
            "p99" => Some(Percentile::P99),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Percentile::P50 => "p50",
            Percentile::P90 => "p90",
            Percentile::P95 => "p95",
            Percentile::P99 => "p99",
        }
    }

    /// The percentile as a whole number of hundredths (50, 90, 95, 99): nearest rank is
    /// computed in integers from it, so no float rounding moves a rank.
    pub fn hundredths(self) -> u64 {
        match self {
            Percentile::P50 => 50,
            Percentile::P90 => 90,
            Percentile::P95 => 95,
            Percentile::P99 => 99,
        }
    }

    /// The standard normal quantile z_p (NIST/SEMATECH e-Handbook of Statistical Methods,
    /// section 1.3.6.7.1, table of the normal distribution; to 16 digits as computed by
    /// `scipy.stats.norm.ppf`).
    pub fn z(self) -> f64 {
        match self {
            Percentile::P50 => 0.0,
            Percentile::P90 => 1.281_551_565_544_600_4,
            Percentile::P95 => 1.644_853_626_951_472_2,
            Percentile::P99 => 2.326_347_874_040_840_8,
        }
    }
}

/// Limits an agent task is held to at the gate: before each step the task's counts so far
/// are compared with them, and the task stops when one is reached (docs/admission.md).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Limits {
    pub max_steps: Option<u64>,
    /// Input plus output tokens of the whole task.
    pub max_tokens: Option<u64>,
    pub max_tool_calls: Option<u64>,
}

/// What one tool call costs besides the LLM steps, for the tool what-if.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct ToolCall {
    /// Tokens a tool result adds to the prompt of the step that made the call.
    pub result_tokens: u64,
    /// GPU-seconds of the tool itself (a retrieval model, a code sandbox on a GPU).
    pub gpu_seconds: f64,
}

/// Where an agent's cost per task comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum CostSource {
    /// Runs in the usage log: records of the agent's tenant whose `project` is `project`
    /// and that carry an `agent_run_id`, grouped by run (one record = one step).
    Usage { project: String },
    /// Declared lognormal GPU-seconds per task, by its median and 99th percentile.
    LogNormal {
        median_gpu_seconds: f64,
        p99_gpu_seconds: f64,
    },
    /// Declared GPU-seconds per task, one value per observed task.
    Empirical { gpu_seconds: Vec<f64> },
}

/// One agent workload's policy.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentPolicy {
    /// The demand's agent workload (index into `Demand::workloads`).
    pub workload: usize,
    /// The demand's inference workload whose model serves the agent's LLM steps.
    pub serve: usize,
    /// The GPU model of `serve` its steps are priced on.
    pub gpu_model: String,
    /// The percentile this agent is admitted by (else the policy's).
    pub percentile: Option<Percentile>,
    pub limits: Limits,
    pub tool_call: ToolCall,
    /// Declared tool calls per task (a declared distribution has no steps to count).
    pub tool_calls_per_task: f64,
    pub cost: CostSource,
}

/// A tenant's budgets and priorities per workload type (USD per hour, chargeback basis).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TenantPolicy {
    pub budgets: BTreeMap<Kind, f64>,
    pub priorities: BTreeMap<Kind, f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The default percentile agents are admitted by.
    pub percentile: Percentile,
    /// By tenant of the demand.
    pub tenants: BTreeMap<TenantId, TenantPolicy>,
    /// In policy order.
    pub agents: Vec<AgentPolicy>,
}

impl Policy {
    pub fn agent(&self, workload: usize) -> Option<&AgentPolicy> {
        self.agents.iter().find(|a| a.workload == workload)
    }
}
