//! Clos sizing for a rail-optimized, non-blocking GPU compute fabric.
//!
//! Pure: no IO, no clap. `size_clos` turns a [`SizeRequest`] into a [`ClosSize`] that carries the
//! counts (switches, links, cables, optics, power) *and* the wiring plan, so the synthetic
//! generator can emit the exact switches and links from the same numbers. `docs/sizing.md` has
//! the model with worked examples.
//!
//! # The model (why NVIDIA's tables come out as they do)
//!
//! Radix `k` is counted in ports of the NIC speed (a 64 x 800G switch run at 400G is `k = 128`).
//! Every GPU has one NIC port per plane; planes are identical, independent fabrics.
//!
//! 1. **Scalable units (SUs).** Nodes are grouped into SUs of `su_nodes`. Port `g` of every node
//!    in an SU lands on the rail-`g` leaf of that SU (rail-optimized). A leaf gives half of its
//!    ports to nodes and half to spines (1:1, non-blocking), so a rail needs at least
//!    `ceil(su_nodes / (k/2))` leaves per SU; when the SU does not split evenly, the split (up
//!    to half-full leaves) with the fewest switches overall wins. The SU is always built whole: a partial SU still
//!    gets every leaf and every leaf-spine cable, only node ports stay empty (NVIDIA H100, B300
//!    and GB200 RAs, "Network Fabrics": "the fabric should be designed to support the full SU,
//!    including leaf switches and leaf-spine cables").
//! 2. **Two tiers** while they fit: every leaf connects to every spine with the *same* number of
//!    links, so the spine count `S` must divide a leaf's uplink count `u`. `S` is the smallest
//!    divisor of `u` with `S * k >= leaves * u`. That rounding is why the H100 RA has 16 spines
//!    (not 12) for 3 SUs, and the B300 XDR RA 18 (not 16) for 4 SUs and 36 (not 32) for 8 SUs.
//!    It fits while `leaves <= k`, i.e. up to `k^2/2` GPU ports per plane (2048 at `k = 64`:
//!    exactly where the B200 table switches to three tiers).
//! 3. **Three tiers** beyond that: the leaves of one rail form a spine group (split into
//!    `ceil(leaves_per_rail / (k/2))` equal groups when one rail has more than `k/2` leaves).
//!    Spines give half their ports down, half up; a group has the smallest divisor `S_g` of `u`
//!    with `S_g * k/2 >= leaves_per_group * u`. Spines then uplink to core groups: spine `i` of
//!    every group goes to core group `i mod G_c`, and every such spine connects to all `C` cores
//!    of that group with `spine_up / C` links each. `G_c` divides `S_g` and `C` divides the
//!    spine uplink count; the pair with the fewest cores wins, ties going to the widest spread
//!    (largest `C`). For the B200 16-SU row: 8 groups of 16 spines (128), 2 links per leaf-spine
//!    pair, 2 core groups of 32 cores (64), 1 link per spine-core pair. Capacity: `k^3/4`.
//!
//! Cables are counted the way NVIDIA's tables count them: one per link unless `cable_gbps` is a
//! multiple of the NIC speed, in which case one cable carries that many NIC-speed links out of
//! one port cage and may break out to different far ends (the B300 Spectrum-X RA counts one
//! node cable per GPU for its two 400G plane ports, and 800G leaf-spine cables).
//!
//! UFM: an InfiniBand fabric needs ports for its subnet manager. The H100 RA removes one DGX
//! (31 + 32 + 32 + 32 = 127 nodes in 4 SUs) and cables 4 UFM links into the freed leaf ports,
//! which its "Compute and UFM" column counts (1020 = 1016 + 4). `ufm_links` models exactly that:
//! extra node-leaf links per plane that must fit in empty leaf ports; the sizing never adds an
//! SU for them, it reports an error that suggests dropping a node instead.

use serde::Serialize;

/// Default GPUs (and compute NIC ports per plane) per node: HGX/DGX 8-GPU systems.
pub const DEFAULT_GPUS_PER_NODE: u32 = 8;
/// Switch radix (`size` and `generate` default): a 64-port QM9700 / SN5600 at the NIC speed,
/// as in the DGX H100 and B200 SuperPOD RAs.
pub const DEFAULT_RADIX: u32 = 64;
/// NIC port speed in Gb/s (`size` and `generate` default): ConnectX-7 400G, as in the same RAs.
pub const DEFAULT_NIC_GBPS: u32 = 400;
/// Default scalable-unit size: 32 nodes (NVIDIA H100 and B200 RAs).
pub const DEFAULT_SU_NODES: u32 = 32;
/// Links per transceiver module unless `module_gbps` says otherwise: twin-port modules, as the
/// 800G OSFP that carries 2 x 400G (docs/sources.md (c)).
pub const DEFAULT_LINKS_PER_MODULE: u32 = 2;
/// Default watts per transceiver module: 800G DSP module 14-16 W (docs/sources.md §5, [S]).
pub const DEFAULT_MODULE_WATTS: f64 = 15.0;
/// Default watts per switch, optics excluded. docs/sources.md gives no switch figure; this is a
/// placeholder for a 1U 51.2 Tb/s switch. Override it with the datasheet value.
pub const DEFAULT_SWITCH_WATTS: f64 = 750.0;

