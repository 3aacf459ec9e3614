//! Intent patterns expand into the same explicit switches and links a hand-cabled design has.
//!
//! - `rail-su`: a rail-optimized scalable unit (NVIDIA SuperPOD RA, Juniper JVD): the NIC of
//!   GPU k (plane p) of every node goes to a rail-k leaf of plane p.
//! - `uplinks`: one Clos tier: each lower switch links to every upper switch of its group.
//!
//! Ports are numbered from 1 on each switch in the order links are made, skipping the numbered
//! ports that explicit `links:` use.

use serde_saphyr::Spanned;

use super::fabric::{err, Builder, Named};
use crate::diag::Span;
use crate::limits;
use crate::model::*;
use crate::schema::fabric::{RawIntent, RawRailSu, RawUplinks};
use crate::source::span_of;

impl Builder {
    pub(super) fn intent(&mut self, i: &Spanned<RawIntent>) {
        let span = span_of(i);
        match &i.value {
            RawIntent::RailSu(r) => self.rail_su(r, span),
            RawIntent::Uplinks(u) => self.uplinks(u, span),
        }
    }

    fn next_port(&mut self, sw: SwitchId) -> PortName {
        let reserved = self
            .reserved_ports
            .get(&self.fabric.switches[sw.index()].name);
        let n = &mut self.next_port[sw.index()];
        *n += 1;
        while reserved.is_some_and(|r| r.contains(n)) {
            *n += 1;
        }
        PortName::Num(*n)
    }

    fn push_link(&mut self, link: Link, span: Span) {
        let id = LinkId::from_index(self.fabric.links.len());
        self.prov.entity(Entity::Link(id), span);
        self.fabric.links.push(link);
    }

    fn rail_su(&mut self, r: &RawRailSu, span: Span) {
        let su = self.su(&r.su.value);
        let model = self.switch_model(&r.model);
        let medium = self.medium(&r.medium);
        let length_m = self.length(&r.length_m);
        let rack = r.rack.as_ref().and_then(|x| self.rack_ref(x));
        let lpr = r.leaves_per_rail.as_ref().map(|v| v.value).unwrap_or(1);
        if let Some(v) = &r.leaves_per_rail {
            if !self.in_range(v, "leaves_per_rail", &limits::LEAVES_PER_RAIL) {
                self.refuse(&r.leaves.value);
                return;
            }
        }
        let Some(node_names) = self.expand(&r.nodes) else {
            self.refuse(&r.leaves.value);
            return;
        };
        let Some(leaf_names) = self.expand(&r.leaves) else {
            return;
        };
        let (Some(model), Some(medium)) = (model, medium) else {
            self.refuse(&r.leaves.value);
            return;
        };
        let mut nodes = Vec::with_capacity(node_names.len());
        for name in &node_names {
            match self.names.get(name) {
                Some((Named::Node(n), _)) => nodes.push(*n),
                // The rack hostlist that declares it was refused (FP015).
                _ if self.is_refused(name) => return,
                _ => {
                    self.push(
                        err(
                            "FP004",
                            format!("rail-su `{}` names unknown node `{name}`", r.su.value),
                        )
                        .at(span_of(&r.nodes), "names a node no rack declares")
                        .help("declare the node in a rack's `nodes:` before using it in an intent"),
                    );
                    return;
                }
            }
        }
        let Some(&first) = nodes.first() else { return };
        // The rail shape: (gpu, plane) of every compute NIC port of the first node.
        let shape = |f: &Fabric, n: NodeId| -> Vec<(u32, u32)> {
            let mut v: Vec<(u32, u32)> = f
                .template_of(n)
                .compute_nics()
                .map(|(_, p)| (p.gpu.expect("compute"), p.plane))
                .collect();
            v.sort_unstable();
            v
        };
        let first_shape = shape(&self.fabric, first);
        if first_shape.is_empty() {
            self.push(
                err(
                    "FP009",
                    format!(
                        "rail-su `{}`: node `{}` has no compute NIC ports",
                        r.su.value, node_names[0]
                    ),
                )
                .at(span_of(&r.nodes), "these nodes")
                .help("give the node template `nics` with a `gpu:` each, or `rail_nics`"),
            );
            return;
        }
        if let Some(odd) = nodes
            .iter()
            .position(|n| shape(&self.fabric, *n) != first_shape)
        {
            self.push(
                err("FP009", format!("rail-su `{}` mixes node shapes: `{}` and `{}` have different rail ports", r.su.value, node_names[0], node_names[odd]))
                    .at(span_of(&r.nodes), "these nodes")
                    .help("a scalable unit is built from one kind of node; split it into one rail-su per kind"),
            );
            return;
        }
        let mut rails: Vec<u32> = first_shape.iter().map(|(g, _)| *g).collect();
        rails.dedup();
        rails.sort_unstable();
        rails.dedup();
        let planes = first_shape.iter().map(|(_, p)| p + 1).max().unwrap_or(1);
        let want = rails.len() as u64 * lpr as u64 * planes as u64;
        if leaf_names.len() as u64 != want {
            self.push(
                err("FP009", format!("rail-su `{}` needs {want} leaves ({} rails x {lpr} per rail x {planes} planes) but `leaves` names {}", r.su.value, rails.len(), leaf_names.len()))
                    .at(span_of(&r.leaves), "wrong number of leaves")
                    .help(format!("name exactly {want} leaves, rail-major: rail 0's leaves first")),
            );
            return;
        }
        // Budgets first: one link per compute NIC port of every node.
        let links = limits::mul(nodes.len() as u64, first_shape.len() as u64);
        if !self.switch_budget(want, span_of(&r.leaves)) || !self.link_budget(links, span) {
            self.refuse(&r.leaves.value);
            return;
        }
        let mut leaves = Vec::with_capacity(leaf_names.len());
        for (i, name) in leaf_names.into_iter().enumerate() {
            let i = i as u32;
            let plane = i / (rails.len() as u32 * lpr);
            let rail = rails[((i / lpr) % rails.len() as u32) as usize];
            let sw = Switch {
                name,
                tier: Tier::Leaf,
                model,
                su: Some(su),
                rail: Some(rail),
                plane,
                rack,
            };
            match self.add_switch(sw, span_of(&r.leaves)) {
                Some(id) => leaves.push(id),
                None => return,
            }
        }
        let per_leaf = nodes.len().div_ceil(lpr as usize);
        for (j, &node) in nodes.iter().enumerate() {
            let half = (j / per_leaf) as u32;
            let first_nic = self.fabric.nodes[node.index()].first_nic.0;
            let ports: Vec<(u32, u32, u32, u32)> = self
                .fabric
                .template_of(node)
                .compute_nics()
                .map(|(i, p)| (i as u32, p.gpu.expect("compute"), p.plane, p.gbps))
                .collect();
            for (i, gpu, plane, gbps) in ports {
                let rail_pos = rails.binary_search(&gpu).expect("rail of shape") as u32;
                let leaf = leaves[((plane * rails.len() as u32 + rail_pos) * lpr + half) as usize];
                let port = self.next_port(leaf);
                self.push_link(
                    Link {
                        a: Endpoint::Nic(NicId(first_nic + i)),
                        b: Endpoint::Switch(leaf, port),
                        gbps,
                        medium,
                        length_m,
                    },
                    span,
                );
            }
        }
    }

