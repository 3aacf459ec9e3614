//! Named placement: the fabric's geometry as the planner sees it (nodes, pools, topology
//! domains), the per-GPU state of a plan, the placement primitives shared by the greedy
//! baseline and the MILP's disaggregation, and the objective of a named plan.

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::fabric::topology::Topology;
use crate::mig::{self, Layout, MigTable, Placement, ProfileIdx};
use crate::model::{Fabric, GpuId, NodeId, NvlinkKind, TenantId, Tier, WorkloadId};

use crate::model::demand::{Demand, Isolation, Level, Unit, Workload, MILLI_PER_GPU};

crate::model::id_type!(
    /// A node of the planner's geometry, `Geometry::nodes[i]`; `Geometry::node_fabric` maps
    /// it to the fabric's `NodeId`. Not a `NodeId`: the geometry lists only nodes with GPUs,
    /// so the two numberings differ once a fabric has a node without GPUs. Declared here,
    /// with the model's `id_type!`, because only the planner numbers nodes this way.
    GeoNodeId,
);

impl GeoNodeId {
    /// `Geometry::gpu_node` of a GPU on a node the geometry leaves out (no GPU model).
    pub const NONE: GeoNodeId = GeoNodeId(u32::MAX);
}

/// Per-node facts the planner needs, flattened from the fabric.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub model: usize,
    pub gpus: u32,
    pub first_gpu: GpuId,
    pub rack: u32,
    pub pool: u32,
    /// Domain id at each level (`Level as usize`); nvlink domains of HGX boards are per node.
    pub domain: [u32; 4],
    pub gpu_kw: f64,
    /// CPU (millicores) and host memory (MiB) the node offers; `None`: not limited.
    pub cpu_millicores: Option<u64>,
    pub memory_mib: Option<u64>,
}

/// A GPU model present on the fabric, with its MIG layouts.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub key: String,
    pub mig: Option<MigTable>,
    pub layouts: Vec<Layout>,
    pub usd_per_gpu_hour: f64,
    pub nvlink_bytes_per_s: f64,
    /// GPU memory in MiB (0: the catalog does not give it, shares are not limited by it).
    pub memory_mib: u32,
}

/// Interchangeable capacity: the nodes of one (rack, template, leaf group, SU).
#[derive(Debug, Clone)]
pub struct Pool {
    pub nodes: Vec<GeoNodeId>,
    pub model: usize,
    pub gpus_per_node: u32,
    pub rack: u32,
    pub domain: [u32; 4],
    pub gpu_kw: f64,
}

#[derive(Debug, Clone)]
pub struct Geometry {
    pub nodes: Vec<NodeInfo>,
    pub models: Vec<ModelInfo>,
    pub pools: Vec<Pool>,
    pub rack_kw: Vec<f64>,
    pub rack_names: Vec<String>,
    /// Number of domains at each level.
    pub domains: [u32; 4],
    pub domain_names: [Vec<String>; 4],
    /// The node of each GPU (`GeoNodeId::NONE`: a node the geometry leaves out).
    pub gpu_node: Vec<GeoNodeId>,
    pub gpu_names: Vec<String>,
    /// Per node of `nodes`: its name and its index in `Fabric::nodes` (nodes without GPUs
    /// are not in `nodes`).
    pub node_names: Vec<String>,
    pub node_fabric: Vec<NodeId>,
    /// Host-only work took CPU or memory off `nodes` (`Geometry::less_host`): a relaxation
    /// with host CPU or memory rows is then one of a restricted problem, not a global bound.
    pub host_taken: bool,
    /// Tenants (ascending) of the host-only replicas on each node (`Geometry::less_host`;
    /// empty: none). `State::new` starts from them as the nodes' users, so dedicated-node
    /// isolation covers host-only work too.
    pub host_tenants: Vec<Vec<TenantId>>,
    pub has_core: bool,
    pub nic_bytes_per_s: f64,
}

impl Geometry {
    pub fn new(f: &Fabric, catalog: &Catalog, demand: &Demand) -> Geometry {
        let topo = Topology::new(f);
        let mut models: Vec<ModelInfo> = Vec::new();
        let mut model_ix: BTreeMap<String, usize> = BTreeMap::new();
        let mut leaf_groups: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
        let mut nodes = Vec::new();
        let mut node_names = Vec::new();
        let mut node_fabric = Vec::new();
        let mut pool_ix: BTreeMap<(u32, u32, u32, u32), u32> = BTreeMap::new();
        let mut pools: Vec<Pool> = Vec::new();
        let mut gpu_node = vec![GeoNodeId::NONE; f.gpus.len()];
        let mut nic_gbps = 0u32;
        let mut nvl_domains = f.nvlink_domains.len() as u32;
        let mut node_domain_names: Vec<String> =
            f.nvlink_domains.iter().map(|d| d.name.clone()).collect();
        for (ni, node) in f.nodes.iter().enumerate() {
            let t = f.template_of(crate::model::NodeId::from_index(ni));
            if t.gpus == 0 || t.gpu_model.is_empty() {
                continue;
            }
            let m = *model_ix.entry(t.gpu_model.clone()).or_insert_with(|| {
                let gm = catalog.gpu(&t.gpu_model);
                let mig = gm.and_then(|g| g.mig.clone());
                let layouts = mig
                    .as_ref()
                    .map(|tb| mig::maximal_layouts(tb, mig::Rules::default()))
                    .unwrap_or_default();
                models.push(ModelInfo {
                    key: t.gpu_model.clone(),
                    mig,
                    layouts,
                    usd_per_gpu_hour: demand.gpu_price(&t.gpu_model),
                    memory_mib: gm
                        .map(|g| (g.memory_gib * 1024.0).floor().clamp(0.0, u32::MAX as f64) as u32)
                        .unwrap_or(0),
                    nvlink_bytes_per_s: gm
                        .map(|g| g.nvlink_gbytes_per_s as f64 / 2.0 * 1e9)
                        .filter(|&b| b > 0.0)
                        .unwrap_or(450e9),
                });
                models.len() - 1
            });
            let mut leaves: Vec<u32> = (0..t.nics.len())
                .filter(|&k| t.nics[k].gpu.is_some())
                .filter_map(|k| topo.nic_switch[node.first_nic.index() + k].map(|s| s.0))
                .collect();
            for k in 0..t.nics.len() {
                if t.nics[k].gpu.is_some() {
                    nic_gbps = nic_gbps.max(t.nics[k].gbps);
                }
            }
            leaves.sort_unstable();
            leaves.dedup();
            let lg_next = leaf_groups.len() as u32;
            let lg = *leaf_groups.entry(leaves).or_insert(lg_next);
            let su = node.su.map(|s| s.0 + 1).unwrap_or(0);
            let nvl = match (t.nvlink, node.nvlink_domain) {
                (NvlinkKind::Nvl72Tray, Some(d)) => d.0,
                (_, Some(d)) => d.0,
                _ => {
                    nvl_domains += 1;
                    node_domain_names.push(node.name.clone());
                    nvl_domains - 1
                }
            };
            let rack = node.rack.0;
            let key = (rack, node.template.0, lg, su);
            let next = pools.len() as u32;
            let pool = *pool_ix.entry(key).or_insert(next);
            let gpu_kw = t.power_kw / t.gpus as f64;
            if pool == next {
                pools.push(Pool {
                    nodes: Vec::new(),
                    model: m,
                    gpus_per_node: t.gpus,
                    rack,
                    domain: [nvl, lg, su, 0],
                    gpu_kw,
                });
            }
            pools[pool as usize]
                .nodes
                .push(GeoNodeId::from_index(nodes.len()));
            for g in 0..t.gpus {
                gpu_node[(node.first_gpu.0 + g) as usize] = GeoNodeId::from_index(nodes.len());
            }
            node_names.push(node.name.clone());
            node_fabric.push(NodeId::from_index(ni));
            nodes.push(NodeInfo {
                model: m,
                gpus: t.gpus,
                first_gpu: node.first_gpu,
                rack,
                pool,
                domain: [nvl, lg, su, 0],
                gpu_kw,
                cpu_millicores: t.cpu_millicores,
                memory_mib: t.memory_mib,
            });
        }
        // For pools the NVLink domain is the rack's NVL72 domain or, on HGX boards, none
        // wider than a node: mark those pools with u32::MAX.
        for p in &mut pools {
            let n0 = &nodes[p.nodes[0].index()];
            let t = &f.templates[f.nodes[0].template.index()];
            let _ = t;
            if p.nodes
                .iter()
                .any(|&n| nodes[n.index()].domain[0] != n0.domain[0])
            {
                p.domain[0] = u32::MAX;
            }
        }
        let gpu_names = f
            .gpus
            .iter()
            .map(|g| format!("{}/{}", f.nodes[g.node.index()].name, g.index))
            .collect();
        let mut lg_names = vec![String::new(); leaf_groups.len()];
        for (leaves, id) in &leaf_groups {
            lg_names[*id as usize] = match (leaves.first(), leaves.last()) {
                (Some(a), Some(b)) if a != b => format!(
                    "{}..{}",
                    f.switches[*a as usize].name, f.switches[*b as usize].name
                ),
                (Some(a), _) => f.switches[*a as usize].name.clone(),
                _ => "unconnected".into(),
            };
        }
        let mut su_names = vec!["no-su".to_string()];
        su_names.extend(f.sus.iter().cloned());
        Geometry {
            domains: [
                nvl_domains,
                leaf_groups.len() as u32,
                f.sus.len() as u32 + 1,
                1,
            ],
            domain_names: [node_domain_names, lg_names, su_names, vec![f.name.clone()]],
            rack_kw: f.racks.iter().map(|r| r.power_kw).collect(),
            rack_names: f.racks.iter().map(|r| r.name.clone()).collect(),
            nodes,
            models,
            pools,
            gpu_node,
            gpu_names,
            node_names,
            node_fabric,
            host_taken: false,
            host_tenants: Vec::new(),
            has_core: f.switches.iter().any(|s| s.tier == Tier::Core),
            nic_bytes_per_s: if nic_gbps > 0 {
                nic_gbps as f64 / 8.0 * 1e9
            } else {
                50e9
            },
        }
    }