/// Largest radix accepted: keeps every count far inside `u64` (`k^3/4` at 65536 is 7e13).
pub const MAX_RADIX: u32 = 65_536;
/// Largest number of planes accepted.
pub const MAX_PLANES: u32 = 64;
/// Largest number of GPUs per node accepted (NVL72 racks modelled as one node are 72).
pub const MAX_GPUS_PER_NODE: u32 = 1024;

/// What to size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeRequest {
    /// GPUs to connect (each has one NIC port per plane).
    pub gpus: u64,
    /// Switch radix in ports of the NIC speed.
    pub radix: u32,
    /// NIC port speed per plane (Gb/s).
    pub nic_gbps: u32,
    /// GPUs per node = rails.
    pub gpus_per_node: u32,
    /// Nodes per scalable unit.
    pub su_nodes: u32,
    /// Independent, identical network planes.
    pub planes: u32,
    /// Management (UFM) links per plane, cabled into empty leaf ports.
    pub ufm_links: u32,
    /// Rate of one physical cable (Gb/s); `None` means one cable per link.
    pub cable_gbps: Option<u32>,
    /// Rate of one transceiver module (Gb/s); a module carries `module_gbps / nic_gbps` links.
    /// `None` means a twin-port module (`2 x nic_gbps`).
    pub module_gbps: Option<u32>,
    /// Watts per transceiver module.
    pub module_watts: f64,
    /// Watts per switch, optics excluded.
    pub switch_watts: f64,
    /// Node-leaf links are copper (DAC): no modules on that tier.
    pub copper_node_links: bool,
}

impl SizeRequest {
    /// A request with the defaults of `fabplan size` for everything but the three required
    /// inputs.
    pub fn new(gpus: u64, radix: u32, nic_gbps: u32) -> Self {
        SizeRequest {
            gpus,
            radix,
            nic_gbps,
            gpus_per_node: DEFAULT_GPUS_PER_NODE,
            su_nodes: DEFAULT_SU_NODES,
            planes: 1,
            ufm_links: 0,
            cable_gbps: None,
            module_gbps: None,
            module_watts: DEFAULT_MODULE_WATTS,
            switch_watts: DEFAULT_SWITCH_WATTS,
            copper_node_links: false,
        }
    }
}

/// Why a request cannot be sized. Each has a one-line message and a `help` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error("`--{flag}` must be at least 1")]
    Zero { flag: &'static str },
    #[error("`--{flag}` is {value}, above the supported maximum {max}")]
    TooLarge {
        flag: &'static str,
        value: u64,
        max: u64,
    },
    #[error("radix {radix} is odd: a non-blocking leaf splits its ports evenly between nodes and spines")]
    RadixOdd { radix: u32 },
    #[error("radix {radix} is too small for a leaf-spine fabric (at least 4 ports)")]
    RadixTooSmall { radix: u32 },
    #[error("{gpus} GPUs do not fill whole nodes of {gpus_per_node} GPUs")]
    PartialNode { gpus: u64, gpus_per_node: u32 },
    #[error("`--{flag}` {value}G is not a whole multiple of the NIC speed {nic_gbps}G")]
    NotMultipleOfNic {
        flag: &'static str,
        value: u32,
        nic_gbps: u32,
    },
    #[error("`--{flag}` must be a finite number of watts, at least 0")]
    BadWatts { flag: &'static str },
    #[error("no room for {ufm_links} UFM link(s) per plane: the {scalable_units} SU(s) leave {free_ports} leaf port(s) per plane empty")]
    NoRoomForUfm {
        ufm_links: u32,
        scalable_units: u64,
        free_ports: u64,
    },
    #[error("the design needs {ports} GPU ports per plane, beyond the 3-tier limit k^3/4 = {max} at radix {radix}")]
    BeyondThreeTiers { ports: u64, max: u64, radix: u32 },
    #[error("no symmetric 3-tier wiring for {ports} GPU ports per plane at radix {radix}")]
    NoSymmetricWiring { ports: u64, radix: u32 },
}

impl SizeError {
    /// One `help:` line telling the user what to change.
    pub fn help(&self) -> String {
        match self {
            SizeError::Zero { flag } => format!("give `--{flag}` a positive whole number"),
            SizeError::TooLarge { flag, .. } => {
                format!("lower `--{flag}`; larger values describe no real switch or node")
            }
            SizeError::RadixOdd { .. } | SizeError::RadixTooSmall { .. } => {
                "give an even port count of at least 4, counted at the NIC speed \
                 (a 64 x 800G switch used at 400G is `--radix 128`)"
                    .to_string()
            }
            SizeError::PartialNode {
                gpus,
                gpus_per_node,
            } => {
                let per = u64::from(*gpus_per_node);
                let lower = gpus / per * per;
                let upper = lower + per;
                if lower == 0 {
                    format!("use a multiple of {per} (e.g. {upper}) or change `--gpus-per-node`")
                } else {
                    format!(
                        "use a multiple of {per} (e.g. {lower} or {upper}) or change `--gpus-per-node`"
                    )
                }
            }
            SizeError::NotMultipleOfNic { nic_gbps, .. } => {
                format!(
                    "use a whole multiple of {nic_gbps} (e.g. {nic_gbps} or {})",
                    nic_gbps * 2
                )
            }
            SizeError::BadWatts { flag } => format!("give `--{flag}` a number such as 15 or 750"),
            SizeError::NoRoomForUfm { .. } => {
                "leave node slots free for UFM: the H100 RA drops one DGX (31 nodes in the first \
                 32-node SU), or lower `--ufm-links`"
                    .to_string()
            }
            SizeError::BeyondThreeTiers { .. } => {
                "use a larger radix (a 64 x 800G switch split into 128 x 400G doubles k; \
                 2 planes of 400G keep 800G per GPU), or split the cluster into several fabrics"
                    .to_string()
            }
            SizeError::NoSymmetricWiring { .. } => {
                "make `--su-nodes` a multiple of k/2 so every leaf is full, or use port counts \
                 with more divisors (powers of two work)"
                    .to_string()
            }
        }
    }
}

/// How the leaves of one plane are spread over spines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SpineGrouping {
    /// Two tiers: one group; every leaf of the plane connects to every spine.
    FullMesh,
    /// Three tiers: the leaves of rail `r` form `groups_per_rail` groups of consecutive leaves
    /// (SU-major order); group index = `r * groups_per_rail + leaf_in_rail / leaves_per_group`.
    PerRail { groups_per_rail: u64 },
}

