//! Clos shape: oversubscription, full mesh, spine count, SU completeness, tier order.

use std::collections::{BTreeMap, BTreeSet};

use super::{diag, Ctx};
use crate::diag::Diagnostic;
use crate::fabric::topology::{facing, Facing, Topology};
use crate::model::*;

fn ratio(down: u64, up: u64) -> String {
    if up == 0 {
        "no uplinks".to_string()
    } else {
        format!("{:.2}:1", down as f64 / up as f64)
    }
}

fn oversub(ctx: &Ctx, out: &mut Vec<Diagnostic>, tier: Tier, code: &'static str) {
    let f = ctx.fabric;
    let t = ctx.topo;
    for (i, s) in f.switches.iter().enumerate() {
        if s.tier != tier || t.up_links[i] == 0 {
            continue;
        }
        if t.down_gbps[i] > t.up_gbps[i] {
            out.push(
                diag(code, format!("{} `{}` is oversubscribed {} ({} Gb/s down, {} Gb/s up)", tier.as_str(), s.name, ratio(t.down_gbps[i], t.up_gbps[i]), t.down_gbps[i], t.up_gbps[i]))
                    .on(Entity::Switch(SwitchId::from_index(i)), None, "oversubscribed")
                    .help("add uplinks (or move downlinks) until uplink bandwidth >= downlink bandwidth; the compute fabric is non-blocking"),
            );
        }
    }
}

pub fn oversub_leaf(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    oversub(ctx, out, Tier::Leaf, "FP201");
}

pub fn oversub_spine(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    oversub(ctx, out, Tier::Spine, "FP202");
}

/// Upper peers of a switch with the number of links to each.
fn up_peers(f: &Fabric, t: &Topology, sw: SwitchId) -> BTreeMap<SwitchId, u32> {
    let mut peers = BTreeMap::new();
    for &l in &t.switch_links[sw.index()] {
        if let Some(p) = Topology::peer_switch(f, l, sw) {
            if f.switches[p.index()].tier > f.switches[sw.index()].tier {
                *peers.entry(p).or_insert(0) += 1;
            }
        }
    }
    peers
}

pub fn full_mesh(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let peers: Vec<BTreeMap<SwitchId, u32>> = (0..f.switches.len())
        .map(|i| up_peers(f, ctx.topo, SwitchId::from_index(i)))
        .collect();
    for (i, p) in peers.iter().enumerate() {
        let (Some(min), Some(max)) = (
            p.iter().min_by_key(|(s, c)| (**c, **s)),
            p.iter().max_by_key(|(s, c)| (**c, std::cmp::Reverse(**s))),
        ) else {
            continue;
        };
        if min.1 != max.1 {
            let s = &f.switches[i];
            out.push(
                diag(
                    "FP203",
                    format!(
                        "`{}` has {} link(s) to `{}` but {} to `{}`",
                        s.name,
                        min.1,
                        f.switches[min.0.index()].name,
                        max.1,
                        f.switches[max.0.index()].name
                    ),
                )
                .on(
                    Entity::Switch(SwitchId::from_index(i)),
                    None,
                    "uneven uplinks",
                )
                .also(Entity::Switch(*min.0), None, format!("{} link(s)", min.1))
                .help(
                    "give each switch the same number of links to every upper switch of its group",
                ),
            );
        }
    }
    // Lower switches sharing an upper switch must see the same set of upper switches.
    let mut first_seen: BTreeMap<SwitchId, usize> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    for (i, p) in peers.iter().enumerate() {
        for up in p.keys() {
            match first_seen.get(up) {
                None => {
                    first_seen.insert(*up, i);
                }
                Some(&j) => {
                    let same = peers[j].keys().eq(p.keys());
                    if !same && f.switches[i].tier == f.switches[j].tier && reported.insert(i) {
                        let a: BTreeSet<&SwitchId> = peers[j].keys().collect();
                        let b: BTreeSet<&SwitchId> = p.keys().collect();
                        let missing: Vec<&str> = a
                            .symmetric_difference(&b)
                            .take(4)
                            .map(|s| f.switches[s.index()].name.as_str())
                            .collect();
                        out.push(
                            diag("FP203", format!("`{}` and `{}` share upper switch `{}` but not the same upper group (differ on {})", f.switches[i].name, f.switches[j].name, f.switches[up.index()].name, missing.join(", ")))
                                .on(Entity::Switch(SwitchId::from_index(i)), None, "this switch's uplinks")
                                .also(Entity::Switch(SwitchId::from_index(j)), None, "differ from this one's")
                                .help("connect each lower switch to every upper switch of its group"),
                        );
                    }
                }
            }
        }
    }
}

pub fn spine_min(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let mut by_plane: BTreeMap<u32, Vec<SwitchId>> = BTreeMap::new();
    for (i, s) in f.switches.iter().enumerate() {
        if s.tier == Tier::Spine {
            by_plane
                .entry(s.plane)
                .or_default()
                .push(SwitchId::from_index(i));
        }
    }
    for (plane, spines) in by_plane {
        if spines.len() < 4 {
            out.push(
                diag("FP204", format!("plane {plane} has {} spine(s); one failure costs {}% of cross-leaf bandwidth", spines.len(), 100 / spines.len()))
                    .on(Entity::Switch(spines[0]), None, "spines declared here")
                    .help("use at least 4 spines per plane"),
            );
        }
    }
}