    /// The cheapest power per GPU of each model over its pools (0 for a model with no pool):
    /// relaxations (the fluid bound, the gang master) keep the best case.
    pub fn min_gpu_kw_per_model(&self) -> Vec<f64> {
        (0..self.models.len())
            .map(|m| {
                self.pools
                    .iter()
                    .filter(|p| p.model == m)
                    .map(|p| p.gpu_kw)
                    .fold(f64::INFINITY, f64::min)
            })
            .map(|k| if k.is_finite() { k } else { 0.0 })
            .collect()
    }

    pub fn model_of_gpu(&self, gpu: GpuId) -> usize {
        self.nodes[self.node_of(gpu).index()].model
    }

    /// The node of `nodes` that holds `gpu`.
    pub fn node_of(&self, gpu: GpuId) -> GeoNodeId {
        self.gpu_node[gpu.index()]
    }

    /// GPUs of `n` (the fabric's `GpuId`s; a node's GPUs are consecutive).
    pub fn node_gpus(&self, n: GeoNodeId) -> impl Iterator<Item = GpuId> {
        let node = &self.nodes[n.index()];
        (node.first_gpu.0..node.first_gpu.0 + node.gpus).map(GpuId)
    }

    /// Seconds per all-reduce step of `bytes` over `gpus` GPUs whose tightest common domain
    /// is `level` (ring alpha-beta, docs/sources.md (c)): `2(n-1) alpha + 2(n-1)/n x S / B`.
    pub fn allreduce_seconds(&self, model: usize, level: Level, gpus: u32, bytes: f64) -> f64 {
        if gpus <= 1 || bytes <= 0.0 {
            return 0.0;
        }
        let n = gpus as f64;
        let (alpha, bw) = match level {
            Level::Nvlink => (2e-6, self.models[model].nvlink_bytes_per_s),
            Level::Leaf => (5e-6, self.nic_bytes_per_s),
            // ECMP collisions across the spine: 85% of the NIC rate; across a core: 75%.
            Level::Su => (8e-6, self.nic_bytes_per_s * 0.85),
            Level::Fabric if self.has_core => (12e-6, self.nic_bytes_per_s * 0.75),
            Level::Fabric => (8e-6, self.nic_bytes_per_s * 0.85),
        };
        2.0 * (n - 1.0) * alpha + 2.0 * (n - 1.0) / n * bytes / bw
    }
}

/// GPU-hours per hour a gang loses to communication at `level`, times the weight.
pub fn comm_penalty(
    geo: &Geometry,
    demand: &Demand,
    w: &Workload,
    model: usize,
    level: Level,
) -> f64 {
    let Some(g) = &w.gang else { return 0.0 };
    let Unit::Gpus(n) = w
        .units
        .get(&geo.models[model].key)
        .copied()
        .unwrap_or(Unit::Gpus(0))
    else {
        return 0.0;
    };
    let t = geo.allreduce_seconds(model, level, n, g.bytes_per_step);
    let frac = (g.steps_per_hour * t / 3600.0).min(1.0);
    demand.weights.communication * n as f64 * frac
}

/// Chunk size and count of a whole-GPU workload on nodes of `gpn` GPUs; `None` when the
/// workload cannot use such nodes.
pub fn chunks(w: &Workload, unit: Unit, gpn: u32) -> Option<(u32, u32)> {
    let Unit::Gpus(k) = unit else { return None };
    if w.gang.is_some() {
        let c = k.min(gpn);
        (k % c == 0).then_some((c, k / c))
    } else {
        (k <= gpn).then_some((k, w.replicas))
    }
}

/// GPU-equivalents of one replica of `unit` on `model`.
/// Chargeback USD per hour (`crate::model::cost`) of `eq` GPU-equivalents of model `m`
/// drawing `gpu_kw` each: the GPU-hour price plus power at the demand's PUE and $/kWh (one
/// formula for greedy, the pooled model and the gang master).
pub fn usd_per_hour(geo: &Geometry, d: &Demand, m: usize, eq: f64, gpu_kw: f64) -> f64 {
    crate::model::cost::chargeback_usd_per_hour(
        eq,
        geo.models[m].usd_per_gpu_hour,
        gpu_kw,
        d.pricing.pue,
        d.pricing.power_usd_per_kwh,
    )
}

pub fn unit_equiv(geo: &Geometry, model: usize, unit: Unit) -> f64 {
    match unit {
        Unit::Gpus(k) => k as f64,
        Unit::Mig(p) => {
            let t = geo.models[model]
                .mig
                .as_ref()
                .expect("mig unit on a MIG model");
            t.profile(p).compute_slices as f64 / t.compute_slices as f64
        }
        Unit::Share { milli, .. } => milli as f64 / MILLI_PER_GPU as f64,
    }
}

pub use crate::model::plan::{Assignment, Hold};

/// Host CPU (millicores) and memory (MiB) that `gpus` GPUs of workload `w` take on one node
/// under `unit`: per replica (a whole-GPU replica holds `k` GPUs, a MIG or share replica
/// one), per GPU for a training gang.
pub fn host_need(wl: &Workload, unit: Unit, gpus: u32) -> (u64, u64) {
    let replicas = match unit {
        Unit::Gpus(k) if wl.gang.is_none() => gpus / k.max(1),
        _ => gpus,
    } as u64;
    (wl.cpu_millicores * replicas, wl.memory_mib * replicas)
}

/// Host CPU and memory per node that workload `wl`, placed with `assignments`, takes (from
/// its GPUs per node, each node sized by its own GPU model's unit).
pub fn host_use(
    geo: &Geometry,
    wl: &Workload,
    assignments: &[Assignment],
) -> BTreeMap<GeoNodeId, (u64, u64)> {
    let mut gpus: BTreeMap<GeoNodeId, u32> = BTreeMap::new();
    for a in assignments {
        *gpus.entry(geo.node_of(a.gpu)).or_default() += 1;
    }
    gpus.into_iter()
        .filter_map(|(n, k)| {
            let m = geo.nodes[n.index()].model;
            let unit = *wl.units.get(&geo.models[m].key)?;
            Some((n, host_need(wl, unit, k)))
        })
        .filter(|(_, need)| *need != (0, 0))
        .collect()
}