/// The spine tier of one plane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpineTier {
    pub grouping: SpineGrouping,
    /// Spine groups per plane.
    pub groups: u64,
    /// Spines in each group.
    pub spines_per_group: u64,
    /// Leaves each group is built for (the last group of a rail may have fewer).
    pub leaves_per_group: u64,
    /// Links between each leaf and each spine of its group.
    pub links_per_leaf_spine: u64,
    /// Ports per spine facing leaves, at the full design.
    pub down_ports: u64,
    /// Ports per spine facing cores (0 in two tiers).
    pub up_ports: u64,
}

/// The core tier of one plane (three tiers only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoreTier {
    /// Core groups per plane; spine `i` of every spine group uplinks to core group
    /// `i mod groups`.
    pub groups: u64,
    /// Cores in each group; each spine connects to every core of its core group.
    pub cores_per_group: u64,
    /// Spines attached to each core group.
    pub spines_per_group: u64,
    /// Links between each spine and each core of its core group.
    pub links_per_spine_core: u64,
    /// Ports per core in use (all facing spines).
    pub down_ports: u64,
}

/// Everything a generator needs to emit the switches and links of one plane; all planes are
/// identical copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WiringPlan {
    pub planes: u32,
    /// Rails = GPUs per node; port `g` of a node goes to a rail-`g` leaf.
    pub rails: u32,
    pub scalable_units: u64,
    pub nodes_per_su: u64,
    /// Leaves per rail per SU per plane; node `n` of an SU uses leaf slot `n / nodes_per_leaf`.
    pub leaves_per_rail_per_su: u64,
    /// Node-facing ports per leaf at the full design.
    pub nodes_per_leaf: u64,
    /// Spine-facing ports per leaf (equal to `nodes_per_leaf`: 1:1).
    pub leaf_uplinks: u64,
    pub spine: SpineTier,
    pub core: Option<CoreTier>,
}

impl WiringPlan {
    /// Leaves per plane.
    pub fn leaves_per_plane(&self) -> u64 {
        self.scalable_units * u64::from(self.rails) * self.leaves_per_rail_per_su
    }

    /// Spines per plane.
    pub fn spines_per_plane(&self) -> u64 {
        self.spine.groups * self.spine.spines_per_group
    }

    /// Cores per plane.
    pub fn cores_per_plane(&self) -> u64 {
        self.core
            .as_ref()
            .map_or(0, |c| c.groups * c.cores_per_group)
    }

    /// The spine group of the leaf at (`su`, `rail`, `slot`), `slot < leaves_per_rail_per_su`.
    pub fn spine_group_of_leaf(&self, su: u64, rail: u32, slot: u64) -> u64 {
        match self.spine.grouping {
            SpineGrouping::FullMesh => 0,
            SpineGrouping::PerRail { groups_per_rail } => {
                let leaf_in_rail = su * self.leaves_per_rail_per_su + slot;
                u64::from(rail) * groups_per_rail + leaf_in_rail / self.spine.leaves_per_group
            }
        }
    }

