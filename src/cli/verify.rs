//! Flags of `fabplan verify`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
#[command(
    about = "Check a plan against its demand and fabric, independently of the planner",
    after_help = "Examples:
  fabplan plan examples/mixed-tenants-h100.yaml --format json -o plan.json
  fabplan verify examples/mixed-tenants-h100.yaml plan.json
  fabplan plan examples/mixed-tenants-h100.yaml --format json | fabplan verify examples/mixed-tenants-h100.yaml -

Exit codes: 0 no violations; 1 violations (each listed); 2 unreadable input."
)]
pub struct VerifyArgs {
    /// The demand file.
    pub demand: PathBuf,
    /// The plan (JSON or YAML, as `fabplan plan` writes it).
    pub plan: PathBuf,
    /// Fabric; overrides the demand's `fabric:`.
    #[arg(long, value_name = "FILE")]
    pub fabric: Option<PathBuf>,
    /// Output format: human (rendered violations), or json (`validate --format json`'s
    /// document: the plan file, its violations with locations, the totals).
    #[arg(long, value_enum, default_value = "human")]
    pub format: VerifyFormat,
    /// Write the report to FILE instead of stdout (atomically; through a symlink to its
    /// target; a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    Human,
    Json,
}