/// Replicas of `wl` per GPU model in `assignments`: one per MIG instance or share, one per
/// `k` whole GPUs of a `k`-GPU replica; a gang counts as one on its model.
pub fn replicas_by_model(
    geo: &Geometry,
    wl: &Workload,
    assignments: &[Assignment],
) -> BTreeMap<usize, u32> {
    let mut held: BTreeMap<usize, u32> = BTreeMap::new();
    for a in assignments {
        *held.entry(geo.model_of_gpu(a.gpu)).or_default() += 1;
    }
    held.into_iter()
        .map(|(m, n)| {
            let reps = match wl.units.get(&geo.models[m].key) {
                _ if wl.gang.is_some() => 1,
                Some(Unit::Gpus(k)) => n / (*k).max(1),
                _ => n,
            };
            (m, reps)
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub enum GpuUse {
    Free,
    /// Held whole by a workload.
    Whole(WorkloadId),
    /// A MIG layout for `group`; each placement's holder.
    Mig {
        group: u32,
        layout: Vec<(Placement, Option<WorkloadId>)>,
    },
    /// Time-sliced among `members` (workload, thousandths).
    Shared {
        members: Vec<(WorkloadId, u16)>,
    },
}

/// MIG group of a tenant: co-tenant tenants share group 0, the others their own.
pub fn mig_group(demand: &Demand, tenant: TenantId) -> u32 {
    match demand.tenant(tenant).isolation {
        Isolation::Mig { co_tenancy: true } => 0,
        _ => tenant.0 + 1,
    }
}

enum Undo {
    Gpu(GpuId, GpuUse),
    Owner(GeoNodeId, Option<TenantId>),
    Users(GeoNodeId, Vec<TenantId>),
    /// Host CPU and memory used on a node before a change.
    Host(GeoNodeId, u64, u64),
}

/// The state of a named plan, with an undo journal for all-or-nothing placement.
pub struct State<'a> {
    pub geo: &'a Geometry,
    pub demand: &'a Demand,
    pub gpus: Vec<GpuUse>,
    /// Tenant owning the node (dedicated-node).
    pub owner: Vec<Option<TenantId>>,
    /// Tenants using the node.
    pub users: Vec<Vec<TenantId>>,
    pub free_gpus: Vec<u32>,
    /// Host CPU (millicores) and memory (MiB) used per node.
    pub cpu_used: Vec<u64>,
    pub mem_used: Vec<u64>,
    pub rack_used_kw: Vec<f64>,
    pub tenant_usd: Vec<f64>,
    pub tenant_gpus: Vec<f64>,
    pub tenant_kw: Vec<f64>,
    pub assignments: Vec<Vec<Assignment>>,
    pub admitted: Vec<bool>,
    pub model_of: Vec<Option<usize>>,
    /// The most replicas placement may give each workload (its `replicas`, or fewer when
    /// the pooled model chose fewer for an elastic workload).
    pub replica_target: Vec<u32>,
    /// Why an elastic workload runs fewer replicas than it asks for ("admitted 3 of 5 ...").
    pub short_of: Vec<Option<String>>,
    /// Replicas per GPU model the pooled model counted for a workload it spread over
    /// several models (empty: no quota). Naming follows it, so the named plan is the counted
    /// one rather than the first model filled up.
    pub model_quota: Vec<BTreeMap<usize, u32>>,
    /// Nodes by (model, free GPUs), for best fit without scanning every node.
    buckets: Vec<Vec<std::collections::BTreeSet<GeoNodeId>>>,
    /// GPUs ever configured for MIG or time-slicing (may hold stale entries; checked on use).
    mig_list: Vec<GpuId>,
    shared_list: Vec<GpuId>,
    /// When set, placement looks only at these nodes (sorted): the MILP's pools.
    pub scope: Option<Vec<GeoNodeId>>,
    journal: Vec<Undo>,
    /// Indexes of the hot paths (`freeidx.rs`); the gang index is built on first use.
    pub(super) gang_idx: Option<super::freeidx::GangIndex>,
    mig_idx: super::freeidx::MigIndex,
    share_idx: super::freeidx::ShareIndex,
    /// Off: every placement scans as before the indexes (the reference the randomized
    /// test compares with).
    pub(super) use_index: bool,
    /// Set by `place_any` while it runs: no node is excluded by an `allow` closure.
    any_node: bool,
    /// Per model: some node of it limits host CPU or memory (gangs then scan, as host
    /// room is not indexed).
    host_limited: Vec<bool>,
    /// GPU memory (MiB) a share of workload `w` takes on model `m`, at `w * models + m`
    /// (0: not stated), so `share_ok` does not look units up by model name per member.
    share_mib: Vec<u64>,
}

impl<'a> State<'a> {
    pub fn new(geo: &'a Geometry, demand: &'a Demand) -> Self {
        let nw = demand.workloads.len();
        let nt = demand.tenants.len();
        // Host-only replicas' tenants use their nodes from the start; a dedicated one owns it.
        let users = if geo.host_tenants.is_empty() {
            vec![Vec::new(); geo.nodes.len()]
        } else {
            geo.host_tenants.clone()
        };
        let owner = users
            .iter()
            .map(|us| {
                us.iter()
                    .copied()
                    .find(|&t| demand.tenant(t).isolation == Isolation::DedicatedNode)
            })
            .collect();
        State {
            geo,
            demand,
            gpus: vec![GpuUse::Free; geo.gpu_node.len()],
            owner,
            users,
            free_gpus: geo.nodes.iter().map(|n| n.gpus).collect(),
            cpu_used: vec![0; geo.nodes.len()],
            mem_used: vec![0; geo.nodes.len()],
            rack_used_kw: vec![0.0; geo.rack_kw.len()],
            tenant_usd: vec![0.0; nt],
            tenant_gpus: vec![0.0; nt],
            tenant_kw: vec![0.0; nt],
            assignments: vec![Vec::new(); nw],
            admitted: vec![false; nw],
            model_of: vec![None; nw],
            replica_target: demand.workloads.iter().map(|w| w.replicas).collect(),
            short_of: vec![None; nw],
            model_quota: vec![BTreeMap::new(); nw],
            buckets: {
                let mut b: Vec<Vec<std::collections::BTreeSet<GeoNodeId>>> =
                    vec![Vec::new(); geo.models.len()];
                for (i, n) in geo.nodes.iter().enumerate() {
                    let v = &mut b[n.model];
                    if v.len() <= n.gpus as usize {
                        v.resize(n.gpus as usize + 1, Default::default());
                    }
                    v[n.gpus as usize].insert(GeoNodeId::from_index(i));
                }
                b
            },
            mig_list: Vec::new(),
            shared_list: Vec::new(),
            scope: None,
            journal: Vec::new(),
            gang_idx: None,
            mig_idx: Default::default(),
            share_idx: super::freeidx::ShareIndex::new(geo.models.len()),
            use_index: true,
            any_node: false,
            host_limited: {
                let mut v = vec![false; geo.models.len()];
                for n in &geo.nodes {
                    v[n.model] |= n.cpu_millicores.is_some() || n.memory_mib.is_some();
                }
                v
            },
            share_mib: demand
                .workloads
                .iter()
                .flat_map(|wl| {
                    geo.models.iter().map(|m| match wl.units.get(&m.key) {
                        Some(Unit::Share { mem_mib, .. }) => *mem_mib as u64,
                        _ => 0,
                    })
                })
                .collect(),
        }
    }

    /// A state holding a finished plan (the greedy plan as the MILP's warm-start reference).
    pub fn from_result(geo: &'a Geometry, demand: &'a Demand, r: &super::PlanResult) -> Self {
        let mut st = State::new(geo, demand);
        for (g, u) in r.gpus.iter().enumerate() {
            if *u != GpuUse::Free {
                st.set_gpu(GpuId::from_index(g), u.clone());
            }
        }
        for (w, a) in r.assignments.iter().enumerate() {
            if !r.admitted[w] {
                continue;
            }
            let t = demand.workloads[w].tenant;
            for x in a {
                st.mark_user(geo.node_of(x.gpu), t);
            }
        }
        for (w, a) in r.assignments.iter().enumerate() {
            if r.admitted[w] {
                for (node, (cpu, mem)) in host_use(geo, &demand.workloads[w], a) {
                    st.cpu_used[node.index()] += cpu;
                    st.mem_used[node.index()] += mem;
                }
            }
        }
        st.assignments = r.assignments.clone();
        st.admitted = r.admitted.clone();
        st.model_of = r.model_of.clone();
        for (w, reason) in r.reasons.iter().enumerate() {
            if r.admitted[w] {
                st.short_of[w] = reason.clone();
            }
        }
        st.journal.clear();
        st
    }

    fn move_bucket(&mut self, node: GeoNodeId, old: u32, new: u32) {
        let m = self.geo.nodes[node.index()].model;
        self.buckets[m][old as usize].remove(&node);
        self.buckets[m][new as usize].insert(node);
    }

    /// Records a GPU that just became MIG or time-sliced (not on every instance change).
    fn note_kind(&mut self, g: GpuId, old: &GpuUse) {
        match (&self.gpus[g.index()], old) {
            (GpuUse::Mig { .. }, GpuUse::Mig { .. })
            | (GpuUse::Shared { .. }, GpuUse::Shared { .. }) => {}
            (GpuUse::Mig { .. }, _) => self.mig_list.push(g),
            (GpuUse::Shared { .. }, _) => self.shared_list.push(g),
            _ => {}
        }
    }

    /// Best-fit node of model `m` with at least `k` free GPUs that `tenant` may use and whose
    /// rack has power for `k` more: fewest free GPUs first, then lowest id.
    fn best_node(
        &self,
        m: usize,
        k: u32,
        tenant: TenantId,
        need: (u64, u64),
        allow: &dyn Fn(GeoNodeId) -> bool,
    ) -> Option<GeoNodeId> {
        let ok = |n: GeoNodeId| {
            allow(n) && self.node_open(n, tenant) && self.rack_ok(n, k) && self.host_ok(n, need)
        };
        if let Some(scope) = &self.scope {
            return scope
                .iter()
                .copied()
                .filter(|&n| {
                    self.geo.nodes[n.index()].model == m && self.free_gpus[n.index()] >= k && ok(n)
                })
                .min_by_key(|&n| (self.free_gpus[n.index()], n));
        }
        for f in k as usize..self.buckets[m].len() {
            if let Some(n) = self.buckets[m][f].iter().copied().find(|&n| ok(n)) {
                return Some(n);
            }
        }
        None
    }

    /// GPUs worth scanning for a free MIG instance or time-slice: the scope's, or the lists.
    fn configured(&self, mig: bool) -> Vec<GpuId> {
        match &self.scope {
            Some(scope) => scope.iter().flat_map(|&n| self.geo.node_gpus(n)).collect(),
            // Best fit takes the minimum by (free, gpu): order and duplicates do not matter.
            None if mig => self.mig_list.clone(),
            None => self.shared_list.clone(),
        }
    }

    fn set_gpu(&mut self, g: GpuId, new: GpuUse) {
        let old = std::mem::replace(&mut self.gpus[g.index()], new);
        let node = self.geo.node_of(g);
        let was_free = old == GpuUse::Free;
        let is_free = self.gpus[g.index()] == GpuUse::Free;
        if was_free && !is_free {
            self.free_gpus[node.index()] -= 1;
            let f = self.free_gpus[node.index()];
            self.move_bucket(node, f + 1, f);
            let n = &self.geo.nodes[node.index()];
            self.rack_used_kw[n.rack as usize] += n.gpu_kw;
        } else if !was_free && is_free {
            self.free_gpus[node.index()] += 1;
            let f = self.free_gpus[node.index()];
            self.move_bucket(node, f - 1, f);
            let n = &self.geo.nodes[node.index()];
            self.rack_used_kw[n.rack as usize] -= n.gpu_kw;
        }
        self.note_kind(g, &old);
        self.reindex(g, &old);
        self.journal.push(Undo::Gpu(g, old));
    }

    /// Keeps the indexes in step with GPU `g`, which was `old`.
    fn reindex(&mut self, g: GpuId, old: &GpuUse) {
        let m = self.geo.model_of_gpu(g);
        let new = &self.gpus[g.index()];
        self.mig_idx.update(m, g, old, new);
        self.share_idx.update(m, g, old, new);
        if let Some(ix) = &mut self.gang_idx {
            ix.touch(self.geo.node_of(g));
        }
    }

    /// Notes that the owner or users of `node` changed.
    fn touch_node(&mut self, node: GeoNodeId) {
        if let Some(ix) = &mut self.gang_idx {
            ix.touch(node);
        }
    }

    fn mark_user(&mut self, node: GeoNodeId, tenant: TenantId) {
        if !self.users[node.index()].contains(&tenant) {
            self.journal
                .push(Undo::Users(node, self.users[node.index()].clone()));
            self.users[node.index()].push(tenant);
            self.touch_node(node);
        }
        if self.demand.tenant(tenant).isolation == Isolation::DedicatedNode
            && self.owner[node.index()].is_none()
        {
            self.journal.push(Undo::Owner(node, None));
            self.owner[node.index()] = Some(tenant);
            self.touch_node(node);
        }
    }

    /// Whether `tenant` may put anything on `node`.
    pub fn node_open(&self, node: GeoNodeId, tenant: TenantId) -> bool {
        match self.owner[node.index()] {
            Some(o) => o == tenant,
            None => {
                self.demand.tenant(tenant).isolation != Isolation::DedicatedNode
                    || self.users[node.index()].iter().all(|&u| u == tenant)
            }
        }
    }

    fn rollback(&mut self, mark: usize) {
        while self.journal.len() > mark {
            match self.journal.pop().expect("journal") {
                Undo::Gpu(g, old) => {
                    let cur = std::mem::replace(&mut self.gpus[g.index()], old);
                    let node = self.geo.node_of(g);
                    let n = &self.geo.nodes[node.index()];
                    let (was_free, is_free) =
                        (cur == GpuUse::Free, self.gpus[g.index()] == GpuUse::Free);
                    let (rack, kw) = (n.rack as usize, n.gpu_kw);
                    if was_free && !is_free {
                        self.free_gpus[node.index()] -= 1;
                        let f = self.free_gpus[node.index()];
                        self.move_bucket(node, f + 1, f);
                        self.rack_used_kw[rack] += kw;
                    } else if !was_free && is_free {
                        self.free_gpus[node.index()] += 1;
                        let f = self.free_gpus[node.index()];
                        self.move_bucket(node, f - 1, f);
                        self.rack_used_kw[rack] -= kw;
                    }
                    self.note_kind(g, &cur);
                    self.reindex(g, &cur);
                }
                Undo::Owner(n, o) => {
                    self.owner[n.index()] = o;
                    self.touch_node(n);
                }
                Undo::Host(n, c, m) => {
                    self.cpu_used[n.index()] = c;
                    self.mem_used[n.index()] = m;
                }
                Undo::Users(n, u) => {
                    self.users[n.index()] = u;
                    self.touch_node(n);
                }
            }
        }
    }

    /// Whether `node` has `need` (millicores, MiB) of host CPU and memory left.
    pub fn host_ok(&self, node: GeoNodeId, need: (u64, u64)) -> bool {
        let n = &self.geo.nodes[node.index()];
        n.cpu_millicores
            .is_none_or(|c| self.cpu_used[node.index()] + need.0 <= c)
            && n.memory_mib
                .is_none_or(|c| self.mem_used[node.index()] + need.1 <= c)
    }

    /// Takes `need` of host CPU and memory on `node` (journaled).
    fn take_host(&mut self, node: GeoNodeId, need: (u64, u64)) {
        if need == (0, 0) {
            return;
        }
        self.journal.push(Undo::Host(
            node,
            self.cpu_used[node.index()],
            self.mem_used[node.index()],
        ));
        self.cpu_used[node.index()] += need.0;
        self.mem_used[node.index()] += need.1;
    }

    /// Host CPU and memory of one replica of `w` (one GPU of a gang: `gpus` = 1).
    fn need_of(&self, w: usize, unit: Unit, gpus: u32) -> (u64, u64) {
        host_need(&self.demand.workloads[w], unit, gpus)
    }

    fn rack_ok(&self, node: GeoNodeId, extra_gpus: u32) -> bool {
        let n = &self.geo.nodes[node.index()];
        self.rack_used_kw[n.rack as usize] + n.gpu_kw * extra_gpus as f64
            <= self.geo.rack_kw[n.rack as usize] + 1e-9
    }

    /// Places workload `w` whole (all replicas or the whole gang) on nodes allowed by
    /// `allow`, preferring `prefer` GPUs; on failure leaves the state unchanged and says why.
    pub fn place(
        &mut self,
        w: WorkloadId,
        allow: &dyn Fn(GeoNodeId) -> bool,
        prefer: &[Assignment],
    ) -> Result<(), String> {
        let w = w.index();
        let mark = self.journal.len();
        let wl = &self.demand.workloads[w];
        let mut last_err = String::from("no eligible GPU model on the fabric");
        // Try models in order of the preferred assignment, then by key.
        let mut order: Vec<usize> = (0..self.geo.models.len())
            .filter(|&m| wl.units.contains_key(&self.geo.models[m].key))
            .collect();
        if let Some(a) = prefer.first() {
            let pm = self.geo.model_of_gpu(a.gpu);
            order.sort_by_key(|&m| m != pm);
        } else if wl.gang.is_none() && wl.replicas == 1 && order.len() > 1 {
            // One replica: best fit across the models, not the first model that fits (a
            // share on a half-used T4 rather than a fresh G2 GPU).
            let score = |m: usize| self.fit_score(w, m, allow);
            if let Some(best) = order
                .iter()
                .copied()
                .filter_map(|m| score(m).map(|s| (s, m)))
                .min()
            {
                order.sort_by_key(|&m| m != best.1);
            }
        }
        let target = self.replica_target[w].min(wl.replicas);
        if self.model_quota[w].len() > 1 {
            // Spread over models as counted: no one model takes all.
            return self.place_partial(w, &order, allow, prefer, target, last_err);
        }
        for &m in &order {
            let unit = wl.units[&self.geo.models[m].key];
            let res = match unit {
                Unit::Gpus(_) if wl.gang.is_some() => self.place_gang(w, m, unit, allow, prefer),
                _ => self.place_replicas(w, m, unit, allow, prefer, target),
            };
            match res.and_then(|()| self.charge(w)) {
                Ok(()) => {
                    self.admit(w);
                    return Ok(());
                }
                Err(e) => {
                    self.rollback(mark);
                    self.assignments[w].clear();
                    last_err = e;
                }
            }
        }
        if wl.gang.is_none() && target > 1 && (wl.is_elastic() || wl.may_mix_models()) {
            return self.place_partial(w, &order, allow, prefer, target, last_err);
        }
        Err(last_err)
    }

    /// `place` on any node (`allow` always true), which lets gangs use the domain index.
    pub fn place_any(&mut self, w: WorkloadId, prefer: &[Assignment]) -> Result<(), String> {
        self.any_node = true;
        let r = self.place(w, &|_| true, prefer);
        self.any_node = false;
        r
    }

    /// Marks `w` admitted with what it holds; notes when an elastic workload got fewer
    /// replicas than it asks for.
    fn admit(&mut self, w: usize) {
        self.admitted[w] = true;
        self.assignments[w].sort();
        self.model_of[w] = self.assignments[w]
            .first()
            .map(|a| self.geo.model_of_gpu(a.gpu));
        self.short_of[w] = None;
    }

    /// Replica by replica, when no one model takes all `target` replicas (a multi-model
    /// workload) or an elastic workload may run fewer: each replica on the first model of
    /// `order` with room and within the tenant's limits. With `same_model`, each model alone,
    /// keeping the one that takes the most. Admitted when at least `min_replicas` (and one)
    /// fit; the reason says how many and what stopped the rest.
    fn place_partial(
        &mut self,
        w: usize,
        order: &[usize],
        allow: &dyn Fn(GeoNodeId) -> bool,
        prefer: &[Assignment],
        target: u32,
        full_err: String,
    ) -> Result<(), String> {
        let wl = &self.demand.workloads[w];
        let need = wl.min_replicas.max(1);
        let sets: Vec<Vec<usize>> = if wl.may_mix_models() {
            vec![order.to_vec()]
        } else {
            order.iter().map(|&m| vec![m]).collect()
        };
        let mark = self.journal.len();
        let mut best: Option<(u32, usize, String)> = None;
        for (i, set) in sets.iter().enumerate() {
            let (n, why) = self.place_incremental(w, set, allow, prefer, (0, target));
            self.rollback(mark);
            self.assignments[w].clear();
            if best.as_ref().is_none_or(|b| n > b.0) {
                best = Some((n, i, why));
            }
        }
        let (n, i, why) = best.expect("a model");
        if n < need {
            return Err(if wl.is_elastic() {
                format!(
                    "only {n} of {} replicas fit (min {}): {why}",
                    wl.replicas, wl.min_replicas
                )
            } else {
                full_err
            });
        }
        let (again, _) = self.place_incremental(w, &sets[i], allow, prefer, (0, target));
        debug_assert_eq!(again, n);
        if let Err(e) = self.charge(w) {
            self.rollback(mark);
            self.assignments[w].clear();
            return Err(e);
        }
        self.admit(w);
        if n < wl.replicas {
            self.short_of[w] = Some(format!(
                "admitted {n} of {} replicas (min {}): {why}",
                wl.replicas, wl.min_replicas
            ));
        }
        Ok(())
    }

    /// For an admitted elastic workload short of its replicas with no reason yet (the
    /// pooled model counted fewer): tries one more replica and undoes it, to say what stops
    /// it ("admitted 3 of 5 replicas (min 2): ...").
    pub fn explain_short(&mut self, w: WorkloadId) {
        let w = w.index();
        let wl = &self.demand.workloads[w];
        if !self.admitted[w] || !wl.is_elastic() || self.short_of[w].is_some() {
            return;
        }
        let have: u32 = replicas_by_model(self.geo, wl, &self.assignments[w])
            .values()
            .sum();
        if have >= wl.replicas {
            return;
        }
        let models: Vec<usize> = match self.model_of[w] {
            Some(m) if !wl.may_mix_models() => vec![m],
            _ => (0..self.geo.models.len())
                .filter(|&m| wl.units.contains_key(&self.geo.models[m].key))
                .collect(),
        };
        self.model_quota[w].clear();
        let mark = self.journal.len();
        let held = self.assignments[w].len();
        let (n, why) = self.place_incremental(w, &models, &|_| true, &[], (have, 1));
        self.rollback(mark);
        self.assignments[w].truncate(held);
        let why = if n == 0 {
            why
        } else {
            "the plan is worth more with the other replicas' capacity given to other work".into()
        };
        self.short_of[w] = Some(format!(
            "admitted {have} of {} replicas (min {}): {why}",
            wl.replicas, wl.min_replicas
        ));
    }

    /// Places replicas of `w` one at a time on the first model of `models` that has room and
    /// keeps the tenant within its limits, up to `target`; returns how many it placed and
    /// what stopped the next one. Not charged: `charge` follows. Replicas are numbered in
    /// messages after the `have` already placed.
    fn place_incremental(
        &mut self,
        w: usize,
        models: &[usize],
        allow: &dyn Fn(GeoNodeId) -> bool,
        prefer: &[Assignment],
        (have, target): (u32, u32),
    ) -> (u32, String) {
        let wl = &self.demand.workloads[w];
        let t = wl.tenant;
        let mut prefer_left: Vec<Assignment> = prefer.to_vec();
        let (mut usd, mut eq, mut kw) = (0.0, 0.0, 0.0);
        let mut n = 0;
        let mut why = String::new();
        let mut on_model: BTreeMap<usize, u32> = BTreeMap::new();
        let quota = self.model_quota[w].clone();
        let full = |m: usize, on: &BTreeMap<usize, u32>| {
            !quota.is_empty()
                && on.get(&m).copied().unwrap_or(0) >= quota.get(&m).copied().unwrap_or(0)
        };
        'replica: while n < target {
            for &m in models {
                if full(m, &on_model) {
                    continue;
                }
                let unit = wl.units[&self.geo.models[m].key];
                let (u, e, k) = self.replica_cost(WorkloadId::from_index(w), m);
                if let Err(e) = self.limits_ok(t, usd + u, eq + e, kw + k) {
                    why = e;
                    continue;
                }
                let mark = self.journal.len();
                let held = self.assignments[w].len();
                let of = wl.replicas;
                match self.place_replica(w, m, unit, allow, &mut prefer_left, have + n, of) {
                    Ok(()) => {
                        (usd, eq, kw) = (usd + u, eq + e, kw + k);
                        *on_model.entry(m).or_default() += 1;
                        n += 1;
                        continue 'replica;
                    }
                    Err(e) => {
                        self.rollback(mark);
                        self.assignments[w].truncate(held);
                        why = e;
                    }
                }
            }
            break;
        }
        (n, why)
    }

    /// How tightly one replica of `w` fits model `m` now (lower is tighter): a share on a
    /// time-sliced GPU scores the thousandths left after it; a fresh GPU or whole GPUs score
    /// 1000 per GPU the best-fit node has left after it. `None`: no room.
    fn fit_score(&self, w: usize, m: usize, allow: &dyn Fn(GeoNodeId) -> bool) -> Option<u64> {
        let wl = &self.demand.workloads[w];
        let unit = *wl.units.get(&self.geo.models[m].key)?;
        let t = wl.tenant;
        let k = match unit {
            Unit::Gpus(k) => k,
            Unit::Share { milli, .. } => {
                let mem = self.share_mem(WorkloadId::from_index(w), m);
                let need = self.need_of(w, unit, 1);
                if let Some((free, _)) = self.best_shared(w, m, milli, mem, need, allow) {
                    return Some((free - milli as u32) as u64);
                }
                1
            }
            Unit::Mig(_) => return Some(0),
        };
        let n = self.best_node(m, k, t, self.need_of(w, unit, k), allow)?;
        Some(1000 + 1000 * (self.free_gpus[n.index()] - k) as u64)
    }

    /// Cost of one replica of `w` (the whole gang) on model `m` in USD per hour, its
    /// GPU-equivalents and kW.
    pub fn replica_cost(&self, w: WorkloadId, m: usize) -> (f64, f64, f64) {
        let w = w.index();
        let wl = &self.demand.workloads[w];
        let unit = wl.units[&self.geo.models[m].key];
        let eq = unit_equiv(self.geo, m, unit);
        let gpu_kw = self
            .geo
            .pools
            .iter()
            .find(|p| p.model == m)
            .map(|p| p.gpu_kw)
            .unwrap_or(0.0);
        let kw = eq * gpu_kw;
        let usd = usd_per_hour(self.geo, self.demand, m, eq, gpu_kw);
        (usd, eq, kw)
    }

    /// Cost of what `w` holds in USD per hour, its GPU-equivalents and kW: each replica
    /// priced on its own model, only the replicas placed counted.
    pub fn cost(&self, w: WorkloadId) -> (f64, f64, f64) {
        let w = w.index();
        let wl = &self.demand.workloads[w];
        let mut total = (0.0, 0.0, 0.0);
        for (m, reps) in replicas_by_model(self.geo, wl, &self.assignments[w]) {
            let (u, e, k) = self.replica_cost(WorkloadId::from_index(w), m);
            total.0 += u * reps as f64;
            total.1 += e * reps as f64;
            total.2 += k * reps as f64;
        }
        total
    }

    fn charge(&mut self, w: usize) -> Result<(), String> {
        let t = self.demand.workloads[w].tenant;
        let (usd, eq, kw) = self.cost(WorkloadId::from_index(w));
        self.limits_ok(t, usd, eq, kw)?;
        self.tenant_usd[t.index()] += usd;
        self.tenant_gpus[t.index()] += eq;
        self.tenant_kw[t.index()] += kw;
        Ok(())
    }

    /// Whether tenant `t` may take `usd`, `eq` GPU-equivalents and `kw` more.
    fn limits_ok(&self, t: TenantId, usd: f64, eq: f64, kw: f64) -> Result<(), String> {
        let ten = self.demand.tenant(t);
        if let Some(b) = ten.budget_usd_per_hour {
            if self.tenant_usd[t.index()] + usd > b + 1e-6 {
                return Err(format!(
                    "tenant `{}` budget: needs ${usd:.2}/h, ${:.2}/h of ${b:.2}/h left",
                    ten.name,
                    (b - self.tenant_usd[t.index()]).max(0.0)
                ));
            }
        }
        if let Some(c) = ten.max_gpus {
            if self.tenant_gpus[t.index()] + eq > c + 1e-6 {
                return Err(format!(
                    "tenant `{}` GPU cap: needs {eq} GPUs, {} of {c} left",
                    ten.name,
                    (c - self.tenant_gpus[t.index()]).max(0.0)
                ));
            }
        }
        if let Some(c) = ten.max_power_kw {
            if self.tenant_kw[t.index()] + kw > c + 1e-6 {
                return Err(format!(
                    "tenant `{}` power cap: needs {kw:.1} kW, {:.1} of {c} kW left",
                    ten.name,
                    (c - self.tenant_kw[t.index()]).max(0.0)
                ));
            }
        }
        Ok(())
    }

    /// Removes an admitted workload (used to rebuild plans); not journaled.
    pub fn remove(&mut self, w: WorkloadId) {
        let w = w.index();
        if !self.admitted[w] {
            return;
        }
        let (usd, eq, kw) = self.cost(WorkloadId::from_index(w));
        let t = self.demand.workloads[w].tenant;
        self.tenant_usd[t.index()] -= usd;
        self.tenant_gpus[t.index()] -= eq;
        self.tenant_kw[t.index()] -= kw;
        for (node, (cpu, mem)) in
            host_use(self.geo, &self.demand.workloads[w], &self.assignments[w])
        {
            self.cpu_used[node.index()] -= cpu;
            self.mem_used[node.index()] -= mem;
        }
        for a in std::mem::take(&mut self.assignments[w]) {
            let g = a.gpu;
            let new = match (&self.gpus[g.index()], a.hold) {
                (GpuUse::Whole(_), _) => GpuUse::Free,
                (GpuUse::Mig { group, layout }, Hold::Mig(p)) => GpuUse::Mig {
                    group: *group,
                    layout: layout
                        .iter()
                        .map(|&(q, h)| if q == p { (q, None) } else { (q, h) })
                        .collect(),
                },
                (GpuUse::Shared { members }, _) => {
                    let rest: Vec<_> = members
                        .iter()
                        .copied()
                        .filter(|&(x, _)| x != WorkloadId::from_index(w))
                        .collect();
                    if rest.is_empty() {
                        GpuUse::Free
                    } else {
                        GpuUse::Shared { members: rest }
                    }
                }
                (other, _) => other.clone(),
            };
            self.set_gpu(g, new);
        }
        self.journal.clear();
        self.admitted[w] = false;
        self.model_of[w] = None;
        self.short_of[w] = None;
    }

    fn whole_nodes(
        &self,
        w: usize,
        m: usize,
        k: u32,
        allow: &dyn Fn(GeoNodeId) -> bool,
    ) -> impl Iterator<Item = GeoNodeId> + '_ {
        let wl = &self.demand.workloads[w];
        let t = wl.tenant;
        let need = host_need(wl, wl.units[&self.geo.models[m].key], k);
        let allow_ok: Vec<GeoNodeId> = (0..self.geo.nodes.len())
            .map(GeoNodeId::from_index)
            .filter(|&n| {
                self.geo.nodes[n.index()].model == m
                    && self.free_gpus[n.index()] >= k
                    && allow(n)
                    && self.node_open(n, t)
                    && self.host_ok(n, need)
            })
            .collect();
        allow_ok.into_iter()
    }

    fn take_whole(&mut self, w: usize, node: GeoNodeId, k: u32) {
        let wl = &self.demand.workloads[w];
        let t = wl.tenant;
        let m = self.geo.nodes[node.index()].model;
        let need = host_need(wl, wl.units[&self.geo.models[m].key], k);
        self.take_host(node, need);
        let gpus: Vec<GpuId> = self
            .geo
            .node_gpus(node)
            .filter(|&g| self.gpus[g.index()] == GpuUse::Free)
            .take(k as usize)
            .collect();
        for g in gpus {
            self.set_gpu(g, GpuUse::Whole(WorkloadId::from_index(w)));
            self.assignments[w].push(Assignment {
                gpu: g,
                hold: Hold::Whole,
            });
        }
        self.mark_user(node, t);
    }

    fn place_gang(
        &mut self,
        w: usize,
        m: usize,
        unit: Unit,
        allow: &dyn Fn(GeoNodeId) -> bool,
        prefer: &[Assignment],
    ) -> Result<(), String> {
        let wl = &self.demand.workloads[w];
        let g = wl.gang.clone().expect("gang");
        let Unit::Gpus(total) = unit else {
            unreachable!()
        };
        let gpn = self
            .geo
            .pools
            .iter()
            .find(|p| p.model == m)
            .map(|p| p.gpus_per_node)
            .unwrap_or(0);
        let Some((k, count)) = chunks(wl, unit, gpn) else {
            return Err(format!(
                "a gang of {total} GPUs is not a whole number of {gpn}-GPU nodes"
            ));
        };
        // Keep the current placement when it is still free (re-planning a running gang).
        if !prefer.is_empty() {
            let nodes: Vec<GeoNodeId> = {
                let mut v: Vec<GeoNodeId> =
                    prefer.iter().map(|a| self.geo.node_of(a.gpu)).collect();
                v.dedup();
                v
            };
            let all_free = prefer.iter().all(|a| {
                self.gpus[a.gpu.index()] == GpuUse::Free
                    && self.geo.model_of_gpu(a.gpu) == m
                    && allow(self.geo.node_of(a.gpu))
            });
            let per_node = |n: GeoNodeId| {
                prefer
                    .iter()
                    .filter(|a| self.geo.node_of(a.gpu) == n)
                    .count() as u32
            };
            if all_free
                && prefer.len() as u32 == total
                && nodes.iter().all(|&n| {
                    self.rack_ok(n, k) && self.host_ok(n, self.need_of(w, unit, per_node(n)))
                })
            {
                for &n in &nodes {
                    let need = self.need_of(w, unit, per_node(n));
                    self.take_host(n, need);
                }
                let t = wl.tenant;
                for a in prefer {
                    self.set_gpu(a.gpu, GpuUse::Whole(WorkloadId::from_index(w)));
                    self.assignments[w].push(Assignment {
                        gpu: a.gpu,
                        hold: Hold::Whole,
                    });
                }
                for n in nodes {
                    self.mark_user(n, t);
                }
                return Ok(());
            }
        }
        if self.use_index && self.any_node && self.scope.is_none() && k > 0 && !self.host_limited[m]
        {
            return self.place_gang_indexed(w, m, unit, (k, count));
        }
        let cand: Vec<GeoNodeId> = self.whole_nodes(w, m, k, allow).collect();
        let mut best_free = 0u32;
        for level in Level::ALL {
            if level < g.preferred || level > g.required {
                continue;
            }
            // Group candidate nodes by domain at this level; chunks per domain.
            let mut by_dom: BTreeMap<u32, (u32, Vec<GeoNodeId>)> = BTreeMap::new();
            for &n in &cand {
                let d = self.geo.nodes[n.index()].domain[level as usize];
                let e = by_dom.entry(d).or_default();
                e.0 += self.free_gpus[n.index()] / k;
                e.1.push(n);
            }
            let mut doms: Vec<(u32, u32, Vec<GeoNodeId>)> =
                by_dom.into_iter().map(|(d, (c, v))| (c, d, v)).collect();
            for (c, _, _) in &doms {
                best_free = best_free.max(c * k);
            }
            doms.retain(|(c, _, _)| *c >= count);
            doms.sort_by_key(|(c, d, _)| (*c, *d));
            for (_, _, mut nodes) in doms.into_iter().take(4) {
                // Best fit inside the domain: fullest nodes first, then by id.
                nodes.sort_by_key(|&n| (self.free_gpus[n.index()], n));
                let mut nodes = nodes.into_iter();
                if self.fill_gang(w, unit, (k, count), |_| nodes.next()) {
                    return Ok(());
                }
            }
        }
        Err(format!(
            "needs {total} {} GPUs inside one {}; the largest free one has {best_free}",
            self.geo.models[m].key,
            g.required.words()
        ))
    }

    /// Takes `count` chunks of `k` whole GPUs for gang `w` from the nodes `next` gives, in
    /// that order, as many per node as fit (GPUs, rack power, host CPU and memory). All or
    /// nothing: on a shortfall the state is rolled back and `false` returned.
    fn fill_gang(
        &mut self,
        w: usize,
        unit: Unit,
        (k, count): (u32, u32),
        mut next: impl FnMut(&State) -> Option<GeoNodeId>,
    ) -> bool {
        let mark = self.journal.len();
        let mut left = count;
        while left > 0 {
            let Some(n) = next(self) else { break };
            while left > 0
                && self.free_gpus[n.index()] >= k
                && self.rack_ok(n, k)
                && self.host_ok(n, self.need_of(w, unit, k))
            {
                self.take_whole(w, n, k);
                left -= 1;
            }
        }
        if left == 0 {
            return true;
        }
        self.rollback(mark);
        self.assignments[w].clear();
        false
    }

    /// `place_gang` past the preferred placement, from the domain index: the same domains in
    /// the same order (fewest free chunks that hold the gang, then lowest id, four per level)
    /// and in each the same nodes in the same order (fewest free GPUs, then lowest id) as
    /// grouping every candidate node. Only when every node is allowed, no scope is set and
    /// no node of model `m` limits host CPU or memory (so the candidates are exactly the
    /// nodes with `k` free GPUs open to the tenant).
    fn place_gang_indexed(
        &mut self,
        w: usize,
        m: usize,
        unit: Unit,
        (k, count): (u32, u32),
    ) -> Result<(), String> {
        use super::freeidx::{GangIndex, Openness, View};
        let wl = &self.demand.workloads[w];
        let g = wl.gang.clone().expect("gang");
        let Unit::Gpus(total) = unit else {
            unreachable!()
        };
        let t = wl.tenant;
        let view = if self.demand.tenant(t).isolation == Isolation::DedicatedNode {
            View::Dedicated(t)
        } else {
            View::Open
        };
        let (owner, users) = (&self.owner, &self.users);
        let class = |n: GeoNodeId| Openness::of(owner[n.index()], &users[n.index()]);
        match &mut self.gang_idx {
            Some(ix) => ix.flush(self.geo, &self.free_gpus, class),
            None => self.gang_idx = Some(GangIndex::new(self.geo, &self.free_gpus, class)),
        }
        let key = (m, view, k);
        let mut best_free = 0u32;
        for level in Level::ALL {
            if level < g.preferred || level > g.required {
                continue;
            }
            let l = level as usize;
            let ix = self.gang_idx.as_mut().expect("gang index");
            let (most, doms) = ix.domains(self.geo, key, l, count, 4);
            best_free = best_free.max(most * k);
            for d in doms {
                // The index stays as it was at the flush above while nodes are taken: the
                // candidates and their order are those of the gang's start, as in the scan.
                let mut after = None;
                let next = |st: &State| {
                    let x = st
                        .gang_idx
                        .as_ref()
                        .expect("gang index")
                        .next_node(key, l, d, after)?;
                    after = Some(x);
                    Some(x.1)
                };
                if self.fill_gang(w, unit, (k, count), next) {
                    return Ok(());
                }
            }
        }
        Err(format!(
            "needs {total} {} GPUs inside one {}; the largest free one has {best_free}",
            self.geo.models[m].key,
            g.required.words()
        ))
    }

    /// Places `reps` replicas of `w` on model `m` (all or an error).
    fn place_replicas(
        &mut self,
        w: usize,
        m: usize,
        unit: Unit,
        allow: &dyn Fn(GeoNodeId) -> bool,
        prefer: &[Assignment],
        reps: u32,
    ) -> Result<(), String> {
        let mut prefer_left: Vec<Assignment> = prefer.to_vec();
        for r in 0..reps {
            self.place_replica(w, m, unit, allow, &mut prefer_left, r, reps)?;
        }
        Ok(())
    }

    /// Places replica `r` (of `reps`) of `w` on model `m`, its previous GPUs first.
    #[allow(clippy::too_many_arguments)]
    fn place_replica(
        &mut self,
        w: usize,
        m: usize,
        unit: Unit,
        allow: &dyn Fn(GeoNodeId) -> bool,
        prefer_left: &mut Vec<Assignment>,
        r: u32,
        reps: u32,
    ) -> Result<(), String> {
        let wl = &self.demand.workloads[w];
        let t = wl.tenant;
        let model = &self.geo.models[m];
        {
            match unit {
                Unit::Gpus(k) => {
                    // Preferred: the replica's previous GPUs.
                    let mut done = false;
                    if let Some(pos) = prefer_left.first().map(|_| 0) {
                        let node = self.geo.node_of(prefer_left[pos].gpu);
                        let mine: Vec<Assignment> = prefer_left
                            .iter()
                            .copied()
                            .filter(|a| self.geo.node_of(a.gpu) == node)
                            .take(k as usize)
                            .collect();
                        if mine.len() as u32 == k
                            && self.geo.nodes[node.index()].model == m
                            && mine
                                .iter()
                                .all(|a| self.gpus[a.gpu.index()] == GpuUse::Free)
                            && allow(node)
                            && self.node_open(node, t)
                            && self.rack_ok(node, k)
                            && self.host_ok(node, self.need_of(w, unit, k))
                        {
                            let need = self.need_of(w, unit, k);
                            self.take_host(node, need);
                            for a in &mine {
                                self.set_gpu(a.gpu, GpuUse::Whole(WorkloadId::from_index(w)));
                                self.assignments[w].push(Assignment {
                                    gpu: a.gpu,
                                    hold: Hold::Whole,
                                });
                            }
                            self.mark_user(node, t);
                            prefer_left.retain(|a| !mine.contains(a));
                            done = true;
                        }
                    }
                    if !done {
                        let best = self.best_node(m, k, t, self.need_of(w, unit, k), allow);
                        let Some(n) = best else {
                            return Err(format!(
                                "no node with {k} free {} GPUs{} for replica {} of {reps}",
                                model.key,
                                self.host_note(self.need_of(w, unit, k)),
                                r + 1
                            ));
                        };
                        self.take_whole(w, n, k);
                    }
                }
                Unit::Mig(p) => self
                    .place_mig(w, m, p, allow, prefer_left)
                    .map_err(|e| format!("{e} (replica {} of {reps})", r + 1))?,
                Unit::Share { milli, .. } => self
                    .place_share(w, m, milli, allow, prefer_left)
                    .map_err(|e| format!("{e} (replica {} of {reps})", r + 1))?,
            }
        }
        Ok(())
    }

    fn place_mig(
        &mut self,
        w: usize,
        m: usize,
        p: ProfileIdx,
        allow: &dyn Fn(GeoNodeId) -> bool,
        prefer: &mut Vec<Assignment>,
    ) -> Result<(), String> {
        let wl = &self.demand.workloads[w];
        let t = wl.tenant;
        let group = mig_group(self.demand, wl.tenant);
        let need = self.need_of(w, Unit::Mig(p), 1);
        let fits = |s: &Self, g: GpuId| -> Option<Placement> {
            match &s.gpus[g.index()] {
                GpuUse::Mig { group: gg, layout } if *gg == group => layout
                    .iter()
                    .find(|(q, h)| q.profile == p && h.is_none())
                    .map(|(q, _)| *q),
                _ => None,
            }
        };
        // 1. the previous instance, if still offered; 2. a free instance on a configured GPU.
        let mut target: Option<(GpuId, Placement)> = None;
        if let Some(i) = prefer
            .iter()
            .position(|a| matches!(a.hold, Hold::Mig(q) if q.profile == p))
        {
            let a = prefer.remove(i);
            if let (Hold::Mig(q), GpuUse::Mig { group: gg, layout }) =
                (a.hold, &self.gpus[a.gpu.index()])
            {
                if *gg == group
                    && layout.iter().any(|&(x, h)| x == q && h.is_none())
                    && self.host_ok(self.geo.node_of(a.gpu), need)
                {
                    target = Some((a.gpu, q));
                }
            }
            if target.is_none()
                && self.gpus[a.gpu.index()] == GpuUse::Free
                && allow(self.geo.node_of(a.gpu))
            {
                // The GPU is free: configure the layout that holds the previous instance.
                let node = self.geo.node_of(a.gpu);
                if let Hold::Mig(q) = a.hold {
                    if self.node_open(node, t) && self.rack_ok(node, 1) && self.host_ok(node, need)
                    {
                        if let Some(l) = self.geo.models[m]
                            .layouts
                            .iter()
                            .filter(|l| l.placements.contains(&q))
                            .max_by_key(|l| {
                                (
                                    l.placements.iter().filter(|x| x.profile == p).count(),
                                    std::cmp::Reverse(l.placements.clone()),
                                )
                            })
                        {
                            let layout = l.placements.iter().map(|&x| (x, None)).collect();
                            self.set_gpu(a.gpu, GpuUse::Mig { group, layout });
                            target = Some((a.gpu, q));
                        }
                    }
                }
            }
        }
        if target.is_none() && self.use_index && self.scope.is_none() {
            // The index holds exactly the MIG GPUs of this model and group with a free `p`
            // instance, in (free instances, GPU) order: the first one allowed is the best fit.
            let g = self.mig_idx.candidates(m, group, p).find(|&g| {
                let n = self.geo.node_of(g);
                allow(n) && self.node_open(n, t) && self.host_ok(n, need)
            });
            target = g.map(|g| (g, fits(self, g).expect("indexed MIG GPU has the profile")));
        } else if target.is_none() {
            // Best fit among configured GPUs: the GPU with the fewest free instances.
            let mut best: Option<(usize, GpuId, Placement)> = None;
            for g in self.configured(true) {
                let n = self.geo.node_of(g);
                if self.geo.nodes[n.index()].model != m
                    || !allow(n)
                    || !self.node_open(n, t)
                    || !self.host_ok(n, need)
                {
                    continue;
                }
                {
                    if let Some(q) = fits(self, g) {
                        let free = match &self.gpus[g.index()] {
                            GpuUse::Mig { layout, .. } => {
                                layout.iter().filter(|x| x.1.is_none()).count()
                            }
                            _ => 0,
                        };
                        if best.map(|(f, bg, _)| (free, g) < (f, bg)).unwrap_or(true) {
                            best = Some((free, g, q));
                        }
                    }
                }
            }
            target = best.map(|(_, g, q)| (g, q));
        }
        if target.is_none() {
            // Configure a free GPU with the maximal layout offering the most of `p`.
            let node = self.best_node(m, 1, t, need, allow);
            let Some(n) = node else {
                return Err(format!(
                    "no free {} GPU to configure for MIG{}",
                    self.geo.models[m].key,
                    self.host_note(need)
                ));
            };
            let g = self
                .geo
                .node_gpus(n)
                .find(|&g| self.gpus[g.index()] == GpuUse::Free)
                .expect("free gpu");
            let l = best_layout(&self.geo.models[m], p)
                .ok_or_else(|| "no MIG layout offers the profile".to_string())?;
            let layout: Vec<(Placement, Option<WorkloadId>)> =
                l.placements.iter().map(|&x| (x, None)).collect();
            let q = layout.iter().find(|x| x.0.profile == p).expect("profile").0;
            self.set_gpu(g, GpuUse::Mig { group, layout });
            target = Some((g, q));
        }
        let (g, q) = target.expect("target");
        let GpuUse::Mig { group: gg, layout } = self.gpus[g.index()].clone() else {
            unreachable!()
        };
        let layout = layout
            .into_iter()
            .map(|(x, h)| {
                if x == q {
                    (x, Some(WorkloadId::from_index(w)))
                } else {
                    (x, h)
                }
            })
            .collect();
        self.set_gpu(g, GpuUse::Mig { group: gg, layout });
        self.assignments[w].push(Assignment {
            gpu: g,
            hold: Hold::Mig(q),
        });
        let node = self.geo.node_of(g);
        self.take_host(node, need);
        self.mark_user(node, t);
        Ok(())
    }

    /// Words for a failure message when host CPU or memory may be what stopped a replica.
    fn host_note(&self, need: (u64, u64)) -> String {
        match need {
            (0, 0) => String::new(),
            (c, 0) => format!(" with {c} millicores of CPU free"),
            (0, m) => format!(" with {m} MiB of memory free"),
            (c, m) => format!(" with {c} millicores of CPU and {m} MiB of memory free"),
        }
    }

    /// GPU memory (MiB) a share of workload `w` needs on model `m` (0: not stated).
    fn share_mem(&self, w: WorkloadId, m: usize) -> u64 {
        self.share_mib[w.index() * self.geo.models.len() + m]
    }

    /// Whether a share of `milli` thousandths and `mem` MiB of `tenant` fits time-sliced GPU
    /// `g`: compute sums to at most 1000, memory to at most the GPU's, tenants share.
    fn share_ok(&self, g: GpuId, tenant: TenantId, milli: u16, mem: u64) -> bool {
        match &self.gpus[g.index()] {
            GpuUse::Shared { members } => {
                // Compute first: it is what usually rules a GPU out, and needs no lookup.
                let used: u32 = members.iter().map(|x| x.1 as u32).sum();
                if used + milli as u32 > MILLI_PER_GPU {
                    return false;
                }
                let m = self.geo.model_of_gpu(g);
                let cap = self.geo.models[m].memory_mib as u64;
                (cap == 0
                    || members.iter().map(|x| self.share_mem(x.0, m)).sum::<u64>() + mem <= cap)
                    && members.iter().all(|&(x, _)| {
                        self.demand
                            .may_share(self.demand.workloads[x.index()].tenant, tenant)
                    })
            }
            _ => false,
        }
    }

    /// The time-sliced GPU of model `m` a share of `milli` thousandths and `mem` MiB of `w`
    /// fits best (the least compute left after it, then the lowest id), with its free
    /// thousandths: from the share index, or by scanning the configured GPUs.
    fn best_shared(
        &self,
        w: usize,
        m: usize,
        milli: u16,
        mem: u64,
        need: (u64, u64),
        allow: &dyn Fn(GeoNodeId) -> bool,
    ) -> Option<(u32, GpuId)> {
        let t = self.demand.workloads[w].tenant;
        let fits = |g: GpuId| {
            let n = self.geo.node_of(g);
            self.geo.nodes[n.index()].model == m
                && allow(n)
                && self.node_open(n, t)
                && self.share_ok(g, t, milli, mem)
                && self.host_ok(n, need)
        };
        let free = |g: GpuId| match &self.gpus[g.index()] {
            GpuUse::Shared { members } => super::freeidx::share_free(members),
            _ => 0,
        };
        if self.use_index && self.scope.is_none() {
            // In (free, GPU) order: the first that fits is the best fit.
            return self
                .share_idx
                .candidates(m, milli)
                .find(|&g| fits(g))
                .map(|g| (free(g), g));
        }
        let mut best: Option<(u32, GpuId)> = None;
        for g in self.configured(false) {
            if !fits(g) {
                continue;
            }
            let GpuUse::Shared { members } = &self.gpus[g.index()] else {
                continue;
            };
            let free = MILLI_PER_GPU - members.iter().map(|x| x.1 as u32).sum::<u32>();
            if best.map(|(f, bg)| (free, g) < (f, bg)).unwrap_or(true) {
                best = Some((free, g));
            }
        }
        best
    }

    /// Places one share: its previous GPU when it still fits, else best fit (the least
    /// compute left after it) among time-sliced GPUs, else a free GPU of the best-fit node.
    fn place_share(
        &mut self,
        w: usize,
        m: usize,
        milli: u16,
        allow: &dyn Fn(GeoNodeId) -> bool,
        prefer: &mut Vec<Assignment>,
    ) -> Result<(), String> {
        let tenant = self.demand.workloads[w].tenant;
        let t = tenant;
        let mem = self.share_mem(WorkloadId::from_index(w), m);
        let need = self.need_of(w, Unit::Share { milli, mem_mib: 0 }, 1);
        let mut target = None;
        if let Some(i) = prefer.iter().position(|a| a.hold == Hold::Share(milli)) {
            let a = prefer.remove(i);
            let node = self.geo.node_of(a.gpu);
            if allow(node)
                && self.node_open(node, t)
                && self.host_ok(node, need)
                && (self.share_ok(a.gpu, tenant, milli, mem)
                    || (self.gpus[a.gpu.index()] == GpuUse::Free && self.rack_ok(node, 1)))
                && self.geo.model_of_gpu(a.gpu) == m
            {
                target = Some(a.gpu);
            }
        }
        if target.is_none() {
            target = self
                .best_shared(w, m, milli, mem, need, allow)
                .map(|(_, g)| g);
        }
        if target.is_none() {
            let node = self.best_node(m, 1, t, need, allow);
            let Some(n) = node else {
                return Err(format!(
                    "no free {} GPU to time-slice and no time-sliced one with {milli} thousandths{} left{}",
                    self.geo.models[m].key,
                    if mem > 0 { format!(" and {mem} MiB") } else { String::new() },
                    self.host_note(need)
                ));
            };
            target = self
                .geo
                .node_gpus(n)
                .find(|&g| self.gpus[g.index()] == GpuUse::Free);
        }
        let g = target.expect("target");
        let mut members = match &self.gpus[g.index()] {
            GpuUse::Shared { members } => members.clone(),
            _ => Vec::new(),
        };
        members.push((WorkloadId::from_index(w), milli));
        members.sort();
        self.set_gpu(g, GpuUse::Shared { members });
        self.assignments[w].push(Assignment {
            gpu: g,
            hold: Hold::Share(milli),
        });
        let node = self.geo.node_of(g);
        self.take_host(node, need);
        self.mark_user(node, t);
        Ok(())
    }

    /// Configures free GPU `g` with `layout` for `group` ahead of placement (MILP patterns).
    pub fn preconfigure(&mut self, g: GpuId, group: u32, layout: &Layout) {
        let layout = layout.placements.iter().map(|&x| (x, None)).collect();
        self.set_gpu(g, GpuUse::Mig { group, layout });
        self.journal.clear();
    }

    /// Returns preconfigured MIG GPUs that no instance uses to free.
    pub fn release_unused_mig(&mut self) {
        for g in (0..self.gpus.len()).map(GpuId::from_index) {
            if let GpuUse::Mig { layout, .. } = &self.gpus[g.index()] {
                if layout.iter().all(|x| x.1.is_none()) {
                    self.set_gpu(g, GpuUse::Free);
                }
            }
        }
        self.journal.clear();
    }

    pub fn commit(&mut self) {
        self.journal.clear();
    }
}

