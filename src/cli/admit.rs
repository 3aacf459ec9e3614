//! Flags of `fabplan admit`.

use std::path::PathBuf;

use crate::cli::numbers;
use crate::cli::report::Precision;
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdmitFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PercentileFlag {
    P50,
    P90,
    P95,
    P99,
}

/// Admit a demand's workloads by policy: budgets and priorities per tenant and workload
/// type, agents by a percentile of their cost per task (from a usage log or declared), with
/// what-ifs side by side.
#[derive(Debug, Args)]
#[command(
    long_about = "Decides which of a demand's workloads a policy admits. Budgets and priorities \
are per tenant and workload type (training, inference, agent). An agent's cost per task is a \
distribution: its runs in a usage log (records grouped by agent_run_id, each step priced on the \
meter's roofline chain on the GPUs of the workload that serves it, each run held to the agent's \
max_steps, max_tokens and max_tool_calls at the gate), or a declared lognormal or list. An agent \
is admitted when tasks per hour x its cost per task at the named percentile fits what is left of \
its tenant's agent budget; the reason is printed in words either way. --what-if transforms the \
distributions (tool calls, context, steps) and decides again, side by side. See docs/admission.md.",
    after_help = "Examples:
  fabplan admit examples/governance/demand.yaml --policy examples/governance/policy.yaml --usage examples/governance/usage.csv
  fabplan admit D --policy P --usage U --percentile p50 --what-if tools=2 --what-if context=1.5 --what-if steps=2
  fabplan admit D --policy P --format json

Exit codes: 0 every workload admitted and every usage record read, 1 a workload rejected or a
usage record rejected (counted on stderr), 2 unreadable input, a bad policy or bad usage."
)]
pub struct AdmitArgs {
    /// Demand file (YAML): tenants, workloads, tasks per hour of agents, prices.
    #[arg(value_name = "DEMAND")]
    pub demand: PathBuf,
    /// The fabric (default: the demand's `fabric:`).
    #[arg(long, value_name = "FILE")]
    pub fabric: Option<PathBuf>,
    /// Admission policy (YAML, docs/admission.md).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Usage file (repeatable), as `fabplan meter` reads them: `.csv`/`.jsonl` usage log or
    /// `.json` OTLP traces; agent runs are grouped by `agent_run_id`.
    #[arg(long, value_name = "FILE")]
    pub usage: Vec<PathBuf>,
    /// Only records in `START/END`, UTC (default: every record).
    #[arg(long, value_name = "START/END")]
    pub period: Option<String>,
    /// The percentile agents are admitted by (overrides the policy's `percentile`, not an
    /// agent's own).
    #[arg(long, value_enum)]
    pub percentile: Option<PercentileFlag>,
    /// A what-if (repeatable): `tools=K`, `context=K`, `steps=K` or several joined by `,`
    /// (`tools=2,context=1.5`); each is decided again and printed beside the baseline.
    #[arg(long = "what-if", value_name = "DIM=K[,DIM=K]")]
    pub what_if: Vec<String>,
    /// Model FLOPs utilization of prefill (fraction of dense peak), as in `fabplan meter`.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.5, value_parser = numbers::in_range::<f64>(numbers::UTILIZATION))]
    pub mfu: f64,
    /// KV-cache precision.
    #[arg(long, value_enum, default_value = "fp16")]
    pub kv: Precision,
    #[arg(long, value_enum, default_value = "human")]
    pub format: AdmitFormat,
    /// Write to FILE instead of stdout (atomically; never onto an input).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
