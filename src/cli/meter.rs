//! Flags of `fabplan meter`.

use std::path::PathBuf;

use crate::cli::numbers;
use crate::cli::report::{CostArgs, FocusVersion, Precision};
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MeterFormat {
    Human,
    Json,
    /// FinOps FOCUS rows (1.2; 1.3 with --focus-version 1.3), one per attribution line,
    /// with tags per dimension (tenant, project, model, tool).
    Focus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IdleFlag {
    /// Idle stays on its own lines.
    Keep,
    /// Idle is shared in proportion to usage cost (OpenCost's default).
    Proportional,
    /// Idle is shared evenly among the lines.
    Even,
}

/// Attribute metered usage (OTLP GenAI spans, a usage log, the Azure LLM trace) to cost per
/// tenant, project, model and tool, reconciled to the cent with the fleet's cost.
#[derive(Debug, Args)]
#[command(
    long_about = "Reads request-level usage records, turns each into GPU-seconds on the GPUs \
the plan gives its model (prefill compute bound, decode on the memory-bandwidth roofline), \
prices them on both bases of the cost ledger (owned: depreciation + energy; chargeback: list \
price + energy) and sums them per tenant, project, model and tool. Reserved but unused GPU \
time and idle GPUs are distributed by --idle. The lines add up to the fleet's cost for the \
period, to the cent. Rejected records are reported with file:line and a code (FP990-FP994) \
and always counted. See docs/meter.md.",
    after_help = "Examples:
  fabplan meter fabrics/lab-small.yaml --plan plan.json --usage usage.csv --period 2026-12-01T00:00:00Z/2026-12-01T01:00:00Z
  fabplan meter F --plan P --usage trace.otlp.json --usage log.jsonl --period S/E --format json
  fabplan meter F --plan P --usage AzureLLMInferenceTrace_conv.csv --tenant chat --model llama-3.1-70b --serve llama-3.1-70b=chat-70b --period S/E --format focus

Exit codes: 0 every record attributed, 1 some records rejected (the output covers the rest),
2 unreadable input or bad usage."
)]
pub struct MeterArgs {
    /// Fabric file (YAML).
    #[arg(value_name = "FABRIC")]
    pub fabric: PathBuf,
    /// Plan (`fabplan plan --format json`): which workload holds which GPUs.
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,
    /// Demand file: prices, and the served models' shapes and batch (`model:`).
    #[arg(long, value_name = "FILE")]
    pub demand: Option<PathBuf>,
    /// Usage file (repeatable): `.csv` usage log or Azure trace (by its header), `.jsonl`
    /// usage log or Mooncake trace (by its `hash_ids`), `.json` OTLP traces.
    #[arg(long, value_name = "FILE", required = true)]
    pub usage: Vec<PathBuf>,
    /// Metering period `START/END`, UTC.
    #[arg(long, value_name = "START/END")]
    pub period: String,
    /// Tenant of records that name none (required for the Azure trace).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Project of records that name none.
    #[arg(long)]
    pub project: Option<String>,
    /// Model of records that name none (required for the Azure trace).
    #[arg(long)]
    pub model: Option<String>,
    /// Tool of records that name none.
    #[arg(long)]
    pub tool: Option<String>,
    /// `MODEL=WORKLOAD`: the plan workload serving a model (repeatable). By default a model
    /// is served by the plan workload of the same name.
    #[arg(long, value_name = "MODEL=WORKLOAD")]
    pub serve: Vec<String>,
    /// How idle and reserved-but-unused cost is distributed.
    #[arg(long, value_enum, default_value = "proportional")]
    pub idle: IdleFlag,
    /// Model FLOPs utilization of prefill (fraction of dense peak).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.5, value_parser = numbers::in_range::<f64>(numbers::UTILIZATION))]
    pub mfu: f64,
    /// Sequences decoded per step per replica, when the demand gives none.
    #[arg(long, value_name = "SEQS", default_value_t = 8, value_parser = numbers::in_range::<u32>(numbers::CONCURRENCY))]
    pub batch: u32,
    /// Weight precision of built-in models (llama-3.1-8b/70b/405b).
    #[arg(long, value_enum, default_value = "fp8")]
    pub weights: Precision,
    /// KV-cache precision.
    #[arg(long, value_enum, default_value = "fp16")]
    pub kv: Precision,
    /// Prefix cache of traces with prefix-block hashes (Mooncake): LRU holding this many
    /// tokens. Default: unbounded (every block seen before is a hit).
    #[arg(long, value_name = "TOKENS")]
    pub prefix_cache_tokens: Option<u64>,
    /// Context tier `NAME=CAPACITY_GB:READ_GB_PER_S[:USD_PER_GB_MONTH]` per GPU (repeatable):
    /// replaces the default `host-dram`, `pooled` or `nvme`, or adds one. See docs/meter.md.
    #[arg(long, value_name = "TIER", value_parser = crate::report::tokens::parse_context_tier)]
    pub context_tier: Vec<crate::report::tokens::ContextTier>,
    /// Price of moving a GB of KV over the network (tier fetches, prefill -> decode).
    #[arg(long, value_name = "USD", default_value_t = crate::meter::attribute::DEFAULT_NETWORK_USD_PER_GB, value_parser = numbers::in_range::<f64>(numbers::USD))]
    pub network_usd_per_gb: f64,
    /// Prefill and decode run on separate replicas: each prompt's KV crosses the network.
    #[arg(long)]
    pub disaggregated: bool,
    #[arg(long, value_enum, default_value = "human")]
    pub format: MeterFormat,
    /// FinOps FOCUS release of --format focus.
    #[arg(long, value_enum, value_name = "VERSION", default_value = "1.2")]
    pub focus_version: FocusVersion,
    /// Write to FILE instead of stdout (atomically; never onto an input).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub cost: CostArgs,
}
