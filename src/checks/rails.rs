//! Rail alignment, NIC provisioning and plane symmetry.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{diag, Ctx};
use crate::diag::Diagnostic;
use crate::model::*;

/// Each NIC link as (link, nic, switch).
fn nic_links(f: &Fabric) -> impl Iterator<Item = (LinkId, NicId, SwitchId)> + '_ {
    f.links
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match (&l.a, &l.b) {
            (Endpoint::Nic(n), Endpoint::Switch(s, _))
            | (Endpoint::Switch(s, _), Endpoint::Nic(n)) => Some((LinkId::from_index(i), *n, *s)),
            _ => None,
        })
}

/// The rail of each switch: declared, or the GPU index most of its compute NIC links serve.
pub(crate) fn switch_rails(f: &Fabric) -> Vec<Option<u32>> {
    let mut counts: Vec<BTreeMap<u32, u32>> = vec![BTreeMap::new(); f.switches.len()];
    for (_, nic, sw) in nic_links(f) {
        if let Some(g) = f.nic_port(nic).gpu {
            *counts[sw.index()].entry(g).or_default() += 1;
        }
    }
    f.switches
        .iter()
        .zip(counts)
        .map(|(s, c)| {
            s.rail.or_else(|| {
                // Most links win; ties go to the lowest GPU index (BTreeMap order).
                c.iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(g, _)| *g)
            })
        })
        .collect()
}

pub fn nic_to_rail(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let rails = switch_rails(f);
    for (link, nic, sw) in nic_links(f) {
        let port = f.nic_port(nic);
        let (Some(gpu), Some(rail)) = (port.gpu, rails[sw.index()]) else {
            continue;
        };
        if gpu != rail {
            let node = &f.nodes[f.nics[nic.index()].node.index()];
            let leaf = &f.switches[sw.index()];
            let how = if leaf.rail.is_some() {
                "declared"
            } else {
                "inferred from its cabling"
            };
            out.push(
                diag("FP101", format!("`{}:{}` serves GPU {gpu} but is cabled to `{}`, a rail-{rail} leaf", node.name, port.port, leaf.name))
                    .on(Entity::Link(link), None, format!("GPU {gpu} on rail {rail}"))
                    .also(Entity::Switch(sw), None, format!("`{}` is rail {rail} ({how})", leaf.name))
                    .help(format!("cable the GPU-{gpu} NIC to the rail-{gpu} leaf of its scalable unit; rails follow GPU index, not port order")),
            );
        }
    }
}

/// Per rail: compute NIC links, their speeds, and one leaf of the rail (for labels).
type RailStat = (u32, BTreeSet<u32>, SwitchId);

/// NIC-link statistics per (su, plane), then per rail.
fn rail_stats(f: &Fabric) -> BTreeMap<(Option<SuId>, u32), BTreeMap<u32, RailStat>> {
    let rails = switch_rails(f);
    let mut stats: BTreeMap<(Option<SuId>, u32), BTreeMap<u32, RailStat>> = BTreeMap::new();
    for (link, nic, sw) in nic_links(f) {
        // Only compute ports ride a rail; a UFM or storage port on a leaf is not rail traffic.
        if f.nic_port(nic).gpu.is_none() {
            continue;
        }
        let s = &f.switches[sw.index()];
        let Some(rail) = rails[sw.index()] else {
            continue;
        };
        if s.tier != Tier::Leaf {
            continue;
        }
        let e = stats
            .entry((s.su, s.plane))
            .or_default()
            .entry(rail)
            .or_insert((0, BTreeSet::new(), sw));
        e.0 += 1;
        e.1.insert(f.links[link.index()].gbps);
    }
    stats
}

fn su_name(f: &Fabric, su: Option<SuId>) -> String {
    su.map(|s| format!("scalable unit `{}`", f.sus[s.index()]))
        .unwrap_or_else(|| "the fabric".to_string())
}