/// The maximal layout with the most instances of `p` (ties: fewest other units used, then
/// the first in the engine's order).
pub fn best_layout(model: &ModelInfo, p: ProfileIdx) -> Option<&Layout> {
    let table = model.mig.as_ref()?;
    model
        .layouts
        .iter()
        .enumerate()
        .filter(|(_, l)| l.placements.iter().any(|x| x.profile == p))
        .max_by_key(|(i, l)| {
            let n = l.placements.iter().filter(|x| x.profile == p).count();
            let other: u32 = l
                .placements
                .iter()
                .filter(|x| x.profile != p)
                .map(|x| table.profile(x.profile).size as u32)
                .sum();
            (n, std::cmp::Reverse(other), std::cmp::Reverse(*i))
        })
        .map(|(_, l)| l)
}

/// The objective of a named plan, term by term.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Terms {
    pub value: f64,
    pub cost: f64,
    pub communication: f64,
    pub stranded: f64,
    pub disruption: f64,
}

impl Terms {
    pub fn total(&self) -> f64 {
        self.value - self.cost - self.communication - self.stranded - self.disruption
    }
}

/// The tightest level whose one domain holds all of `gpus`.
pub fn tightest_level(geo: &Geometry, gpus: &[GpuId]) -> Level {
    for level in Level::ALL {
        let mut it = gpus
            .iter()
            .map(|&g| geo.nodes[geo.node_of(g).index()].domain[level as usize]);
        // A level the nodes have no domain at (no SU declared) holds nothing.
        if let Some(first) = it.next().filter(|&d| d != u32::MAX) {
            if it.all(|d| d == first) {
                return level;
            }
        }
    }
    Level::Fabric
}

