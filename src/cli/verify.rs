//! Flags of `fabplan verify`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
#[command(
    about = "Check a plan against its demand and fabric, independently of the planner",
    after_help = "Examples:
  fabplan plan examples/mixed-tenants-h100.yaml --format json -o plan.json
  fabplan verify examples/mixed-tenants-h100.yaml plan.json

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
}
