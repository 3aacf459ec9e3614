//! The degraded fabric: the design with the down nodes removed (their GPUs, NIC ports and
//! cables with them), the cables of down switches removed (the switches stay, unconnected,
//! so switch ids do not change), and broken NVLink domains dissolved. Node, GPU, NIC, link
//! and domain ids are renumbered; `gpu_map` carries GPU ids over.

use super::Impact;
use crate::model::{
    DomainId, Endpoint, Fabric, GpuId, Link, LinkId, Nic, NicId, NodeId, NvlinkDomain,
};

/// The fabric the planner re-plans on, and how the full fabric's GPUs map onto it.
#[derive(Debug, Clone)]
pub struct Degraded {
    pub fabric: Fabric,
    /// Full-fabric GPU index -> degraded GPU index (`None`: the GPU is down).
    pub gpu_map: Vec<Option<GpuId>>,
}

/// Builds the degraded fabric for an impact.
pub fn degrade(f: &Fabric, im: &Impact) -> Degraded {
    let mut node_map: Vec<Option<NodeId>> = vec![None; f.nodes.len()];
    let mut gpu_map: Vec<Option<GpuId>> = vec![None; f.gpus.len()];
    let mut nic_map: Vec<Option<NicId>> = vec![None; f.nics.len()];
    let mut out = f.clone();
    out.nodes.clear();
    out.gpus.clear();
    out.nics.clear();
    // Domains: dissolve broken ones, drop those left with no node.
    let mut dom_map: Vec<Option<DomainId>> = vec![None; f.nvlink_domains.len()];
    let mut domains: Vec<NvlinkDomain> = Vec::new();
    for (i, d) in f.nvlink_domains.iter().enumerate() {
        let id = DomainId::from_index(i);
        let alive = d.nodes.iter().any(|n| !im.down_nodes.contains_key(n));
        if im.broken_domains.contains_key(&id) || !alive {
            continue;
        }
        dom_map[i] = Some(DomainId::from_index(domains.len()));
        domains.push(d.clone());
    }
    for (ni, node) in f.nodes.iter().enumerate() {
        let id = NodeId::from_index(ni);
        if im.down_nodes.contains_key(&id) {
            continue;
        }
        let new_id = NodeId::from_index(out.nodes.len());
        node_map[ni] = Some(new_id);
        let mut n = node.clone();
        n.first_gpu = GpuId::from_index(out.gpus.len());
        n.first_nic = NicId::from_index(out.nics.len());
        n.nvlink_domain = node.nvlink_domain.and_then(|d| dom_map[d.index()]);
        for g in f.node_gpus(id) {
            gpu_map[g.index()] = Some(GpuId::from_index(out.gpus.len()));
            let mut gpu = f.gpus[g.index()];
            gpu.node = new_id;
            out.gpus.push(gpu);
        }
        for c in f.node_nics(id) {
            nic_map[c.index()] = Some(NicId::from_index(out.nics.len()));
            out.nics.push(Nic {
                node: new_id,
                template_nic: f.nics[c.index()].template_nic,
                link: None,
            });
        }
        out.nodes.push(n);
    }
    let keep_end = |e: &Endpoint| -> Option<Endpoint> {
        match e {
            Endpoint::Nic(c) => nic_map[c.index()].map(Endpoint::Nic),
            Endpoint::Switch(s, p) => {
                (!im.down_switches.contains_key(s)).then(|| Endpoint::Switch(*s, p.clone()))
            }
        }
    };
    let mut links: Vec<Link> = Vec::new();
    for l in &f.links {
        let (Some(a), Some(b)) = (keep_end(&l.a), keep_end(&l.b)) else {
            continue;
        };
        let id = LinkId::from_index(links.len());
        for e in [&a, &b] {
            if let Endpoint::Nic(c) = e {
                out.nics[c.index()].link = Some(id);
            }
        }
        links.push(Link { a, b, ..l.clone() });
    }
    out.links = links;
    for d in &mut domains {
        d.nodes = d.nodes.iter().filter_map(|n| node_map[n.index()]).collect();
        d.gpus = d
            .nodes
            .iter()
            .map(|n| out.templates[out.nodes[n.index()].template.index()].gpus)
            .sum();
    }
    out.nvlink_domains = domains;
    for r in &mut out.racks {
        r.nodes = r.nodes.iter().filter_map(|n| node_map[n.index()]).collect();
        r.nvlink_domain = r.nvlink_domain.and_then(|d| dom_map[d.index()]);
    }
    Degraded {
        fabric: out,
        gpu_map,
    }
}