/// Scores the plan in `state`; `moved` counts running workloads moved or evicted.
pub fn evaluate(state: &State, moved: usize) -> Terms {
    let geo = state.geo;
    let d = state.demand;
    let mut t = Terms::default();
    for (w, wl) in d.workloads.iter().enumerate() {
        if !state.admitted[w] {
            continue;
        }
        let m = state.model_of[w].expect("model");
        let (usd, eq, _) = state.cost(WorkloadId::from_index(w));
        t.value += d.weights.value * wl.priority * eq;
        t.cost += d.weights.cost_per_usd * usd;
        if wl.gang.is_some() {
            let gpus: Vec<GpuId> = state.assignments[w].iter().map(|a| a.gpu).collect();
            t.communication += comm_penalty(geo, d, wl, m, tightest_level(geo, &gpus));
        }
    }
    for (g, u) in state.gpus.iter().enumerate() {
        match u {
            GpuUse::Mig { layout, .. } => {
                let m = geo.model_of_gpu(GpuId::from_index(g));
                let table = geo.models[m].mig.as_ref().expect("mig");
                let used: u32 = layout
                    .iter()
                    .filter(|x| x.1.is_some())
                    .map(|x| table.profile(x.0.profile).compute_slices as u32)
                    .sum();
                t.stranded +=
                    d.weights.stranded * (1.0 - used as f64 / table.compute_slices as f64).max(0.0);
            }
            GpuUse::Shared { members } => {
                let used: u32 = members.iter().map(|x| x.1 as u32).sum();
                t.stranded +=
                    d.weights.stranded * (1.0 - used as f64 / MILLI_PER_GPU as f64).max(0.0);
            }
            _ => {}
        }
    }
    t.disruption = d.weights.disruption * moved as f64;
    t
}