    /// The core group that spine `index_in_group` (of any spine group) uplinks to.
    pub fn core_group_of_spine(&self, index_in_group: u64) -> Option<u64> {
        self.core.as_ref().map(|c| index_in_group % c.groups)
    }
}

/// Counts per tier, summed over planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TierCounts {
    pub node_leaf: u64,
    pub leaf_spine: u64,
    pub spine_core: u64,
    pub total: u64,
}

impl TierCounts {
    fn new(node_leaf: u64, leaf_spine: u64, spine_core: u64) -> Self {
        TierCounts {
            node_leaf,
            leaf_spine,
            spine_core,
            total: node_leaf + leaf_spine + spine_core,
        }
    }
}

/// Transceiver modules: 2 ends per optical link, `links_per_module` links per module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Optics {
    pub module_gbps: u64,
    pub links_per_module: u64,
    pub modules: TierCounts,
}

/// Power of the fabric: switches plus optics (nodes are not included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FabricPower {
    pub switch_watts: f64,
    pub module_watts: f64,
    pub switches_w: f64,
    pub optics_w: f64,
    pub total_w: f64,
}

/// The result of [`size_clos`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosSize {
    pub gpus: u64,
    pub nodes: u64,
    /// Node slots in the built SUs (`scalable_units * su_nodes`).
    pub node_slots: u64,
    pub tiers: u8,
    pub radix: u32,
    pub nic_gbps: u32,
    /// Leaf, spine and core switches over all planes.
    pub leaf: u64,
    pub spine: u64,
    pub core: u64,
    /// Logical links at the NIC speed: node-leaf includes the UFM links.
    pub links: TierCounts,
    /// UFM links over all planes (already inside `links.node_leaf` and `cables.node_leaf`).
    pub ufm_links: u64,
    /// Physical cables, counted as NVIDIA's tables count them.
    pub cables: TierCounts,
    pub optics: Optics,
    pub power: FabricPower,
    /// Bisection bandwidth over all planes: GPUs x NIC speed x planes / 2 (non-blocking).
    pub bisection_gbps: u64,
    /// Textbook GPU ports per plane for this tier count: `k^2/2` or `k^3/4`.
    pub max_endpoints: u64,
    /// Switches crossed on the longest path (cross-rail 3; across spine groups 5).
    pub max_hops: u8,
    pub wiring: WiringPlan,
}

/// Sizes a rail-optimized, non-blocking Clos fabric; see the module docs for the model.
pub fn size_clos(req: &SizeRequest) -> Result<ClosSize, SizeError> {
    validate(req)?;
    let k = u64::from(req.radix);
    let half = k / 2;
    let rails = u64::from(req.gpus_per_node);
    let su_nodes = u64::from(req.su_nodes);
    let nodes = req.gpus / rails;

    // Fewest leaves per rail per SU first; when an SU does not split evenly over k/2-port
    // leaves, a few more, smaller leaves can need far fewer spines (144 nodes at k = 64: 5 leaves
    // of 29 ports need 29 spines, 6 leaves of 24 need 12). Leaves below half-full never pay.
    let fewest = su_nodes.div_ceil(half);
    let most = su_nodes
        .div_ceil(half.div_ceil(2))
        .min(fewest + LEAF_SPLIT_CANDIDATES);
    let switches =
        |w: &WiringPlan| w.leaves_per_plane() + w.spines_per_plane() + w.cores_per_plane();
    let mut best = plan(req, nodes, fewest);
    for leaves_per_rail_per_su in fewest + 1..=most {
        if let Ok(candidate) = plan(req, nodes, leaves_per_rail_per_su) {
            let better = match &best {
                Ok(b) => switches(&candidate) < switches(b),
                Err(_) => true,
            };
            if better {
                best = Ok(candidate);
            }
        }
    }
    best.map(|wiring| count(req, nodes, wiring))
}

/// At most this many extra leaf splits are tried beyond the fewest leaves per rail per SU.
const LEAF_SPLIT_CANDIDATES: u64 = 64;

