//! Topograph placements compared with the design (docs/as-built.md, "topograph"): which leaf
//! each node hangs off, which switch sits above which, and which NVLink block holds which
//! node. Topograph reports no ports, so this finds a node on the wrong leaf or in the wrong
//! block, a missing node, and a tree that does not follow the design's cabling; a port-level
//! miswire needs `ibnetdiscover` or LLDP.
//!
//! Names: a topograph switch is a design switch when the mapping file maps it (by name or
//! `S-` GUID), or when its name or its original name (topograph's `# name=original` comment)
//! equals a design switch's name, case-insensitively. Nodes match by mapping or by name.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::diff::Finding;
use super::mapping::Mapping;
use super::{Capture, CapturedEnd, Seen, TierSwitch};
use crate::diag::{Diagnostic, Severity};
use crate::model::{DomainKind, Endpoint, Entity, Fabric, NodeId, SwitchId, Tier};

#[derive(Debug, Default)]
pub struct PlacementResult {
    pub findings: Vec<Finding>,
    /// Placements read (nodes topograph reported).
    pub nodes: usize,
}

fn lookup_name(map: Option<&Mapping>, name: &str) -> String {
    let end = CapturedEnd {
        device: name.to_string(),
        port: String::new(),
        guid: name
            .strip_prefix("S-")
            .or_else(|| name.strip_prefix("H-"))
            .map(|_| name.to_string()),
        named: true,
    };
    map.and_then(|m| m.resolve(&end))
        .map(|(d, _)| d)
        .unwrap_or_else(|| name.to_string())
        .to_ascii_lowercase()
}

struct Design<'a> {
    f: &'a Fabric,
    switches: HashMap<String, SwitchId>,
    nodes: HashMap<String, NodeId>,
    /// Leaves each node's NICs are cabled to.
    leaves: Vec<BTreeSet<SwitchId>>,
    /// Higher-tier switches each switch is cabled to.
    ups: Vec<BTreeSet<SwitchId>>,
}

impl<'a> Design<'a> {
    fn new(f: &'a Fabric) -> Self {
        let mut d = Design {
            f,
            switches: HashMap::new(),
            nodes: HashMap::new(),
            leaves: vec![BTreeSet::new(); f.nodes.len()],
            ups: vec![BTreeSet::new(); f.switches.len()],
        };
        for (i, s) in f.switches.iter().enumerate() {
            d.switches
                .insert(s.name.to_ascii_lowercase(), SwitchId::from_index(i));
        }
        for (i, n) in f.nodes.iter().enumerate() {
            d.nodes
                .insert(n.name.to_ascii_lowercase(), NodeId::from_index(i));
        }
        let level = |s: &SwitchId| f.switches[s.index()].tier.level();
        for l in &f.links {
            match (&l.a, &l.b) {
                (Endpoint::Nic(c), Endpoint::Switch(s, _))
                | (Endpoint::Switch(s, _), Endpoint::Nic(c)) => {
                    d.leaves[f.nics[c.index()].node.index()].insert(*s);
                }
                (Endpoint::Switch(a, _), Endpoint::Switch(b, _)) => {
                    if level(a) < level(b) {
                        d.ups[a.index()].insert(*b);
                    } else if level(b) < level(a) {
                        d.ups[b.index()].insert(*a);
                    }
                }
                _ => {}
            }
        }
        d
    }

    fn switch(&self, map: Option<&Mapping>, t: &TierSwitch) -> Option<SwitchId> {
        let direct = lookup_name(map, &t.name);
        self.switches.get(&direct).copied().or_else(|| {
            t.alias
                .as_ref()
                .and_then(|a| self.switches.get(&lookup_name(map, a)).copied())
        })
    }

    fn names(&self, set: &BTreeSet<SwitchId>) -> String {
        let v: Vec<String> = set
            .iter()
            .map(|s| format!("`{}`", self.f.switches[s.index()].name))
            .collect();
        if v.is_empty() {
            "no leaf".into()
        } else {
            v.join(", ")
        }
    }
}

fn shown(t: &TierSwitch) -> String {
    match &t.alias {
        Some(a) => format!("`{}` (`{a}`)", t.name),
        None => format!("`{}`", t.name),
    }
}