pub fn balance(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for ((su, plane), rails) in rail_stats(f) {
        if rails.len() < 2 {
            continue;
        }
        let (min_rail, min) = rails
            .iter()
            .min_by_key(|(r, v)| (v.0, **r))
            .expect("non-empty");
        let (max_rail, max) = rails
            .iter()
            .max_by_key(|(r, v)| (v.0, std::cmp::Reverse(**r)))
            .expect("non-empty");
        let speeds: BTreeSet<u32> = rails.values().flat_map(|v| v.1.iter().copied()).collect();
        if min.0 != max.0 {
            out.push(
                diag("FP102", format!("rails of {} (plane {plane}) are unbalanced: rail {min_rail} has {} NIC links, rail {max_rail} has {}", su_name(f, su), min.0, max.0))
                    .on(Entity::Switch(min.2), None, format!("rail {min_rail}: {} links", min.0))
                    .also(Entity::Switch(max.2), None, format!("rail {max_rail}: {} links", max.0))
                    .help("cable every node to every rail so all rails carry the same number of links"),
            );
        } else if speeds.len() > 1 {
            let list: Vec<String> = speeds.iter().map(|s| format!("{s}G")).collect();
            out.push(
                diag(
                    "FP102",
                    format!(
                        "rails of {} (plane {plane}) mix link speeds: {}",
                        su_name(f, su),
                        list.join(", ")
                    ),
                )
                .on(Entity::Switch(min.2), None, "one of the rails")
                .help("use one NIC speed on every rail of a scalable unit"),
            );
        }
    }
}

pub fn count(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    // Compute NIC ports per node per plane, by SU, from the nodes that are cabled.
    let mut want: BTreeMap<(Option<SuId>, u32), (u32, NodeId)> = BTreeMap::new();
    for (_, nic, sw) in nic_links(f) {
        let node = f.nics[nic.index()].node;
        let t = f.template_of(node);
        let plane = f.switches[sw.index()].plane;
        let n = t.compute_nics().filter(|(_, p)| p.plane == plane).count() as u32;
        let e = want
            .entry((f.switches[sw.index()].su, plane))
            .or_insert((n, node));
        e.0 = e.0.max(n);
    }
    for ((su, plane), rails) in rail_stats(f) {
        let Some(&(nics, node)) = want.get(&(su, plane)) else {
            continue;
        };
        if rails.len() as u32 != nics {
            let first = rails.values().next().expect("non-empty").2;
            out.push(
                diag("FP103", format!("{} (plane {plane}) has {} rail(s) but its nodes have {nics} compute NIC ports per plane", su_name(f, su), rails.len()))
                    .on(Entity::Switch(first), None, "a leaf of this unit")
                    .also(Entity::Node(node), None, format!("{nics} compute NIC ports per plane"))
                    .help("give every GPU NIC index its own rail leaf (8 on HGX/DGX, 4 per GB200 tray)"),
            );
        }
    }
}

pub fn nic_ratio(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for (i, t) in f.templates.iter().enumerate() {
        if t.gpus == 0 || t.role != NodeRole::Compute {
            continue;
        }
        let mut per_gpu = vec![0u64; t.gpus as usize];
        for (_, p) in t.compute_nics() {
            per_gpu[p.gpu.expect("compute") as usize] += p.gbps as u64;
        }
        let nics = t.compute_nics().count() as u32;
        let min = per_gpu.iter().copied().min().unwrap_or(0);
        if nics < t.gpus || min < 400 {
            out.push(
                diag("FP104", format!("node template `{}` gives a GPU {min} Gb/s of compute NIC bandwidth ({nics} compute NIC ports for {} GPUs)", t.name, t.gpus))
                    .on(Entity::Template(TemplateId::from_index(i)), Some("nics"), "compute NICs")
                    .help("give each GPU one compute NIC of 400 Gb/s or more (DGX H100/B200: 8 x 400G)"),
            );
        }
    }
}

pub fn shared_leaf(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let mut seen: HashMap<(NodeId, SwitchId), LinkId> = HashMap::new();
    let mut leaf_sus: BTreeMap<SwitchId, BTreeMap<SuId, NodeId>> = BTreeMap::new();
    for (link, nic, sw) in nic_links(f) {
        let node = f.nics[nic.index()].node;
        if f.nic_port(nic).gpu.is_none() {
            continue;
        }
        if let Some(first) = seen.get(&(node, sw)) {
            out.push(
                diag(
                    "FP105",
                    format!(
                        "node `{}` has two NIC ports on leaf `{}`",
                        f.nodes[node.index()].name,
                        f.switches[sw.index()].name
                    ),
                )
                .on(Entity::Link(link), None, "second NIC on this leaf")
                .also(Entity::Link(*first), None, "first NIC on this leaf")
                .help("each NIC of a node goes to a different rail leaf"),
            );
        } else {
            seen.insert((node, sw), link);
        }
        if let Some(su) = f.nodes[node.index()].su {
            leaf_sus.entry(sw).or_default().entry(su).or_insert(node);
        }
    }
    for (sw, sus) in leaf_sus {
        if sus.len() > 1 {
            let names: Vec<&str> = sus.keys().map(|s| f.sus[s.index()].as_str()).collect();
            let mut d = diag(
                "FP105",
                format!(
                    "leaf `{}` serves nodes of {} scalable units: {}",
                    f.switches[sw.index()].name,
                    sus.len(),
                    names.join(", ")
                ),
            )
            .on(Entity::Switch(sw), None, "shared leaf");
            for (su, node) in sus.iter().take(2) {
                d = d.also(
                    Entity::Node(*node),
                    None,
                    format!("a node of `{}`", f.sus[su.index()]),
                );
            }
            out.push(d.help("give each scalable unit its own rail leaves"));
        }
    }
}

