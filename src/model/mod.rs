//! The validated fabric model: span-free, index-based, no IO.
//!
//! Everything downstream of the loader (graph metrics, checks, reports, the planner) reads
//! these types. Entities refer to each other by typed indices (`NodeId`, `SwitchId`, ...) into
//! the vectors of [`Fabric`]; names are kept for output only.

pub mod admission;
pub mod cost;
pub mod demand;
pub mod plan;
pub mod usage;

use std::collections::BTreeMap;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            #[inline]
            pub fn index(self) -> usize { self.0 as usize }
            #[inline]
            pub fn from_index(i: usize) -> Self { $name(i as u32) }
        }
    )*};
}
// For ids of the planner's own numberings (`plan::state::GeoNodeId`), declared where they
// are numbered, beside the code that numbers them.
pub(crate) use id_type;

id_type!(
    /// A node template (`node_templates[i]`).
    TemplateId,
    /// A rack.
    RackId,
    /// A server or compute tray.
    NodeId,
    /// One GPU; the GPUs of a node are consecutive.
    GpuId,
    /// One NIC port; the ports of a node are consecutive.
    NicId,
    /// A leaf, spine or core switch.
    SwitchId,
    /// A switch model (`switch_models[i]`).
    SwitchModelId,
    /// A cable between two ports.
    LinkId,
    /// An NVLink domain (an 8-GPU board or a rack-scale NVL72).
    DomainId,
    /// A scalable unit.
    SuId,
    /// A tenant of a demand (`Demand::tenants[i]`).
    TenantId,
    /// A GPU workload of a demand (`Demand::workloads[i]`; host-only workloads are not).
    WorkloadId,
);

/// Something a diagnostic can point at; the loader records a span for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    Fabric,
    Template(TemplateId),
    Rack(RackId),
    Node(NodeId),
    Switch(SwitchId),
    SwitchModel(SwitchModelId),
    Link(LinkId),
    Lossless,
    PortOverride(u32),
    Site,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Infiniband,
    Roce,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Infiniband => "infiniband",
            Transport::Roce => "roce",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cooling {
    Air,
    Liquid,
}

/// How a node's GPUs are joined by NVLink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NvlinkKind {
    /// No NVLink between the node's GPUs (PCIe cards).
    None,
    /// An HGX/DGX baseboard: the node's GPUs over NVSwitch form one domain.
    Hgx8,
    /// A compute tray of a rack-scale NVL72 domain: the rack's trays form one domain.
    Nvl72Tray,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    /// GPU servers or trays; their NICs form the compute fabric.
    Compute,
    /// Fabric management (an InfiniBand UFM appliance), storage or service hosts.
    Management,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Leaf,
    Spine,
    Core,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Leaf, Tier::Spine, Tier::Core];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Leaf => "leaf",
            Tier::Spine => "spine",
            Tier::Core => "core",
        }
    }

    /// 1 for leaf, 2 for spine, 3 for core.
    pub fn level(self) -> u8 {
        match self {
            Tier::Leaf => 1,
            Tier::Spine => 2,
            Tier::Core => 3,
        }
    }
}

/// Cable media with distinct reach limits (NVIDIA structured-cabling guide; docs/sources.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Medium {
    /// Direct-attach copper.
    Dac,
    /// Active optical cable.
    Aoc,
    /// MPO multimode, OM4.
    Mm,
    /// MPO multimode, OM3.
    MmOm3,
    /// MPO single-mode, straight.
    Sm,
    /// MPO single-mode splitter.
    SmSplitter,
    /// LC duplex single-mode.
    LcSm,
}

