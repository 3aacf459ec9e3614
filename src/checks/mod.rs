//! The validation registry: every diagnostic code fabplan can emit, with its severity and
//! documentation (`fabplan explain CODE`), and the checks that run on a loaded fabric.
//!
//! Codes are stable and never reused. FP0xx are load problems (the file cannot be read as a
//! fabric: exit 2); FP1xx and up are design findings (exit 1 on errors). FP8xx are demand and
//! plan files: FP801-FP829 input problems (exit 2), FP850-FP879 `fabplan verify`'s findings
//! (exit 1).

mod clos;
mod links;
mod nvlink;
mod power;
mod qos;
mod rails;

/// The rail of each switch, declared or inferred (the as-built diff needs it too).
pub(crate) use rails::switch_rails;

use rayon::prelude::*;

use crate::diag::{Diagnostic, Severity};
use crate::fabric::topology::Topology;
use crate::model::Fabric;

/// What a check sees: the fabric and the adjacency derived from it.
pub struct Ctx<'a> {
    pub fabric: &'a Fabric,
    pub topo: &'a Topology,
}

pub type CheckFn = fn(&Ctx, &mut Vec<Diagnostic>);

/// One registry entry.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the rule checks.
    pub summary: &'static str,
    /// Markdown with the fixed headings: what it does, why it matters, example, source.
    pub doc: &'static str,
    /// `None` for load problems, reported by the loader.
    pub check: Option<CheckFn>,
}

macro_rules! rules {
    ($( $code:literal $name:literal $sev:ident $check:expr, $summary:literal, $doc:literal; )*) => {
        /// Every rule, sorted by code.
        pub static RULES: &[Rule] = &[$(
            Rule { code: $code, name: $name, severity: Severity::$sev, summary: $summary, doc: $doc, check: $check },
        )*];
    };
}

