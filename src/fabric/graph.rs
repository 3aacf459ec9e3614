//! The fabric as a petgraph graph, and the metrics computed on it: oversubscription per tier,
//! bisection bandwidth, switch hops between GPUs, ECMP width and failure domains.
//!
//! Vertices are GPUs, NIC ports, NVLink domains and switches; edges are PCIe (GPU-NIC),
//! NVLink (GPU-domain) and cables (NIC-switch, switch-switch). Metrics that only need the
//! switch layer work on a collapsed switch graph (parallel cables merged).

use std::collections::{BTreeMap, HashMap, VecDeque};

use petgraph::graph::{NodeIndex, UnGraph};
use serde::Serialize;

use super::power::{rack_load_kw, unracked_switch_kw};
use super::topology::Topology;
use crate::model::*;

/// What a graph vertex stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vertex {
    Gpu(GpuId),
    Nic(NicId),
    Domain(DomainId),
    Switch(SwitchId),
}

/// What a graph edge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Pcie,
    Nvlink,
    Cable(LinkId),
}

/// The full fabric graph.
pub struct FabricGraph {
    pub graph: UnGraph<Vertex, Edge>,
    pub switch_vertex: Vec<NodeIndex>,
    pub gpu_vertex: Vec<NodeIndex>,
}

impl FabricGraph {
    pub fn new(f: &Fabric) -> Self {
        let mut graph = UnGraph::with_capacity(
            f.gpus.len() + f.nics.len() + f.switches.len(),
            f.links.len() + f.gpus.len() * 2,
        );
        let gpu_vertex: Vec<_> = (0..f.gpus.len())
            .map(|i| graph.add_node(Vertex::Gpu(GpuId::from_index(i))))
            .collect();
        let nic_vertex: Vec<_> = (0..f.nics.len())
            .map(|i| graph.add_node(Vertex::Nic(NicId::from_index(i))))
            .collect();
        let dom_vertex: Vec<_> = (0..f.nvlink_domains.len())
            .map(|i| graph.add_node(Vertex::Domain(DomainId::from_index(i))))
            .collect();
        let switch_vertex: Vec<_> = (0..f.switches.len())
            .map(|i| graph.add_node(Vertex::Switch(SwitchId::from_index(i))))
            .collect();
        for (i, nic) in f.nics.iter().enumerate() {
            if let Some(g) = f.nic_port(NicId::from_index(i)).gpu {
                let gpu = f.nodes[nic.node.index()].first_gpu.0 + g;
                graph.add_edge(gpu_vertex[gpu as usize], nic_vertex[i], Edge::Pcie);
            }
        }
        for (i, node) in f.nodes.iter().enumerate() {
            if let Some(d) = node.nvlink_domain {
                for g in f.node_gpus(NodeId::from_index(i)) {
                    graph.add_edge(gpu_vertex[g.index()], dom_vertex[d.index()], Edge::Nvlink);
                }
            }
        }
        let vertex = |ep: &Endpoint| match ep {
            Endpoint::Nic(n) => nic_vertex[n.index()],
            Endpoint::Switch(s, _) => switch_vertex[s.index()],
        };
        for (i, l) in f.links.iter().enumerate() {
            graph.add_edge(
                vertex(&l.a),
                vertex(&l.b),
                Edge::Cable(LinkId::from_index(i)),
            );
        }
        FabricGraph {
            graph,
            switch_vertex,
            gpu_vertex,
        }
    }