impl Medium {
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Dac => "dac",
            Medium::Aoc => "aoc",
            Medium::Mm => "mm",
            Medium::MmOm3 => "mm-om3",
            Medium::Sm => "sm",
            Medium::SmSplitter => "sm-splitter",
            Medium::LcSm => "lc-sm",
        }
    }

    /// Optical media need a transceiver at each end (DAC and AOC carry their own).
    pub fn needs_transceivers(self) -> bool {
        !matches!(self, Medium::Dac | Medium::Aoc)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NicPort {
    /// The port's name on the node (`osfp1p1`, `nic0`).
    pub port: String,
    /// The GPU this port serves (its rail). Rails key on GPU index, never on port order:
    /// DGX H100 OSFP1P1 goes to GPU 7 (DGX H100/H200 user guide, table 6).
    pub gpu: Option<u32>,
    pub gbps: u32,
    pub plane: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeTemplate {
    pub name: String,
    pub role: NodeRole,
    /// Catalog key of the GPU model (`h100-80gb`), empty when the node has no GPUs.
    pub gpu_model: String,
    pub gpus: u32,
    pub nvlink: NvlinkKind,
    /// Maximum node power (DGX H100: 10.2 kW).
    pub power_kw: f64,
    pub price_usd_per_hour: Option<f64>,
    /// CPU offered to workloads in millicores; `None`: not limited.
    pub cpu_millicores: Option<u64>,
    /// Host memory offered to workloads in MiB; `None`: not limited.
    pub memory_mib: Option<u64>,
    pub nics: Vec<NicPort>,
}

impl NodeTemplate {
    /// NIC ports that serve a GPU: the compute (scale-out) fabric.
    pub fn compute_nics(&self) -> impl Iterator<Item = (usize, &NicPort)> {
        self.nics
            .iter()
            .enumerate()
            .filter(|(_, n)| n.gpu.is_some())
    }

    pub fn planes(&self) -> u32 {
        self.nics.iter().map(|n| n.plane + 1).max().unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rack {
    pub name: String,
    /// The rack's power budget.
    pub power_kw: f64,
    pub cooling: Cooling,
    pub position: Option<String>,
    pub su: Option<SuId>,
    pub nodes: Vec<NodeId>,
    pub switches: Vec<SwitchId>,
    /// A rack-scale NVLink domain (NVL72), when the rack declares one.
    pub nvlink_domain: Option<DomainId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    pub template: TemplateId,
    pub rack: RackId,
    pub su: Option<SuId>,
    pub first_gpu: GpuId,
    pub first_nic: NicId,
    pub nvlink_domain: Option<DomainId>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gpu {
    pub node: NodeId,
    /// Index within the node (0..gpus).
    pub index: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nic {
    pub node: NodeId,
    /// Index into the node template's `nics`.
    pub template_nic: u32,
    /// The link plugged into this port, if any.
    pub link: Option<LinkId>,
}

/// How NVLink joins a set of GPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DomainKind {
    /// One HGX/DGX board: 8 GPUs over 4 NVSwitches.
    Hgx8,
    /// One GB200/GB300 NVL72 rack: 18 compute trays x 4 GPUs, 9 switch trays.
    Nvl72,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NvlinkDomain {
    pub kind: DomainKind,
    pub name: String,
    pub nodes: Vec<NodeId>,
    pub gpus: u32,
    /// NVLink switch trays (NVL72: 9, each with 2 NVSwitch chips).
    pub switch_trays: u32,
    pub rack: RackId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SwitchModel {
    pub name: String,
    /// Physical ports (cages) at `port_gbps`.
    pub ports: u32,
    pub port_gbps: u32,
    /// Slowest speed a port can be broken out to; a port carries `port_gbps / breakout_gbps`
    /// links at that speed (SN5600: 64 x 800G or 128 x 400G).
    pub breakout_gbps: u32,
    pub power_w: f64,
}

impl SwitchModel {
    /// Total switching capacity in Gb/s (one direction).
    pub fn capacity_gbps(&self) -> u64 {
        self.ports as u64 * self.port_gbps as u64
    }

    /// Radix in ports of `gbps` (a 64 x 800G switch has radix 128 at 400G).
    pub fn radix_at(&self, gbps: u32) -> u64 {
        if gbps == 0 {
            return 0;
        }
        self.capacity_gbps() / gbps as u64
    }

    /// Whether a link of `gbps` can use a port of this switch (native speed or a breakout).
    pub fn supports_speed(&self, gbps: u32) -> bool {
        gbps > 0
            && gbps <= self.port_gbps
            && gbps >= self.breakout_gbps
            && self.port_gbps % gbps == 0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Switch {
    pub name: String,
    pub tier: Tier,
    pub model: SwitchModelId,
    pub su: Option<SuId>,
    /// The rail this leaf serves, when declared; else inferred from its cabling.
    pub rail: Option<u32>,
    pub plane: u32,
    pub rack: Option<RackId>,
}

/// A port name on a switch: numbered ports stay numbers so large fabrics stay cheap.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortName {
    Num(u32),
    Name(Box<str>),
}

impl PortName {
    /// An all-digit name is a port number (`01` and `1` are the same port); anything else
    /// (`swp12`, `1/1`) is a name.
    pub fn parse(s: &str) -> PortName {
        match s.parse::<u32>() {
            Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => PortName::Num(n),
            _ => PortName::Name(s.into()),
        }
    }
}

impl std::fmt::Display for PortName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortName::Num(n) => write!(f, "{n}"),
            PortName::Name(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    Nic(NicId),
    Switch(SwitchId, PortName),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub a: Endpoint,
    pub b: Endpoint,
    pub gbps: u32,
    pub medium: Medium,
    pub length_m: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EcmpHash {
    /// Plain L3/L4 5-tuple hashing.
    FiveTuple,
    /// 5-tuple plus the RoCE destination QP through a UDF (Meta E-ECMP).
    QpUdf,
    /// Adaptive routing / dynamic load balancing (flowlets).
    Adaptive,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cnp {
    pub dscp: u8,
    pub priority: u8,
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ecn {
    pub priority: u8,
    pub kmin_bytes: u64,
    pub kmax_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Watchdog {
    pub detect_ms: u32,
    pub restore_ms: u32,
}

/// Switch-side lossless settings (what `nv set qos roce` or a Nexus network-qos policy sets).
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchQos {
    pub dscp_to_priority: BTreeMap<u8, u8>,
    pub pfc_priorities: Vec<u8>,
    pub cnp: Option<Cnp>,
    pub ecn: Option<Ecn>,
    /// Per-port, per-priority ingress level at which PFC pauses the sender.
    pub pfc_xoff_bytes: Option<u64>,
    pub mtu: u32,
    /// The cable length the PFC headroom was sized for (Cumulus `cable-length`, default 100 m).
    pub cable_length_m: f64,
    /// Configured PFC headroom per port and priority, when known.
    pub headroom_bytes: Option<u64>,
    pub watchdog: Option<Watchdog>,
    pub ecmp_hash: EcmpHash,
    /// Round-trip time used for the bandwidth-delay product (ECN Kmax sanity).
    pub rtt_us: f64,
}

/// Host (NIC) side lossless settings.
#[derive(Debug, Clone, PartialEq)]
pub struct NicQos {
    pub roce_dscp: u8,
    pub roce_priority: u8,
    pub cnp_dscp: u8,
    pub pfc_priorities: Vec<u8>,
    pub mtu: u32,
    /// RoCE path MTU (1024/2048/4096).
    pub roce_mtu: u32,
}

/// Settings that differ on some switch ports.
#[derive(Debug, Clone, PartialEq)]
pub struct PortOverride {
    pub switch: SwitchId,
    /// `None`: every port of the switch.
    pub port: Option<PortName>,
    pub mtu: Option<u32>,
    pub pfc_priorities: Option<Vec<u8>>,
    pub watchdog: Option<Option<Watchdog>>,
    /// The port carries no RoCE (management, storage, frontend).
    pub lossy: bool,
    /// Index of the `overrides:` entry this came from (`Entity::PortOverride`).
    pub origin: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lossless {
    pub switch: SwitchQos,
    pub nic: NicQos,
    pub overrides: Vec<PortOverride>,
}

/// Site-level limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Above this, a rack must be liquid cooled (a common air limit is 40 kW).
    pub air_cooling_limit_kw: f64,
    /// Fraction of a rack's budget that may be planned (0.8 leaves 20 % margin).
    pub power_derate: f64,
    /// Power available to one scalable unit, when the site has such a block.
    pub su_power_kw: Option<f64>,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            air_cooling_limit_kw: 40.0,
            power_derate: 1.0,
            su_power_kw: None,
        }
    }
}

/// A loaded, validated fabric.
#[derive(Debug, Clone, PartialEq)]
pub struct Fabric {
    pub name: String,
    pub description: Option<String>,
    pub transport: Transport,
    /// This is the compute (backend) fabric; storage or frontend traffic on it must be declared.
    pub converged: bool,
    pub templates: Vec<NodeTemplate>,
    pub racks: Vec<Rack>,
    pub nodes: Vec<Node>,
    pub gpus: Vec<Gpu>,
    pub nics: Vec<Nic>,
    pub switch_models: Vec<SwitchModel>,
    pub switches: Vec<Switch>,
    pub links: Vec<Link>,
    pub nvlink_domains: Vec<NvlinkDomain>,
    pub sus: Vec<String>,
    pub lossless: Option<Lossless>,
    pub site: Site,
    /// The GPU models the templates use, resolved from the catalog and the fabric's own
    /// `gpu_models:` files.
    pub gpu_models: Vec<crate::catalog::GpuModel>,
}

impl Fabric {
    pub fn template_of(&self, node: NodeId) -> &NodeTemplate {
        &self.templates[self.nodes[node.index()].template.index()]
    }

    pub fn nic_port(&self, nic: NicId) -> &NicPort {
        let n = &self.nics[nic.index()];
        &self.template_of(n.node).nics[n.template_nic as usize]
    }

    /// The resolved GPU model of a catalog key.
    pub fn gpu_model(&self, key: &str) -> Option<&crate::catalog::GpuModel> {
        self.gpu_models.iter().find(|m| m.key == key)
    }

    pub fn switch_model(&self, sw: SwitchId) -> &SwitchModel {
        &self.switch_models[self.switches[sw.index()].model.index()]
    }

    /// The node's GPUs as a range of ids.
    pub fn node_gpus(&self, node: NodeId) -> impl Iterator<Item = GpuId> {
        let first = self.nodes[node.index()].first_gpu.0;
        let n = self.template_of(node).gpus;
        (first..first + n).map(GpuId)
    }

    /// The node's NIC ports as a range of ids.
    pub fn node_nics(&self, node: NodeId) -> impl Iterator<Item = NicId> {
        let first = self.nodes[node.index()].first_nic.0;
        let n = self.template_of(node).nics.len() as u32;
        (first..first + n).map(NicId)
    }

    pub fn endpoint_name(&self, ep: &Endpoint) -> String {
        match ep {
            Endpoint::Nic(nic) => {
                let n = &self.nics[nic.index()];
                format!(
                    "{}:{}",
                    self.nodes[n.node.index()].name,
                    self.nic_port(*nic).port
                )
            }
            Endpoint::Switch(sw, port) => format!("{}:{}", self.switches[sw.index()].name, port),
        }
    }

    pub fn link_name(&self, link: LinkId) -> String {
        let l = &self.links[link.index()];
        format!(
            "{} -- {}",
            self.endpoint_name(&l.a),
            self.endpoint_name(&l.b)
        )
    }

    /// Whether the node is a GPU server (its NICs form the compute fabric).
    pub fn is_compute_node(&self, node: NodeId) -> bool {
        self.template_of(node).role == NodeRole::Compute
    }
}
