//! Flags of `fabplan export FORMAT ...`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
#[command(about = "Export a plan to other tools' formats")]
pub struct ExportArgs {
    #[command(subcommand)]
    pub format: ExportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ExportFormat {
    /// A mig-parted config per node and the `nvidia.com/mig.config` labels to apply.
    #[command(after_help = "Example:
  fabplan plan examples/mig-inference-h200.yaml --format json -o plan.json
  fabplan export mig-parted plan.json -o mig-config.yaml")]
    MigParted(MigPartedArgs),
}

#[derive(Debug, Args)]
pub struct MigPartedArgs {
    /// The plan (JSON or YAML).
    pub plan: PathBuf,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
