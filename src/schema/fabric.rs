//! The fabric description format, as written. Documented in `docs/fabric-format.md`.

use serde::Deserialize;
use serde_saphyr::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFabric {
    /// The fabric's name.
    pub fabric: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Where the design comes from (reference architecture URLs).
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub transport: Option<Spanned<String>>,
    /// `true` when storage or frontend traffic shares the compute fabric on purpose.
    #[serde(default)]
    pub converged: bool,
    #[serde(default)]
    pub site: Option<Spanned<RawSite>>,
    /// GPU model files (the `fabplan import nvidia-smi` format), relative to this file; they
    /// add models to the catalog or override built-in ones by key.
    #[serde(default)]
    pub gpu_models: Vec<Spanned<String>>,
    #[serde(default)]
    pub switch_models: Vec<RawSwitchModel>,
    #[serde(default)]
    pub node_templates: Vec<RawNodeTemplate>,
    #[serde(default)]
    pub racks: Vec<RawRack>,
    #[serde(default)]
    pub switches: Vec<RawSwitch>,
    #[serde(default)]
    pub intent: Vec<Spanned<RawIntent>>,
    #[serde(default)]
    pub links: Vec<RawLink>,
    #[serde(default)]
    pub lossless: Option<Spanned<RawLossless>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    #[serde(default)]
    pub air_cooling_limit_kw: Option<Spanned<f64>>,
    #[serde(default)]
    pub power_derate: Option<Spanned<f64>>,
    #[serde(default)]
    pub su_power_kw: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSwitchModel {
    pub id: Spanned<String>,
    pub ports: Spanned<u32>,
    pub port_gbps: Spanned<u32>,
    #[serde(default)]
    pub breakout_gbps: Option<Spanned<u32>>,
    #[serde(default)]
    pub power_w: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodeTemplate {
    pub id: Spanned<String>,
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    #[serde(default)]
    pub gpu: Option<Spanned<String>>,
    #[serde(default)]
    pub gpus: Option<Spanned<u32>>,
    #[serde(default)]
    pub nvlink: Option<Spanned<String>>,
    pub power_kw: Spanned<f64>,
    #[serde(default)]
    pub price_usd_per_hour: Option<Spanned<f64>>,
    /// CPU a node offers to workloads, in cores (`cpu_cores: 64`) or millicores
    /// (`cpu_millicores: 64000`, the Kubernetes unit); absent: not limited.
    #[serde(default)]
    pub cpu_cores: Option<Spanned<f64>>,
    #[serde(default)]
    pub cpu_millicores: Option<Spanned<u64>>,
    /// Host memory a node offers to workloads, GiB; absent: not limited.
    #[serde(default)]
    pub memory_gib: Option<Spanned<f64>>,
    /// Explicit NIC ports, each naming the GPU it serves.
    #[serde(default)]
    pub nics: Vec<Spanned<RawNic>>,
    /// Shorthand: one compute NIC port per GPU (per plane), named `nic<k>` (`nic<k>p<plane>`).
    #[serde(default)]
    pub rail_nics: Option<Spanned<RawRailNics>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNic {
    pub port: Spanned<String>,
    #[serde(default)]
    pub gpu: Option<Spanned<u32>>,
    pub gbps: Spanned<u32>,
    #[serde(default)]
    pub plane: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRailNics {
    pub gbps: Spanned<u32>,
    #[serde(default)]
    pub planes: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRack {
    pub id: Spanned<String>,
    pub power_kw: Spanned<f64>,
    #[serde(default)]
    pub cooling: Option<Spanned<String>>,
    #[serde(default)]
    pub position: Option<Spanned<String>>,
    #[serde(default)]
    pub su: Option<Spanned<String>>,
    /// A rack-scale NVLink domain (`{kind: nvl72, switch_trays: 9}`).
    #[serde(default)]
    pub nvlink_domain: Option<Spanned<RawRackDomain>>,
    #[serde(default)]
    pub nodes: Vec<Spanned<RawNodeGroup>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRackDomain {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub switch_trays: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodeGroup {
    pub template: Spanned<String>,
    /// A Slurm-style hostlist: `dgx[01-04]`.
    pub ids: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSwitch {
    /// A hostlist: one entry may declare many identical switches.
    pub ids: Spanned<String>,
    pub tier: Spanned<String>,
    pub model: Spanned<String>,
    #[serde(default)]
    pub su: Option<Spanned<String>>,
    /// Rail of the first switch; with several ids, the next switches take the next rails.
    #[serde(default)]
    pub rail: Option<Spanned<u32>>,
    #[serde(default)]
    pub plane: Option<Spanned<u32>>,
    #[serde(default)]
    pub rack: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    /// `node:port` or `switch:port`.
    pub a: Spanned<String>,
    pub b: Spanned<String>,
    pub gbps: Spanned<u32>,
    pub medium: Spanned<String>,
    #[serde(default)]
    pub length_m: Option<Spanned<f64>>,
}

/// Compact intent that expands into explicit switches and links.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum RawIntent {
    /// A rail-optimized scalable unit: the NIC of GPU k of every node goes to the rail-k leaf.
    RailSu(RawRailSu),
    /// A Clos tier: every lower switch links to every upper switch of its group.
    Uplinks(RawUplinks),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRailSu {
    pub su: Spanned<String>,
    /// Hostlist of the SU's nodes (declared in racks).
    pub nodes: Spanned<String>,
    /// Hostlist of the leaves to create: rails x leaves_per_rail x planes of them, rail-major.
    pub leaves: Spanned<String>,
    pub model: Spanned<String>,
    #[serde(default)]
    pub leaves_per_rail: Option<Spanned<u32>>,
    #[serde(default)]
    pub rack: Option<Spanned<String>>,
    pub medium: Spanned<String>,
    #[serde(default)]
    pub length_m: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUplinks {
    /// The lower switches: a tier name (`leaf`, `spine`) or a hostlist of switches.
    pub from: Spanned<String>,
    /// Hostlist of the upper switches; created when not declared.
    pub to: Spanned<String>,
    pub tier: Spanned<String>,
    pub model: Spanned<String>,
    #[serde(default)]
    pub rack: Option<Spanned<String>>,
    pub links_per_pair: Spanned<u32>,
    /// Upper switches split into this many equal groups (default 1).
    #[serde(default)]
    pub groups: Option<Spanned<u32>>,
    /// How a lower switch picks its group: `none`, `rail` or `position`.
    #[serde(default)]
    pub group_by: Option<Spanned<String>>,
    pub gbps: Spanned<u32>,
    pub medium: Spanned<String>,
    #[serde(default)]
    pub length_m: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLossless {
    pub switch: Spanned<RawSwitchQos>,
    pub nic: Spanned<RawNicQos>,
    #[serde(default)]
    pub overrides: Vec<Spanned<RawPortOverride>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSwitchQos {
    #[serde(default)]
    pub dscp_to_priority: Option<Spanned<std::collections::BTreeMap<u8, u8>>>,
    pub pfc_priorities: Spanned<Vec<u8>>,
    #[serde(default)]
    pub cnp: Option<Spanned<RawCnp>>,
    #[serde(default)]
    pub ecn: Option<Spanned<RawEcn>>,
    #[serde(default)]
    pub pfc_xoff_bytes: Option<Spanned<u64>>,
    pub mtu: Spanned<u32>,
    #[serde(default)]
    pub cable_length_m: Option<Spanned<f64>>,
    #[serde(default)]
    pub headroom_bytes: Option<Spanned<u64>>,
    #[serde(default)]
    pub watchdog: Option<Spanned<RawWatchdog>>,
    #[serde(default)]
    pub ecmp_hash: Option<Spanned<String>>,
    #[serde(default)]
    pub rtt_us: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCnp {
    pub dscp: Spanned<u8>,
    pub priority: Spanned<u8>,
    pub strict: Spanned<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEcn {
    pub priority: Spanned<u8>,
    pub kmin_bytes: Spanned<u64>,
    pub kmax_bytes: Spanned<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWatchdog {
    pub detect_ms: Spanned<u32>,
    pub restore_ms: Spanned<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNicQos {
    pub roce_dscp: Spanned<u8>,
    pub roce_priority: Spanned<u8>,
    pub cnp_dscp: Spanned<u8>,
    pub pfc_priorities: Spanned<Vec<u8>>,
    pub mtu: Spanned<u32>,
    #[serde(default)]
    pub roce_mtu: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPortOverride {
    /// `switch` or `switch:port`; a hostlist of switches is allowed for whole-switch overrides.
    pub port: Spanned<String>,
    #[serde(default)]
    pub mtu: Option<Spanned<u32>>,
    #[serde(default)]
    pub pfc_priorities: Option<Spanned<Vec<u8>>>,
    /// Absent: inherit. `null`: the watchdog is off on these ports. A mapping: these timings.
    #[serde(default, deserialize_with = "present")]
    pub watchdog: Option<Spanned<Option<RawWatchdog>>>,
    #[serde(default)]
    pub lossy: bool,
}

/// Deserializes a key that is present as `Some`, even when its value is `null`: plain
/// `Option` would read `watchdog: null` as an absent key. `default` covers the absent case.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}