/// The wiring plan with `leaves_per_rail_per_su` leaves per rail in each SU.
fn plan(
    req: &SizeRequest,
    nodes: u64,
    leaves_per_rail_per_su: u64,
) -> Result<WiringPlan, SizeError> {
    let k = u64::from(req.radix);
    let rails = u64::from(req.gpus_per_node);
    let su_nodes = u64::from(req.su_nodes);
    let scalable_units = nodes.div_ceil(su_nodes);
    let nodes_per_leaf = su_nodes.div_ceil(leaves_per_rail_per_su);
    let leaf_uplinks = nodes_per_leaf;
    let leaves = scalable_units * rails * leaves_per_rail_per_su;
    // Designed GPU-facing leaf ports per plane: whole SUs, empty slots included.
    let ports = leaves * nodes_per_leaf;

    let max_three_tier = k * k * k / 4;
    if ports > max_three_tier {
        return Err(SizeError::BeyondThreeTiers {
            ports,
            max: max_three_tier,
            radix: req.radix,
        });
    }
    let free_ports = ports - req.gpus;
    if u64::from(req.ufm_links) > free_ports {
        return Err(SizeError::NoRoomForUfm {
            ufm_links: req.ufm_links,
            scalable_units,
            free_ports,
        });
    }

    let two_tier_spines =
        smallest_divisor_at_least(leaf_uplinks, (leaves * leaf_uplinks).div_ceil(k));
    let (spine, core) = match two_tier_spines {
        Some(spines) => {
            let links = leaf_uplinks / spines;
            let spine = SpineTier {
                grouping: SpineGrouping::FullMesh,
                groups: 1,
                spines_per_group: spines,
                leaves_per_group: leaves,
                links_per_leaf_spine: links,
                down_ports: leaves * links,
                up_ports: 0,
            };
            (spine, None)
        }
        None => three_tier(req, leaves / rails, leaf_uplinks, ports)?,
    };

    Ok(WiringPlan {
        planes: req.planes,
        rails: req.gpus_per_node,
        scalable_units,
        nodes_per_su: su_nodes,
        leaves_per_rail_per_su,
        nodes_per_leaf,
        leaf_uplinks,
        spine,
        core,
    })
}

/// Three tiers: per-rail spine groups, then core groups. `leaves_per_rail` is per plane.
fn three_tier(
    req: &SizeRequest,
    leaves_per_rail: u64,
    leaf_uplinks: u64,
    ports: u64,
) -> Result<(SpineTier, Option<CoreTier>), SizeError> {
    let k = u64::from(req.radix);
    let half = k / 2;
    let no_wiring = SizeError::NoSymmetricWiring {
        ports,
        radix: req.radix,
    };

    // A spine gives half its ports to leaves and needs at least one link to each leaf of its
    // group, so a group holds at most k/2 leaves.
    let groups_per_rail = leaves_per_rail.div_ceil(half);
    let leaves_per_group = leaves_per_rail.div_ceil(groups_per_rail);
    let spines_per_group = smallest_divisor_at_least(
        leaf_uplinks,
        (leaves_per_group * leaf_uplinks).div_ceil(half),
    )
    .ok_or(no_wiring.clone())?;
    let links_per_leaf_spine = leaf_uplinks / spines_per_group;
    let spine_down = leaves_per_group * links_per_leaf_spine;
    // 1:1 at the full group; a rail's last group may hold fewer leaves but is built whole.
    let spine_up = spine_down;
    let groups = u64::from(req.gpus_per_node) * groups_per_rail;
    let spines = groups * spines_per_group;

    // Core groups: fewest cores, then the widest spread (largest group, fewest parallel links).
    let mut best: Option<(u64, u64)> = None; // (core groups, cores per group)
    for core_groups in divisors(spines_per_group) {
        for cores_per_group in divisors(spine_up) {
            let per_core = (spines / core_groups) * (spine_up / cores_per_group);
            if per_core > k {
                continue;
            }
            let total = core_groups * cores_per_group;
            let better = match best {
                None => true,
                Some((g, c)) => total < g * c || (total == g * c && cores_per_group > c),
            };
            if better {
                best = Some((core_groups, cores_per_group));
            }
        }
    }
    let (core_groups, cores_per_group) = best.ok_or(no_wiring)?;
    let links_per_spine_core = spine_up / cores_per_group;
    let spines_per_core_group = spines / core_groups;

    let spine = SpineTier {
        grouping: SpineGrouping::PerRail { groups_per_rail },
        groups,
        spines_per_group,
        leaves_per_group,
        links_per_leaf_spine,
        down_ports: spine_down,
        up_ports: spine_up,
    };
    let core = CoreTier {
        groups: core_groups,
        cores_per_group,
        spines_per_group: spines_per_core_group,
        links_per_spine_core,
        down_ports: spines_per_core_group * links_per_spine_core,
    };
    Ok((spine, Some(core)))
}

