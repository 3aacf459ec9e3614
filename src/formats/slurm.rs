//! Slurm topology, in and out: `topology.yaml` (Slurm 25.05+) and the older `topology.conf`.
//!
//! Syntax (SchedMD `topology.conf(5)` and `topology.yaml(5)`; notes in
//! `shared/reference/peers-and-formats.md` sections 1.4 and 4):
//! - tree: `SwitchName=leaf3 Nodes=h[065-096]`, `SwitchName=sp1 Switches=leaf[1-4]`
//!   (`LinkSpeed=` is parsed by Slurm and unused);
//! - block: `BlockName=nvl-a Nodes=gb-a[01-18]` and `BlockSizes=18,36`: the first size is the
//!   planning base (every block has at least that many nodes), each later one a power-of-two
//!   multiple of the one before;
//! - `topology.yaml`: a list of `{topology, cluster_default, tree | block | flat}`.
//!
//! The tree is [`crate::fabric::levels`]: nodes grouped by the leaves they reach, switches
//! with identical children collapsed. Blocks are the NVLink domains that span several nodes
//! (NVL72 racks); single-node HGX boards make no useful block.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Deserialize;

use crate::error::InputError;
use crate::fabric::levels::levels;
use crate::model::*;
use crate::util::{compress_hostlist, expand_hostlist};

const CODE: &str = "fabplan::import::slurm";

/// One switch of a tree topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeSwitch {
    pub name: String,
    /// Child switches (expanded).
    pub switches: Vec<String>,
    /// Nodes cabled to this switch (expanded).
    pub nodes: Vec<String>,
}

/// One block (an NVLink domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub name: String,
    pub nodes: Vec<String>,
}

/// A Slurm topology: a tree, blocks, or both (topology.yaml allows both).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlurmTopology {
    /// The tree topology's name in topology.yaml.
    pub tree_name: String,
    /// Switches, top level first.
    pub tree: Vec<TreeSwitch>,
    pub block_name: String,
    pub block_sizes: Vec<u32>,
    pub blocks: Vec<Block>,
}

/// Which topology plugin a `topology.conf` describes (one file holds one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfKind {
    Tree,
    Block,
}

/// The Slurm view of a fabric.
pub fn from_fabric(f: &Fabric) -> SlurmTopology {
    let lv = levels(f);
    let mut tree = Vec::new();
    for (level, groups) in lv.tiers.iter().enumerate().rev() {
        for g in groups {
            tree.push(TreeSwitch {
                name: g.name.clone(),
                switches: if level == 0 {
                    Vec::new()
                } else {
                    g.children
                        .iter()
                        .map(|c| lv.tiers[level - 1][*c].name.clone())
                        .collect()
                },
                nodes: g
                    .nodes
                    .iter()
                    .map(|n| f.nodes[n.index()].name.clone())
                    .collect(),
            });
        }
    }
    let blocks: Vec<Block> = f
        .nvlink_domains
        .iter()
        .filter(|d| d.nodes.len() > 1)
        .map(|d| Block {
            name: d.name.clone(),
            nodes: d
                .nodes
                .iter()
                .map(|n| f.nodes[n.index()].name.clone())
                .collect(),
        })
        .collect();
    SlurmTopology {
        tree_name: format!("{}-tree", f.name),
        tree,
        block_name: format!("{}-nvlink", f.name),
        block_sizes: block_sizes(&blocks),
        blocks,
    }
}

/// Base size = the smallest block; then doubling up to all blocks together.
pub fn block_sizes(blocks: &[Block]) -> Vec<u32> {
    let Some(base) = blocks.iter().map(|b| b.nodes.len() as u32).min() else {
        return Vec::new();
    };
    let mut sizes = vec![base];
    let total = base * blocks.len() as u32;
    while let Some(&last) = sizes.last() {
        if last * 2 > total {
            break;
        }
        sizes.push(last * 2);
    }
    sizes
}

