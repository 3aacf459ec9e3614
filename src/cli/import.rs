//! Flags of `fabplan import <FORMAT>`.

use std::path::PathBuf;

use crate::cli::numbers;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
#[command(
    about = "Import other tools' output as fabplan definitions",
    after_help = "Examples:
  fabplan import nvidia-smi --lgip lgip.txt --lgipp lgipp.txt --query query.csv -o gpus/h100.yaml
  fabplan import slurm topology.conf -o skeleton.yaml"
)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub format: ImportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    NvidiaSmi(NvidiaSmiArgs),
    Slurm(SlurmImportArgs),
    Openb(OpenbImportArgs),
}

#[derive(Debug, Args)]
#[command(
    about = "Build a fabric and a demand file from the Alibaba GPU trace (openb node and pod lists)",
    long_about = "Reads an openb node list (`sn,cpu_milli,memory_mib,gpu,model`) and pod list \
(`name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,...`) from alibaba/clusterdata \
cluster-trace-gpu-v2023 and writes DIR/fabric.yaml (one template per GPU model and size, racks \
of 32 nodes, no network; the trace has none), DIR/gpus/openb-*.yaml (the trace's GPU codes, no \
specs) and DIR/demand.yaml (tenants per QoS class, one workload per distinct pod shape with that \
many replicas; fractional `gpu_milli` requests become shared-GPU `fraction` requests).",
    after_help = "Examples:
  fabplan import openb openb_node_list_gpu_node.csv openb_pod_list_default.csv -o openb/
  fabplan plan openb/demand.yaml"
)]
pub struct OpenbImportArgs {
    /// Node list CSV.
    #[arg(value_name = "NODES.csv")]
    pub nodes: PathBuf,
    /// Pod list CSV.
    #[arg(value_name = "PODS.csv")]
    pub pods: PathBuf,
    /// Directory to write fabric.yaml, demand.yaml and gpus/ into (created if missing). All files
    /// are checked before any is written; on an error none is left; never onto an input.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: PathBuf,
    /// Read only the first N pods (with GPUs) of the pod list.
    #[arg(long, value_name = "N", value_parser = numbers::in_range::<usize>(numbers::PODS))]
    pub limit_pods: Option<usize>,
    /// Placeholder maximum power of one node (the trace has none).
    #[arg(long, value_name = "KW", default_value_t = 1.0, value_parser = numbers::in_range::<f64>(numbers::NODE_POWER_KW))]
    pub node_power_kw: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportTransport {
    Infiniband,
    Roce,
}

#[derive(Debug, Args)]
#[command(
    about = "Build a fabric skeleton (YAML) from a Slurm topology.conf or topology.yaml",
    long_about = "Reads a Slurm topology (topology.yaml, or the older topology.conf; the format \
is detected) and writes a fabric file that fabplan loads: switches at the tier their depth gives \
(switches with nodes are leaves), one NIC port per node cabled to its leaf, one link per \
parent-child pair, one rack per block (an NVL72 NVLink domain when --gpu is given) or per leaf. \
Slurm does not say what the nodes hold or draw: GPUs, node power and link speed come from the \
flags below. `fabplan export slurm` on the result gives the same topology back.",
    after_help = "Examples:
  fabplan import slurm topology.conf -o skeleton.yaml
  fabplan import slurm topology.yaml --gpu gb200 --gpus-per-node 4 --node-power-kw 7 -o gb.yaml
  fabplan export slurm fabrics/lab-small.yaml | fabplan import slurm - --gpu h100-80gb"
)]
pub struct SlurmImportArgs {
    /// topology.conf or topology.yaml (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Name of the fabric (default: the file name without extension).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Catalog key of the nodes' GPU model (default: nodes without GPUs).
    #[arg(long, value_name = "MODEL")]
    pub gpu: Option<String>,
    /// GPUs per node, with --gpu.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = numbers::in_range::<u32>(numbers::GPUS_PER_NODE))]
    pub gpus_per_node: u32,
    /// Maximum power of one node in kW (default 10.2: a DGX H100).
    #[arg(long, value_name = "KW", default_value_t = 10.2, value_parser = numbers::in_range::<f64>(numbers::NODE_POWER_KW))]
    pub node_power_kw: f64,
    /// Speed of every link in Gb/s (Slurm's LinkSpeed is not used by Slurm either).
    #[arg(long, value_name = "GBPS", default_value_t = 400, value_parser = numbers::in_range::<u32>(numbers::NIC_GBPS))]
    pub link_gbps: u32,
    #[arg(long, value_enum, default_value = "infiniband")]
    pub transport: ImportTransport,
    /// Write the YAML here instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    about = "Build a GPU model definition (YAML) from `nvidia-smi mig -lgip` / `-lgipp` output",
    long_about = "Reads the GPU instance profile table (`nvidia-smi mig -lgip`) and its placements \
(`nvidia-smi mig -lgipp`) exactly as printed, box characters and ANSI codes included, and writes a \
GPU model definition that `--gpu-file` accepts. Both commands answer with MIG mode disabled on \
recent drivers. With --query, the GPU's name and PCI id match it to a catalog model, whose key, \
aliases and board specs are kept; the MIG table always comes from the capture.",
    after_help = "Capture on the GPU host:
  nvidia-smi mig -lgip > lgip.txt
  nvidia-smi mig -lgipp > lgipp.txt
  nvidia-smi --query-gpu=name,pci.device_id,memory.total,power.max_limit,driver_version --format=csv > query.csv

Examples:
  fabplan import nvidia-smi --lgip lgip.txt --lgipp lgipp.txt --query query.csv -o h100.yaml
  fabplan mig profiles --gpu h100 --gpu-file h100.yaml"
)]
pub struct NvidiaSmiArgs {
    /// Output of `nvidia-smi mig -lgip`.
    #[arg(long, value_name = "FILE")]
    pub lgip: PathBuf,
    /// Output of `nvidia-smi mig -lgipp`.
    #[arg(long, value_name = "FILE")]
    pub lgipp: PathBuf,
    /// `nvidia-smi --query-gpu=... --format=csv` output (or `nvidia-smi -q`), for name and PCI id.
    #[arg(long, value_name = "FILE")]
    pub query: Option<PathBuf>,
    /// Catalog key for the model (default: the matched catalog key, or one derived from the name).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// GPU index to read when the capture lists several GPUs (default: the first).
    #[arg(long, value_name = "N", value_parser = numbers::in_range::<u32>(numbers::GPU_INDEX))]
    pub gpu_index: Option<u32>,
    /// Write the YAML here instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}