rules! {
    "FP001" "yaml-syntax" Error None, "the file is not well-formed YAML",
    "The YAML parser stopped at a syntax error: an unclosed bracket or quote, a tab used for indentation, a key without a value.\n\nWhy it matters: nothing in the file can be trusted until it parses.\n\nExample: `racks: [ {id: r1 }` (the sequence is never closed).";
    "FP002" "schema" Error None, "a key is unknown, missing, or has the wrong type",
    "The document parsed, but it does not have the shape of a fabric: an unknown key (often a typo), a required key that is missing, or a value of the wrong type (`power_kw: lots`).\n\nWhy it matters: a silently ignored typo (`powr_kw`) would drop a limit from the design.\n\nExample: `racks: [{id: r1, powr_kw: 40}]`.\n\nSource: docs/fabric-format.md lists every key.";
    "FP003" "duplicate-id" Error None, "an id or key is declared twice",
    "Two racks, templates, switch models, nodes or switches share an id, or a YAML mapping repeats a key. Node and switch names share one namespace because link endpoints name either.\n\nWhy it matters: references would be ambiguous, and YAML parsers disagree about which duplicate wins.\n\nExample: two racks with `id: r1`.";
    "FP004" "unknown-reference" Error None, "a name refers to nothing declared",
    "A template, rack, switch model, GPU model, node, switch or port that is referenced but not declared.\n\nWhy it matters: a dangling reference means part of the design is missing.\n\nExample: `nodes: [{template: dgx-h100x, ids: \"dgx[1-4]\"}]` with no template `dgx-h100x`.";
    "FP005" "parse-limits" Error None, "the document exceeds the parse limits",
    "The file is larger than 256 MiB, nests deeper than 64 levels, or its aliases expand past 10,000,000 replayed events (a \"billion laughs\" alias bomb). Aliases are budgeted by what they expand to, not by how many there are: reusing a few anchors many times is fine.\n\nWhy it matters: fabplan refuses to spend unbounded memory or time on one input.\n\nExample: `a: &a [x, x]`, `b: &b [*a, *a]`, ... nested ten times.";
    "FP006" "not-utf8" Error None, "the file is not UTF-8",
    "The file contains bytes that are not valid UTF-8.\n\nWhy it matters: YAML is defined over Unicode text; a Latin-1 file would be read wrongly.\n\nExample: a file saved in Windows-1252 with an `é`.";
    "FP007" "empty-file" Error None, "the file is empty",
    "The file has no content, or only comments.\n\nWhy it matters: an empty design validating clean would hide a broken pipeline.";
    "FP008" "unreadable" Error None, "the file cannot be read",
    "The file does not exist, is a directory, or cannot be opened.\n\nWhy it matters: nothing was checked.";
    "FP009" "invalid-value" Error None, "a value is out of range or malformed",
    "A value has the right type but a meaning fabplan cannot accept: a non-positive power, an unknown tier or cable medium, a malformed hostlist, a NIC serving a GPU the node does not have, an intent whose counts do not add up.\n\nWhy it matters: the design would mean something other than what was written.\n\nExample: `cooling: water` (use `air` or `liquid`).";
    "FP010" "gpu-model-mig-table" Error None, "a GPU model file's MIG profile table is inconsistent",
    "A GPU model file (`gpu_models:` of a fabric, `--gpu-file`) describes its MIG profiles on a grid of `placement_units`; each profile's width (`size`) and `starts` must fit the grid, its slices must be a share of the GPU's `compute_slices` and `memory_slices`, its `max_instances` at least 1, and names and ids unique. Every problem of the table is reported, each at its profile in the model file.\n\nWhy it matters: the MIG layout predicate, the planner and the mig-parted export trust the table; a profile placed past the last unit or sharing another's id would yield layouts the GPU refuses.\n\nExample: `{name: \"4g.40gb\", size: 4, starts: [0, 6]}` on an 8-unit GPU (a 4-unit instance at unit 6 runs past unit 7).\n\nSource: NVIDIA MIG user guide, supported profiles and placements (`nvidia-smi mig -lgip` / `-lgipp`); docs/mig.md.";
    "FP015" "expansion-limit" Error None, "an expansion would create more entities than fabplan's budget",
    "A hostlist, an intent pattern (`rail-su`, `uplinks` with `links_per_pair`) or the racks of a fabric would create more names, nodes, GPUs, NIC ports, switches or links than the documented budget. The count is computed before anything is allocated and the diagnostic says it and the limit.\n\nWhy it matters: `links_per_pair: 2000000` would allocate gigabytes and abort the process; a budget refuses it in a millisecond, with the place to fix.\n\nExample: `nodes: [{template: dgx, ids: \"dgx[1-99999999]\"}]` (99,999,999 names, limit 4,194,304).\n\nSource: docs/limits.md (the budgets fit a 1,000,000-GPU fabric).";
    "FP020" "stdin-twice" Error None, "standard input is given for two inputs",
    "Two inputs of one command are `-`; standard input can be read only once, so the second would read nothing.\n\nWhy it matters: reading an empty second input would report a misleading `empty-file`, or plan against nothing.\n\nExample: `fabplan verify - -` (demand and plan both from stdin).\n\nSource: POSIX utility conventions (`-` names standard input), docs/exit-codes.md.";
    "FP101" "rail-nic-to-rail" Error Some(rails::nic_to_rail), "the NIC of GPU k is cabled to a leaf of another rail",
    "What it does: every leaf that serves NICs has a rail (declared, or the GPU index most of its NIC links serve). Each NIC link must land on a leaf of the rail of the GPU it serves. Rails key on GPU index, never on port order: on a DGX H100, OSFP1P1 serves GPU 7.\n\nWhy it matters: a miswired rail pushes same-rank traffic through the spine, adds hops and ECMP collisions, and the slowest rank sets the collective's speed.\n\nExample: `dgx01:osfp1p1` (GPU 7) cabled to the rail-0 leaf.\n\nSource: NVIDIA DGX SuperPOD H100 RA (network fabrics); Juniper JVD rail-optimized stripe; DGX H100 user guide table 6.";
    "FP102" "rail-balance" Error Some(rails::balance), "rails of a scalable unit differ in links or speed",
    "What it does: within each scalable unit, every rail must have the same number of NIC links at the same speed.\n\nWhy it matters: uneven rails make the slowest rail set the speed of every collective.\n\nExample: rail 3 has 31 links and rail 4 has 30.\n\nSource: docs/sources.md (a) rule 2.";
    "FP103" "rail-count" Error Some(rails::count), "the number of rails differs from the compute NICs per node",
    "What it does: in each scalable unit and plane, the number of rails (leaves' distinct rails) must equal the compute NIC ports per node per plane (8 on HGX/DGX, 4 per GB200 tray).\n\nWhy it matters: a missing rail leaves GPUs without scale-out bandwidth or forces two GPUs onto one rail.\n\nSource: docs/sources.md (a) rule 3.";
    "FP104" "nic-gpu-ratio" Warning Some(rails::nic_ratio), "a GPU has less than one 400G compute NIC",
    "What it does: a GPU node template should have one compute NIC port per GPU at 400 Gb/s or more.\n\nWhy it matters: the NIC sets each GPU's scale-out bandwidth; H100/H200/B200 reference designs give every GPU a 400G NIC.\n\nSource: NVIDIA SuperPOD RAs; docs/sources.md (a) rule 4.";
    "FP105" "rail-shared-leaf" Error Some(rails::shared_leaf), "a node has two NICs on one leaf, or a leaf serves two scalable units",
    "What it does: no node may put two NIC ports of the same plane on one leaf, and no rail leaf may serve nodes of two scalable units.\n\nWhy it matters: two rails on one leaf break rail alignment; a leaf shared by two SUs breaks the SU's failure and growth boundary.\n\nSource: docs/sources.md (a) rule 7.";
    "FP106" "nic-uncabled" Error Some(rails::uncabled), "a compute NIC port has no link",
    "What it does: in a fabric with switches, every compute NIC port of a GPU node must be cabled.\n\nWhy it matters: an uncabled NIC leaves its GPU without scale-out bandwidth; jobs using it run at the speed of PXN detours or fail.\n\nExample: a node added to a rack but left out of its SU's `rail-su` intent.\n\nSource: NVIDIA DGX SuperPOD RAs (every GPU has a compute NIC on its rail); docs/sources.md (a) rules 1 and 4.";
    "FP201" "oversub-leaf" Error Some(clos::oversub_leaf), "a leaf has more downlink than uplink bandwidth",
    "What it does: on the compute fabric, each leaf with uplinks must have uplink bandwidth >= downlink bandwidth (1:1).\n\nWhy it matters: all-reduce runs at the rate of the bottleneck link; a 2:1 leaf halves cross-leaf bandwidth.\n\nSource: NVIDIA SuperPOD RAs (non-blocking compute fabric); docs/sources.md (a) rule 5.";
    "FP202" "oversub-spine" Error Some(clos::oversub_spine), "a spine has more downlink than uplink bandwidth in a 3-tier fabric",
    "What it does: in a 3-tier Clos, each spine with core uplinks must have uplink bandwidth >= downlink bandwidth.\n\nWhy it matters: cross-SU traffic would be oversubscribed at the spine.\n\nSource: NVIDIA DGX B200 SuperPOD RA (3-tier rows); docs/sources.md (a) rule 6.";
    "FP203" "full-mesh" Error Some(clos::full_mesh), "a switch has unequal links to the switches of its upper group",
    "What it does: each lower switch must have the same number of links to every upper switch it connects to, and lower switches sharing an upper switch must connect to the same set of upper switches.\n\nWhy it matters: unequal ECMP fan-out overloads some paths while others idle.\n\nSource: docs/sources.md (a) rule 7 (clos.full_mesh).";
    "FP204" "spine-min" Warning Some(clos::spine_min), "fewer than 4 spines",
    "What it does: a fabric with spines should have at least 4 per plane.\n\nWhy it matters: with 4 spines, one spine failure costs at most 25 % of cross-leaf bandwidth; with 2 it costs 50 %.\n\nSource: Juniper AI JVD recommendations.";
    "FP205" "su-complete" Warning Some(clos::su_complete), "a scalable unit is missing leaves or leaf uplinks",
    "What it does: every scalable unit should have as many leaves, and each leaf as many uplinks, as the largest SU.\n\nWhy it matters: NVIDIA's RA builds a partial SU with every leaf and every leaf-spine cable so routing stays even and the SU can grow.\n\nSource: NVIDIA DGX SuperPOD H100 RA.";
    "FP206" "ib-ufm-port" Warning Some(clos::ufm_port), "an InfiniBand fabric has no management (UFM) host attached",
    "What it does: an InfiniBand compute fabric should have a management node (role `management`, e.g. a UFM appliance) cabled to it; the H100 SU keeps one leaf port per leaf for it (31 DGX + UFM).\n\nWhy it matters: the subnet manager and telemetry need a port on the fabric.\n\nSource: NVIDIA DGX SuperPOD H100 RA.";
    "FP207" "tier-skip" Error Some(clos::tier_skip), "a link skips a tier or joins two switches of one tier",
    "What it does: NICs connect to leaves, leaves to spines, spines to cores. A NIC on a spine, a leaf on a core, or a leaf-to-leaf link breaks the Clos.\n\nWhy it matters: hop counts, oversubscription and failure domains stop meaning what the design says.\n\nExample: a DGX NIC cabled straight to a spine.\n\nSource: docs/sources.md (c) (hops: same leaf 1, leaf-spine-leaf 3, across SUs 5); NVIDIA SuperPOD RAs.";
    "FP208" "switch-unconnected" Warning Some(clos::unconnected), "a switch has no links, or a leaf has no uplinks in a multi-tier fabric",
    "What it does: flags switches with no links, and leaves with no uplinks when the fabric has spines.\n\nWhy it matters: an orphan switch is usually a typo; a leaf without uplinks isolates its GPUs from the rest of the fabric.\n\nExample: `spine5` declared under `switches:` but never cabled.\n\nSource: Batfish `unusedStructures` (docs/sources.md §4).";
    "FP301" "switch-radix" Error Some(links::radix), "a switch uses more port capacity than it has",
    "What it does: the links on a switch may use at most its port capacity; a link slower than the port uses a breakout share (a 400G link uses half an 800G port).\n\nWhy it matters: the cabling plan cannot be built.\n\nExample: 70 x 400G links on a QM9700 (64 x 400G).\n\nSource: QM9700 64 x 400G; SN5600 64 x 800G or 128 x 400G; docs/sources.md (a) rule 8.";
    "FP302" "link-speed" Error Some(links::speed), "a link's speed is not supported by one of its ends",
    "What it does: a link's speed must equal the NIC port's speed, and be the switch port's native speed or one of its breakouts.\n\nWhy it matters: mismatched ends do not come up, or come up at the lower speed.\n\nSource: docs/sources.md (a) rule 12.";
    "FP303" "port-reuse" Error Some(links::port_reuse), "a port is used by two links",
    "What it does: each switch port and each NIC port carries at most one link.\n\nWhy it matters: two cables cannot share a port; one of them is miswired.\n\nSource: containerlab #262, #387; docs/sources.md (a) rule 13.";
    "FP304" "self-link" Error Some(links::self_link), "a link connects a device to itself",
    "What it does: both ends of a link must be on different devices.\n\nWhy it matters: a loopback cable is a documentation error or a miswire.\n\nExample: `{a: leaf1:1, b: leaf1:2}`.\n\nSource: containerlab link checks; docs/sources.md (a) rule 13.";
    "FP305" "cable-reach" Error Some(links::reach), "a cable is longer than its medium can reach",
    "What it does: DAC reaches 5 m at 100G and below, 3 m at 200-400G and 2 m at 800G; AOC 100 m; MPO multimode OM4 50 m and OM3 30 m; MPO single-mode 500 m; single-mode splitter 50 m; LC single-mode 2 km.\n\nWhy it matters: past its reach a link flaps or does not come up.\n\nSource: NVIDIA structured cabling (docs.nvidia.com/networking/display/intrcnctcabreqndr400eth); docs/sources.md (a) rule 14.";
    "FP306" "length-missing" Warning Some(links::length_missing), "links without a length cannot be checked for reach or PFC headroom",
    "What it does: counts links with no `length_m` and names the first.\n\nWhy it matters: cable length sets reach limits and the PFC headroom a lossless port needs (Meta: measure cable lengths).\n\nExample: `links: [{a: n1:nic0, b: leaf1:1, gbps: 400, medium: aoc}]`.\n\nSource: Meta OCP talk on PFC headroom (docs/sources.md §3); NVIDIA structured cabling.";
    "FP401" "nvlink-domain-shape" Error Some(nvlink::domain_shape), "an NVLink domain does not have its kind's shape",
    "What it does: an HGX/DGX domain has 8 GPUs; an NVL72 domain has 18 compute trays of 4 GPUs (72) and 9 NVLink switch trays.\n\nWhy it matters: tensor-parallel groups are sized to the domain; a wrong shape misplaces them.\n\nSource: NVIDIA GB200 NVL72 RA (network fabrics); docs/sources.md (a) rule 15.";
    "FP402" "nvlink-mixed-gpu" Error Some(nvlink::mixed_gpu), "an NVLink domain mixes GPU models",
    "What it does: all GPUs of one NVLink domain must be the same model.\n\nWhy it matters: NVLink domains are homogeneous in hardware; a mix is a data error.\n\nExample: an NVL72 rack with 17 GB200 trays and one tray template naming `b200`.\n\nSource: NVIDIA GB200 NVL72 RA (one GPU model per NVLink domain).";
    "FP403" "nvl72-tray-orphan" Error Some(nvlink::orphan_tray), "an NVL72 compute tray is in a rack without an NVL72 domain",
    "What it does: a node whose template has `nvlink: nvl72-tray` must sit in a rack with `nvlink_domain: {kind: nvl72}`.\n\nWhy it matters: the tray's GPUs would have no NVLink domain.\n\nExample: a `gb200-tray` node in a rack without `nvlink_domain:`.\n\nSource: NVIDIA GB200 NVL72 RA (18 compute trays and 9 switch trays per rack).";
    "FP501" "rack-power" Error Some(power::rack_power), "a rack's load exceeds its power budget",
    "What it does: sum of node maximum power plus switch power in the rack must stay within the rack budget times the site derate.\n\nWhy it matters: breakers trip under load; DGX H100 draws up to 10.2 kW.\n\nSource: DGX H100 10.2 kW max; NVL72 120-132 kW; docs/sources.md (a) rule 18.";
    "FP502" "rack-cooling" Error Some(power::cooling), "a rack needs liquid cooling but declares air",
    "What it does: a rack whose load exceeds the site's air-cooling limit (default 40 kW), or that holds an NVL72 domain, must declare `cooling: liquid`.\n\nWhy it matters: air cannot remove that much heat from one rack.\n\nSource: GB200 NVL72 is liquid cooled; docs/sources.md (a) rule 19.";
    "FP503" "su-power" Error Some(power::su_power), "a scalable unit exceeds the site's power block",
    "What it does: the load of all racks of a scalable unit must stay within `site.su_power_kw`.\n\nWhy it matters: SUs are sized to the facility's power blocks (GB200 SU 1.2 MW).\n\nSource: NVIDIA GB200 SuperPOD RA; docs/sources.md (a) rule 20.";
    "FP504" "node-power-implausible" Warning Some(power::node_power), "a node's power is below its GPUs' TDP",
    "What it does: a node template's `power_kw` must be at least its GPUs' combined TDP from the catalog.\n\nWhy it matters: rack budgets computed from an understated node power will trip breakers.\n\nExample: 8 x H100 (700 W) need at least 5.6 kW; a DGX H100 is rated 10.2 kW.\n\nSource: DGX H100 10.2 kW maximum (6 x 3.3 kW PSUs, 4+2); GPU TDPs in the catalog (docs/sources.md §5).";
    "FP601" "roce-lossless-missing" Error Some(qos::missing), "a RoCE fabric has no lossless settings",
    "What it does: a fabric with `transport: roce` must describe its lossless settings under `lossless:`.\n\nWhy it matters: RoCEv2 without PFC/ECN drops packets under incast; go-back-N retransmits collapse throughput.\n\nSource: NVIDIA Cumulus `nv set qos roce`; Cisco AI/ML blueprint.";
    "FP602" "pfc-priority" Error Some(qos::pfc_priority), "PFC is not on the RoCE priority, or switch and NIC disagree",
    "What it does: PFC must be enabled on the RoCE priority (default 3), and the switch and NIC must enable the same priorities, end to end.\n\nWhy it matters: a mismatch lands RoCE in a lossy queue: drops, timeouts, collapse.\n\nSource: Cumulus `nv set qos roce` (PFC on SP3); docs/sources.md (a) rule 21.";
    "FP603" "lossless-count" Warning Some(qos::lossless_count), "more than two no-drop priorities",
    "What it does: at most two PFC (no-drop) priorities per port; one is recommended.\n\nWhy it matters: each no-drop class needs its own headroom and raises the risk of PFC deadlock and pause storms.\n\nSource: Dell Enterprise SONiC RoCE (two PFC priorities); docs/sources.md (a) rule 22.";
    "FP604" "dscp-map" Error Some(qos::dscp_map), "the DSCP-to-priority map disagrees with the NIC",
    "What it does: with DSCP trust, the switch must map the NIC's RoCE DSCP (26) to the RoCE priority (3) and the CNP DSCP (48) to the CNP priority (6 or 7).\n\nWhy it matters: a wrong map puts RoCE in a lossy class or CNPs behind data.\n\nSource: Cumulus, Cisco, Arista, Juniper JVD defaults; docs/sources.md (a) rule 23.";
    "FP605" "cnp-strict" Error Some(qos::cnp_strict), "CNPs are not in a strict-priority class",
    "What it does: congestion notification packets need their own class, scheduled strict priority, separate from RoCE data.\n\nWhy it matters: late CNPs make DCQCN react late: rate oscillation and PFC storms.\n\nSource: Cumulus (TC6 strict), Cisco (priority level 1); docs/sources.md (a) rule 24.";
    "FP606" "ecn" Error Some(qos::ecn), "ECN is missing on the RoCE queue or its thresholds are inverted",
    "What it does: ECN marking must be on the RoCE priority with 0 < Kmin < Kmax.\n\nWhy it matters: without ECN, DCQCN never slows senders and PFC does all the work.\n\nSource: Cumulus defaults 150 KB / 1.5 MB; docs/sources.md (a) rule 25.";
    "FP607" "ecn-kmax-bdp" Warning Some(qos::ecn_kmax_bdp), "ECN Kmax is above 3 x the bandwidth-delay product",
    "What it does: warns when Kmax > 3 x BDP, where BDP = RTT x the fastest port rate (RTT from `rtt_us`, default 20 us).\n\nWhy it matters: marking starts too late to keep queues short; Meta saw 2-3x worse PFC with a 5 MB threshold.\n\nSource: Huawei static-ECN guide (Kmax 2-3 x BDP); Meta SIGCOMM 2024.";
    "FP608" "ecn-before-pfc" Error Some(qos::ecn_before_pfc), "ECN marks only after PFC has paused",
    "What it does: Kmin, and Kmax, must be below the PFC xoff threshold.\n\nWhy it matters: if PFC fires first, DCQCN never gets a signal and pause frames spread congestion.\n\nSource: docs/sources.md §3 (what breaks) and (a) rule 26.";
    "FP609" "pfc-watchdog" Error Some(qos::watchdog), "a lossless port has no PFC watchdog or an out-of-range one",
    "What it does: every lossless port needs a PFC watchdog with detection between 100 ms and 5000 ms.\n\nWhy it matters: the watchdog breaks pause storms and PFC deadlocks.\n\nSource: SONiC PFC watchdog (detection 100-5000 ms); docs/sources.md (a) rule 27.";
    "FP610" "watchdog-timing" Warning Some(qos::watchdog_timing), "the PFC watchdog detection time is outside 50-200 ms",
    "What it does: warns when detection is outside the 50-200 ms band used in practice.\n\nWhy it matters: too slow lets a storm spread; too fast drops legitimate long pauses.\n\nSource: Arista AVD example 50 ms; Cisco ~100 ms; Meta ~200 ms.";
    "FP611" "pfc-on-lossy" Warning Some(qos::pfc_on_lossy), "PFC is on a class or port that carries no RoCE",
    "What it does: warns when PFC is enabled on a priority other than RoCE's (the CNP class included), or on ports marked `lossy`.\n\nWhy it matters: PFC where it is not needed spreads pauses to victim flows.\n\nSource: docs/sources.md (a) rule 28.";
    "FP612" "mtu" Error Some(qos::mtu), "MTUs do not fit end to end",
    "What it does: switch MTU must be at least the host MTU (9216 vs 9000), the host MTU must fit the RoCE MTU plus headers (RoCE 4096 needs a netdev MTU of about 4200), and no compute port may be overridden below the host MTU.\n\nWhy it matters: drops, or a RoCE path MTU that quietly falls to 1024.\n\nSource: docs/sources.md (a) rule 29; Linux rxe_param.h.";
    "FP613" "pfc-headroom" Error Some(qos::headroom), "PFC headroom does not cover the longest cable",
    "What it does: the cable length the headroom was sized for must cover the longest link on a lossless switch, and a configured `headroom_bytes` must be at least 2 x MTU + rate x 2 x length x 5 ns/m + the IEEE 802.1Qbb response budget.\n\nWhy it matters: with too little headroom, in-flight bytes after a pause are dropped although PFC is on.\n\nSource: Cumulus `cable-length` (default 100 m); Cisco/Mellanox headroom examples; docs/sources.md (a) rule 30.";
    "FP614" "ecmp-entropy" Warning Some(qos::ecmp_entropy), "RoCE paths are hashed on the 5-tuple only",
    "What it does: warns when the ECMP hash is the plain 5-tuple.\n\nWhy it matters: RoCE flows have low entropy; elephant flows collide on one uplink. Meta's E-ECMP (QP hash) plus QP scaling gave up to 40 % better all-reduce.\n\nSource: Meta SIGCOMM 2024; docs/sources.md (a) rule 31.";
    "FP615" "peer-qos" Error Some(qos::peer_qos), "the two ends of a link have different MTU or PFC settings",
    "What it does: port overrides must not leave the two ends of a switch-to-switch link with different MTU or PFC priorities.\n\nWhy it matters: a mismatch drops jumbo frames or pauses one direction only.\n\nSource: netascode/ansible-dc-vxlan #873; docs/sources.md (a) rule 35.";
    "FP701" "plane-symmetry" Error Some(rails::plane_symmetry), "a NIC port goes to another plane, or planes differ in size",
    "What it does: in multi-plane designs, NIC port p goes to a plane-p switch, and every plane has the same number of switches per tier.\n\nWhy it matters: twin planes only survive a failure at half bandwidth if they are identical.\n\nSource: NVIDIA B300 RA (twin-plane Spectrum-X); Alibaba HPN; docs/sources.md (a) rule 33.";
    "FP702" "fabric-separation" Warning Some(rails::separation), "non-GPU hosts are cabled into the compute fabric",
    "What it does: warns when management, storage or service hosts are cabled to the compute fabric of a design not declared `converged: true` (an InfiniBand UFM appliance is expected and exempt).\n\nWhy it matters: storage and frontend traffic on the backend compete with collectives.\n\nSource: Meta BE/FE separation; NVIDIA RAs; docs/sources.md (a) rule 32.";
    "FP801" "demand-unknown-tenant" Error None, "a demand names a tenant it does not define",
    "A workload's `tenant` or a tenant's `share_with` names no tenant under `tenants:`.\n\nWhy it matters: budgets, caps and isolation are per tenant; a workload without one cannot be charged or isolated.\n\nExample: `workloads: [{name: chat, tenant: prodcut, ...}]`.\n\nSource: docs/demand-format.md.";
    "FP802" "demand-bad-value" Error None, "a demand value is not one of the allowed words",
    "An isolation policy, workload kind, topology level, dtype or priority class is not one fabplan knows.\n\nWhy it matters: a policy that is not understood cannot be enforced.\n\nExample: `isolation: exclusive` (use `dedicated-gpu`).\n\nSource: docs/demand-format.md.";
    "FP803" "demand-bad-size" Error None, "a workload's size is missing, ambiguous, or fits no GPU under its tenant's isolation",
    "A training workload without `gpus` (or with `gpus: 0`), an inference workload with neither `size` nor `model`, a `size` with other than exactly one of `gpus` (> 0), `mig`, `fraction` (0 < f <= 1, in thousandths) or `gpu_milli` (1 to 1000), a MIG profile that no GPU model on the fabric offers, `gpu_models` that leave no GPU model of the fabric, or a size that no GPU model on the fabric offers under the tenant's isolation (MIG sizes need `mig`, fractions need `shared`). The diagnostic points at the size value, and at the tenant's isolation when that is what rules the size out.\n\nWhy it matters: the planner would have nothing, or something forbidden, to place.\n\nExample: `size: {mig: 1g.10gb}` for a `dedicated-gpu` tenant.\n\nSource: docs/demand-format.md.";
    "FP804" "demand-duplicate" Error None, "a tenant or workload name is used twice",
    "Two tenants or two workloads share a name.\n\nWhy it matters: plans, diffs and exports refer to workloads by name.\n\nExample: two workloads named `chat`.";
    "FP805" "demand-unknown-gpu" Error None, "a workload names a GPU model the catalog does not know",
    "A `gpu_models` entry is not a catalog key, name or alias (nor a model the fabric defines).\n\nWhy it matters: a typo would silently make a workload unplaceable.\n\nExample: `gpu_models: [h1OO]`.\n\nSource: `fabplan mig profiles --gpu NAME` lists the catalog.";
    "FP806" "state-unknown-gpu" Error None, "a current-state file names a GPU or MIG instance the fabric does not have",
    "An assignment or layout in `--current` names a GPU that is not `node/index` on the fabric, or a MIG instance (`profile@start`) the GPU's model does not offer: an unknown profile, or a start the profile may not use (a `7g.80gb` starts only at 0). The diagnostic points at the GPU name, the instance, or the one bad word of a layout.\n\nWhy it matters: a diff against a state that does not match the fabric would be wrong.\n\nExample: `{gpu: dgx-99/0}` on a 32-node SU.";
    "FP807" "state-is-demand" Error None, "a demand file is given where a plan or current state is expected",
    "The file has a demand's keys (`tenants`, `fabric`, `pricing`), which a plan document never has. Usually the arguments are swapped (`fabplan verify PLAN DEMAND`) or the demand was passed to `--current`, `report --plan` or `export mig-parted`.\n\nWhy it matters: read as a state, the demand's workloads would have no assignments and the run would silently plan from nothing.\n\nExample: `fabplan plan demand.yaml --current demand.yaml`.\n\nSource: docs/demand-format.md, \"Plan document keys\".";
    "FP808" "state-share-range" Error None, "a time-sliced share is not between 1 and 1000 thousandths of a GPU",
    "An assignment's `gpu_milli` is zero, negative or above 1000. A share is a part of one GPU in thousandths; a whole GPU is written `{gpu: node/index}`.\n\nWhy it matters: a share above one GPU, or a negative one, would let more work onto a GPU than it can run.\n\nExample: `{gpu: lab1/0, gpu_milli: 1500}`.\n\nSource: docs/demand-format.md, \"Current state\".";
    "FP810" "state-gpu-overbooked" Error None, "a GPU is booked beyond what its mode allows",
    "Two workloads hold one GPU in ways that cannot coexist: two whole-GPU holders, a whole GPU also given as a share or MIG instance, MIG instances and time-sliced shares on one GPU, shares summing above 1000 thousandths, or one MIG instance given to two replicas. The diagnostic marks the second booking and the first.\n\nWhy it matters: a state that books a GPU twice would be carried into the new plan, which would then fail `fabplan verify`.\n\nExample: `chat` and `batch` both `{gpu: lab1/0}`.";
    "FP811" "state-mig-layout" Error None, "a MIG layout the GPU cannot hold, or an instance missing from it",
    "A GPU's `mig` layout breaks the MIG placement rules (instances that overlap, more slices or memory than the GPU has, an instance count above the profile's cap: `fabplan mig` rules R1-R3), the instances held on a GPU fit no layout together, or a workload holds an instance that the GPU's listed layout does not have.\n\nWhy it matters: the driver refuses such a layout, so the state cannot be what runs.\n\nExample: `mig: 4g.40gb@0 3g.40gb@2` on an H100 (both use memory slices 2 and 3).\n\nSource: NVIDIA MIG User Guide, supported profiles and placements (docs/mig.md).";
    "FP812" "state-other-fabric" Error None, "the plan names no GPU of this fabric",
    "Every GPU the plan or state names is missing from the fabric: it was written for another fabric (or the fabric was renamed).\n\nWhy it matters: one diagnostic per GPU would hide the cause; nothing of such a state can be used.\n\nExample: a plan of `dgx-h100-su1-ib` passed with `fabrics/lab-small.yaml`.";
    "FP813" "state-duplicate" Error None, "a workload or GPU is listed twice in a plan",
    "A plan document lists each workload once under `workloads` and each GPU once under `gpus`. The diagnostic marks both entries.\n\nWhy it matters: two entries could give the same workload two placements, or a GPU two layouts; which one wins would be arbitrary.\n\nExample: two `- name: chat` entries.";
    "FP814" "state-assignment-shape" Error None, "an assignment holds a GPU in two ways, or a rejected workload holds GPUs",
    "An assignment gives both `instance` and `gpu_milli`, or a workload with `admitted: false` still lists assignments.\n\nWhy it matters: the state would be read differently by different tools.\n\nExample: `{gpu: lab2/0, instance: 1g.10gb@0, gpu_milli: 250}`.";
    "FP815" "plan-gpu-model-unknown" Error None, "an export cannot tell a GPU's model from the plan",
    "`fabplan export mig-parted` without `--fabric` checks each MIG layout on the GPU model the plan names for the workloads on that GPU (`gpu_model`). A GPU whose workloads name no MIG-capable catalog model cannot be checked.\n\nWhy it matters: an unchecked layout could name a profile the GPU lacks, and mig-parted would fail on the node.\n\nExample: a hand-written plan with `gpus: [{gpu: n1/0, mig: 3g.40gb@0}]` and no workloads.";
    "FP816" "demand-min-replicas-gang" Error None, "a training gang has `min_replicas`",
    "`min_replicas` makes an inference or agent workload elastic: it may be admitted with any count of replicas from `min_replicas` to `replicas`. A training workload is one gang that runs all of its GPUs or none, so it takes no `min_replicas`.\n\nWhy it matters: a gang admitted with part of its GPUs would not start (its collectives need every rank).\n\nExample: `kind: training`, `gpus: 64`, `min_replicas: 32`.\n\nSource: docs/demand-format.md (elastic replicas); issue 14 section 1.";
    "FP817" "demand-min-replicas-above" Error None, "a workload's `min_replicas` is above its `replicas`",
    "`min_replicas` is the least count of replicas the workload may run with; it is at most `replicas` (as given, or as derived for an agent from `tasks_per_hour`).\n\nWhy it matters: no plan could admit such a workload; silently clamping it would plan a different demand.\n\nExample: `replicas: 3`, `min_replicas: 5`.\n\nSource: docs/demand-format.md (elastic replicas).";
    "FP818" "demand-required-optional" Error None, "a required workload has `min_replicas: 0`",
    "`min_replicas: 0` makes a workload fully optional (any count from none to all), while `required: true` says it must run; the two contradict each other.\n\nWhy it matters: the planner could not tell whether the plan fails when the workload gets no replica.\n\nExample: `required: true`, `replicas: 4`, `min_replicas: 0`.\n\nSource: docs/demand-format.md (elastic replicas).";
    "FP830" "openb-csv-quote" Error None, "a quoted field of an openb CSV is never closed, or text follows its closing quote",
    "The openb node and pod lists are read as RFC 4180 CSV (fields in double quotes may hold commas; a quote inside is doubled); a quote that is never closed, or text after a closing quote, stops the import.\n\nWhy it matters: an unclosed quote swallows the rest of the file into one field; guessing would import the wrong pods.\n\nExample: `p1,4000,8192,1,460,\"G2,LS`.\n\nSource: RFC 4180 section 2; alibaba/clusterdata cluster-trace-gpu-v2023 README (columns).";
    "FP831" "openb-missing-column" Error None, "an openb CSV lacks a column fabplan reads",
    "The header of the node list (`sn,cpu_milli,memory_mib,gpu,model`) and the pod list (`name,cpu_milli,memory_mib,num_gpu,gpu_milli`; `gpu_spec` and `qos` optional) must name every column fabplan reads.\n\nWhy it matters: the lists passed the wrong way round, or another trace's file, would import nonsense.\n\nExample: the pod list passed where the node list goes.\n\nSource: alibaba/clusterdata cluster-trace-gpu-v2023 README; docs/sources.md.";
    "FP832" "openb-bad-value" Error None, "an openb CSV field is not a number in range, or a row is short",
    "Every count (`cpu_milli`, `memory_mib`, `gpu`, `num_gpu`, and `creation_time`, `deletion_time` when given) is a non-negative integer, `gpu_milli` is 0 to 1000 (1 to 1000 for a pod with GPUs), names are not empty, a node with GPUs names its model, and every row has the header's fields.\n\nWhy it matters: a share of 4600 thousandths or a negative CPU request cannot be planned; silently clamping it would plan a different trace.\n\nExample: `p1,4000,8192,1,4600,,LS`.\n\nSource: alibaba/clusterdata cluster-trace-gpu-v2023 README (units: milli-CPU, MiB, milli-GPU).";
    "FP833" "openb-duplicate-name" Error None, "an openb node or pod name is listed twice",
    "Node names (`sn`) and pod names (`name`) are unique; the second row is reported with the first.\n\nWhy it matters: dropping one row silently (what earlier versions did) changes the cluster or the demand without a word.\n\nExample: two rows for `openb-node-0001`.\n\nSource: issue 10 section 6.";
    "FP834" "openb-unknown-gpu-spec" Error None, "a pod's gpu_spec names a GPU code the node list does not have",
    "Every code in a pod's `gpu_spec` (`V100M16|V100M32`) must be the `model` of some node in the node list.\n\nWhy it matters: the pod could never be placed there, and the demand would name a GPU model the fabric does not define.\n\nExample: `gpu_spec: A100` against the openb node list.\n\nSource: alibaba/clusterdata cluster-trace-gpu-v2023 README (`gpu_spec`).";
    "FP835" "demand-host-only-empty" Error None, "a host-only workload (`size: {gpus: 0}`) asks no CPU and no memory",
    "A workload sized `size: {gpus: 0}` takes no GPU: it runs on a node's CPU and host memory only (the openb trace's CPU-only pods). It must ask `cpu_millicores` or `memory_mib` (per replica), or it would take nothing and mean nothing.\n\nWhy it matters: a workload that asks nothing cannot be placed meaningfully, and counting it as admitted would inflate the plan.\n\nExample: `{name: etl, tenant: batch, kind: inference, size: {gpus: 0}}`.\n\nSource: docs/demand-format.md (host-only workloads); Kubernetes resource requests.";
    "FP836" "demand-host-only-gpu-key" Error None, "a host-only workload gives a key that only chooses GPUs",
    "`gpu_models`, `model`, `min_replicas` and `same_model` choose or size GPUs or GPU replicas; a host-only workload (`size: {gpus: 0}`) has none, so these keys would be ignored.\n\nWhy it matters: a key that is silently ignored hides a mistake in the demand (a GPU size typed as 0).\n\nExample: `size: {gpus: 0}` with `gpu_models: [h100-80gb]`.\n\nSource: docs/demand-format.md (host-only workloads).";
    "FP837" "state-unknown-node" Error None, "a host-only replica in a current state runs on a node the fabric lacks",
    "Each `hosts` entry of a plan or current state names the node a host-only replica runs on; it must be a node of the fabric.\n\nWhy it matters: the planner would keep CPU and memory for a node that does not exist.\n\nExample: `hosts: [{node: dgx-999, cpu_millicores: 4000, memory_mib: 8192}]` on a 32-node fabric.\n\nSource: docs/demand-format.md (Plan document keys).";
    "FP838" "state-negative-host" Error None, "a host-only replica in a current state takes a negative CPU or memory",
    "`cpu_millicores` and `memory_mib` of a `hosts` entry are what the replica takes on its node: 0 or more.\n\nWhy it matters: a negative value would free CPU that other work holds.\n\nExample: `{node: dgx-001, cpu_millicores: -4000, memory_mib: 0}`.\n\nSource: docs/demand-format.md (Plan document keys).";
    "FP839" "state-host-overbooked" Error None, "the host-only replicas of a current state take more CPU or memory of a node than it has",
    "The `hosts` entries of a plan or current state on one node take, in total, at most the CPU (`cpu_cores`/`cpu_millicores`) and memory (`memory_gib`) its template declares.\n\nWhy it matters: the state cannot be what runs on the cluster: the node's scheduler would have refused the last replica.\n\nExample: three replicas of 8 cores on a 16-core node.\n\nSource: Kubernetes resource requests (allocatable CPU and memory).";
    "FP840" "demand-bad-number" Error None, "a demand number is not finite or out of range",
    "Every number of a demand is checked at load: budgets, GPU and power caps, prices and `power_usd_per_kwh` and weights are finite and non-negative; `pue` is at least 1; a priority number, `tasks_per_hour`, `max_tokens`, `max_steps`, `tokens_per_gpu_second` and a model's `parameters_b` are above 0; `max_tool_calls`, `gpu_seconds_per_tool_call` and collective sizes are non-negative; `replicas` is at least 1. The diagnostic points at the value.\n\nWhy it matters: a NaN or infinite budget made the MILP panic, `max_gpus: -4` planned with \"0 of -4 left\", `tokens_per_gpu_second: 0` asked 4,294,967,295 replicas, `replicas: 0` planned one replica, and negative prices gave negative cost.\n\nExample: `budget_usd_per_hour: .nan`.\n\nSource: issue 10 section 1; docs/demand-format.md.";
    "FP850" "verify-unknown-workload" Error None, "the plan places a workload the demand does not list",
    "`fabplan verify` reads every workload of the plan and looks it up in the demand.\n\nWhy it matters: a plan for an older demand would run work nobody asked for.\n\nExample: a plan with `chat-v1` verified against a demand that now has `chat-v2`.";
    "FP851" "verify-rejected-holds" Error None, "a workload that is not admitted holds GPUs",
    "A workload with `admitted: false` must have no assignments.\n\nWhy it matters: the GPUs it lists would be counted as free by the plan and busy on the cluster.\n\nExample: `{name: batch, admitted: false, assignments: [{gpu: lab1/0}]}`.";
    "FP852" "verify-unknown-gpu" Error None, "an assignment names a GPU the fabric lacks or a malformed instance",
    "Every assignment's `gpu` is `node/index` of the fabric, and every `instance` is `profile@start`.\n\nWhy it matters: the plan cannot be applied to GPUs that do not exist.\n\nExample: `{gpu: lab9/0}` on lab-small.";
    "FP853" "verify-admitted-empty" Error None, "an admitted workload holds no GPUs",
    "A workload the plan admits must hold at least one GPU, instance or share.\n\nWhy it matters: the plan would report work as running that has nowhere to run.\n\nExample: `{name: chat, admitted: true, assignments: []}`.";
    "FP854" "verify-gpu-model" Error None, "a workload spans GPU models or runs on a model it may not use",
    "Every GPU a workload holds must be of a model the demand sized it for (`gpu_models`, each replica sized for its own model). The replicas of an inference or agent workload may mix those models; a training gang, and a workload with `same_model: true`, must hold GPUs of one model only.\n\nWhy it matters: replicas sized for one model may not fit another, a gang across models runs at the slowest one's speed, and `same_model` is the demand's promise of identical replicas.\n\nExample: a workload with `gpu_models: [h200]` placed on H100s; a `same_model: true` service on an H100 and an H200.\n\nSource: docs/demand-format.md (several GPU models per workload).";
    "FP855" "verify-size" Error None, "a workload holds more or less than its size",
    "A whole-GPU workload holds exactly replicas x GPUs distinct whole GPUs, each replica on one node; a MIG workload one instance of its profile per replica; a shared workload one share of its size (`gpu_milli`) per replica.\n\nWhy it matters: a short workload does not run; an oversized one takes capacity from others.\n\nExample: a 2-replica 4-GPU service holding 6 GPUs.";
    "FP856" "verify-topology" Error None, "a gang spans more than one domain of its required level",
    "A gang with `topology: {required: LEVEL}` must keep all its GPUs inside one NVLink domain, leaf group, scalable unit or fabric, as required. Domains are recomputed from the fabric, not taken from the planner.\n\nWhy it matters: collectives across a slower tier run at that tier's bandwidth.\n\nExample: a `required: nvlink` gang on two nodes without a shared NVLink domain.\n\nSource: docs/demand-format.md (topology).";
    "FP857" "verify-required" Error None, "a required workload is not admitted",
    "Every workload with `required: true` must be admitted.\n\nWhy it matters: required work is a hard constraint of the demand; a plan without it is not a solution.\n\nExample: `required: true` and `admitted: false`.";
    "FP858" "verify-gpu-overbooked" Error None, "a GPU is used in incompatible ways or beyond one GPU",
    "A GPU is held whole by one workload, or split into MIG instances, or time-sliced in shares summing to at most 1000 thousandths; never two of these, never two whole holders.\n\nWhy it matters: two holders on one GPU both run slower than planned or fail to start.\n\nExample: shares of 625 and 500 on one GPU.";
    "FP859" "verify-mig-layout" Error None, "a GPU's MIG layout is invalid or lacks an instance held on it",
    "The MIG layout listed for each GPU (or, without one, the instances held on it) must be valid by the MIG rules R1-R3 (`mig::check_layout`), on a GPU with MIG support, with known profiles; every held instance must be in the layout, and no instance is given to two replicas.\n\nWhy it matters: the driver refuses an invalid layout, so the workloads on it never start.\n\nExample: `3g.40gb@0 4g.40gb@0` on an H100.\n\nSource: NVIDIA MIG User Guide (docs/mig.md).";
    "FP860" "verify-isolation" Error None, "tenants share a GPU or node their isolation forbids",
    "MIG instances of several tenants share a GPU only when every one allows MIG co-tenancy; time-sliced tenants share a GPU only when both list each other in `share_with`; a `dedicated-node` tenant's nodes hold no other tenant.\n\nWhy it matters: isolation is a security and noisy-neighbour promise to the tenant.\n\nExample: tenants `a` and `b` time-slicing one GPU without `share_with`.";
    "FP861" "verify-rack-power" Error None, "a rack draws more power than its budget",
    "The GPUs in use on each rack, at their template's per-GPU share of node power, must fit the rack's `power_kw`.\n\nWhy it matters: an over-budget rack trips its breakers or is throttled.\n\nExample: 40 kW of busy nodes in a 35 kW rack.";
    "FP862" "verify-tenant-limit" Error None, "a tenant exceeds its budget, GPU cap or power cap",
    "Each tenant's cost per hour (GPU price plus power at the demand's PUE and price), GPU-equivalents and kW are recomputed from the plan and compared with `budget_usd_per_hour`, `max_gpus` and `max_power_kw`.\n\nWhy it matters: the limits are the tenant's contract.\n\nExample: a tenant with `max_gpus: 8` holding 16 GPUs.";
    "FP863" "verify-host-resources" Error None, "a node is asked more host CPU or memory than it has",
    "The replicas and gang members a plan puts on one node ask, in total, more CPU (`cpu_millicores`) or host memory (`memory_mib`) than the node template declares (`cpu_cores`/`cpu_millicores`, `memory_gib`). Templates that declare neither are not limited.\n\nWhy it matters: the scheduler on the node (kubelet, slurmd) refuses a pod or job whose requests do not fit the node's allocatable CPU and memory, so the plan could not be applied.\n\nExample: two openb pods asking 48 of 64 cores each, placed on one node.\n\nSource: docs/demand-format.md (CPU and memory); Kubernetes resource requests.";
    "FP864" "verify-replica-count" Error None, "a workload runs fewer replicas than its `min_replicas` or more than its `replicas`",
    "An admitted inference or agent workload runs between `min_replicas` and `replicas` replicas (all of them when the demand gives no `min_replicas`). Replicas are counted from the assignments: one per MIG instance or share, one per group of the replica's whole GPUs on a node.\n\nWhy it matters: fewer replicas than the minimum cannot serve the workload's load; more than asked take capacity from others.\n\nExample: `replicas: 5`, `min_replicas: 2`, one share admitted.\n\nSource: docs/demand-format.md (elastic replicas).";
    "FP867" "verify-host-only" Error None, "a host-only workload's placement does not match the demand",
    "A host-only workload (`size: {gpus: 0}`) lists one `hosts` entry per replica when admitted (none when not), each on a node of the fabric with the demand's `cpu_millicores` and `memory_mib`, and holds no GPU; a workload with GPUs has no `hosts`. What the replicas ask counts in the node's host CPU and memory (FP863).\n\nWhy it matters: a replica on a node that does not exist, or taking less than it asks, would make the plan look roomier than the cluster is.\n\nExample: `replicas: 2` and one `hosts` entry.\n\nSource: docs/demand-format.md (host-only workloads).";
    "FP901" "slurm-syntax" Error None, "a topology.conf line is not `KEY=VALUE` words of a known kind",
    "Every non-comment line of a `topology.conf` is whitespace-separated `KEY=VALUE` words whose first key says the line's kind: `SwitchName=`, `BlockName=` or `BlockSizes=`.\n\nWhy it matters: Slurm rejects the file, and a line fabplan skipped would drop switches or nodes from the imported fabric.\n\nExample: `SwitchName=leaf1 Nodes h[1-4]` (`Nodes` without `=`); `Switch=leaf1` (unknown line kind).\n\nSource: SchedMD topology.conf(5).";
    "FP902" "slurm-unknown-key" Error None, "a topology.conf line has a key its kind does not take",
    "A switch line takes `SwitchName`, `Switches`, `Nodes` and `LinkSpeed`; a block line `BlockName` and `Nodes`; keys are case-insensitive.\n\nWhy it matters: a misspelt key (`Node=`) would silently leave the switch without its nodes.\n\nExample: `SwitchName=leaf1 Node=h[1-4]`.\n\nSource: SchedMD topology.conf(5).";
    "FP903" "slurm-hostlist" Error None, "a hostlist does not expand",
    "`Nodes=`, `Switches=`, `children:` and `nodes:` are Slurm hostlists (`gb-a[01-18]`, `leaf[1-4],spine1`); each must expand, within fabplan's limit of 4,194,304 names.\n\nWhy it matters: a malformed range would drop or invent nodes.\n\nExample: `Nodes=h[4-1]` (the range runs backwards); `Nodes=h[1-4` (unclosed).\n\nSource: Slurm hostlist syntax (scontrol(1) `show hostnames`).";
    "FP904" "slurm-duplicate" Error None, "a switch, block or node is declared twice",
    "Switch and block names are unique; in a tree each node sits under one leaf switch, in a block topology each node is in one block. Repeats are reported once per pair of declarations, with the count.\n\nWhy it matters: Slurm would place the node twice; the imported fabric would cable one node to two leaves.\n\nExample: `SwitchName=leaf1 Nodes=h[1-4]` and `SwitchName=leaf2 Nodes=h[4-8]` (`h4` under both).\n\nSource: SchedMD topology.conf(5), topology/tree and topology/block.";
    "FP905" "slurm-unknown-child" Error None, "a switch lists a child switch that is not declared",
    "Every name in `Switches=` (or `children:`) must have its own `SwitchName=` line.\n\nWhy it matters: the tree would have a hole; jobs would be placed as if the missing switch did not exist.\n\nExample: `SwitchName=spine1 Switches=leaf[1-3]` with only `leaf1` and `leaf2` declared.\n\nSource: SchedMD topology.conf(5).";
    "FP906" "slurm-tree-shape" Error None, "the tree is not one leaf-spine-core tree fabplan can model",
    "A switch has either child switches or nodes, not both; the tree has no cycle and at most 3 tiers (leaf, spine, core); a topology.yaml holds at most one tree and one block topology.\n\nWhy it matters: fabplan maps switches with nodes to leaves and each level up to a tier; a cycle or a fourth tier has no fabric equivalent.\n\nExample: `SwitchName=a Switches=b` and `SwitchName=b Switches=a`.\n\nSource: SchedMD topology.conf(5); fabplan's tiers (docs/fabric-format.md).";
    "FP907" "slurm-block-sizes" Error None, "block sizes are not numbers, or not as Slurm requires",
    "`BlockSizes` (`block_sizes:`) are node counts of at least 1; the first is the base size every block must reach; each later one is a power-of-two multiple of the one before.\n\nWhy it matters: slurmctld refuses such a block topology, and fabplan's planning base would be wrong.\n\nExample: `BlockSizes=18,27` (27 is not 36 or 72).\n\nSource: SchedMD topology.conf(5), topology/block `BlockSizes`.";
    "FP908" "slurm-missing-value" Error None, "a key is empty, given twice on a line, or a required key is missing",
    "Each key is given once per line with a value; a block line needs `Nodes=`; `BlockSizes=` is given once; `LinkSpeed=` is a number; names are not empty.\n\nWhy it matters: Slurm keeps the last of two values; which one was meant is unknown.\n\nExample: `BlockName=nvl1 Nodes=gb[01-18] Nodes=gb[19-36]`; `BlockName=nvl1` without nodes.\n\nSource: SchedMD topology.conf(5).";
    "FP909" "slurm-bad-name" Error None, "a topology, switch, block or node name has characters Slurm names do not",
    "Names are letters, digits, `-`, `_` and `.`.\n\nWhy it matters: the name becomes a node, switch or rack id of the imported fabric; a quote, colon or space there would break the fabric file.\n\nExample: `SwitchName=leaf:1`.\n\nSource: slurm.conf(5) NodeName; fabric ids (docs/fabric-format.md).";
    "FP911" "nvsmi-profile-row" Error None, "an `nvidia-smi mig -lgip` profile row cannot be read",
    "Each profile row of `-lgip` has 10 columns (GPU, `MIG`, name, ID, Free/Total, memory GiB, P2P, SM, DEC, ENC), numbers where numbers belong, and a name starting with `<N>g`; every bad row is reported.\n\nWhy it matters: a misread row would give the imported GPU a wrong MIG table, and every layout built on it would be wrong.\n\nExample: `|   0  MIG 2g.20gb   14   3/3   lots   No   32   2   0   |` (memory `lots`).\n\nSource: `nvidia-smi mig -lgip` as printed by driver 580.159.04 (tests/fixtures/nvidia-smi/); NVIDIA MIG User Guide.";
    "FP912" "nvsmi-placement-line" Error None, "an `nvidia-smi mig -lgipp` line cannot be read",
    "Each line of `-lgipp` reads `GPU <i> Profile ID <id> Placements: {s,s,...}:<width>` with starts and a width of at least 1 in placement units; every bad line is reported.\n\nWhy it matters: placements are the MIG starts fabplan enforces (rule R1).\n\nExample: `GPU  0 Profile ID  9 Placements: {0,4}:four`.\n\nSource: `nvidia-smi mig -lgipp` (tests/fixtures/nvidia-smi/); NVIDIA MIG User Guide.";
    "FP913" "nvsmi-no-rows" Error None, "a capture holds no profiles, placements or GPU name",
    "`-lgip` must hold at least one profile row, `-lgipp` one placement line, and a query capture a GPU name; the help says when the two MIG captures look swapped.\n\nWhy it matters: usually the wrong file was passed.\n\nExample: `--lgip mig-lgipp.txt --lgipp mig-lgip.txt`.";
    "FP914" "nvsmi-query" Error None, "a `--query-gpu` CSV capture has a header but no values",
    "A `--format=csv` capture is a header line (`name, pci.device_id, ...`) followed by a value line.\n\nWhy it matters: without values the GPU cannot be matched to the catalog.\n\nExample: a capture cut after its first line.\n\nSource: `nvidia-smi --query-gpu=name,pci.device_id,memory.total,power.max_limit --format=csv`.";
    "FP915" "nvsmi-mismatch" Error None, "the -lgip and -lgipp captures do not describe the same GPU",
    "Every profile of the chosen GPU has exactly one placement line and every placement line a profile; no profile is listed twice; `--gpu-index` names a GPU the capture lists.\n\nWhy it matters: captures from two GPUs or drivers mixed together give a table no GPU has.\n\nExample: a placement line for profile id 47 that `-lgip` does not list.";
    "FP916" "nvsmi-table" Error None, "the captured profiles do not form a valid MIG table",
    "The table built from the capture must pass fabplan's MIG table checks (starts inside the grid, widths and caps consistent).\n\nWhy it matters: the layout engine would accept layouts the GPU refuses.\n\nExample: a placement start past the grid.\n\nSource: docs/mig.md (derivation rules).";
    "FP921" "mig-parted-version" Error None, "a mig-parted config has an unsupported `version`",
    "Mig-parted files declare `version: v1`, the only version mig-parted defines.\n\nWhy it matters: another version may mean another schema.\n\nExample: `version: v2`.\n\nSource: NVIDIA mig-parted api/spec/v1/spec.go.";
    "FP922" "mig-parted-device-filter" Error None, "a `device-filter` is not a PCI device id",
    "A `device-filter` is one PCI id `0xDDDDVVVV` or a list, each optionally `:0xSSSSVVVV` for the subsystem.\n\nWhy it matters: mig-parted would match no GPU, or the wrong one.\n\nExample: `device-filter: [\"0x233010DE\", \"H100\"]`.\n\nSource: NVIDIA mig-parted api/spec/v1/spec.go and helpers.go.";
    "FP923" "mig-parted-devices" Error None, "an entry's `devices` is neither `all` nor a list of distinct GPU indices",
    "`devices` is the string `all` or a list of GPU indices, each once.\n\nWhy it matters: mig-parted rejects other strings; a repeated index is a copy-paste error.\n\nExample: `devices: first`; `devices: [0, 0]`.\n\nSource: NVIDIA mig-parted api/spec/v1/spec.go.";
    "FP924" "mig-parted-mig-devices" Error None, "an entry's `mig-enabled` and `mig-devices` disagree",
    "`mig-enabled: true` needs `mig-devices` (possibly `{}`); `mig-enabled: false` must not list any.\n\nWhy it matters: mig-parted refuses the entry.\n\nExample: `{devices: all, mig-enabled: true}`.\n\nSource: NVIDIA mig-parted api/spec/v1/spec.go.";
    "FP925" "mig-parted-empty-config" Error None, "a named mig-parted config has no entries",
    "Every config under `mig-configs:` lists at least one entry.\n\nWhy it matters: applying it would do nothing, silently.\n\nExample: `mig-configs: {all-1g: []}`.\n\nSource: NVIDIA mig-parted api/spec/v1/spec.go.";
    "FP926" "k8s-object-name" Error None, "a name exported as a Kubernetes object name is not a DNS-1123 subdomain",
    "`fabplan export kueue` writes the fabric's name as the `Topology` name, `<fabric>-<gpu model>` as each `ResourceFlavor` name and each compute node's name as a `Node` name. Each must be a DNS-1123 subdomain: at most 253 characters of lowercase letters, digits, `-` and `.`, each dot-separated part alphanumeric at both ends. Nothing is written when one is not (exit 2).\n\nWhy it matters: the API server rejects the object, and a name such as `lab: 4` would not even parse as YAML the way it was meant.\n\nExample: a node `Lab_4` or `lab: 4`.\n\nSource: Kubernetes, Object Names and IDs (DNS subdomain names).";
    "FP927" "k8s-label-value" Error None, "a value exported as a Kubernetes node label is not a label value",
    "`fabplan export kueue` labels each node with its topology domains (switch groups, NVLink domain), its hostname and matches flavors on the GPU product name. Each value must be at most 63 letters, digits, `-`, `_` and `.`, alphanumeric at both ends. Nothing is written when one is not (exit 2).\n\nWhy it matters: the API server rejects the label, and Kueue's topology would lose that level.\n\nExample: an NVLink domain (rack) named `rack 7` or a node name of 70 characters.\n\nSource: Kubernetes, Labels and Selectors (syntax and character set); the Kueue Topology CRD's `nodeLabel` pattern.";
    "FP928" "slurm-export-name" Error None, "a name exported to Slurm has characters Slurm names do not",
    "`fabplan export slurm` writes node, switch-group and NVLink-domain (block) names as Slurm NodeName, SwitchName and BlockName. Each must be letters, digits, `-`, `_` and `.`, the rule `fabplan import slurm` reads them back with (FP909). Nothing is written when one is not (exit 2).\n\nWhy it matters: Slurm splits on spaces, `=` and `,`, reads brackets as a hostlist and `#` as a comment: `lab#4` would silently become `lab`.\n\nExample: a node `lab#4` or `lab: 4`.\n\nSource: SchedMD slurm.conf(5) NodeName, topology.conf(5).";
    "FP940" "ibnetdiscover-syntax" Error None, "a line of `ibnetdiscover` output cannot be read",
    "A line of an `ibnetdiscover` capture is not a node header (`Switch`/`Ca`), a GUID line, a port line or a comment, or one of its fields is malformed: a port that is not `[<number>]`, a node id that is not `S-`/`H-` and 16 hex digits, an unknown speed (`4xQQQ`), a port line before any header, or a node with two blocks. A missing speed is not a problem (topograph's own tests have such lines).\n\nWhy it matters: a cable that is not read would be reported as missing.\n\nExample: `[3]\t\"S-0002c903007b78b0\"[1]\t# \"MF0;sw2:SX6036/U1\" lid 19 4xQQQ`.\n\nSource: infiniband-diags `ibnetdiscover(8)`; docs/as-built.md.";
    "FP941" "lldp-json-shape" Error None, "an lldpd capture is not the JSON `lldpcli` writes",
    "The file is not well-formed JSON, or it does not have the shape of `lldpcli -f json show neighbors details` (or `-f json0`): no `lldp` key, an `interface` that is neither an object nor an array, a neighbour without `chassis` or `port`. A `show chassis` capture given in place of `show neighbors` is reported here too.\n\nWhy it matters: the neighbours of that device would be lost and its cables reported missing.\n\nExample: `{\"lldp\": {\"interface\": 3}}`.\n\nSource: lldpd 1.0.16 `lldpcli(8)`; docs/as-built.md.";
    "FP942" "capture-format" Error None, "a capture is neither `ibnetdiscover` output nor lldpd JSON",
    "The format of a capture could not be recognised: it does not start with a JSON object and has no `vendid=`, `Switch` or `Ca` line.\n\nWhy it matters: nothing in it can be compared with the design.\n\nExample: `lldpcli show neighbors` in its plain text format (use `-f json`).\n\nSource: docs/as-built.md.";
    "FP943" "capture-views-disagree" Warning None, "the two ends of a captured cable report different things",
    "Each cable is seen from both ends when both devices are captured. This warns when the views differ: the far end reports another peer on that port, shows nothing there although it was captured, or reports another speed.\n\nWhy it matters: the captures were taken at different moments, or a link is flapping; the diff uses the first view.\n\nExample: `leaf1` sees `host1:eth0` on `swp1`, while `host1` sees `leaf1:swp2`.\n\nSource: docs/as-built.md.";
    "FP944" "mapping-invalid" Error None, "the mapping file names something the design does not have",
    "A `devices:` target is not a node or switch of the design, or a `ports:` entry is not `device:port: device:port` or names a device the design does not have.\n\nWhy it matters: a mapping to nothing would hide a real miswire behind an extra cable.\n\nExample: `devices: {SLG3-02: SLG03-2}` when the design has `SLG03-02`.\n\nSource: docs/as-built.md (the mapping file).";
    "FP950" "asbuilt-miswired" Error None, "a cable is on the wrong port or the wrong device",
    "A designed cable whose anchor end (the NIC of a host cable, the lower switch of a switch cable) is cabled, but to another port or device than the design says; or whose far port holds some other device's cable.\n\nWhy it matters: the fabric is not the one that was validated: paths, rails and oversubscription differ from the design.\n\nExample: `host1:eth0` designed on `leaf1:swp1`, found on `leaf1:swp2`; the hint says to move the end from `leaf1:swp2` to `leaf1:swp1`.\n\nSource: NVIDIA UFM topology diff (NDT files); docs/as-built.md.";
    "FP951" "asbuilt-missing-cable" Error None, "a designed cable is not in the capture",
    "Neither port of a designed cable shows a neighbour in the capture.\n\nWhy it matters: a missing rail or uplink cable removes bandwidth the plan counts on.\n\nExample: `host1:eth0 -- leaf1:swp1` designed, nothing on either port.\n\nSource: docs/as-built.md.";
    "FP952" "asbuilt-extra-cable" Error None, "a captured cable is not in the design",
    "A cable between two ports the design leaves free, or to a device the design does not have.\n\nWhy it matters: an undocumented cable changes the topology (a loop, a leaf-to-leaf link, storage on the compute fabric).\n\nExample: two loopback cables on one switch.\n\nSource: docs/as-built.md.";
    "FP953" "asbuilt-speed" Error None, "a cable runs at another speed than the design says",
    "The capture's link speed (InfiniBand width x lane rate, LLDP MAU type) differs from the design's `gbps`.\n\nWhy it matters: a slow link becomes the bottleneck of every collective that crosses it.\n\nExample: `4xHDR` (200 Gb/s) on a link designed at 400 Gb/s.\n\nSource: IBTA speeds (4xNDR 400 Gb/s, 4xHDR 200, 4xEDR 100); IEEE 802.3 MAU types; docs/as-built.md.";
    "FP954" "asbuilt-width" Error None, "an InfiniBand cable trained at fewer than 4 lanes",
    "On an InfiniBand fabric, a link the capture reports at 1x or 2x where the ports are 4x.\n\nWhy it matters: a narrow link has a failed lane and runs at a quarter or half of its speed.\n\nExample: `1xNDR`.\n\nSource: IBTA link widths; NVIDIA QM9700/ConnectX-7 4x ports; docs/as-built.md.";
    "FP955" "asbuilt-rails-crossed" Error None, "the NIC of GPU k is cabled to a leaf of rail j",
    "A compute NIC that the design puts on its rail's leaf is found on a leaf of another rail.\n\nWhy it matters: same-rank traffic leaves the rail and crosses the spine: extra hops and ECMP collisions, and the slowest rank sets the collective's speed.\n\nExample: `dgx01:nic3` (GPU 3) found on the rail-2 leaf.\n\nSource: NVIDIA DGX SuperPOD RA (rail-optimised fabric); docs/as-built.md.";
    "FP956" "asbuilt-leaf-group" Error None, "a node is cabled into another leaf group (SU) than designed",
    "A compute NIC found on a leaf of its own rail, but in another scalable unit (leaf group) than the design puts the node in.\n\nWhy it matters: the SU is the placement and failure domain; a node in the wrong group breaks the planner's view of locality.\n\nExample: a host of SU 1 on the rail-0 leaf of SU 2.\n\nSource: NVIDIA DGX SuperPOD RA (scalable units); docs/as-built.md.";
    "FP957" "asbuilt-unidentified" Warning None, "a captured device has no name and no mapping",
    "The capture names a device only by its id (an HCA whose node description is the adapter default, `MT4129 ConnectX7   Mellanox Technologies`); without a mapping entry it cannot be matched, so its cable is neither confirmed nor refuted.\n\nWhy it matters: an unverifiable cable may be miswired.\n\nExample: `H-e09d730300858d88:1` on a leaf port designed for `a06-p1-dgx-02-c06:HCA-6`.\n\nSource: docs/as-built.md (the mapping file).";
    "FP958" "asbuilt-switch-absent" Error None, "a designed switch is in no capture",
    "A switch of the design that no capture mentions, as a node or as anybody's peer; its cables are counted in this one finding, not one by one.\n\nWhy it matters: the switch is not installed, not powered, or outside the subnet; all its cables are missing.\n\nExample: leaf `A09-P1-IBLEAF-03-01` of a 32-leaf design, absent from the capture.\n\nSource: docs/as-built.md.";
    "FP959" "asbuilt-bundle-order" Note None, "parallel cables between two switches are paired in another order",
    "The cables between two switches land on the designed ports of both, but not paired as the design pairs them (leaf port 35 to spine port 32 and 36 to 31, where the design says 31 and 32).\n\nWhy it matters: routing is the same; only cabling records that list port pairs disagree.\n\nExample: two parallel leaf-spine cables crossed.\n\nSource: docs/as-built.md.";
    "FP960" "asbuilt-oversubscribed" Warning None, "a switch designed non-blocking is oversubscribed as built",
    "A switch whose designed uplink bandwidth covers its downlinks has, as built, less bandwidth up than down: uplinks missing, slow or narrow. Captured links count at their captured speed (or the switch's port speed where the capture gives none).\n\nWhy it matters: all-reduce runs at the bottleneck; a leaf at 1.2:1 slows every collective that leaves it.\n\nExample: a leaf with 18 x 400G down and 14 of its 18 uplinks.\n\nSource: NVIDIA SuperPOD RAs (non-blocking compute fabric); docs/as-built.md.";
    "FP961" "whatif-unknown-target" Error None, "a `--fail` value names nothing the fabric has",
    "A `fabplan what-if --fail KIND:NAME` whose kind is not `node`, `switch`, `rack`, `nvlink-tray` or `plane`, or whose name is not a node, switch, rack, rack-scale NVLink domain (NVL72) or plane of the fabric. Names compare case-insensitively; the help line suggests the closest name. An 8-GPU board has no switch trays: fail its node.\n\nWhy it matters: a failure that names nothing would re-plan an undamaged fabric and report that all is well.\n\nExample: `--fail switch:lef3` on a fabric with `leaf3` (help: did you mean `switch:leaf3`?).\n\nSource: docs/what-if.md.";
    "FP962" "whatif-required-lost" Error None, "a required workload cannot be re-placed after the failures",
    "A running workload that the failures displace (one of its GPUs is on a down node, or it is a multi-node NVLink gang on a broken domain) and that is `required`, but that the re-plan on the degraded fabric cannot place; the message carries the planner's reason.\n\nWhy it matters: the fabric does not survive this failure for work that must run; the N-1 sweep says how much spare the level needs.\n\nExample: `--fail switch:leaf3 --fail node:lab4` on tests/fixtures/whatif/lab-two-su.yaml: the 8-GPU gang `pretrain` finds no free node.\n\nSource: docs/what-if.md.";
    "FP963" "whatif-evicted" Warning None, "displaced work that is not required cannot be re-placed",
    "A displaced workload that is not `required` and that the re-plan cannot place: it is evicted until the repair (or until `--allow-moves` lets surviving work make room).\n\nWhy it matters: the failure costs this work, not only the hardware.\n\nExample: best-effort notebooks on a failed rack with no free MIG capacity elsewhere.\n\nSource: docs/what-if.md.";
    "FP964" "whatif-n1-short" Warning None, "a single failure at some level displaces more GPUs than are left free",
    "The N-1 sweep fails every element of a level (rack, leaf, spine, core, plane, NVLink tray, node) one at a time against the current plan, and counts the GPUs its displaced work held against the GPUs left free on the surviving fabric. This warns for each level where some single failure displaces more than is free: that failure cannot be survived. The count is a necessary condition only (topology, MIG and isolation may still refuse a count that fits); re-plan the worst element with `--fail`.\n\nWhy it matters: N-1 is the usual availability target; a level without spare loses work on any failure.\n\nExample: every network switch in one rack: the rack's failure takes every node down.\n\nSource: docs/what-if.md.";
    "FP965" "topograph-syntax" Error None, "a topograph output cannot be read",
    "A line of a topograph Slurm topology is not a `SwitchName=`, `BlockName=` or `BlockSizes=` line or a comment, has an unknown key or a malformed hostlist, declares a switch twice or lists a child switch with no line of its own; or a Kubernetes node list is not `kubectl get nodes -o json` (no `items[].metadata.name`), or a node's `fabric.topograph.run/tier-N` labels skip a tier.\n\nWhy it matters: a node that is not read would be reported as missing.\n\nExample: `SwitchName=leaf1 Nodes=gpu[01-` (an unclosed hostlist).\n\nSource: NVIDIA topograph `docs/engines/slurm.md`, `docs/reference/node-labels.md`; Slurm topology.conf(5); docs/as-built.md.";
    "FP966" "topograph-wrong-leaf" Error None, "topograph puts a node under a leaf the design does not cable it to",
    "Topograph's tree (a `SwitchName=... Nodes=` line, or the `fabric.topograph.run/tier-0` label) puts a node under a leaf that none of the node's designed cables reach. The message says when that leaf is in another scalable unit.\n\nWhy it matters: the scheduler places gangs by this tree; a node on the wrong leaf breaks the locality the plan counts on, and usually means a cable on the wrong switch.\n\nExample: `SwitchName=leaf1 Nodes=gpu[01-03]` where the design cables `gpu03` to `leaf2`.\n\nSource: NVIDIA topograph (`pkg/ib/ib.go` builds the tree from where the HCAs sit); docs/as-built.md.";
    "FP967" "topograph-missing-node" Error None, "a designed node is not in topograph's output",
    "A GPU node of the design that topograph's tree does not list although it lists a leaf the node is designed on; or a node of a rack-scale NVLink domain that is in no block when the output has blocks. Nodes of leaves the output does not show at all are not judged (topograph may have been given part of the cluster).\n\nWhy it matters: topograph did not see the node: it is down, outside the host list, or its HCAs have no host name (the adapter-default description), so the scheduler will not place topology-aware work on it.\n\nExample: `a06-p1-dgx-02-c05` absent from `SwitchName=S-2c5eab0300b87a80 Nodes=a06-p1-dgx-02-c[01-04,07,...]`.\n\nSource: NVIDIA topograph `pkg/ib/ib_test.go` (its expected tree for the shipped NDR capture); docs/as-built.md.";
    "FP968" "topograph-unknown-node" Warning None, "topograph lists a node the design does not have",
    "A node in topograph's tree, blocks or labels whose name is neither a node of the design nor mapped to one.\n\nWhy it matters: either the design is missing a node or the names differ; its placement cannot be checked.\n\nExample: `SwitchName=leaf1 Nodes=gpu[01-05]` on a design with `gpu[01-04]`.\n\nSource: docs/as-built.md (the mapping file).";
    "FP969" "topograph-wrong-block" Error None, "topograph's NVLink blocks do not follow the design's NVLink domains",
    "Each rack-scale NVLink domain (NVL72) of the design should be exactly one of topograph's blocks (`BlockName=` lines, or the `accelerator.topograph.run/domain` label). This reports a node whose block is not the block holding the rest of its domain, and a block that joins two designed domains.\n\nWhy it matters: `topology/block` schedules gangs inside a block; a node in the wrong block has no NVLink to its block-mates.\n\nExample: `nvl1-t18` in block `rack12` while `nvl1-t01..t17` are in `rack11`.\n\nSource: NVIDIA topograph `docs/engines/slurm.md` (block topology) and `docs/reference/node-labels.md`; docs/as-built.md.";
    "FP970" "topograph-unknown-switch" Warning None, "a switch in topograph's output is not a switch of the design",
    "A switch named in topograph's tree (or a tier label value) that is neither a design switch, nor mapped to one, nor named so by topograph's `# name=original` comment. Placements under it cannot be checked. On InfiniBand topograph names switches by node GUID (`S-2c5eab0300b87b40`); a label value longer than 63 characters is an FNV hash (`x` and 16 hex digits).\n\nWhy it matters: unverifiable placements may be wrong.\n\nExample: `SwitchName=S-2c5eab0300b879c0 Nodes=...` with no mapping entry for the GUID.\n\nSource: NVIDIA topograph `docs/reference/node-labels.md`; docs/as-built.md (the mapping file).";
    "FP971" "topograph-wrong-parent" Error None, "topograph puts a switch above one the design does not cable it to",
    "Topograph's tree puts switch P above switch C (`SwitchName=P Switches=C`, or tier labels N and N+1), but the design has no cable between C and P. When P is of the same or a lower tier than C, the message says so: topograph infers tiers from where the hosts it was given sit, so a partial host list can put a leaf above a spine.\n\nWhy it matters: the scheduler's view of the fabric is not the fabric: gangs it thinks share a spine may not.\n\nExample: topograph's own test on the shipped NDR capture expects leaf `IBLEAF-04-04` above spine `IBSPINE-07`.\n\nSource: NVIDIA topograph `pkg/ib/ib_test.go` (`TestGenerateTopologyConfigValid`); docs/as-built.md.";
    "FP980" "replay-pod-never-fits" Warning None, "a pod of a replayed trace fits no node even of the empty cluster",
    "`fabplan replay` checks every pod against the empty cluster: some node must have the GPU model the pod may use (`gpu_spec`), as many GPUs as it asks, and its CPU and memory.\n\nWhy it matters: such a pod can only fail. The experiment keeps it (it fails under every policy, as in the paper's simulator, so arrived demand is the list's); with departures it is left out (it would wait forever). The openb `gpuspec*` lists have such pods (8 G2 GPUs with 120 CPUs; a G2 node has 96).\n\nExample: a pod asking 16 GPUs against the openb node list, whose largest node has 8.\n\nSource: the FGD paper's simulator filters nodes the same way (Open-Gpu-Share plus the default CPU and memory fit), hkust-adsl/kubernetes-scheduler-simulator.";
    "FP981" "replay-deleted-before-created" Error None, "a pod's deletion_time is before its creation_time",
    "With `creation_time` and `deletion_time` both given, a pod runs for `deletion_time - creation_time` seconds, which cannot be negative.\n\nWhy it matters: a negative run time has no meaning; guessing one would replay another trace.\n\nExample: `p1,4000,8192,1,1000,,LS,Running,500,100`.\n\nSource: alibaba/clusterdata cluster-trace-gpu-v2023 README (times in seconds from the trace start).";
    "FP982" "replay-multi-gpu-share" Error None, "a pod asks several GPUs with a share of each",
    "A pod asks either one GPU-share (`num_gpu: 1`, `gpu_milli` below 1000) or whole GPUs (`gpu_milli: 1000`). Several GPUs each shared is not a request the trace's scheduler or fabplan's replay can place.\n\nWhy it matters: the simulator the paper used refuses these pods too (\"the pod requests more than one share gpu\"); placing them some other way would make the results incomparable.\n\nExample: `p1,4000,8192,2,500,,LS`.\n\nSource: hkust-adsl/kubernetes-scheduler-simulator `pkg/simulator/plugin/open_gpu_share.go`.";
    "FP983" "replay-missing-times" Error None, "a pod lacks the creation or deletion time a replay with departures needs",
    "`fabplan replay --departures` places each pod at its `creation_time` and frees it after `deletion_time - creation_time` seconds; every pod needs both.\n\nWhy it matters: a pod without a time cannot be put on the timeline; dropping it silently would understate the load.\n\nExample: a pod list with the columns `name,cpu_milli,memory_mib,num_gpu,gpu_milli` only; use `--generate N` for a generated arrival process instead.\n\nSource: alibaba/clusterdata cluster-trace-gpu-v2023 README.";
    "FP990" "meter-syntax" Error None, "a usage record cannot be read",
    "A usage-log line that is not CSV with the header's number of fields, not a JSON object with the usage-log keys, or a CSV header naming a column the usage log does not have (the whole file is then refused, exit 2). The record is rejected, named by file:line, and counted.\n\nWhy it matters: a record that cannot be read cannot be charged; dropping it silently would make the attribution disagree with the service's own request count.\n\nExample: `2026-12-01T00:00:00Z,acme,chat` under an 11-column header.\n\nSource: docs/meter.md (usage-log columns).";
    "FP991" "meter-missing-field" Error None, "a usage record lacks a field attribution needs",
    "A record (log line or OTLP span) without a timestamp, tenant, model, input or output token count, when no --tenant/--model label supplies it. For OTLP, a GenAI span with `gen_ai.usage.output_tokens` but no `gen_ai.usage.input_tokens`, or no `startTimeUnixNano`.\n\nWhy it matters: cost is charged per tenant and model; a record without them has no owner.\n\nExample: `{\"timestamp\": \"2026-12-01T00:00:01Z\", \"model\": \"llama-3.1-70b\", \"input_tokens\": 10, \"output_tokens\": 5}` (no tenant).\n\nSource: OpenTelemetry GenAI semantic conventions (gen_ai.usage.input_tokens, gen_ai.usage.output_tokens).";
    "FP992" "meter-invalid-value" Error None, "a usage record's value is malformed or impossible",
    "A token or tool-call count that is not a non-negative integer, a timestamp that is not `YYYY-MM-DD[T ]HH:MM:SS[.f][Z]`, a negative latency, or more cached tokens than input tokens.\n\nWhy it matters: a negative or garbled count would subtract cost from a tenant.\n\nExample: `input_tokens: -3`, or `cached_tokens: 900` with `input_tokens: 500`.\n\nSource: OpenTelemetry GenAI semantic conventions (`gen_ai.usage.cache_read.input_tokens` is included in `gen_ai.usage.input_tokens`).";
    "FP993" "meter-outside-period" Error None, "a usage record falls outside the metering period",
    "The record's timestamp is before --period's start or at or after its end.\n\nWhy it matters: the fleet's cost is for the period; charging usage from another period against it breaks the reconciliation.\n\nExample: a 2026-11-30 record metered with `--period 2026-12-01T00:00:00Z/2026-12-02T00:00:00Z`.";
    "FP994" "meter-unserved-model" Error None, "a usage record's model is served by no workload of the plan",
    "No admitted plan workload serves the record's model (none has its name, and no --serve MODEL=WORKLOAD names one), or the serving workload's shape (demand `model:` or a built-in llama-3.1 model) or GPU's dense FLOPS is unknown, so its GPU-seconds cannot be computed.\n\nWhy it matters: the record's cost would land on no GPU; attribution only charges GPU time the plan gave.\n\nExample: records of `gpt-x` against a plan whose inference workloads are `chat-70b` and `embed`.\n\nSource: docs/meter.md (deployments).";
    "FP995" "meter-over-capacity" Warning None, "metered use of a deployment costs more than its reservation",
    "The GPU-seconds computed from a deployment's records (prefill at --mfu of dense peak, decode on the memory-bandwidth roofline at the batch) exceed the GPU time the plan reserved for it in the period. Usage is scaled down to the reservation so the attribution still adds up.\n\nWhy it matters: either the deployment is faster than the roofline model says (raise --mfu or --batch), the plan gives it too few GPUs, or the records belong to another deployment.\n\nSource: report/tokens.rs decode roofline; docs/meter.md.";
    "FP996" "otlp-syntax" Error None, "an OTLP JSON trace file cannot be read",
    "The file is not JSON, or has no `resourceSpans` array (OTLP/JSON ExportTraceServiceRequest). Nothing of it is metered (exit 2).\n\nWhy it matters: a truncated export would otherwise be metered in part.\n\nExample: a file cut off in the middle of a span.\n\nSource: opentelemetry-proto, OTLP/JSON encoding.";
}

