//! Every numeric range and every expansion budget fabplan enforces, in one place.
//!
//! `docs/limits.md` lists each with its reason and source; the loader (`load/`), the GPU model
//! reader (`catalog/yaml.rs`), the hostlist expander (`util.rs`), the generators and the CLI
//! value parsers (`cli/numbers.rs`) all read them from here, so a limit and its documentation
//! cannot drift apart.
//!
//! Expansion budgets are chosen so that a real 1,000,000-GPU fabric passes with room to spare
//! (`docs/limits.md`, "Expansion budgets"), while an input that would need gigabytes of memory
//! is refused before anything is allocated.

use std::fmt;

/// A range of accepted values: `min` (included, or excluded when `min_open`) to `max`
/// (included). Values that are not finite are never in a range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub min_open: bool,
    pub max: f64,
    /// Unit written after the bounds in messages (`kW`, `Gb/s`), or empty.
    pub unit: &'static str,
    /// Why the range is what it is (its source), for help lines.
    pub why: &'static str,
}

impl Range {
    /// `min..=max`.
    pub const fn closed(min: f64, max: f64, unit: &'static str, why: &'static str) -> Range {
        Range {
            min,
            min_open: false,
            max,
            unit,
            why,
        }
    }

    /// Greater than `min`, at most `max`.
    pub const fn above(min: f64, max: f64, unit: &'static str, why: &'static str) -> Range {
        Range {
            min,
            min_open: true,
            max,
            unit,
            why,
        }
    }

    pub fn contains(&self, v: f64) -> bool {
        v.is_finite()
            && (if self.min_open {
                v > self.min
            } else {
                v >= self.min
            })
            && v <= self.max
    }

    /// The range in words: `0 to 63`, `greater than 0 and at most 1000 kW`.
    pub fn describe(&self) -> String {
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        if self.min_open {
            format!("greater than {} and at most {}{unit}", self.min, self.max)
        } else {
            format!("{} to {}{unit}", self.min, self.max)
        }
    }
}

/// A number that can be checked against a [`Range`].
pub trait Num: Copy + fmt::Display {
    fn as_f64(self) -> f64;
}

