//! Flags of `fabplan size`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cli::numbers;
use crate::fabric::sizing::{self, SizeRequest};

/// Output formats `fabplan size` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SizeFormat {
    /// Aligned text for a terminal.
    Human,
    /// One JSON object; keys in a fixed order.
    Json,
}

const LONG_ABOUT: &str = "\
Size a rail-optimized, non-blocking (1:1) Clos compute fabric: switches, cables, optics and \
power per tier, plus the wiring plan.

The model follows NVIDIA's DGX SuperPOD reference architectures. Nodes are grouped into \
scalable units (SUs); port g of every node goes to the rail-g leaf of its SU. A leaf gives half \
its ports to nodes and half to spines. Two tiers while they fit (up to k^2/2 GPU ports per \
plane): every leaf reaches every spine with the same number of links, so the spine count is \
rounded up to a divisor of the leaf uplinks (3 SUs of H100 get 16 spines, not 12). Beyond that, \
three tiers (up to k^3/4): one spine group per rail, and spine i of each group uplinks to core \
group i mod G.

Partial SUs are built whole: every leaf and every leaf-spine cable is there, only node ports \
stay empty (the RAs require it so routing stays even and the SU can grow). Nodes and GPUs in \
the output are the ones you asked for; node slots are what the SUs hold.

InfiniBand needs ports for UFM (the subnet manager). The H100 RA drops one DGX and cables 4 UFM \
links into the freed leaf ports: ask for 1016 GPUs (127 DGX) with --ufm-links 4. fabplan never \
adds an SU for UFM; it reports an error when no leaf port is free.";

const AFTER_HELP: &str = "\
Examples:
  # DGX B200 SuperPOD, 16 SUs: 3 tiers, 128 leaf / 128 spine / 64 core, 4096 cables per tier
  fabplan size --gpus 4096 --radix 64 --nic-gbps 400

  # DGX H100 SuperPOD, 4 SUs: 127 DGX + 4 UFM links; 32 leaf / 16 spine, 1020 + 1024 cables
  fabplan size --gpus 1016 --radix 64 --nic-gbps 400 --ufm-links 4

  # DGX B300 Spectrum-X: two 400G planes on 64 x 800G switches (k = 128 at 400G),
  # 64-node SUs, one 800G cable per GPU and per pair of leaf uplinks
  fabplan size --gpus 512 --radix 128 --nic-gbps 400 --planes 2 --su-nodes 64 --cable-gbps 800

  # DGX B300 Quantum-X800 (XDR): 144 x 800G switches, 72-node SUs
  fabplan size --gpus 2304 --radix 144 --nic-gbps 800 --su-nodes 72

  # Machine-readable, with your own switch and optics power
  fabplan size --gpus 2048 --radix 64 --nic-gbps 400 --switch-watts 1100 --format json

Power covers switches and optics, not nodes. Defaults: 15 W per module (800G DSP module \
14-16 W) and 750 W per switch without optics (a placeholder: give the datasheet figure). \
See docs/sizing.md for every formula and its source.

Exit codes:
  0  success: the fabric was sized
  2  error: bad input (0 GPUs, odd radix, GPUs not filling whole nodes, beyond k^3/4, ...)";

#[derive(Debug, Args)]
#[command(
    about = "Size a rail-optimized Clos fabric: switches, cables, optics, power per tier",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP
)]
pub struct SizeArgs {
    /// GPUs to connect; a multiple of --gpus-per-node
    #[arg(long, value_name = "N", value_parser = numbers::in_range::<u64>(numbers::GPUS))]
    pub gpus: u64,

    /// Switch radix in ports of the NIC speed (64 x 800G used at 400G is 128); even, >= 4
    #[arg(long, value_name = "K", default_value_t = sizing::DEFAULT_RADIX, value_parser = numbers::in_range::<u32>(numbers::RADIX))]
    pub radix: u32,

    /// NIC port speed per plane in Gb/s (one port per GPU per plane)
    #[arg(long, value_name = "GBPS", default_value_t = sizing::DEFAULT_NIC_GBPS, value_parser = numbers::in_range::<u32>(numbers::NIC_GBPS))]
    pub nic_gbps: u32,

    /// GPUs per node, which is also the number of rails
    #[arg(long, value_name = "N", default_value_t = sizing::DEFAULT_GPUS_PER_NODE, value_parser = numbers::in_range::<u32>(numbers::GPUS_PER_NODE))]
    pub gpus_per_node: u32,

    /// Nodes per scalable unit (32 for DGX H100/B200, 64 or 72 for B300)
    #[arg(long, value_name = "N", default_value_t = sizing::DEFAULT_SU_NODES, value_parser = numbers::in_range::<u32>(numbers::SU_NODES))]
    pub su_nodes: u32,

    /// Identical, independent network planes; each GPU has one NIC port per plane
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = numbers::in_range::<u32>(numbers::PLANES))]
    pub planes: u32,

    /// UFM (subnet manager) links per plane, cabled into empty leaf ports (H100 RA: 4)
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = numbers::in_range::<u32>(numbers::UFM_LINKS))]
    pub ufm_links: u32,

    /// Rate of one physical cable in Gb/s, a multiple of --nic-gbps [default: one cable per link]
    #[arg(long, value_name = "GBPS", value_parser = numbers::in_range::<u32>(numbers::NIC_GBPS))]
    pub cable_gbps: Option<u32>,

    /// Rate of one transceiver module in Gb/s [default: twin-port, 2 x --nic-gbps]
    #[arg(long, value_name = "GBPS", value_parser = numbers::in_range::<u32>(numbers::NIC_GBPS))]
    pub module_gbps: Option<u32>,

    /// Watts per transceiver module (800G DSP 14-16 W, LPO 8-9 W)
    #[arg(long, value_name = "W", default_value_t = sizing::DEFAULT_MODULE_WATTS, value_parser = numbers::in_range::<f64>(numbers::WATTS))]
    pub module_watts: f64,

    /// Watts per switch without optics (placeholder; use the datasheet value)
    #[arg(long, value_name = "W", default_value_t = sizing::DEFAULT_SWITCH_WATTS, value_parser = numbers::in_range::<f64>(numbers::WATTS))]
    pub switch_watts: f64,

    /// Node-leaf links are copper (DAC): no transceivers on that tier
    #[arg(long)]
    pub copper_node_links: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = SizeFormat::Human)]
    pub format: SizeFormat,

    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl SizeArgs {
    /// The library request these flags describe.
    pub fn request(&self) -> SizeRequest {
        SizeRequest {
            gpus: self.gpus,
            radix: self.radix,
            nic_gbps: self.nic_gbps,
            gpus_per_node: self.gpus_per_node,
            su_nodes: self.su_nodes,
            planes: self.planes,
            ufm_links: self.ufm_links,
            cable_gbps: self.cable_gbps,
            module_gbps: self.module_gbps,
            module_watts: self.module_watts,
            switch_watts: self.switch_watts,
            copper_node_links: self.copper_node_links,
        }
    }
}