/// Looks a rule up by code (`FP101`) or name (`rail-nic-to-rail`), case-insensitively.
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| {
        r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name)
    })
}

/// Runs every design check on a loaded fabric. Checks run in parallel; the result is sorted
/// by code and then by the order each check emitted, so output does not depend on threads.
pub fn run_checks(fabric: &Fabric) -> Vec<Diagnostic> {
    let topo = Topology::new(fabric);
    let ctx = Ctx {
        fabric,
        topo: &topo,
    };
    let mut per_rule: Vec<(usize, Vec<Diagnostic>)> = RULES
        .par_iter()
        .enumerate()
        .filter_map(|(i, r)| r.check.map(|c| (i, c)))
        .map(|(i, check)| {
            let mut out = Vec::new();
            check(&ctx, &mut out);
            (i, out)
        })
        .collect();
    per_rule.sort_by_key(|(i, _)| *i);
    per_rule.into_iter().flat_map(|(_, d)| d).collect()
}

/// The severity a rule's diagnostics carry.
pub fn severity_of(code: &str) -> Severity {
    rule(code).map(|r| r.severity).unwrap_or(Severity::Error)
}

/// Creates a diagnostic for `code` with the registry's severity.
pub fn diag(code: &'static str, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(code, severity_of(code), message)
}
