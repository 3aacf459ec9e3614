use std::path::PathBuf;

/// Summarize a fabric: GPUs, nodes, racks, NVLink domains, switches and links per tier,
/// oversubscription, bisection bandwidth, power, worst-case hops and failure domains.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fabplan inspect fabrics/dgx-h100-su1-ib.yaml
  fabplan inspect fabrics/dgx-h100-su1-ib.yaml --per-rack
  fabplan inspect fabrics/gb200-nvl72-su.yaml --format json | jq .switches

The file must load (exit 2 otherwise); design findings are `validate`'s job and do not
change inspect's exit code.")]
pub struct InspectArgs {
    /// Fabric file (YAML).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: InspectFormat,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print power per rack (human format); by default racks are summed per scalable unit,
    /// else per leaf group. JSON always lists every rack.
    #[arg(long)]
    pub per_rack: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectFormat {
    Human,
    Json,
}
