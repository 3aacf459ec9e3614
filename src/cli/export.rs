//! Flags of `fabplan export <FORMAT>`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Args)]
#[command(
    about = "Export a fabric's topology to schedulers (Slurm, Kueue) or a plan's MIG layouts to mig-parted",
    after_help = "Examples:
  fabplan export slurm fabrics/lab-small.yaml > topology.yaml
  fabplan export slurm fabrics/lab-small.yaml --format conf > topology.conf
  fabplan export kueue fabrics/lab-small.yaml | kubectl apply -f -
  fabplan export mig-parted plan.json -o mig-config.yaml"
)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub format: ExportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ExportFormat {
    Slurm(SlurmExportArgs),
    Kueue(KueueExportArgs),
    /// A mig-parted config per node (profile counts, planned starts as comments) and the
    /// `nvidia.com/mig.config` labels to apply; see docs/mig.md.
    #[command(after_help = "Example:
  fabplan plan examples/mig-inference-h200.yaml --format json -o plan.json
  fabplan export mig-parted plan.json -o mig-config.yaml")]
    MigParted(MigPartedArgs),
}

#[derive(Debug, Args)]
pub struct MigPartedArgs {
    /// The plan (JSON or YAML, as `fabplan plan` writes it).
    pub plan: PathBuf,
    /// The fabric the plan was made for: validates the plan like `plan --current` does.
    /// Without it, each layout is checked on the GPU model the plan names for its workloads.
    #[arg(long, value_name = "FILE")]
    pub fabric: Option<PathBuf>,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KueueApiVersion {
    /// kueue.x-k8s.io/v1beta2, the storage version.
    V1beta2,
    /// kueue.x-k8s.io/v1beta1, deprecated.
    V1beta1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KueueLabels {
    /// topograph v1: fabric.topograph.run/tier-N (0 = leaf) and accelerator.topograph.run/domain.
    Topograph,
    /// Older topograph: network.topology.nvidia.com/{core,spine,leaf,accelerator}.
    NvidiaNetwork,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SlurmFormat {
    /// topology.yaml (Slurm 25.05+): tree and block topologies side by side.
    Yaml,
    /// topology.conf: one plugin per file (see --topology).
    Conf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SlurmTopologyKind {
    /// topology/tree: the switch fabric.
    Tree,
    /// topology/block: the NVLink domains that span several nodes.
    Block,
}

#[derive(Debug, Args)]
#[command(
    about = "Slurm topology: a tree for the switch fabric, blocks for multi-node NVLink domains",
    long_about = "Writes Slurm's topology to stdout. The tree groups nodes by the leaf switches \
their NICs reach (a rail group in a rail-optimized SU is one Slurm switch), and collapses \
switches with identical children (four spines over the same leaves are one). Blocks are the \
NVLink domains that span several nodes (NVL72 racks), with BlockSizes from the smallest block \
doubling up to all of them. Hostlists are compressed (`gb-a[01-18]`).",
    after_help = "Examples:
  fabplan export slurm fabrics/lab-small.yaml
  fabplan export slurm fabrics/gb200-nvl72-su.yaml --format conf --topology block
  fabplan export slurm fabrics/lab-small.yaml | fabplan import slurm - -o skeleton.yaml"
)]
pub struct SlurmExportArgs {
    /// Fabric file (YAML).
    #[arg(value_name = "FABRIC")]
    pub fabric: PathBuf,
    /// topology.yaml or topology.conf.
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: SlurmFormat,
    /// With --format conf: which plugin (default: block when NVLink domains span several
    /// nodes, else tree).
    #[arg(long, value_enum)]
    pub topology: Option<SlurmTopologyKind>,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    about = "Kueue Topology, ResourceFlavors and node labels (YAML documents)",
    long_about = "Writes a Kueue `Topology` (kueue.x-k8s.io/v1beta2; levels top down: core, \
spine, then the NVLink domain on NVL72 fabrics or the leaf group otherwise, then \
kubernetes.io/hostname; a level with one value across the cluster is dropped), one \
`ResourceFlavor` per GPU model (matching nvidia.com/gpu.product), and one `Node` per compute \
node with the topology labels, keyed as NVIDIA topograph v1 writes them \
(fabric.topograph.run/tier-N, accelerator.topograph.run/domain). Names Kubernetes cannot take \
(FP926, FP927) stop the export with exit 2.",
    after_help = "Examples:
  fabplan export kueue fabrics/lab-small.yaml
  fabplan export kueue fabrics/gb200-nvl72-su.yaml | kubectl apply -f -
  fabplan export kueue fabrics/lab-small.yaml --api v1beta1 --labels nvidia-network"
)]
pub struct KueueExportArgs {
    /// Fabric file (YAML).
    #[arg(value_name = "FABRIC")]
    pub fabric: PathBuf,
    /// Kueue API version of the Topology and ResourceFlavors.
    #[arg(long, value_enum, default_value = "v1beta2")]
    pub api: KueueApiVersion,
    /// Node label keys of the topology levels.
    #[arg(long, value_enum, default_value = "topograph")]
    pub labels: KueueLabels,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