pub fn uncabled(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    if f.switches.is_empty() {
        return; // an inventory without a fabric: nothing to cable to
    }
    // One diagnostic per node, listing its uncabled ports.
    let mut by_node: BTreeMap<NodeId, Vec<&str>> = BTreeMap::new();
    for (i, nic) in f.nics.iter().enumerate() {
        let port = f.nic_port(NicId::from_index(i));
        if nic.link.is_none() && port.gpu.is_some() && f.is_compute_node(nic.node) {
            by_node.entry(nic.node).or_default().push(&port.port);
        }
    }
    for (node, ports) in by_node {
        out.push(
            diag("FP106", format!("node `{}` has {} uncabled compute NIC port(s): {}", f.nodes[node.index()].name, ports.len(), ports.join(", ")))
                .on(Entity::Node(node), None, "declared here")
                .help("cable the ports (add the node to its scalable unit's `rail-su` intent or list its links)"),
        );
    }
}

pub fn plane_symmetry(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for (link, nic, sw) in nic_links(f) {
        let port = f.nic_port(nic);
        let s = &f.switches[sw.index()];
        if port.plane != s.plane {
            out.push(
                diag(
                    "FP701",
                    format!(
                        "`{}` is a plane-{} port but is cabled to `{}` on plane {}",
                        f.endpoint_name(&Endpoint::Nic(nic)),
                        port.plane,
                        s.name,
                        s.plane
                    ),
                )
                .on(Entity::Link(link), None, "crosses planes")
                .also(Entity::Switch(sw), None, format!("plane {}", s.plane))
                .help("NIC port p of every node goes to plane p"),
            );
        }
    }
    let planes: BTreeSet<u32> = f.switches.iter().map(|s| s.plane).collect();
    if planes.len() > 1 {
        for tier in Tier::ALL {
            let counts: BTreeMap<u32, (usize, SwitchId)> = planes
                .iter()
                .map(|p| {
                    let members: Vec<usize> = f
                        .switches
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.plane == *p && s.tier == tier)
                        .map(|(i, _)| i)
                        .collect();
                    (
                        *p,
                        (
                            members.len(),
                            SwitchId::from_index(members.first().copied().unwrap_or(0)),
                        ),
                    )
                })
                .collect();
            let min = counts
                .iter()
                .min_by_key(|(p, c)| (c.0, **p))
                .expect("planes");
            let max = counts
                .iter()
                .max_by_key(|(p, c)| (c.0, std::cmp::Reverse(**p)))
                .expect("planes");
            if min.1 .0 != max.1 .0 {
                let mut d = diag(
                    "FP701",
                    format!(
                        "planes differ in {} switches: plane {} has {}, plane {} has {}",
                        tier.as_str(),
                        min.0,
                        min.1 .0,
                        max.0,
                        max.1 .0
                    ),
                );
                d = if max.1 .0 > 0 {
                    d.on(Entity::Switch(max.1 .1), None, format!("plane {}", max.0))
                } else {
                    d
                };
                out.push(d.help("build every plane identically so one plane's failure halves bandwidth instead of stranding jobs"));
            }
        }
    }
}

pub fn separation(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    if f.converged {
        return;
    }
    let mut reported = BTreeSet::new();
    for (link, nic, sw) in nic_links(f) {
        let node = f.nics[nic.index()].node;
        if f.is_compute_node(node) || f.transport == Transport::Infiniband || !reported.insert(node)
        {
            continue;
        }
        out.push(
            diag(
                "FP702",
                format!(
                    "non-GPU host `{}` is cabled to compute switch `{}`",
                    f.nodes[node.index()].name,
                    f.switches[sw.index()].name
                ),
            )
            .on(Entity::Link(link), None, "on the compute fabric")
            .help(
                "move storage and frontend hosts to their own fabric, or declare `converged: true`",
            ),
        );
    }
}
