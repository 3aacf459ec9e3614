use crate::cli::numbers;
use std::path::PathBuf;

/// Generate a synthetic fabric, valid by construction, for tests and benchmarks.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fabplan generate --gpus 1024 > lab.yaml
  fabplan generate --gpus 100000 --radix 128 -o big.yaml
  fabplan generate --gpus 576 --style nvl72 --transport infiniband
  fabplan generate demand --fabric big.yaml --workloads 5000 --seed 1 -o demand.yaml

The same arguments always give the same bytes. Switch counts and wiring follow
`fabplan size` with the same --radix and --nic-gbps.")]
#[command(subcommand_negates_reqs = true, args_conflicts_with_subcommands = true)]
pub struct GenerateArgs {
    /// Generate a demand file for a fabric instead (`generate demand --help`).
    #[command(subcommand)]
    pub what: Option<GenerateWhat>,
    /// Number of GPUs (a multiple of 8, or of 72 for --style nvl72).
    #[arg(long, value_name = "N", required = true, value_parser = numbers::in_range::<u64>(numbers::GPUS))]
    pub gpus: Option<u64>,
    /// rail-optimized: HGX 8-GPU servers; nvl72: GB200 NVL72 racks.
    #[arg(long, value_enum, default_value = "rail-optimized")]
    pub style: StyleArg,
    /// Switch radix in ports of the NIC speed.
    #[arg(long, value_name = "K", default_value_t = crate::fabric::sizing::DEFAULT_RADIX, value_parser = numbers::in_range::<u32>(numbers::RADIX))]
    pub radix: u32,
    /// NIC and link speed in Gb/s.
    #[arg(long, value_name = "GBPS", default_value_t = crate::fabric::sizing::DEFAULT_NIC_GBPS, value_parser = numbers::in_range::<u32>(numbers::NIC_GBPS))]
    pub nic_gbps: u32,
    /// GPU model for rail-optimized servers (catalog key).
    #[arg(long, default_value = "h100-80gb")]
    pub gpu: String,
    /// Transport; roce adds the reference lossless settings.
    #[arg(long, value_enum, default_value = "roce")]
    pub transport: TransportArg,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StyleArg {
    RailOptimized,
    Nvl72,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportArg {
    Roce,
    Infiniband,
}

#[derive(Debug, clap::Subcommand)]
pub enum GenerateWhat {
    /// Synthetic, contended demand for a fabric (planner benchmarks and tests).
    Demand(GenerateDemandArgs),
}

#[derive(Debug, clap::Args)]
pub struct GenerateDemandArgs {
    /// The fabric the demand is for (written as the demand's `fabric:` path).
    #[arg(long, value_name = "FILE")]
    pub fabric: PathBuf,
    /// Number of workloads.
    #[arg(long, default_value_t = 100, value_parser = numbers::in_range::<usize>(numbers::WORKLOADS))]
    pub workloads: usize,
    /// Random seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// mixed: random sizes over every kind and isolation policy; contended: training
    /// campaigns that fragment scalable units (per SU one fine-tuning gang of 9/16-10/16 SU
    /// and one whole-SU pretraining gang), plus small work (~5% of the GPUs) up to --workloads.
    #[arg(long, value_enum, default_value = "mixed")]
    pub profile: DemandProfile,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `--profile` of `generate demand` (the clap side of `plan::gen::Profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemandProfile {
    /// Random sizes over every kind and policy (greedy does well on it).
    Mixed,
    /// Training campaigns fragmenting scalable units (where greedy loses).
    Contended,
}

impl From<DemandProfile> for crate::plan::gen::Profile {
    fn from(p: DemandProfile) -> Self {
        match p {
            DemandProfile::Mixed => crate::plan::gen::Profile::Mixed,
            DemandProfile::Contended => crate::plan::gen::Profile::Contended,
        }
    }
}