    fn uplinks(&mut self, u: &RawUplinks, span: Span) {
        let tier = self.tier(&u.tier);
        let model = self.switch_model(&u.model);
        let medium = self.medium(&u.medium);
        let length_m = self.length(&u.length_m);
        let rack = u.rack.as_ref().and_then(|x| self.rack_ref(x));
        let groups = u.groups.as_ref().map(|g| g.value).unwrap_or(1);
        let mut numbers_ok =
            self.in_range(&u.links_per_pair, "links_per_pair", &limits::LINKS_PER_PAIR)
                & self.in_range(&u.gbps, "gbps", &limits::GBPS);
        if let Some(g) = &u.groups {
            numbers_ok &= self.in_range(g, "groups", &limits::GROUPS);
        }
        let (Some(tier), Some(model), Some(medium), true) = (tier, model, medium, numbers_ok)
        else {
            // The upper switches it would create are unknown now: do not report their users.
            self.refuse(&u.to.value);
            return;
        };
        // The lower switches, in declaration order.
        let lower: Vec<SwitchId> = match u.from.value.as_str() {
            "leaf" | "spine" | "core" => {
                let t = match u.from.value.as_str() {
                    "leaf" => Tier::Leaf,
                    "spine" => Tier::Spine,
                    _ => Tier::Core,
                };
                (0..self.fabric.switches.len())
                    .map(SwitchId::from_index)
                    .filter(|s| self.fabric.switches[s.index()].tier == t)
                    .collect()
            }
            _ => {
                let Some(names) = self.expand(&u.from) else {
                    return;
                };
                let mut v = Vec::new();
                for n in names {
                    match self.names.get(&n) {
                        Some((Named::Switch(s), _)) => v.push(*s),
                        _ if self.is_refused(&n) => return,
                        _ => {
                            self.push(
                                err("FP004", format!("uplinks: unknown switch `{n}`"))
                                    .at(span_of(&u.from), "not a declared switch")
                                    .help("`from` takes a tier (`leaf`, `spine`) or a hostlist of switches declared earlier"),
                            );
                            return;
                        }
                    }
                }
                v
            }
        };
        // A tier whose switches were refused (an earlier intent or budget) matches nothing.
        if lower.is_empty() && self.any_refused() {
            return;
        }
        if lower.is_empty() {
            self.push(
                err(
                    "FP009",
                    format!("uplinks: no `{}` switches to connect", u.from.value),
                )
                .at(span_of(&u.from), "matches nothing")
                .help("declare the lower tier (or its rail-su intent) before the uplinks"),
            );
            return;
        }
        // Budgets first: every lower switch links `links_per_pair` times to each upper switch
        // of its group (computed before the upper hostlist is expanded).
        let Some(upper_count) = self.hostlist_count(&u.to) else {
            return;
        };
        let links = limits::mul(
            limits::mul(lower.len() as u64, upper_count / groups as u64),
            u.links_per_pair.value as u64,
        );
        if !self.switch_budget(upper_count, span_of(&u.to))
            || !self.link_budget(links, span_of(&u.links_per_pair))
        {
            self.refuse(&u.to.value);
            return;
        }
        let Some(upper_names) = self.expand(&u.to) else {
            return;
        };
        if upper_names.len() as u32 % groups != 0 {
            self.push(
                err(
                    "FP009",
                    format!(
                        "uplinks: {} upper switches do not split into {groups} equal groups",
                        upper_names.len()
                    ),
                )
                .at(span_of(&u.to), "uneven groups")
                .help("make the number of upper switches a multiple of `groups`"),
            );
            return;
        }
        let per_group = upper_names.len() / groups as usize;
        // Group key of each lower switch.
        let group_by = u
            .group_by
            .as_ref()
            .map(|g| g.value.as_str())
            .unwrap_or("none");
        let mut keys = Vec::with_capacity(lower.len());
        match group_by {
            "none" => {
                if groups != 1 {
                    self.push(
                        err("FP009", format!("uplinks: `groups: {groups}` needs `group_by: rail` or `group_by: position`"))
                            .at(span, "in this intent")
                            .help("say how a lower switch picks its group of upper switches"),
                    );
                    return;
                }
                keys.resize(lower.len(), 0u32);
            }
            "rail" => {
                for &s in &lower {
                    match self.fabric.switches[s.index()].rail {
                        Some(r) if r < groups => keys.push(r),
                        other => {
                            let name = self.fabric.switches[s.index()].name.clone();
                            self.push(
                                err("FP009", format!("uplinks: switch `{name}` has rail {other:?}, outside groups 0..{groups}"))
                                    .at(span_of(u.group_by.as_ref().expect("rail")), "grouping by rail")
                                    .help("`group_by: rail` needs one group per rail: set `groups` to the number of rails"),
                            );
                            return;
                        }
                    }
                }
            }
            "position" => {
                // Position of each lower switch within its rail group (all one group when no rail).
                let mut by_rail: std::collections::BTreeMap<Option<u32>, Vec<usize>> =
                    Default::default();
                for (i, &s) in lower.iter().enumerate() {
                    by_rail
                        .entry(self.fabric.switches[s.index()].rail)
                        .or_default()
                        .push(i);
                }
                keys.resize(lower.len(), 0);
                for members in by_rail.values() {
                    let n = members.len() as u64;
                    for (pos, &i) in members.iter().enumerate() {
                        keys[i] = (pos as u64 * groups as u64 / n) as u32;
                    }
                }
            }
            other => {
                self.push(
                    err("FP009", format!("unknown `group_by` `{other}`"))
                        .at(span_of(u.group_by.as_ref().expect("some")), "not a grouping")
                        .help("use `none`, `rail` (one group per rail) or `position` (by place within the rail group)"),
                );
                return;
            }
        }
        // Upper switches: all existing, or all new.
        let existing: Vec<Option<SwitchId>> = upper_names
            .iter()
            .map(|n| match self.names.get(n) {
                Some((Named::Switch(s), _)) => Some(*s),
                _ => None,
            })
            .collect();
        let upper: Vec<SwitchId> = if existing.iter().all(Option::is_some) {
            existing.into_iter().flatten().collect()
        } else if existing.iter().all(Option::is_none) {
            let mut v = Vec::with_capacity(upper_names.len());
            for (i, name) in upper_names.into_iter().enumerate() {
                let g = (i / per_group) as u32;
                let members: Vec<usize> = (0..lower.len()).filter(|&k| keys[k] == g).collect();
                let first_lower = members
                    .first()
                    .map(|&k| &self.fabric.switches[lower[k].index()]);
                let plane = first_lower.map(|s| s.plane).unwrap_or(0);
                let su = first_lower.and_then(|s| s.su).filter(|su| {
                    members
                        .iter()
                        .all(|&k| self.fabric.switches[lower[k].index()].su == Some(*su))
                });
                let rail = if group_by == "rail" { Some(g) } else { None };
                let sw = Switch {
                    name,
                    tier,
                    model,
                    su,
                    rail,
                    plane,
                    rack,
                };
                match self.add_switch(sw, span_of(&u.to)) {
                    Some(id) => v.push(id),
                    None => return,
                }
            }
            v
        } else {
            self.push(
                err("FP009", "uplinks: `to` names some declared switches and some new ones")
                    .at(span_of(&u.to), "mixed")
                    .help("either declare all upper switches under `switches:` or let the intent create all of them"),
            );
            return;
        };
        for (k, &lo) in lower.iter().enumerate() {
            let g = keys[k] as usize;
            for &up in &upper[g * per_group..(g + 1) * per_group] {
                for _ in 0..u.links_per_pair.value {
                    let pa = self.next_port(lo);
                    let pb = self.next_port(up);
                    self.push_link(
                        Link {
                            a: Endpoint::Switch(lo, pa),
                            b: Endpoint::Switch(up, pb),
                            gbps: u.gbps.value,
                            medium,
                            length_m,
                        },
                        span,
                    );
                }
            }
        }
    }
}
