//! Flags of `fabplan import <FORMAT>`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
#[command(
    about = "Import other tools' output as fabplan definitions",
    after_help = "Examples:
  fabplan import nvidia-smi --lgip lgip.txt --lgipp lgipp.txt --query query.csv -o gpus/h100.yaml"
)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub format: ImportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    NvidiaSmi(NvidiaSmiArgs),
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
    #[arg(long, value_name = "N")]
    pub gpu_index: Option<u32>,
    /// Write the YAML here (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}