/// Counts switches, links, cables, optics and power from a wiring plan.
fn count(req: &SizeRequest, nodes: u64, wiring: WiringPlan) -> ClosSize {
    let k = u64::from(req.radix);
    let planes = u64::from(req.planes);
    let nic = u64::from(req.nic_gbps);
    let leaves = wiring.leaves_per_plane();
    let spines = wiring.spines_per_plane();
    let cores = wiring.cores_per_plane();
    let three_tier = wiring.core.is_some();

    let ufm_links = u64::from(req.ufm_links) * planes;
    let links = TierCounts::new(
        req.gpus * planes + ufm_links,
        planes * leaves * wiring.leaf_uplinks,
        planes * spines * wiring.spine.up_ports,
    );

    // A cable carries `bundle` NIC-speed links out of one cage (breakouts count once).
    let bundle = req.cable_gbps.map_or(1, |c| u64::from(c) / nic);
    let cables = TierCounts::new(
        req.gpus * planes.div_ceil(bundle) + ufm_links,
        planes * leaves * wiring.leaf_uplinks.div_ceil(bundle),
        planes * spines * wiring.spine.up_ports.div_ceil(bundle),
    );

    // Two ends per optical link; a module carries `links_per_module` links (docs/sources.md (c)).
    let links_per_module = req
        .module_gbps
        .map_or(u64::from(DEFAULT_LINKS_PER_MODULE), |m| u64::from(m) / nic);
    let module_gbps = links_per_module * nic;
    let modules_for = |n: u64| 2 * n.div_ceil(links_per_module);
    let modules = TierCounts::new(
        if req.copper_node_links {
            0
        } else {
            modules_for(links.node_leaf)
        },
        modules_for(links.leaf_spine),
        modules_for(links.spine_core),
    );

    let leaf = planes * leaves;
    let spine = planes * spines;
    let core = planes * cores;
    let switches_w = (leaf + spine + core) as f64 * req.switch_watts;
    let optics_w = modules.total as f64 * req.module_watts;

    ClosSize {
        gpus: req.gpus,
        nodes,
        node_slots: wiring.scalable_units * wiring.nodes_per_su,
        tiers: if three_tier { 3 } else { 2 },
        radix: req.radix,
        nic_gbps: req.nic_gbps,
        leaf,
        spine,
        core,
        links,
        ufm_links,
        cables,
        optics: Optics {
            module_gbps,
            links_per_module,
            modules,
        },
        power: FabricPower {
            switch_watts: req.switch_watts,
            module_watts: req.module_watts,
            switches_w,
            optics_w,
            total_w: switches_w + optics_w,
        },
        bisection_gbps: req.gpus * planes * nic / 2,
        max_endpoints: if three_tier { k * k * k / 4 } else { k * k / 2 },
        max_hops: if three_tier { 5 } else { 3 },
        wiring,
    }
}

fn validate(req: &SizeRequest) -> Result<(), SizeError> {
    for (flag, value) in [
        ("gpus", req.gpus),
        ("radix", u64::from(req.radix)),
        ("nic-gbps", u64::from(req.nic_gbps)),
        ("gpus-per-node", u64::from(req.gpus_per_node)),
        ("su-nodes", u64::from(req.su_nodes)),
        ("planes", u64::from(req.planes)),
    ] {
        if value == 0 {
            return Err(SizeError::Zero { flag });
        }
    }
    for (flag, value) in [
        ("cable-gbps", req.cable_gbps),
        ("module-gbps", req.module_gbps),
    ] {
        if value == Some(0) {
            return Err(SizeError::Zero { flag });
        }
    }
    if req.radix % 2 == 1 {
        return Err(SizeError::RadixOdd { radix: req.radix });
    }
    if req.radix < 4 {
        return Err(SizeError::RadixTooSmall { radix: req.radix });
    }
    for (flag, value, max) in [
        ("radix", req.radix, MAX_RADIX),
        ("planes", req.planes, MAX_PLANES),
        ("gpus-per-node", req.gpus_per_node, MAX_GPUS_PER_NODE),
        // An SU wider than k^2/2 nodes cannot be non-blocking on one rail anyway.
        (
            "su-nodes",
            req.su_nodes,
            req.radix.saturating_mul(req.radix) / 2,
        ),
    ] {
        if value > max {
            return Err(SizeError::TooLarge {
                flag,
                value: u64::from(value),
                max: u64::from(max),
            });
        }
    }
    if req.gpus % u64::from(req.gpus_per_node) != 0 {
        return Err(SizeError::PartialNode {
            gpus: req.gpus,
            gpus_per_node: req.gpus_per_node,
        });
    }
    // More GPU ports than any 3-tier fabric of this radix: refuse before multiplying.
    let max_three_tier = u64::from(req.radix).pow(3) / 4;
    if req.gpus > max_three_tier {
        return Err(SizeError::BeyondThreeTiers {
            ports: req.gpus,
            max: max_three_tier,
            radix: req.radix,
        });
    }
    for (flag, value) in [
        ("cable-gbps", req.cable_gbps),
        ("module-gbps", req.module_gbps),
    ] {
        if let Some(value) = value {
            if value % req.nic_gbps != 0 {
                return Err(SizeError::NotMultipleOfNic {
                    flag,
                    value,
                    nic_gbps: req.nic_gbps,
                });
            }
        }
    }
    for (flag, watts) in [
        ("switch-watts", req.switch_watts),
        ("module-watts", req.module_watts),
    ] {
        if !watts.is_finite() || watts < 0.0 {
            return Err(SizeError::BadWatts { flag });
        }
    }
    Ok(())
}

