//! Flags of `fabplan mig ...`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Args)]
#[command(
    about = "MIG layouts: profile tables, valid layouts, placement checks, fit, mig-parted checks",
    long_about = "Exact MIG GPU-instance placement, to the rules of real drivers: allowed start units (R1), \
no overlap (R2), per-profile instance caps (R3), optionally media-engine sums (R4) and the pre-R510 A100 \
4g+3g rule (R5). Models come from the built-in catalog (`fabplan mig profiles --gpu h100`) or from \
YAML files given with --gpu-file (see docs/mig.md; `fabplan import nvidia-smi` writes them).",
    after_help = "Examples:
  fabplan mig profiles --gpu h100
  fabplan mig layouts --gpu a100-40gb --maximal --profiles 1g.5gb,2g.10gb,3g.20gb,4g.20gb,7g.40gb
  fabplan mig check --gpu h100 4g.40gb 3g.40gb
  fabplan mig fit --gpu h200 --need 1g.18gb=20,3g.71gb=4
  fabplan mig check-config config-default.yaml"
)]
pub struct MigArgs {
    #[command(subcommand)]
    pub command: MigCommand,
}

#[derive(Debug, Subcommand)]
pub enum MigCommand {
    Profiles(ProfilesArgs),
    Layouts(LayoutsArgs),
    Check(CheckArgs),
    Fit(FitArgs),
    CheckConfig(CheckConfigArgs),
}

/// Output format of the mig subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigFormat {
    /// Aligned text for people.
    Human,
    /// JSON with a fixed key order, for scripts.
    Json,
}

/// Which GPU model, and where extra model definitions come from.
#[derive(Debug, Args)]
pub struct GpuSelect {
    /// GPU model: a catalog key (h100-80gb), an alias (h100) or the nvidia-smi name
    /// ("NVIDIA H100 80GB HBM3"); case-insensitive.
    #[arg(long, value_name = "MODEL")]
    pub gpu: String,
    #[command(flatten)]
    pub files: GpuFiles,
}

#[derive(Debug, Args)]
pub struct GpuFiles {
    /// Extra GPU model definition (YAML, docs/mig.md); a model with a built-in key replaces it.
    /// Repeatable.
    #[arg(long = "gpu-file", value_name = "FILE")]
    pub gpu_files: Vec<PathBuf>,
}

/// `-o FILE` of every mig subcommand.
#[derive(Debug, Args)]
pub struct MigOutput {
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The optional placement rules.
#[derive(Debug, Args)]
pub struct RuleFlags {
    /// Also enforce R4: media-engine (NVDEC/NVENC/JPEG/OFA) sums within the GPU's totals
    /// (inferred from the MIG guide, not verified on hardware).
    #[arg(long)]
    pub media_engines: bool,
    /// Also enforce R5: before driver R510, A100 4g.* and 3g.* instances cannot coexist.
    #[arg(long)]
    pub pre_r510: bool,
}

#[derive(Debug, Args)]
#[command(
    about = "Print a GPU model's MIG profile table",
    after_help = "Columns: width and starts are the `{starts}:width` of `nvidia-smi mig -lgipp`; max is the \
Total of `-lgip`; provenance says whether the row was captured from hardware or inferred.

Examples:
  fabplan mig profiles --gpu h100
  fabplan mig profiles --gpu rtx-pro-6000-blackwell --format json
  fabplan mig profiles --gpu my-gpu --gpu-file my-gpu.yaml"
)]
pub struct ProfilesArgs {
    #[command(flatten)]
    pub gpu: GpuSelect,
    #[arg(long, value_enum, default_value_t = MigFormat::Human)]
    pub format: MigFormat,
    #[command(flatten)]
    pub output: MigOutput,
}

#[derive(Debug, Args)]
#[command(
    about = "List every valid MIG layout of a GPU (or only the maximal ones)",
    after_help = "A layout is a set of GPU instances with explicit start units. JSON is an array of layouts, \
each an array of {\"profile\": NAME, \"start\": UNIT}. A layout is maximal when no further instance fits.

Examples:
  fabplan mig layouts --gpu h100 --maximal
  fabplan mig layouts --gpu a100-40gb --maximal --profiles 1g.5gb,2g.10gb,3g.20gb,4g.20gb,7g.40gb
  fabplan mig layouts --gpu h200 --profiles 3g.71gb,4g.71gb --format json"
)]
pub struct LayoutsArgs {
    #[command(flatten)]
    pub gpu: GpuSelect,
    /// Only layouts to which no further instance can be added.
    #[arg(long)]
    pub maximal: bool,
    /// Use only these profiles (comma-separated names); default: all of the model's profiles.
    #[arg(long, value_name = "P,P,...", value_delimiter = ',')]
    pub profiles: Vec<String>,
    #[command(flatten)]
    pub rules: RuleFlags,
    #[arg(long, value_enum, default_value_t = MigFormat::Human)]
    pub format: MigFormat,
    #[command(flatten)]
    pub output: MigOutput,
}

