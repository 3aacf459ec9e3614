//! The fabric's placement hierarchy, as schedulers see it: nodes grouped by the leaf switches
//! their NICs reach (a rail group in a rail-optimized SU, a single ToR otherwise), those
//! groups grouped by the spines above them, and spine groups by the cores above them.
//!
//! This is the tree that Slurm's `topology/tree` and Kueue's `Topology` levels describe, and
//! the levels at which `report` measures the largest placeable gang. Switches with identical
//! children are one scheduling domain (four spines over the same eight leaves are one
//! "switch" to Slurm), so they collapse into one group named after all of them.

use std::collections::BTreeMap;

use super::topology::Topology;
use crate::model::*;
use crate::util::compress_hostlist;

/// One scheduling domain at a switch tier.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchGroup {
    /// The switch's name, or for several switches their compressed hostlist with brackets
    /// made name-safe (`leaf[1-8]` -> `leaf_1-8`): Slurm reads brackets as a hostlist.
    pub name: String,
    pub tier: Tier,
    pub switches: Vec<SwitchId>,
    /// Leaf groups: the compute nodes below, in fabric order.
    pub nodes: Vec<NodeId>,
    /// Upper groups: indices into the level below.
    pub children: Vec<usize>,
}

/// Groups per tier: `tiers[0]` leaf groups, `tiers[1]` spine groups, `tiers[2]` core groups.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Levels {
    pub tiers: Vec<Vec<SwitchGroup>>,
    /// The leaf group of each node (`None`: management node or not cabled to a leaf).
    pub node_group: Vec<Option<usize>>,
}

impl Levels {
    pub fn leaf_groups(&self) -> &[SwitchGroup] {
        self.tiers.first().map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// The compute nodes below group `index` of tier level `level` (0 = leaf).
    pub fn nodes_below(&self, level: usize, index: usize) -> Vec<NodeId> {
        if level == 0 {
            return self.tiers[0][index].nodes.clone();
        }
        let mut out: Vec<NodeId> = self.tiers[level][index]
            .children
            .iter()
            .flat_map(|c| self.nodes_below(level - 1, *c))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The group of tier level `level` above node `node`, following the first parent.
    pub fn group_of(&self, node: NodeId, level: usize) -> Option<usize> {
        let mut g = self.node_group.get(node.index()).copied().flatten()?;
        for l in 1..=level {
            g = self
                .tiers
                .get(l)?
                .iter()
                .position(|p| p.children.contains(&g))?;
        }
        Some(g)
    }
}

/// A name-safe label for a set of switches.
pub fn group_name(names: &[String]) -> String {
    if names.len() == 1 {
        return names[0].clone();
    }
    let name = compress_hostlist(names)
        .replace('[', "_")
        .replace(']', "")
        .replace(',', "_");
    // Irregular sets (128 spines of 8 rails) compress badly: name them by their ends.
    if name.len() <= 48 {
        return name;
    }
    format!("{}-to-{}-{}", names[0], names[names.len() - 1], names.len())
}

/// Derives the hierarchy from the cabling.
pub fn levels(f: &Fabric) -> Levels {
    let topo = Topology::new(f);
    // Leaf sets per node.
    let mut by_set: BTreeMap<Vec<SwitchId>, Vec<NodeId>> = BTreeMap::new();
    let mut node_set: Vec<Option<Vec<SwitchId>>> = vec![None; f.nodes.len()];
    for (i, _) in f.nodes.iter().enumerate() {
        let node = NodeId::from_index(i);
        if !f.is_compute_node(node) {
            continue;
        }
        let mut set: Vec<SwitchId> = f
            .node_nics(node)
            .filter_map(|n| topo.nic_switch[n.index()])
            .filter(|s| f.switches[s.index()].tier == Tier::Leaf)
            .collect();
        set.sort_unstable();
        set.dedup();
        if set.is_empty() {
            continue;
        }
        by_set.entry(set.clone()).or_default().push(node);
        node_set[i] = Some(set);
    }
    // Order groups by their first node.
    let mut leaf_groups: Vec<(Vec<SwitchId>, Vec<NodeId>)> = by_set.into_iter().collect();
    leaf_groups.sort_by_key(|(_, nodes)| nodes[0]);
    let mut node_group = vec![None; f.nodes.len()];
    let mut tier0 = Vec::new();
    for (gi, (set, nodes)) in leaf_groups.into_iter().enumerate() {
        for n in &nodes {
            node_group[n.index()] = Some(gi);
        }
        let names: Vec<String> = set
            .iter()
            .map(|s| f.switches[s.index()].name.clone())
            .collect();
        tier0.push(SwitchGroup {
            name: group_name(&names),
            tier: Tier::Leaf,
            switches: set,
            nodes,
            children: Vec::new(),
        });
    }
    let mut tiers = vec![tier0];
    for tier in [Tier::Spine, Tier::Core] {
        let below = tiers.last().expect("leaf tier");
        // Which lower group each lower switch belongs to.
        let mut switch_groups: BTreeMap<SwitchId, Vec<usize>> = BTreeMap::new();
        for (gi, g) in below.iter().enumerate() {
            for s in &g.switches {
                switch_groups.entry(*s).or_default().push(gi);
            }
        }
        let mut by_children: BTreeMap<Vec<usize>, Vec<SwitchId>> = BTreeMap::new();
        for (i, s) in f.switches.iter().enumerate() {
            if s.tier != tier {
                continue;
            }
            let id = SwitchId::from_index(i);
            let mut children: Vec<usize> = topo.switch_links[i]
                .iter()
                .filter_map(|l| Topology::peer_switch(f, *l, id))
                .filter(|p| f.switches[p.index()].tier < tier)
                .flat_map(|p| switch_groups.get(&p).cloned().unwrap_or_default())
                .collect();
            children.sort_unstable();
            children.dedup();
            if !children.is_empty() {
                by_children.entry(children).or_default().push(id);
            }
        }
        if by_children.is_empty() {
            break;
        }
        let mut groups: Vec<(Vec<usize>, Vec<SwitchId>)> = by_children.into_iter().collect();
        groups.sort_by_key(|(_, sw)| sw[0]);
        tiers.push(
            groups
                .into_iter()
                .map(|(children, switches)| {
                    let names: Vec<String> = switches
                        .iter()
                        .map(|s| f.switches[s.index()].name.clone())
                        .collect();
                    SwitchGroup {
                        name: group_name(&names),
                        tier,
                        switches,
                        nodes: Vec::new(),
                        children,
                    }
                })
                .collect(),
        );
    }
    if tiers[0].is_empty() {
        tiers.clear();
    }
    Levels { tiers, node_group }
}