/// The divisors of `n` in increasing order (`n <= k/2`, so a plain scan is cheap).
fn divisors(n: u64) -> Vec<u64> {
    (1..=n).filter(|d| n % d == 0).collect()
}

/// The smallest divisor of `n` that is at least `min`, if any.
fn smallest_divisor_at_least(n: u64, min: u64) -> Option<u64> {
    (min.max(1)..=n).find(|d| n % d == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(gpus: u64, radix: u32, nic: u32) -> ClosSize {
        size_clos(&SizeRequest::new(gpus, radix, nic)).expect("sizes")
    }

    #[test]
    fn divisor_helpers() {
        assert_eq!(divisors(32), vec![1, 2, 4, 8, 16, 32]);
        assert_eq!(smallest_divisor_at_least(32, 12), Some(16));
        assert_eq!(smallest_divisor_at_least(72, 16), Some(18));
        assert_eq!(smallest_divisor_at_least(72, 32), Some(36));
        assert_eq!(smallest_divisor_at_least(32, 33), None);
        assert_eq!(smallest_divisor_at_least(32, 0), Some(1));
    }

    #[test]
    fn two_tier_limit_is_k_squared_over_two() {
        // 2048 GPUs at k = 64 is the largest 2-tier design; one more SU needs a core tier.
        let at_limit = size(2048, 64, 400);
        assert_eq!((at_limit.tiers, at_limit.max_endpoints), (2, 2048));
        assert_eq!(at_limit.wiring.spine.links_per_leaf_spine, 1);
        let beyond = size(2048 + 256, 64, 400);
        assert_eq!((beyond.tiers, beyond.max_endpoints), (3, 65_536));
    }

    #[test]
    fn spines_round_up_to_a_divisor_of_leaf_uplinks() {
        // 3 SUs: 24 leaves x 32 uplinks need 12 spines, but 12 does not divide 32.
        let three_su = size(3 * 256, 64, 400);
        assert_eq!(three_su.spine, 16);
        assert_eq!(three_su.wiring.spine.links_per_leaf_spine, 2);
        assert_eq!(three_su.wiring.spine.down_ports, 48);
    }

    #[test]
    fn b200_16_su_wiring_plan() {
        let s = size(4096, 64, 400);
        let w = &s.wiring;
        assert_eq!(
            (w.scalable_units, w.leaves_per_rail_per_su, w.leaf_uplinks),
            (16, 1, 32)
        );
        assert_eq!(
            w.spine.grouping,
            SpineGrouping::PerRail { groups_per_rail: 1 }
        );
        assert_eq!((w.spine.groups, w.spine.spines_per_group), (8, 16));
        assert_eq!(w.spine.links_per_leaf_spine, 2);
        assert_eq!((w.spine.down_ports, w.spine.up_ports), (32, 32));
        let core = w.core.as_ref().expect("3 tiers");
        assert_eq!((core.groups, core.cores_per_group), (2, 32));
        assert_eq!((core.spines_per_group, core.links_per_spine_core), (64, 1));
        assert_eq!(core.down_ports, 64);
        assert_eq!(w.spine_group_of_leaf(15, 7, 0), 7);
        assert_eq!(w.core_group_of_spine(5), Some(1));
    }

    #[test]
    fn b200_64_su_splits_each_rail_into_two_spine_groups() {
        let s = size(16_384, 64, 400);
        let w = &s.wiring;
        assert_eq!(
            w.spine.grouping,
            SpineGrouping::PerRail { groups_per_rail: 2 }
        );
        assert_eq!(
            (
                w.spine.groups,
                w.spine.spines_per_group,
                w.spine.leaves_per_group
            ),
            (16, 32, 32)
        );
        assert_eq!(w.spine_group_of_leaf(31, 0, 0), 0);
        assert_eq!(w.spine_group_of_leaf(32, 0, 0), 1);
        assert_eq!(w.spine_group_of_leaf(32, 3, 0), 7);
        assert_eq!((s.leaf, s.spine, s.core), (512, 512, 256));
    }

    #[test]
    fn every_port_budget_holds() {
        for gpus in [8, 256, 768, 2048, 2056, 4096, 12_288, 65_536] {
            let s = size(gpus, 64, 400);
            let w = &s.wiring;
            assert!(w.nodes_per_leaf + w.leaf_uplinks <= 64);
            assert!(w.spine.down_ports + w.spine.up_ports <= 64, "{gpus}");
            assert_eq!(w.leaf_uplinks % w.spine.spines_per_group, 0);
            if let Some(core) = &w.core {
                assert!(core.down_ports <= 64);
                assert_eq!(w.spine.spines_per_group % core.groups, 0);
                assert_eq!(
                    core.cores_per_group * core.links_per_spine_core,
                    w.spine.up_ports
                );
            }
            // Non-blocking: every tier carries as many links as there are GPU-facing ports.
            let ports = w.leaves_per_plane() * w.nodes_per_leaf;
            assert_eq!(s.links.leaf_spine, ports);
            if s.tiers == 3 {
                assert_eq!(s.links.spine_core, ports);
            }
        }
    }

    #[test]
    fn uneven_su_takes_the_leaf_split_with_fewest_switches() {
        // GB200 NVL72 SU, docs/sources.md (b) design D [D]: 144 trays x 4 GPUs on k = 64. Five leaves
        // of 29 ports per rail would need 29 spines (29 is prime); six of 24 need 12.
        let mut req = SizeRequest::new(576, 64, 400);
        req.gpus_per_node = 4;
        req.su_nodes = 144;
        let s = size_clos(&req).unwrap();
        assert_eq!(s.wiring.leaves_per_rail_per_su, 6);
        assert_eq!((s.leaf, s.spine, s.core), (24, 12, 0));
        assert_eq!((s.cables.node_leaf, s.cables.leaf_spine), (576, 576));
        assert_eq!(s.wiring.spine.links_per_leaf_spine, 2);
    }

    #[test]
    fn partial_su_is_built_whole() {
        let s = size(8, 64, 400);
        assert_eq!((s.nodes, s.node_slots, s.leaf, s.spine), (1, 32, 8, 4));
        assert_eq!((s.cables.node_leaf, s.cables.leaf_spine), (8, 256));
    }

    #[test]
    fn optics_and_power() {
        let s = size(512, 64, 400);
        // 512 + 512 links, twin-port 800G modules, 2 ends: 512 + 512 modules.
        assert_eq!(s.optics.links_per_module, 2);
        assert_eq!(s.optics.modules, TierCounts::new(512, 512, 0));
        assert_eq!(s.power.switches_w, 24.0 * DEFAULT_SWITCH_WATTS);
        assert_eq!(s.power.optics_w, 1024.0 * DEFAULT_MODULE_WATTS);
        let mut copper = SizeRequest::new(512, 64, 400);
        copper.copper_node_links = true;
        assert_eq!(size_clos(&copper).unwrap().optics.modules.node_leaf, 0);
    }

    #[test]
    fn bisection_counts_every_plane() {
        let mut req = SizeRequest::new(512, 128, 400);
        req.planes = 2;
        req.su_nodes = 64;
        assert_eq!(size_clos(&req).unwrap().bisection_gbps, 512 * 2 * 400 / 2);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let cases: Vec<(SizeRequest, SizeError)> = vec![
            (
                SizeRequest::new(0, 64, 400),
                SizeError::Zero { flag: "gpus" },
            ),
            (
                SizeRequest::new(8, 63, 400),
                SizeError::RadixOdd { radix: 63 },
            ),
            (
                SizeRequest::new(8, 2, 400),
                SizeError::RadixTooSmall { radix: 2 },
            ),
            (
                SizeRequest::new(8, 0, 400),
                SizeError::Zero { flag: "radix" },
            ),
            (
                SizeRequest::new(12, 64, 400),
                SizeError::PartialNode {
                    gpus: 12,
                    gpus_per_node: 8,
                },
            ),
            (
                SizeRequest::new(65_536 + 256, 64, 400),
                SizeError::BeyondThreeTiers {
                    ports: 65_792,
                    max: 65_536,
                    radix: 64,
                },
            ),
            (
                SizeRequest::new(u64::MAX - 7, 64, 400),
                SizeError::BeyondThreeTiers {
                    ports: u64::MAX - 7,
                    max: 65_536,
                    radix: 64,
                },
            ),
        ];
        for (req, want) in cases {
            assert_eq!(size_clos(&req), Err(want));
        }
        let mut ufm = SizeRequest::new(256, 64, 400);
        ufm.ufm_links = 4;
        assert!(matches!(
            size_clos(&ufm),
            Err(SizeError::NoRoomForUfm { free_ports: 0, .. })
        ));
        let mut cable = SizeRequest::new(256, 64, 400);
        cable.cable_gbps = Some(600);
        assert!(matches!(
            size_clos(&cable),
            Err(SizeError::NotMultipleOfNic { .. })
        ));
        let mut watts = SizeRequest::new(256, 64, 400);
        watts.module_watts = f64::NAN;
        assert_eq!(
            size_clos(&watts),
            Err(SizeError::BadWatts {
                flag: "module-watts"
            })
        );
        let mut huge = SizeRequest::new(256, u32::MAX - 1, 400);
        huge.su_nodes = u32::MAX;
        assert!(matches!(
            size_clos(&huge),
            Err(SizeError::TooLarge { flag: "radix", .. })
        ));
    }
}