#[derive(Debug, Args)]
#[command(
    about = "Check whether a set of MIG instances fits on one GPU, with explicit start units",
    after_help = "Exit status: 0 and the start units when placeable; 1 and the rule that forbids it when not \
(R1 starts, R2 overlap, R3 caps, R4 media engines, R5 pre-R510); 2 on bad input.
Create the instances with these starts (nvidia-smi mig -cgi ID -C with placement, or NVML \
CreateGpuInstanceWithPlacement) rather than relying on creation order.

Examples:
  fabplan mig check --gpu h100 4g.40gb 3g.40gb
  fabplan mig check --gpu h100 3g.40gb=2 1g.10gb        # exit 1: R2
  fabplan mig check --gpu a100 4g.20gb 3g.20gb --pre-r510"
)]
pub struct CheckArgs {
    #[command(flatten)]
    pub gpu: GpuSelect,
    /// Profiles to place: names, repeated or written NAME=COUNT.
    #[arg(value_name = "PROFILE", required = true)]
    pub profiles: Vec<String>,
    #[command(flatten)]
    pub rules: RuleFlags,
    #[arg(long, value_enum, default_value_t = MigFormat::Human)]
    pub format: MigFormat,
    #[command(flatten)]
    pub output: MigOutput,
}

#[derive(Debug, Args)]
#[command(
    about = "Find the fewest GPUs of one model, with their layouts, that host a demand of MIG instances",
    after_help = "Prints the GPU count, a lower bound, whether the count is proven minimal, and the GPUs \
grouped by identical layout with explicit start units. Exit 1 when a demanded profile cannot exist \
under the chosen rules.

Examples:
  fabplan mig fit --gpu h100 --need 1g.10gb=14,3g.40gb=3
  fabplan mig fit --gpu b200 --need 1g.23gb=500,2g.45gb=300,3g.90gb=200 --format json"
)]
pub struct FitArgs {
    #[command(flatten)]
    pub gpu: GpuSelect,
    /// Demand as PROFILE=COUNT pairs, comma-separated; repeatable.
    #[arg(long, value_name = "P=N,...", value_delimiter = ',', required = true)]
    pub need: Vec<String>,
    #[command(flatten)]
    pub rules: RuleFlags,
    #[arg(long, value_enum, default_value_t = MigFormat::Human)]
    pub format: MigFormat,
    #[command(flatten)]
    pub output: MigOutput,
}

#[derive(Debug, Args)]
#[command(
    about = "Check every layout of a mig-parted config against the GPU catalog",
    after_help = "Each entry's device-filter is resolved against the catalog's PCI ids; an entry without a \
filter applies to every catalog GPU whose table has all its profiles (others are counted as skipped). \
Unknown device ids are reported, not guessed. Exit 1 when a matched layout is unplaceable or names a \
profile the matched GPU does not have.

Examples:
  fabplan mig check-config config-default.yaml
  fabplan mig check-config config-default.yaml --gpu h100 --format json"
)]
pub struct CheckConfigArgs {
    /// mig-parted config file (version: v1).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Only report this GPU model.
    #[arg(long, value_name = "MODEL")]
    pub gpu: Option<String>,
    /// Also list the skipped (entry, GPU) pairs.
    #[arg(long)]
    pub show_skipped: bool,
    #[command(flatten)]
    pub files: GpuFiles,
    #[command(flatten)]
    pub rules: RuleFlags,
    #[arg(long, value_enum, default_value_t = MigFormat::Human)]
    pub format: MigFormat,
    #[command(flatten)]
    pub output: MigOutput,
}

impl MigCommand {
    /// `-o FILE` of the subcommand.
    pub fn output(&self) -> Option<&std::path::Path> {
        match self {
            MigCommand::Profiles(a) => a.output.output.as_deref(),
            MigCommand::Layouts(a) => a.output.output.as_deref(),
            MigCommand::Check(a) => a.output.output.as_deref(),
            MigCommand::Fit(a) => a.output.output.as_deref(),
            MigCommand::CheckConfig(a) => a.output.output.as_deref(),
        }
    }

    /// The files the subcommand reads (never written over by `-o`).
    pub fn inputs(&self) -> Vec<PathBuf> {
        match self {
            MigCommand::Profiles(a) => a.gpu.files.gpu_files.clone(),
            MigCommand::Layouts(a) => a.gpu.files.gpu_files.clone(),
            MigCommand::Check(a) => a.gpu.files.gpu_files.clone(),
            MigCommand::Fit(a) => a.gpu.files.gpu_files.clone(),
            MigCommand::CheckConfig(a) => {
                let mut v = a.files.gpu_files.clone();
                v.push(a.file.clone());
                v
            }
        }
    }
}