macro_rules! num_as_f64 {
    ($($t:ty),*) => {$(
        impl Num for $t {
            fn as_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
num_as_f64!(u8, u16, u32, u64, usize, f64);

/// Why a value is refused, in the words every diagnostic and CLI message uses:
/// ``must be 0 to 63, got 64``.
pub fn out_of_range(got: impl Num, r: &Range) -> String {
    let got_f = got.as_f64();
    if got_f.is_nan() {
        format!("must be {}, got NaN (not a number)", r.describe())
    } else if got_f.is_infinite() {
        format!("must be {}, got {got} (not a finite number)", r.describe())
    } else {
        format!("must be {}, got {got}", r.describe())
    }
}

// ---------------------------------------------------------------------------------------------
// Numeric ranges of the fabric format (docs/limits.md, "Fabric numbers").

/// DSCP is a 6-bit field of the IP header.
pub const DSCP: Range = Range::closed(0.0, 63.0, "", "DSCP is a 6-bit field (RFC 2474)");
/// 802.1p priorities (PCP) are 3 bits.
pub const PRIORITY: Range = Range::closed(
    0.0,
    7.0,
    "",
    "802.1p priorities are a 3-bit field (IEEE 802.1Q PCP)",
);
/// Ethernet MTU of a switch port or host interface.
pub const MTU: Range = Range::closed(
    1280.0,
    16384.0,
    "bytes",
    "IPv6 needs at least 1280 (RFC 8200); jumbo frames top out at 9216 on Spectrum, Tomahawk and Jericho switches",
);
/// The RoCE (InfiniBand) path MTU is one of the IB MTU sizes.
pub const ROCE_MTUS: &[u32] = &[256, 512, 1024, 2048, 4096];
/// Bytes of a switch buffer threshold (ECN Kmin/Kmax, PFC xoff, headroom).
pub const BUFFER_BYTES: Range = Range::closed(
    0.0,
    1_073_741_824.0,
    "bytes",
    "switch packet buffers are tens to hundreds of MB (Spectrum-4 160 MB, Tomahawk 5 165 MB); 1 GiB is past any",
);
/// PFC watchdog timings.
pub const WATCHDOG_MS: Range = Range::closed(
    1.0,
    3_600_000.0,
    "ms",
    "a watchdog time is positive; SONiC allows 100-5000 ms, an hour is past any configuration",
);
/// Round-trip time used for the ECN bandwidth-delay product.
pub const RTT_US: Range = Range::above(
    0.0,
    1_000_000.0,
    "us",
    "a data-centre RTT is microseconds (Huawei's example: 20 us); a second is past any fabric",
);
/// Speed of a NIC port, switch port or link.
pub const GBPS: Range = Range::closed(
    1.0,
    3200.0,
    "Gb/s",
    "ports run 1 Gb/s to 1.6 Tb/s today (Quantum-X800 and Spectrum-X1600: 800G/1.6T); 3.2T leaves room",
);
/// Cable length.
pub const LENGTH_M: Range = Range::above(
    0.0,
    100_000.0,
    "m",
    "a cable has a length; single-mode optics reach 2-80 km, 100 km is past any data-centre link",
);
/// Ports of one switch model.
pub const SWITCH_PORTS: Range = Range::closed(
    1.0,
    2048.0,
    "",
    "the largest switches have 512 ports (Tomahawk 6 at 200G); 2048 leaves room for breakouts",
);
/// Maximum power of one switch.
pub const SWITCH_POWER_W: Range = Range::closed(
    0.0,
    100_000.0,
    "W",
    "a switch draws hundreds of W to a few kW (NVIDIA Q3400 ~ 3.4 kW with optics); 100 kW is past any",
);
/// GPUs in one node.
pub const GPUS_PER_NODE: Range = Range::closed(
    0.0,
    128.0,
    "",
    "servers hold 1-16 GPUs (DGX-2: 16; NVL72 trays: 4); 128 leaves room",
);
/// Host CPU of one node template, in cores (`cpu_cores`; `cpu_millicores` is this x 1000).
pub const NODE_CPU_CORES: Range = Range::above(
    0.0,
    16_384.0,
    "cores",
    "servers have 8-512 cores (DGX H100: 112, DGX B200: 112, GB200 tray: 144 Grace cores); 16,384 is past any",
);
/// Host memory of one node template.
pub const NODE_MEMORY_GIB: Range = Range::above(
    0.0,
    1_048_576.0,
    "GiB",
    "servers have 64 GiB to a few TiB (DGX H100: 2 TiB, openb nodes up to 1,024 GiB); 1 PiB is past any",
);
/// Power of one node.
pub const NODE_POWER_KW: Range = Range::above(
    0.0,
    1000.0,
    "kW",
    "a node draws a few kW (DGX H100 10.2 kW, DGX B200 14.3 kW); 1 MW is past any",
);
/// Power budget of one rack.
pub const RACK_POWER_KW: Range = Range::above(
    0.0,
    10_000.0,
    "kW",
    "racks are budgeted 10-140 kW today (GB200 NVL72 ~ 132 kW), 600 kW announced (Kyber); 10 MW is past any",
);
/// The air-cooling limit of a rack.
pub const AIR_COOLING_KW: Range = Range::above(
    0.0,
    10_000.0,
    "kW",
    "air removes up to ~40-50 kW per rack; the limit is a rack power",
);
/// Power of one scalable unit (a facility power block).
pub const SU_POWER_KW: Range = Range::above(
    0.0,
    10_000_000.0,
    "kW",
    "a GB200 SU is ~1.2 MW (NVIDIA GB200 SuperPOD RA); 10 GW is past any site",
);
/// Fraction of a rack budget that may be used.
pub const POWER_DERATE: Range = Range::above(
    0.0,
    1.0,
    "",
    "a derate is a fraction of the budget: 0.8 plans racks to 80 %",
);
/// Price of one node-hour (or GPU-hour).
pub const PRICE_USD_PER_HOUR: Range = Range::closed(
    0.0,
    1_000_000.0,
    "USD/h",
    "a price is not negative; cloud GPUs rent for 1-10 USD/h, a node for tens",
);
/// Planes of a multi-plane design, and a NIC port's plane + 1.
pub const PLANES: Range = Range::closed(
    1.0,
    8.0,
    "",
    "designs have 1 or 2 planes (NVIDIA B300 twin-plane, Alibaba HPN dual-plane); 8 leaves room",
);
/// Plane of a NIC port or switch (planes are numbered from 0).
pub const PLANE: Range = Range::closed(
    0.0,
    7.0,
    "",
    "planes are numbered from 0, at most 8 planes (NVIDIA B300 twin-plane: 0 and 1)",
);
/// Rail index of a switch (the GPU index it serves).
pub const RAIL: Range = Range::closed(
    0.0,
    127.0,
    "",
    "a rail is a GPU index within a node (at most 128 GPUs per node)",
);
/// NVLink switch trays of a rack-scale domain.
pub const SWITCH_TRAYS: Range = Range::closed(
    1.0,
    72.0,
    "",
    "an NVL72 rack has 9 NVLink switch trays (NVIDIA GB200 NVL72 RA)",
);
/// Leaves per rail in a rail-su intent, and groups of an uplinks intent.
pub const LEAVES_PER_RAIL: Range = Range::closed(
    1.0,
    1024.0,
    "",
    "a rail is served by 1 leaf (NVIDIA SU) or a few; 1024 leaves room",
);
/// Links between one lower and one upper switch of an uplinks intent.
pub const LINKS_PER_PAIR: Range = Range::closed(
    1.0,
    4096.0,
    "",
    "a pair of switches cannot share more links than a switch has ports (at most 2048, with breakouts 4096)",
);
/// Groups of upper switches in an uplinks intent.
pub const GROUPS: Range = Range::closed(
    1.0,
    65_536.0,
    "",
    "one group per rail or position; more groups than switches cannot be filled",
);

// GPU model files (catalog YAML).

/// GPU memory.
pub const GPU_MEMORY_GIB: Range = Range::closed(
    0.0,
    16_384.0,
    "GiB",
    "GPUs carry 16-288 GB of HBM today (B300: 288 GB); 0 means not given",
);
/// HBM bandwidth.
pub const HBM_TBPS: Range = Range::closed(
    0.0,
    1000.0,
    "TB/s",
    "HBM bandwidth is 2-8 TB/s today (B200: 8 TB/s); 0 means not given",
);
/// GPU thermal design power.
pub const TDP_W: Range = Range::closed(
    0.0,
    10_000.0,
    "W",
    "GPU TDP is 300-1400 W today (B300: 1400 W); 0 means not given",
);
/// NVLink generation.
pub const NVLINK_GEN: Range = Range::closed(
    0.0,
    16.0,
    "",
    "NVLink generations are 1-5 (Blackwell: 5); 0 means none",
);
/// NVLink bandwidth per GPU.
pub const NVLINK_GBYTES_PER_S: Range = Range::closed(
    0.0,
    100_000.0,
    "GB/s",
    "NVLink 5 gives 1800 GB/s per GPU; 0 means none",
);
/// Memory of one MIG instance.
pub const MIG_MEMORY_GIB: Range = Range::above(
    0.0,
    16_384.0,
    "GiB",
    "a MIG instance has memory (1g.10gb: 9.75 GiB); at most the GPU's",
);

// ---------------------------------------------------------------------------------------------
// Expansion budgets (docs/limits.md, "Expansion budgets"). Counts are computed in u64 before
// anything is allocated; a count past its budget is refused with FP015 (or a usage error).

/// Names one hostlist may expand to.
pub const MAX_HOSTLIST_NAMES: u64 = 1 << 22;
/// Nodes of one fabric.
pub const MAX_NODES: u64 = 1 << 22;
/// GPUs of one fabric.
pub const MAX_GPUS: u64 = 1 << 22;
/// NIC ports of one fabric (all nodes).
pub const MAX_NICS: u64 = 1 << 23;
/// Switches of one fabric.
pub const MAX_SWITCHES: u64 = 1 << 20;
/// Links of one fabric (explicit and expanded from intent).
pub const MAX_LINKS: u64 = 1 << 23;
/// GPUs `fabplan generate` writes a fabric for (and `--gpus` of `fabplan size`): a generated
/// three-tier fabric has about 3 links per GPU, so 2^21 GPUs (6.3M links) still loads within
/// `MAX_LINKS` (checked at compile time below).
pub const MAX_GENERATE_GPUS: u64 = 1 << 21;
/// Workloads `fabplan generate demand` writes.
pub const MAX_GENERATE_WORKLOADS: u64 = 100_000;
/// Names one Slurm topology import may expand to, over all its hostlists.
pub const MAX_IMPORT_NAMES: u64 = MAX_HOSTLIST_NAMES;

// What `generate` may write still loads: about 3 links per GPU at three tiers.
const _: () = assert!(MAX_GENERATE_GPUS * 3 <= MAX_LINKS && MAX_GENERATE_GPUS <= MAX_GPUS);

/// The sentence a fabric-wide budget diagnostic says: ``would bring the fabric to 65536004
/// links, more than the limit of 8388608``.
pub fn over_budget(count: u64, what: &str, limit: u64) -> String {
    format!("would bring the fabric to {count} {what}, more than the limit of {limit}")
}

/// The sentence of a hostlist past its budget.
pub fn over_hostlist_budget(count: u64) -> String {
    format!(
        "the hostlist expands to {count} names, more than the limit of {MAX_HOSTLIST_NAMES} per hostlist"
    )
}

/// Help line of a budget diagnostic.
pub fn budget_help(what: &str, limit: u64) -> String {
    format!(
        "fabplan refuses more than {limit} {what} in one input (a 1,000,000-GPU fabric needs fewer); see docs/limits.md"
    )
}

/// Adds counts without overflow, saturating at `u64::MAX` (which is past every budget).
pub fn add(a: u64, b: u64) -> u64 {
    a.saturating_add(b)
}

/// Multiplies counts without overflow, saturating at `u64::MAX` (past every budget).
pub fn mul(a: u64, b: u64) -> u64 {
    a.saturating_mul(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_refuse_non_finite_and_respect_open_bounds() {
        assert!(DSCP.contains(0.0) && DSCP.contains(63.0) && !DSCP.contains(64.0));
        assert!(!DSCP.contains(f64::NAN) && !DSCP.contains(f64::INFINITY));
        assert!(!NODE_POWER_KW.contains(0.0) && NODE_POWER_KW.contains(0.001));
        assert!(!PRICE_USD_PER_HOUR.contains(-0.01) && PRICE_USD_PER_HOUR.contains(0.0));
        assert_eq!(DSCP.describe(), "0 to 63");
        assert_eq!(
            NODE_POWER_KW.describe(),
            "greater than 0 and at most 1000 kW"
        );
        assert_eq!(out_of_range(64u8, &DSCP), "must be 0 to 63, got 64");
        assert_eq!(
            out_of_range(f64::NAN, &NODE_POWER_KW),
            "must be greater than 0 and at most 1000 kW, got NaN (not a number)"
        );
    }

    #[test]
    fn a_million_gpu_fabric_fits_every_budget() {
        // 1,000,000 GPUs, 8 per node, 2 planes of 400G NICs, three tiers (NIC, leaf-spine,
        // spine-core links per plane, non-blocking): docs/limits.md.
        let gpus = 1_000_000u64;
        let nics = gpus * 2;
        let links = nics * 3;
        assert!(gpus <= MAX_GPUS && gpus / 8 <= MAX_NODES);
        assert!(nics <= MAX_NICS && links <= MAX_LINKS);
        // Radix 64 at 400G: 32 node ports per leaf, 2 x 3 tiers of switches per 32 NICs.
        assert!(nics / 32 * 3 <= MAX_SWITCHES);
        assert_eq!(mul(u64::MAX, 2), u64::MAX);
    }
}