/// Compares every placement of the captures with the design.
pub fn diff(f: &Fabric, cap: &Capture, map: Option<&Mapping>) -> PlacementResult {
    let d = Design::new(f);
    let mut out = PlacementResult {
        nodes: cap.placements.len(),
        ..Default::default()
    };
    if cap.placements.is_empty() {
        return out;
    }
    let mut unknown_switches: BTreeMap<String, (Seen, usize, Option<String>)> = BTreeMap::new();
    let mut parents_done: BTreeSet<(SwitchId, SwitchId)> = BTreeSet::new();
    let mut placed_tree: BTreeSet<NodeId> = BTreeSet::new();
    let mut placed_block: BTreeMap<NodeId, (String, Seen)> = BTreeMap::new();
    let mut seen_leaf: BTreeMap<SwitchId, Seen> = BTreeMap::new();
    let any_tree = cap.placements.iter().any(|p| !p.tiers.is_empty());
    let any_block = cap.placements.iter().any(|p| p.block.is_some());
    for p in &cap.placements {
        let Some(node) = d.nodes.get(&lookup_name(map, &p.node)).copied() else {
            out.findings.push(Finding {
                diag: Diagnostic::new("FP968", Severity::Warning, format!("topograph lists node `{}`, which the design does not have", p.node))
                    .help(format!("add `{}` to the design, or map its name under `devices:` in the mapping file if the design calls it something else", p.node)),
                seen: vec![(p.seen, "this node".into())],
            });
            continue;
        };
        let name = &f.nodes[node.index()].name;
        if let Some(b) = &p.block {
            placed_block.insert(node, (b.name.clone(), b.seen));
        }
        if p.tiers.is_empty() {
            continue;
        }
        placed_tree.insert(node);
        let designed = &d.leaves[node.index()];
        for leaf in std::iter::once(&p.tiers[0]).chain(&p.extra_leaves) {
            // The leaf's own place: the `SwitchName=` line that lists the node, or its
            // `tier-0` label.
            let seen = leaf.seen;
            let resolved = d.switch(map, leaf);
            if let Some(sw) = resolved {
                seen_leaf.entry(sw).or_insert(leaf.seen);
            }
            let Some(sw) = resolved else {
                let e = unknown_switches.entry(leaf.name.clone()).or_insert((
                    leaf.seen,
                    0,
                    leaf.alias.clone(),
                ));
                e.1 += 1;
                continue;
            };
            if designed.contains(&sw) {
                continue;
            }
            let s = &f.switches[sw.index()];
            let group = match (s.su, f.nodes[node.index()].su) {
                (Some(a), Some(b)) if a != b => format!(
                    " (a leaf of SU `{}`; the node is in SU `{}`)",
                    f.sus[a.index()],
                    f.sus[b.index()]
                ),
                _ => String::new(),
            };
            out.findings.push(Finding {
                diag: Diagnostic::error("FP966", format!(
                    "topograph puts node `{name}` under `{}`{group}; the design cables it to {}",
                    s.name, d.names(designed)
                ))
                .on(Entity::Node(node), None, "designed here")
                .help(format!(
                    "trace `{name}`'s cables: one is on `{}` (an `ibnetdiscover` or LLDP capture shows the port, and `fabplan as-built` then names the cable to move)",
                    s.name
                )),
                seen: vec![(seen, format!("`{name}` under {}", shown(leaf)))],
            });
        }
        for w in p.tiers.windows(2) {
            let (Some(lo), Some(hi)) = (d.switch(map, &w[0]), d.switch(map, &w[1])) else {
                for t in [&w[0], &w[1]] {
                    if d.switch(map, t).is_none() && !unknown_switches.contains_key(&t.name) {
                        unknown_switches.insert(t.name.clone(), (t.seen, 0, t.alias.clone()));
                    }
                }
                continue;
            };
            if d.ups[lo.index()].contains(&hi) || !parents_done.insert((lo, hi)) {
                continue;
            }
            let (ls, hs) = (&f.switches[lo.index()], &f.switches[hi.index()]);
            let inverted = if d.ups[hi.index()].contains(&lo) {
                format!(
                    " above it: the design cables them the other way up, `{}` under `{}` (topograph infers tiers from where the hosts it was given sit, so a partial host list can invert them)",
                    hs.name, ls.name
                )
            } else if hs.tier.level() <= ls.tier.level() {
                format!(
                    " (a {} above a {}: topograph infers tiers from where the hosts it was given sit, so a partial host list can invert them)",
                    hs.tier.as_str(),
                    ls.tier.as_str()
                )
            } else {
                String::new()
            };
            out.findings.push(Finding {
                diag: Diagnostic::error("FP971", format!(
                    "topograph puts `{}` above `{}`{}",
                    hs.name,
                    ls.name,
                    if inverted.starts_with(" above it") {
                        inverted.trim_start_matches(" above it").to_string()
                    } else {
                        format!("; the design has no cable between them{inverted}")
                    }
                ))
                .on(Entity::Switch(lo), None, "designed here")
                .help(if d.ups[lo.index()].is_empty() {
                    format!(
                        "`{}` is a {} with nothing above it in the design; run topograph with every node of the fabric so it sees the real tiers",
                        ls.name,
                        ls.tier.as_str()
                    )
                } else {
                    format!(
                        "`{}` is designed under {}; check its uplinks, or run topograph with every node of the fabric",
                        ls.name,
                        d.names(&d.ups[lo.index()])
                    )
                }),
                seen: vec![(w[1].seen, format!("{} above {}", shown(&w[1]), shown(&w[0])))],
            });
        }
    }
    for (sw, (seen, nodes, alias)) in unknown_switches {
        let alias = alias.map(|a| format!(" (`{a}`)")).unwrap_or_default();
        out.findings.push(Finding {
            diag: Diagnostic::new("FP970", Severity::Warning, if nodes > 0 {
                format!("topograph's switch `{sw}`{alias} is not a switch of the design: {nodes} node placement(s) under it cannot be checked")
            } else {
                format!("topograph's switch `{sw}`{alias} is not a switch of the design: the tree through it cannot be checked")
            })
            .help(format!("map `{sw}` to its design name under `devices:` in the mapping file (on InfiniBand topograph names switches by GUID); a hashed label value (`x` and 16 hex digits) matches no name")),
            seen: vec![(seen, "not in the design".into())],
        });
    }
    // Missing: a GPU node designed on a leaf topograph reports, but not listed anywhere.
    // Nodes of leaves topograph does not report at all are outside what it was given (its
    // host list can be partial) and are not judged.
    for (i, n) in f.nodes.iter().enumerate() {
        let id = NodeId::from_index(i);
        let gpu_node = f.template_of(id).gpus > 0;
        let seen_leaves: BTreeSet<SwitchId> = d.leaves[i]
            .iter()
            .filter(|s| f.switches[s.index()].tier == Tier::Leaf && seen_leaf.contains_key(s))
            .copied()
            .collect();
        if any_tree && gpu_node && !seen_leaves.is_empty() && !placed_tree.contains(&id) {
            out.findings.push(Finding {
                diag: Diagnostic::error("FP967", format!("node `{}` is in no topograph tree, though topograph reports its {} {}", n.name, if seen_leaves.len() > 1 { "leaves" } else { "leaf" }, d.names(&seen_leaves)))
                    .on(Entity::Node(id), None, "designed here")
                    .help(format!("check that `{}` is up, in the host list topograph was given, and that its HCAs carry its host name (an adapter-default description names no host); if it has another name there, map it under `devices:`", n.name)),
                seen: seen_leaves
                    .iter()
                    .take(1)
                    .map(|s| (seen_leaf[s], format!("its leaf, without `{}`", n.name)))
                    .collect(),
            });
        }
    }
    // Blocks: each rack-scale NVLink domain should be one block.
    if any_block {
        let domain_of = |n: NodeId| {
            f.nodes[n.index()]
                .nvlink_domain
                .filter(|dm| f.nvlink_domains[dm.index()].kind == DomainKind::Nvl72)
        };
        let mut per_domain: BTreeMap<usize, BTreeMap<&str, Vec<NodeId>>> = BTreeMap::new();
        for (n, (b, _)) in &placed_block {
            if let Some(dm) = domain_of(*n) {
                per_domain
                    .entry(dm.index())
                    .or_default()
                    .entry(b.as_str())
                    .or_default()
                    .push(*n);
            }
        }
        let mut homes: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (dm, blocks) in &per_domain {
            let home = blocks
                .iter()
                .max_by(|a, b| a.1.len().cmp(&b.1.len()).then_with(|| b.0.cmp(a.0)))
                .map(|(b, _)| *b)
                .expect("a domain with placed nodes has a block");
            homes.entry(home).or_default().push(*dm);
            let dname = &f.nvlink_domains[*dm].name;
            for (b, nodes) in blocks {
                if *b == home {
                    continue;
                }
                for n in nodes {
                    let seen = placed_block[n].1;
                    out.findings.push(Finding {
                        diag: Diagnostic::error("FP969", format!(
                            "topograph puts node `{}` in block `{b}`, the rest of its NVLink domain `{dname}` in block `{home}`",
                            f.nodes[n.index()].name
                        ))
                        .on(Entity::Node(*n), None, "designed here")
                        .help(format!("the node's NVLink is not joined to `{dname}`'s: check its NVLink cables and Fabric Manager's partition (the block is topograph's accelerator domain)")),
                        seen: vec![(seen, format!("block `{b}`"))],
                    });
                }
            }
        }
        for (b, dms) in homes {
            if dms.len() < 2 {
                continue;
            }
            let names: Vec<String> = dms
                .iter()
                .map(|dm| format!("`{}`", f.nvlink_domains[*dm].name))
                .collect();
            let first = f.nvlink_domains[dms[0]].nodes[0];
            let seen = placed_block
                .values()
                .find(|(x, _)| x == b)
                .map(|(_, s)| *s)
                .expect("a home block has a placed node");
            out.findings.push(Finding {
                diag: Diagnostic::error("FP969", format!("topograph's block `{b}` joins NVLink domains {}, which the design keeps apart", names.join(", ")))
                    .on(Entity::Node(first), None, "designed here")
                    .help("a block is one NVLink domain: check which NVLink partition Fabric Manager built, or the block names given to topograph"),
                seen: vec![(seen, format!("block `{b}`"))],
            });
        }
        for dm in &f.nvlink_domains {
            if dm.kind != DomainKind::Nvl72 {
                continue;
            }
            for n in &dm.nodes {
                if !placed_block.contains_key(n) {
                    out.findings.push(Finding {
                        diag: Diagnostic::error("FP967", format!("node `{}` of NVLink domain `{}` is in no topograph block", f.nodes[n.index()].name, dm.name))
                            .on(Entity::Node(*n), None, "designed here")
                            .help("check that the node is up and that Fabric Manager added it to its NVLink domain (its `nvidia.com/gpu.clique` label is set once it has)"),
                        seen: Vec::new(),
                    });
                }
            }
        }
    }
    out
}