    /// Neighbouring switches of each switch (parallel cables merged), sorted.
    pub fn switch_adjacency(&self, f: &Fabric) -> Vec<Vec<u32>> {
        let mut adj: Vec<Vec<u32>> = vec![Vec::new(); f.switches.len()];
        for (i, v) in self.switch_vertex.iter().enumerate() {
            for n in self.graph.neighbors(*v) {
                if let Vertex::Switch(o) = self.graph[n] {
                    if o.index() != i {
                        adj[i].push(o.0);
                    }
                }
            }
            adj[i].sort_unstable();
            adj[i].dedup();
        }
        adj
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SwitchCounts {
    pub leaf: usize,
    pub spine: usize,
    pub core: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LinkCounts {
    pub nic_leaf: usize,
    pub leaf_spine: usize,
    pub spine_core: usize,
    pub other: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Oversubscription {
    /// Worst downlink:uplink ratio over leaves with uplinks (`null` when none have uplinks).
    pub leaf: Option<f64>,
    pub spine: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PowerSummary {
    pub racks: BTreeMap<String, f64>,
    pub unracked_switches: f64,
    pub total: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FailureImpact {
    pub name: String,
    /// GPUs that lose every compute NIC path.
    pub gpus_disconnected: usize,
    /// GPUs that lose some scale-out bandwidth (a NIC or an upstream path).
    pub gpus_degraded: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FailureDomains {
    /// The worst single switch failure per tier.
    pub switch: BTreeMap<String, FailureImpact>,
    /// The worst single rack failure (its GPUs, plus GPUs behind its switches).
    pub rack: Option<FailureImpact>,
    /// A plane failure, in multi-plane fabrics.
    pub plane: Option<FailureImpact>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NvlinkSummary {
    pub total: usize,
    pub hgx8: usize,
    pub nvl72: usize,
    pub largest_gpus: u32,
}

/// Everything `inspect` reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub fabric: String,
    pub transport: Transport,
    pub gpus: usize,
    pub gpus_by_model: BTreeMap<String, usize>,
    /// GPU (compute) nodes; management hosts are counted apart.
    pub nodes: usize,
    pub management_nodes: usize,
    pub racks: usize,
    pub scalable_units: usize,
    pub nvlink_domains: NvlinkSummary,
    pub switches: SwitchCounts,
    pub links: LinkCounts,
    pub tiers: usize,
    pub oversubscription: Oversubscription,
    pub bisection_gbps: u64,
    pub power_kw: PowerSummary,
    /// Most switches crossed between two GPUs on different nodes (`null` if some pair is unreachable).
    pub max_hops: Option<u32>,
    /// Fewest uplinks of any leaf: the ECMP fan-out out of a leaf.
    pub ecmp_width: Option<u32>,
    pub failure_domains: FailureDomains,
}

fn round3(x: f64) -> f64 {
    // `+ 0.0` turns a negative zero (an empty f64 sum) into zero.
    (x * 1000.0).round() / 1000.0 + 0.0
}

/// Computes the inspect summary.
pub fn summarize(f: &Fabric) -> Summary {
    let topo = Topology::new(f);
    let g = FabricGraph::new(f);
    let mut switches = SwitchCounts {
        leaf: 0,
        spine: 0,
        core: 0,
    };
    for s in &f.switches {
        match s.tier {
            Tier::Leaf => switches.leaf += 1,
            Tier::Spine => switches.spine += 1,
            Tier::Core => switches.core += 1,
        }
    }
    let mut links = LinkCounts {
        nic_leaf: 0,
        leaf_spine: 0,
        spine_core: 0,
        other: 0,
        total: f.links.len(),
    };
    let mut compute_nic_gbps: u64 = 0;
    for l in &f.links {
        let tier = |e: &Endpoint| match e {
            Endpoint::Nic(_) => 0,
            Endpoint::Switch(s, _) => f.switches[s.index()].tier.level(),
        };
        let (a, b) = (tier(&l.a).min(tier(&l.b)), tier(&l.a).max(tier(&l.b)));
        match (a, b) {
            (0, 1) => {
                links.nic_leaf += 1;
                let nic = match (&l.a, &l.b) {
                    (Endpoint::Nic(n), _) | (_, Endpoint::Nic(n)) => *n,
                    _ => unreachable!("one end is a NIC"),
                };
                if f.is_compute_node(f.nics[nic.index()].node) {
                    compute_nic_gbps += l.gbps as u64;
                }
            }
            (1, 2) => links.leaf_spine += 1,
            (2, 3) => links.spine_core += 1,
            _ => links.other += 1,
        }
    }
    let worst = |tier: Tier| -> Option<f64> {
        f.switches
            .iter()
            .enumerate()
            .filter(|(i, s)| s.tier == tier && topo.up_gbps[*i] > 0)
            .map(|(i, _)| topo.down_gbps[i] as f64 / topo.up_gbps[i] as f64)
            .max_by(f64::total_cmp)
            .map(round3)
    };
    let oversubscription = Oversubscription {
        leaf: worst(Tier::Leaf),
        spine: worst(Tier::Spine),
    };
    let tiers = f
        .switches
        .iter()
        .map(|s| s.tier.level() as usize)
        .max()
        .unwrap_or(0);
    let adj = g.switch_adjacency(f);
    let leaves_with_gpus: Vec<usize> = (0..f.switches.len())
        .filter(|i| topo.nic_links[*i] > 0)
        .collect();
    let max_hops = max_switch_hops(&adj, &leaves_with_gpus);
    // Bisection (docs/sources.md (c)): N x b / 2 for a non-blocking Clos, divided by the worst
    // oversubscription; a multi-leaf fabric without spines has no network path between leaves.
    let r = oversubscription
        .leaf
        .unwrap_or(1.0)
        .max(oversubscription.spine.unwrap_or(1.0))
        .max(1.0);
    let bisection_gbps = if leaves_with_gpus.len() > 1 && tiers < 2 {
        0
    } else {
        (compute_nic_gbps as f64 / 2.0 / r).floor() as u64
    };
    let ecmp_width = f
        .switches
        .iter()
        .enumerate()
        .filter(|(i, s)| s.tier == Tier::Leaf && topo.up_links[*i] > 0)
        .map(|(i, _)| topo.up_links[i])
        .min();
    let rack_loads = rack_load_kw(f);
    let racks: BTreeMap<String, f64> = f
        .racks
        .iter()
        .zip(&rack_loads)
        .map(|(r, kw)| (r.name.clone(), round3(*kw)))
        .collect();
    let unracked = unracked_switch_kw(f);
    let power_kw = PowerSummary {
        total: round3(rack_loads.iter().sum::<f64>() + unracked),
        racks,
        unracked_switches: round3(unracked),
    };
    let mut gpus_by_model = BTreeMap::new();
    for n in &f.nodes {
        let t = &f.templates[n.template.index()];
        if t.gpus > 0 {
            *gpus_by_model.entry(t.gpu_model.clone()).or_insert(0) += t.gpus as usize;
        }
    }
    let nvlink_domains = NvlinkSummary {
        total: f.nvlink_domains.len(),
        hgx8: f
            .nvlink_domains
            .iter()
            .filter(|d| d.kind == DomainKind::Hgx8)
            .count(),
        nvl72: f
            .nvlink_domains
            .iter()
            .filter(|d| d.kind == DomainKind::Nvl72)
            .count(),
        largest_gpus: f.nvlink_domains.iter().map(|d| d.gpus).max().unwrap_or(0),
    };
    Summary {
        fabric: f.name.clone(),
        transport: f.transport,
        gpus: f.gpus.len(),
        gpus_by_model,
        nodes: f
            .nodes
            .iter()
            .filter(|n| f.templates[n.template.index()].role == NodeRole::Compute)
            .count(),
        management_nodes: f
            .nodes
            .iter()
            .filter(|n| f.templates[n.template.index()].role != NodeRole::Compute)
            .count(),
        racks: f.racks.len(),
        scalable_units: f.sus.len(),
        nvlink_domains,
        switches,
        links,
        tiers,
        oversubscription,
        bisection_gbps,
        power_kw,
        max_hops,
        ecmp_width,
        failure_domains: failure_domains(f, &topo),
    }
}

/// Largest number of switches crossed between GPUs on two leaves (1 on the same leaf).
/// Leaves with the same neighbour set are equivalent, so one BFS per class suffices.
fn max_switch_hops(adj: &[Vec<u32>], leaves: &[usize]) -> Option<u32> {
    if leaves.is_empty() {
        return None;
    }
    if leaves.len() == 1 {
        return Some(1);
    }
    let mut classes: HashMap<&[u32], usize> = HashMap::new();
    for &l in leaves {
        classes.entry(adj[l].as_slice()).or_insert(l);
    }
    let mut reps: Vec<usize> = classes.into_values().collect();
    reps.sort_unstable();
    let mut worst = 0u32;
    let mut dist = vec![u32::MAX; adj.len()];
    for &start in &reps {
        dist.iter_mut().for_each(|d| *d = u32::MAX);
        dist[start] = 0;
        let mut queue = VecDeque::from([start]);
        while let Some(u) = queue.pop_front() {
            for &v in &adj[u] {
                if dist[v as usize] == u32::MAX {
                    dist[v as usize] = dist[u] + 1;
                    queue.push_back(v as usize);
                }
            }
        }
        for &l in leaves {
            if l == start {
                continue;
            }
            if dist[l] == u32::MAX {
                return None;
            }
            worst = worst.max(dist[l] + 1);
        }
    }
    // Two leaves of one class are as far apart as two distinct classes at most; a pair inside
    // a class is at distance 2 through a shared neighbour (or unreachable if it has none).
    Some(worst.max(if leaves.len() > 1 { 3 } else { 1 }))
}

fn failure_domains(f: &Fabric, topo: &Topology) -> FailureDomains {
    // GPUs behind each switch (through their NIC ports), and how many NIC ports each GPU has.
    let mut nics_per_gpu: Vec<u32> = vec![0; f.gpus.len()];
    let mut gpu_nics_on_switch: Vec<BTreeMap<u32, u32>> = vec![BTreeMap::new(); f.switches.len()];
    for (i, nic) in f.nics.iter().enumerate() {
        let Some(g) = f.nic_port(NicId::from_index(i)).gpu else {
            continue;
        };
        let gpu = f.nodes[nic.node.index()].first_gpu.0 + g;
        nics_per_gpu[gpu as usize] += 1;
        if let Some(sw) = topo.nic_switch[i] {
            *gpu_nics_on_switch[sw.index()].entry(gpu).or_default() += 1;
        }
    }
    let mut switch = BTreeMap::new();
    for tier in Tier::ALL {
        let mut best: Option<(usize, usize, usize)> = None; // (disconnected, degraded, switch)
        for (i, s) in f.switches.iter().enumerate() {
            if s.tier != tier {
                continue;
            }
            let (disc, degr) = if tier == Tier::Leaf {
                let on = &gpu_nics_on_switch[i];
                let disc = on
                    .iter()
                    .filter(|(g, n)| **n >= nics_per_gpu[**g as usize])
                    .count();
                (disc, on.len())
            } else {
                // Losing an upper switch costs every GPU below the leaves it serves a share of
                // uplink bandwidth, and disconnects none while the leaves keep other uplinks.
                let below: usize = topo.switch_links[i]
                    .iter()
                    .filter_map(|l| Topology::peer_switch(f, *l, SwitchId::from_index(i)))
                    .filter(|p| f.switches[p.index()].tier < tier)
                    .collect::<std::collections::BTreeSet<_>>()
                    .iter()
                    .map(|p| {
                        if f.switches[p.index()].tier == Tier::Leaf {
                            gpu_nics_on_switch[p.index()].len()
                        } else {
                            0
                        }
                    })
                    .sum();
                (0, below)
            };
            if best.is_none_or(|b| (disc, degr) > (b.0, b.1)) {
                best = Some((disc, degr, i));
            }
        }
        if let Some((d, g, i)) = best {
            switch.insert(
                tier.as_str().to_string(),
                FailureImpact {
                    name: f.switches[i].name.clone(),
                    gpus_disconnected: d,
                    gpus_degraded: g,
                },
            );
        }
    }
    let rack = f
        .racks
        .iter()
        .map(|r| {
            let own: usize = r
                .nodes
                .iter()
                .map(|n| f.template_of(*n).gpus as usize)
                .sum();
            let mut behind: BTreeMap<u32, u32> = BTreeMap::new();
            for s in &r.switches {
                for (g, n) in &gpu_nics_on_switch[s.index()] {
                    *behind.entry(*g).or_default() += n;
                }
            }
            let own_range: std::collections::BTreeSet<u32> = r
                .nodes
                .iter()
                .flat_map(|n| f.node_gpus(*n).map(|g| g.0))
                .collect();
            let disc_behind = behind
                .iter()
                .filter(|(g, n)| !own_range.contains(g) && **n >= nics_per_gpu[**g as usize])
                .count();
            let degr_behind = behind.keys().filter(|g| !own_range.contains(g)).count();
            FailureImpact {
                name: r.name.clone(),
                gpus_disconnected: own + disc_behind,
                gpus_degraded: own + degr_behind,
            }
        })
        .max_by(|a, b| {
            (a.gpus_disconnected, a.gpus_degraded)
                .cmp(&(b.gpus_disconnected, b.gpus_degraded))
                .then(b.name.cmp(&a.name))
        });
    let planes: std::collections::BTreeSet<u32> = f.switches.iter().map(|s| s.plane).collect();
    let plane = (planes.len() > 1).then(|| {
        let p = *planes.iter().next().expect("planes");
        let mut on_plane: BTreeMap<u32, u32> = BTreeMap::new();
        for (i, s) in f.switches.iter().enumerate() {
            if s.plane == p {
                for (g, n) in &gpu_nics_on_switch[i] {
                    *on_plane.entry(*g).or_default() += n;
                }
            }
        }
        FailureImpact {
            name: format!("plane {p}"),
            gpus_disconnected: on_plane
                .iter()
                .filter(|(g, n)| **n >= nics_per_gpu[**g as usize])
                .count(),
            gpus_degraded: on_plane.len(),
        }
    });
    FailureDomains {
        switch,
        rack,
        plane,
    }
}