fn join_sizes(s: &[u32]) -> String {
    s.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `topology.yaml`: the tree (cluster default) and, when there are blocks, a block topology.
pub fn render_yaml(t: &SlurmTopology, header: &str) -> String {
    let mut o = String::new();
    for line in header.lines() {
        let _ = writeln!(o, "# {line}");
    }
    if !t.tree.is_empty() {
        let _ = writeln!(o, "- topology: {}", t.tree_name);
        let _ = writeln!(o, "  cluster_default: true");
        let _ = writeln!(o, "  tree:");
        let _ = writeln!(o, "    switches:");
        for s in &t.tree {
            let _ = writeln!(o, "      - switch: {}", s.name);
            if !s.switches.is_empty() {
                let _ = writeln!(
                    o,
                    "        children: \"{}\"",
                    compress_hostlist(&s.switches)
                );
            }
            if !s.nodes.is_empty() {
                let _ = writeln!(o, "        nodes: \"{}\"", compress_hostlist(&s.nodes));
            }
        }
    }
    if !t.blocks.is_empty() {
        let _ = writeln!(o, "- topology: {}", t.block_name);
        let _ = writeln!(o, "  cluster_default: {}", t.tree.is_empty());
        let _ = writeln!(o, "  block:");
        let _ = writeln!(
            o,
            "    block_sizes: [{}]",
            t.block_sizes
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(o, "    blocks:");
        for b in &t.blocks {
            let _ = writeln!(o, "      - block: {}", b.name);
            let _ = writeln!(o, "        nodes: \"{}\"", compress_hostlist(&b.nodes));
        }
    }
    if t.tree.is_empty() && t.blocks.is_empty() {
        let _ = writeln!(o, "- topology: {}", t.tree_name);
        let _ = writeln!(o, "  cluster_default: true");
        let _ = writeln!(o, "  flat: true");
    }
    o
}

/// `topology.conf` for one plugin (`topology/tree` or `topology/block`).
pub fn render_conf(t: &SlurmTopology, kind: ConfKind, header: &str) -> String {
    let mut o = String::new();
    for line in header.lines() {
        let _ = writeln!(o, "# {line}");
    }
    match kind {
        ConfKind::Tree => {
            let _ = writeln!(o, "# slurm.conf: TopologyPlugin=topology/tree");
            for s in &t.tree {
                let mut line = format!("SwitchName={}", s.name);
                if !s.switches.is_empty() {
                    let _ = write!(line, " Switches={}", compress_hostlist(&s.switches));
                }
                if !s.nodes.is_empty() {
                    let _ = write!(line, " Nodes={}", compress_hostlist(&s.nodes));
                }
                let _ = writeln!(o, "{line}");
            }
        }
        ConfKind::Block => {
            let _ = writeln!(o, "# slurm.conf: TopologyPlugin=topology/block");
            for b in &t.blocks {
                let _ = writeln!(
                    o,
                    "BlockName={} Nodes={}",
                    b.name,
                    compress_hostlist(&b.nodes)
                );
            }
            if !t.block_sizes.is_empty() {
                let _ = writeln!(o, "BlockSizes={}", join_sizes(&t.block_sizes));
            }
        }
    }
    o
}

// ---- import ---------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopology {
    topology: String,
    #[serde(default)]
    #[allow(dead_code)]
    cluster_default: Option<bool>,
    #[serde(default)]
    tree: Option<RawTree>,
    #[serde(default)]
    block: Option<RawBlockTopo>,
    #[serde(default)]
    #[allow(dead_code)]
    flat: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTree {
    switches: Vec<RawTreeSwitch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTreeSwitch {
    switch: String,
    #[serde(default)]
    children: Option<String>,
    #[serde(default)]
    nodes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlockTopo {
    #[serde(default)]
    block_sizes: Vec<u32>,
    blocks: Vec<RawBlock>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlock {
    block: String,
    nodes: String,
}

/// Whether the text looks like `topology.yaml` (a YAML list) rather than `topology.conf`.
fn is_yaml(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with('-') || l.starts_with("topology:"))
}

fn line_span(text: &str, line_no: usize) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i == line_no {
            return Some(start..start + line.trim_end().len().max(1));
        }
        start += line.len();
    }
    None
}

/// Parses a `topology.conf` or `topology.yaml`; `origin` names the file in errors.
#[allow(clippy::result_large_err)]
pub fn parse(text: &str, origin: &str) -> Result<SlurmTopology, InputError> {
    let t = if is_yaml(text) {
        parse_yaml(text, origin)?
    } else {
        parse_conf(text, origin)?
    };
    check(&t, text, origin)?;
    Ok(t)
}

#[allow(clippy::result_large_err)]
/// Expands one hostlist of the import. `total` counts the names of every hostlist so far:
/// the import's size is checked before each expansion (crate::limits::MAX_IMPORT_NAMES).
fn expand(
    text: &str,
    origin: &str,
    list: &str,
    span: Option<std::ops::Range<usize>>,
    total: &mut u64,
) -> Result<Vec<String>, InputError> {
    *total = total.saturating_add(crate::util::hostlist_len(list).unwrap_or(0));
    if *total > crate::limits::MAX_IMPORT_NAMES {
        return Err(InputError::at(
            CODE,
            origin,
            text,
            span,
            format!(
                "the topology's hostlists expand to {total} names (up to `{list}`), more than the limit of {}",
                crate::limits::MAX_IMPORT_NAMES
            ),
        )
        .with_help(format!("fabplan imports at most {} node and switch names (docs/limits.md)", crate::limits::MAX_IMPORT_NAMES)));
    }
    expand_hostlist(list).map_err(|e| {
        InputError::at(
            CODE,
            origin,
            text,
            span,
            format!("bad hostlist `{list}`: {}", e.0),
        )
        .with_help("write hostlists as Slurm does: `gb-a[01-18]`, `leaf[1-4],spine1`")
    })
}

#[allow(clippy::result_large_err)]
fn parse_yaml(text: &str, origin: &str) -> Result<SlurmTopology, InputError> {
    let raw: Vec<RawTopology> = serde_saphyr::from_str_with_options(text, crate::source::parse_options()).map_err(|e| {
        InputError::at(CODE, origin, text, None, format!("invalid topology.yaml: {}", e.without_snippet()))
            .with_help("a list of `{topology: NAME, tree: {switches: [...]}}` or `{topology: NAME, block: {block_sizes: [...], blocks: [...]}}`")
    })?;
    let mut t = SlurmTopology::default();
    let mut names = 0u64;
    for topo in raw {
        if let Some(tree) = topo.tree {
            if !t.tree.is_empty() {
                return Err(InputError::at(
                    CODE,
                    origin,
                    text,
                    None,
                    "more than one tree topology",
                )
                .with_help("fabplan imports one tree and one block topology; split the file"));
            }
            t.tree_name = topo.topology.clone();
            for s in tree.switches {
                t.tree.push(TreeSwitch {
                    switches: match &s.children {
                        Some(c) => expand(text, origin, c, None, &mut names)?,
                        None => Vec::new(),
                    },
                    nodes: match &s.nodes {
                        Some(n) => expand(text, origin, n, None, &mut names)?,
                        None => Vec::new(),
                    },
                    name: s.switch,
                });
            }
        }
        if let Some(block) = topo.block {
            if !t.blocks.is_empty() {
                return Err(InputError::at(
                    CODE,
                    origin,
                    text,
                    None,
                    "more than one block topology",
                )
                .with_help("fabplan imports one tree and one block topology; split the file"));
            }
            t.block_name = topo.topology.clone();
            t.block_sizes = block.block_sizes;
            for b in block.blocks {
                t.blocks.push(Block {
                    nodes: expand(text, origin, &b.nodes, None, &mut names)?,
                    name: b.block,
                });
            }
        }
    }
    Ok(t)
}

#[allow(clippy::result_large_err)]
fn parse_conf(text: &str, origin: &str) -> Result<SlurmTopology, InputError> {
    let mut t = SlurmTopology {
        tree_name: "tree".into(),
        block_name: "block".into(),
        ..Default::default()
    };
    let mut names = 0u64;
    for (no, raw_line) in text.lines().enumerate() {
        let line = raw_line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let span = line_span(text, no);
        let fail = |msg: String| {
            InputError::at(CODE, origin, text, span.clone(), msg).with_help(
                "expected `SwitchName=NAME [Switches=LIST] [Nodes=LIST] [LinkSpeed=N]`, \
`BlockName=NAME Nodes=LIST` or `BlockSizes=N,N,...`",
            )
        };
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        let mut first = None;
        for tok in line.split_whitespace() {
            let Some((k, v)) = tok.split_once('=') else {
                return Err(fail(format!("`{tok}` is not KEY=VALUE")));
            };
            let k = k.to_ascii_lowercase();
            first.get_or_insert(k.clone());
            fields.insert(k, v.to_string());
        }
        match first.as_deref() {
            Some("switchname") => {
                for k in fields.keys() {
                    if !["switchname", "switches", "nodes", "linkspeed"].contains(&k.as_str()) {
                        return Err(fail(format!("unknown key `{k}` on a switch line")));
                    }
                }
                t.tree.push(TreeSwitch {
                    name: fields["switchname"].clone(),
                    switches: match fields.get("switches") {
                        Some(l) => expand(text, origin, l, span.clone(), &mut names)?,
                        None => Vec::new(),
                    },
                    nodes: match fields.get("nodes") {
                        Some(l) => expand(text, origin, l, span.clone(), &mut names)?,
                        None => Vec::new(),
                    },
                });
            }
            Some("blockname") => {
                for k in fields.keys() {
                    if !["blockname", "nodes"].contains(&k.as_str()) {
                        return Err(fail(format!("unknown key `{k}` on a block line")));
                    }
                }
                let Some(nodes) = fields.get("nodes") else {
                    return Err(fail("a block needs `Nodes=`".into()));
                };
                t.blocks.push(Block {
                    name: fields["blockname"].clone(),
                    nodes: expand(text, origin, nodes, span.clone(), &mut names)?,
                });
            }
            Some("blocksizes") => {
                let v = &fields["blocksizes"];
                t.block_sizes = v
                    .split(',')
                    .map(|s| s.trim().parse::<u32>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| fail(format!("`BlockSizes={v}` is not a list of numbers")))?;
            }
            Some(other) => return Err(fail(format!("unknown line kind `{other}`"))),
            None => {}
        }
    }
    Ok(t)
}

/// Structural checks: names unique, children declared, each node under one leaf switch, block
/// sizes as Slurm requires.
#[allow(clippy::result_large_err)]
fn check(t: &SlurmTopology, text: &str, origin: &str) -> Result<(), InputError> {
    let fail = |msg: String, help: &str| {
        InputError::at(CODE, origin, text, None, msg).with_help(help.to_string())
    };
    let names: BTreeSet<&str> = t.tree.iter().map(|s| s.name.as_str()).collect();
    if names.len() != t.tree.len() {
        return Err(fail(
            "a switch is declared twice".into(),
            "give each SwitchName one line",
        ));
    }
    let mut seen_nodes = BTreeSet::new();
    for s in &t.tree {
        if !s.switches.is_empty() && !s.nodes.is_empty() {
            return Err(fail(
                format!("switch `{}` has both child switches and nodes", s.name),
                "fabplan maps switches with nodes to leaves; put the nodes under a leaf switch",
            ));
        }
        for c in &s.switches {
            if !names.contains(c.as_str()) {
                return Err(fail(
                    format!(
                        "switch `{}` lists child `{c}`, which is not declared",
                        s.name
                    ),
                    "declare every child switch with its own SwitchName line",
                ));
            }
        }
        for n in &s.nodes {
            if !seen_nodes.insert(n.as_str()) {
                return Err(fail(
                    format!("node `{n}` is under two leaf switches"),
                    "Slurm's tree places each node under one leaf switch",
                ));
            }
        }
    }
    if let Some(&base) = t.block_sizes.first() {
        for b in &t.blocks {
            if (b.nodes.len() as u32) < base {
                return Err(fail(
                    format!(
                        "block `{}` has {} nodes, fewer than the base block size {base}",
                        b.name,
                        b.nodes.len()
                    ),
                    "every block needs at least the first BlockSizes entry of nodes",
                ));
            }
        }
        for w in t.block_sizes.windows(2) {
            let ratio = w[1] / w[0].max(1);
            if w[1] % w[0].max(1) != 0 || !ratio.is_power_of_two() || ratio < 2 {
                return Err(fail(
                    format!("block size {} is not a power-of-two multiple of {}", w[1], w[0]),
                    "each BlockSizes entry must be a power-of-two multiple of the one before (18,36,72)",
                ));
            }
        }
    }
    Ok(())
}

/// How to fill in what a Slurm topology does not say.
#[derive(Debug, Clone, PartialEq)]
pub struct SkeletonOptions {
    pub fabric_name: String,
    /// Catalog key of the nodes' GPU model (none: GPU-less skeleton).
    pub gpu: Option<String>,
    pub gpus_per_node: u32,
    pub node_power_kw: f64,
    pub link_gbps: u32,
    pub transport: Transport,
}

/// Tier of each tree switch: 1 for switches with nodes, else one above its highest child.
fn tiers(t: &SlurmTopology) -> Result<BTreeMap<String, u8>, String> {
    let by_name: BTreeMap<&str, &TreeSwitch> =
        t.tree.iter().map(|s| (s.name.as_str(), s)).collect();
    fn level(name: &str, by: &BTreeMap<&str, &TreeSwitch>, depth: usize) -> Result<u8, String> {
        if depth > 8 {
            return Err(format!("the tree has a cycle through `{name}`"));
        }
        let s = by[name];
        if s.switches.is_empty() {
            return Ok(1);
        }
        let mut m = 0;
        for c in &s.switches {
            m = m.max(level(c, by, depth + 1)?);
        }
        Ok(m + 1)
    }
    let mut out = BTreeMap::new();
    for s in &t.tree {
        let l = level(&s.name, &by_name, 0)?;
        if l > 3 {
            return Err(format!(
                "switch `{}` is {l} tiers up; fabplan models at most 3 (leaf, spine, core)",
                s.name
            ));
        }
        out.insert(s.name.clone(), l);
    }
    Ok(out)
}

fn tier_name(level: u8) -> &'static str {
    match level {
        1 => "leaf",
        2 => "spine",
        _ => "core",
    }
}

/// A fabric skeleton (fabric YAML) with the topology's nodes, switches and cabling: one NIC
/// port per node to its leaf switch, one link per parent-child pair, one rack per block (an
/// NVL72 domain when the nodes have GPUs) or per leaf switch. Power, GPUs and speeds come
/// from `options`; review them before planning on the result.
pub fn skeleton_yaml(
    t: &SlurmTopology,
    o: &SkeletonOptions,
    header: &str,
) -> Result<String, String> {
    let tiers = tiers(t)?;
    let gbps = o.link_gbps;
    // Nodes in order of first appearance: blocks, then tree leaves.
    let mut rack_of: BTreeMap<String, String> = BTreeMap::new();
    let mut racks: Vec<(String, Vec<String>, bool)> = Vec::new(); // (name, nodes, nvl72)
    for b in &t.blocks {
        racks.push((b.name.clone(), b.nodes.clone(), o.gpu.is_some()));
        for n in &b.nodes {
            rack_of.insert(n.clone(), b.name.clone());
        }
    }
    for s in &t.tree {
        let loose: Vec<String> = s
            .nodes
            .iter()
            .filter(|n| !rack_of.contains_key(*n))
            .cloned()
            .collect();
        if loose.is_empty() {
            continue;
        }
        let name = format!("rack-{}", s.name);
        for n in &loose {
            rack_of.insert(n.clone(), name.clone());
        }
        racks.push((name, loose, false));
    }
    let has_blocks = !t.blocks.is_empty() && o.gpu.is_some();
    // Cabling: node -> leaf, child -> parent. Ports numbered per switch from 1.
    let mut next_port: BTreeMap<String, u32> = BTreeMap::new();
    let mut port = |sw: &str| -> u32 {
        let p = next_port.entry(sw.to_string()).or_insert(0);
        *p += 1;
        *p
    };
    let mut links = Vec::new();
    for s in &t.tree {
        for n in &s.nodes {
            let p = port(&s.name);
            links.push(format!(
                "  - {{a: \"{n}:nic0\", b: \"{}:{p}\", gbps: {gbps}, medium: dac}}",
                s.name
            ));
        }
    }
    for s in &t.tree {
        for c in &s.switches {
            let pc = port(c);
            let pp = port(&s.name);
            links.push(format!(
                "  - {{a: \"{c}:{pc}\", b: \"{}:{pp}\", gbps: {gbps}, medium: aoc}}",
                s.name
            ));
        }
    }
    let ports = next_port.values().copied().max().unwrap_or(1).max(1);
    let mut y = String::new();
    for line in header.lines() {
        let _ = writeln!(y, "# {line}");
    }
    let _ = writeln!(y, "fabric: {}", o.fabric_name);
    let _ = writeln!(y, "description: skeleton imported from a Slurm topology; power, GPUs and link speeds are assumptions");
    let _ = writeln!(y, "transport: {}", o.transport.as_str());
    let _ = writeln!(y, "\nswitch_models:");
    let _ = writeln!(y, "  - {{id: slurm-switch, ports: {ports}, port_gbps: {gbps}}}   # radix = the busiest switch's links");
    let _ = writeln!(y, "\nnode_templates:");
    let _ = writeln!(y, "  - id: slurm-node");
    if let Some(g) = &o.gpu {
        let _ = writeln!(y, "    gpu: {g}");
        let _ = writeln!(y, "    gpus: {}", o.gpus_per_node);
        let nvlink = if has_blocks {
            "nvl72-tray"
        } else if o.gpus_per_node == 8 {
            "hgx8"
        } else {
            "none"
        };
        let _ = writeln!(y, "    nvlink: {nvlink}");
    }
    let _ = writeln!(y, "    power_kw: {}", o.node_power_kw);
    if o.gpu.is_some() {
        let _ = writeln!(y, "    nics: [{{port: nic0, gpu: 0, gbps: {gbps}}}]");
    } else {
        let _ = writeln!(y, "    nics: [{{port: nic0, gbps: {gbps}}}]");
    }
    let _ = writeln!(y, "\nracks:");
    for (name, nodes, nvl) in &racks {
        let kw = (nodes.len() as f64 * o.node_power_kw * 10.0).ceil() / 10.0;
        let dom = if *nvl && has_blocks {
            ", nvlink_domain: {kind: nvl72}"
        } else {
            ""
        };
        let cooling = if kw > 40.0 { "liquid" } else { "air" };
        let _ = writeln!(
            y,
            "  - {{id: {name}, power_kw: {kw}, cooling: {cooling}{dom}, nodes: [{{template: slurm-node, ids: \"{}\"}}]}}",
            compress_hostlist(nodes)
        );
    }
    if !t.tree.is_empty() {
        let _ = writeln!(y, "\nswitches:");
        for s in &t.tree {
            let _ = writeln!(
                y,
                "  - {{ids: {}, tier: {}, model: slurm-switch}}",
                s.name,
                tier_name(tiers[&s.name])
            );
        }
        let _ = writeln!(y, "\nlinks:");
        for l in links {
            let _ = writeln!(y, "{l}");
        }
    }
    Ok(y)
}