pub fn su_complete(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let t = ctx.topo;
    let mut sus: BTreeMap<SuId, Vec<SwitchId>> = BTreeMap::new();
    for (i, s) in f.switches.iter().enumerate() {
        if let (Tier::Leaf, Some(su)) = (s.tier, s.su) {
            sus.entry(su).or_default().push(SwitchId::from_index(i));
        }
    }
    if sus.is_empty() {
        return;
    }
    let max_leaves = sus.values().map(Vec::len).max().unwrap_or(0);
    let max_up = sus
        .values()
        .flatten()
        .map(|s| t.up_links[s.index()])
        .max()
        .unwrap_or(0);
    for (su, leaves) in &sus {
        let name = &f.sus[su.index()];
        if leaves.len() < max_leaves {
            out.push(
                diag(
                    "FP205",
                    format!(
                        "scalable unit `{name}` has {} leaf switch(es); the largest has {max_leaves}",
                        leaves.len()
                    ),
                )
                .on(Entity::Switch(leaves[0]), None, "a leaf of this unit")
                .help(
                    "build every SU with all its leaves, even when nodes are missing (NVIDIA RA)",
                ),
            );
        }
        if let Some(short) = leaves.iter().find(|l| t.up_links[l.index()] < max_up) {
            out.push(
                diag("FP205", format!("leaf `{}` of `{name}` has {} uplinks; other leaves have {max_up}", f.switches[short.index()].name, t.up_links[short.index()]))
                    .on(Entity::Switch(*short), None, "missing uplinks")
                    .help("cable every leaf-spine link of a partial SU so routing stays even and the SU can grow"),
            );
        }
    }
}

pub fn ufm_port(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    if f.transport != Transport::Infiniband || f.switches.is_empty() {
        return;
    }
    let managed = f
        .nics
        .iter()
        .any(|n| n.link.is_some() && !f.is_compute_node(n.node));
    if !managed {
        let first = f
            .switches
            .iter()
            .position(|s| s.tier == Tier::Leaf)
            .unwrap_or(0);
        out.push(
            diag("FP206", "the InfiniBand fabric has no management host (UFM) cabled to it")
                .on(Entity::Switch(SwitchId::from_index(first)), None, "no leaf port kept for UFM")
                .help("add a node template with `role: management` (a UFM appliance) and cable it to the leaves; the H100 SU keeps one port per leaf for it"),
        );
    }
}

pub fn tier_skip(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for (i, l) in f.links.iter().enumerate() {
        let id = Entity::Link(LinkId::from_index(i));
        let msg = match (&l.a, &l.b) {
            (Endpoint::Nic(_), Endpoint::Switch(s, _))
            | (Endpoint::Switch(s, _), Endpoint::Nic(_)) => {
                let sw = &f.switches[s.index()];
                (sw.tier != Tier::Leaf)
                    .then(|| format!("a NIC is cabled to {} `{}`", sw.tier.as_str(), sw.name))
            }
            (Endpoint::Switch(a, _), Endpoint::Switch(b, _)) if a != b => {
                let (sa, sb) = (&f.switches[a.index()], &f.switches[b.index()]);
                if facing(f, *a, &l.b) == Facing::Lateral {
                    Some(format!(
                        "`{}` and `{}` are both {} switches",
                        sa.name,
                        sb.name,
                        sa.tier.as_str()
                    ))
                } else if sa.tier.level().abs_diff(sb.tier.level()) > 1 {
                    Some(format!(
                        "{} `{}` is cabled straight to {} `{}`",
                        sa.tier.as_str(),
                        sa.name,
                        sb.tier.as_str(),
                        sb.name
                    ))
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(msg) = msg {
            out.push(
                diag("FP207", msg)
                    .on(id, None, "breaks the tier order")
                    .help("NICs go to leaves, leaves to spines, spines to cores"),
            );
        }
    }
}

pub fn unconnected(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    let t = ctx.topo;
    let has_spines = f.switches.iter().any(|s| s.tier > Tier::Leaf);
    for (i, s) in f.switches.iter().enumerate() {
        let id = Entity::Switch(SwitchId::from_index(i));
        if t.switch_links[i].is_empty() {
            out.push(
                diag("FP208", format!("switch `{}` has no links", s.name))
                    .on(id, None, "declared here")
                    .help("cable the switch or remove it"),
            );
        } else if s.tier == Tier::Leaf && has_spines && t.up_links[i] == 0 {
            out.push(
                diag(
                    "FP208",
                    format!(
                        "leaf `{}` has no uplinks; its GPUs cannot reach other leaves",
                        s.name
                    ),
                )
                .on(id, None, "no uplinks")
                .help("cable the leaf to the spines of its group"),
            );
        }
    }
}
