//! Flags of `fabplan report`.

use std::path::PathBuf;

use crate::cli::numbers;
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Md,
    Json,
    /// FinOps FOCUS 1.2 cost and usage rows (1.3 with --focus-version 1.3), one per workload
    /// and GPU model and one `unallocated` per GPU model for the charge period.
    Csv,
    /// One self-contained page with SVG pictures.
    Html,
}

/// FinOps FOCUS release of `--format csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FocusVersion {
    /// FOCUS 1.2: every mandatory column, none of 1.3's.
    #[value(name = "1.2")]
    V1_2,
    /// FOCUS 1.3: adds ServiceProviderName, HostProviderName and the Allocated* columns.
    #[value(name = "1.3")]
    V1_3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Precision {
    Fp8,
    Fp16,
}

impl Precision {
    /// Bytes per weight or KV element.
    pub fn bytes(self) -> u32 {
        match self {
            Precision::Fp8 => 1,
            Precision::Fp16 => 2,
        }
    }
}

/// The owned-cost inputs `report` and `meter` share (docs/cost.md).
#[derive(Debug, Args)]
pub struct CostArgs {
    /// Power usage effectiveness (facility / IT).
    #[arg(long, value_name = "RATIO", default_value_t = 1.3, value_parser = numbers::in_range::<f64>(numbers::PUE))]
    pub pue: f64,
    /// Electricity price.
    #[arg(long, value_name = "USD", default_value_t = 0.11, value_parser = numbers::in_range::<f64>(numbers::USD))]
    pub usd_per_kwh: f64,
    /// Depreciation period of the hardware.
    #[arg(long, value_name = "YEARS", default_value_t = 5.0, value_parser = numbers::in_range::<f64>(numbers::YEARS))]
    pub depreciation_years: f64,
    /// Network (switches, optics, NICs) share of cluster capex.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.2, value_parser = numbers::in_range::<f64>(numbers::SHARE))]
    pub network_share: f64,
    /// Capex per GPU for every model (default: per-model, sourced in the report).
    #[arg(long, value_name = "USD", value_parser = numbers::in_range::<f64>(numbers::USD))]
    pub capex_usd_per_gpu: Option<f64>,
}

/// Capacity and cost report: inventory, power, largest placeable gang per level, cost, tokens.
#[derive(Debug, Args)]
#[command(
    long_about = "Reports what a fabric holds and what it can still host: inventory (GPUs by \
model, NVLink domains, free MIG instances by profile, switches, links), power per rack against \
its budget (IT and facility kW with PUE, headroom, racks at risk), the largest gang placeable at \
each level (NVLink domain, leaf group, spine group, scalable unit, fabric) by GPU model, owned \
cost per GPU-hour (capex over depreciation years, energy at PUE) against a cloud price with the \
break-even utilization, and token economics for a model (KV bytes, decode roofline, $/Mtok).\n\n\
Defaults for prices, PUE, $/kWh and depreciation are dated (2026-05) and sourced in the report; \
every one has a flag.",
    after_help = "Examples:
  fabplan report fabrics/lab-small.yaml
  fabplan report fabrics/lab-small.yaml --format html -o report.html
  fabplan report fabrics/lab-small.yaml --per-rack
  fabplan report fabrics/lab-small.yaml --format json --fail switch:leaf3
  fabplan report fabrics/lab-small.yaml --utilization 0.6 --growth 10%/month
  fabplan report fabrics/lab-small.yaml --format csv --period 2026-05-01T00:00:00Z/2026-06-01T00:00:00Z
  fabplan plan examples/mixed-tenants-h100.yaml --format json -o plan.json
  fabplan report fabrics/dgx-h100-su1-ib.yaml --plan plan.json --demand examples/mixed-tenants-h100.yaml"
)]
pub struct ReportArgs {
    /// Fabric file (YAML).
    #[arg(value_name = "FABRIC")]
    pub fabric: PathBuf,
    /// Demand file: token economics for its inference workloads' model specs; with --plan,
    /// what pending workloads need (stranded capacity); the gangs each level must hold (--growth).
    #[arg(long, value_name = "FILE")]
    pub demand: Option<PathBuf>,
    /// Plan (`fabplan plan --format json`): usage, cost by tenant and workload, stranded
    /// capacity, placements hit by --fail, growth on the plan's use.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: ReportFormat,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub cost: CostArgs,
    /// Cloud price to compare with, per GPU-hour (default: template price, else per-model).
    #[arg(long, value_name = "USD", value_parser = numbers::in_range::<f64>(numbers::USD))]
    pub cloud_usd_per_gpu_hour: Option<f64>,
    /// Share of GPUs in use, 0-1 (cost at this use; base of --growth).
    #[arg(long, value_name = "FRACTION", value_parser = numbers::in_range::<f64>(numbers::UTILIZATION))]
    pub utilization: Option<f64>,
    /// Demand growth, e.g. `10%/month` or `0.1`: months until each GPU model and each
    /// topology level runs out.
    #[arg(long, value_name = "RATE")]
    pub growth: Option<String>,
    /// What-if failure: `switch:NAME`, `rack:NAME` or `plane:N`.
    #[arg(long, value_name = "WHAT:NAME")]
    pub fail: Option<String>,
    /// Model for token economics (llama-3.1-8b, llama-3.1-70b, llama-3.1-405b).
    #[arg(long, value_name = "MODEL", default_value = "llama-3.1-70b")]
    pub model: String,
    /// Weight precision.
    #[arg(long, value_enum, default_value = "fp8")]
    pub weights: Precision,
    /// KV-cache precision.
    #[arg(long, value_enum, default_value = "fp16")]
    pub kv: Precision,
    /// Context length per sequence, in tokens.
    #[arg(long, value_name = "TOKENS", default_value_t = 8192, value_parser = numbers::in_range::<u64>(numbers::CONTEXT_TOKENS))]
    pub context: u64,
    /// Concurrent sequences wanted per replica.
    #[arg(long, value_name = "SEQS", default_value_t = 32, value_parser = numbers::in_range::<u32>(numbers::CONCURRENCY))]
    pub concurrency: u32,
    /// Context tier `NAME=CAPACITY_GB:READ_GB_PER_S[:USD_PER_GB_MONTH]` per GPU (repeatable):
    /// replaces the default `host-dram`, `pooled` or `nvme`, or adds one (docs/report.md).
    #[arg(long, value_name = "TIER", value_parser = crate::report::tokens::parse_context_tier)]
    pub context_tier: Vec<crate::report::tokens::ContextTier>,
    /// Charge period for --format csv, `START/END` in RFC 3339 UTC (default: one day).
    #[arg(
        long,
        value_name = "START/END",
        default_value = "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z"
    )]
    pub period: String,
    /// FinOps FOCUS release of --format csv (see docs/cost.md).
    #[arg(long, value_enum, value_name = "VERSION", default_value = "1.2")]
    pub focus_version: FocusVersion,
    /// Also print every rack (human, md and html): its power row and, in html, its nodes
    /// and GPUs. By default racks are summed per scalable unit, else per leaf group.
    #[arg(long)]
    pub per_rack: bool,
}
