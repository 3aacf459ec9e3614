//! Slurm topology, in and out: `topology.yaml` (Slurm 25.05+) and the older `topology.conf`.
//!
//! Syntax (SchedMD `topology.conf(5)` and `topology.yaml(5)`; notes in
//! docs/sources.md, scheduler and cost formats):
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

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::checks::diag;
use crate::diag::{has_errors, Diagnostic, Span};
use crate::fabric::levels::levels;
use crate::model::*;
use crate::source::{parse_yaml_as, span_of, DocKind, SourceFile};
use crate::util::{compress_hostlist, expand_hostlist};

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

#[derive(serde::Serialize)]
struct YamlTopology<'a> {
    topology: &'a str,
    cluster_default: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tree: Option<YamlTree>,
    #[serde(skip_serializing_if = "Option::is_none")]
    block: Option<YamlBlocks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flat: Option<bool>,
}

#[derive(serde::Serialize)]
struct YamlTree {
    switches: Vec<YamlSwitch>,
}

#[derive(serde::Serialize)]
struct YamlSwitch {
    switch: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    children: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nodes: Option<String>,
}

#[derive(serde::Serialize)]
struct YamlBlocks {
    block_sizes: Vec<u32>,
    blocks: Vec<YamlBlock>,
}

#[derive(serde::Serialize)]
struct YamlBlock {
    block: String,
    nodes: String,
}

/// `topology.yaml` (Slurm 25.05+, SchedMD topology.yaml(5)): the tree and the blocks side by
/// side, written through serde-saphyr. Where NVLink domains span nodes, the block topology is
/// the cluster default (as `--format conf` chooses block), the tree is there for partitions
/// that name it; otherwise the tree is. Names must have passed
/// [`crate::formats::names::check_slurm`].
pub fn render_yaml(t: &SlurmTopology, header: &str) -> String {
    let mut doc: Vec<YamlTopology> = Vec::new();
    let hosts = |v: &[String]| (!v.is_empty()).then(|| compress_hostlist(v));
    if !t.tree.is_empty() {
        doc.push(YamlTopology {
            topology: &t.tree_name,
            cluster_default: t.blocks.is_empty(),
            tree: Some(YamlTree {
                switches: t
                    .tree
                    .iter()
                    .map(|s| YamlSwitch {
                        switch: s.name.clone(),
                        children: hosts(&s.switches),
                        nodes: hosts(&s.nodes),
                    })
                    .collect(),
            }),
            block: None,
            flat: None,
        });
    }
    if !t.blocks.is_empty() {
        doc.push(YamlTopology {
            topology: &t.block_name,
            cluster_default: true,
            tree: None,
            block: Some(YamlBlocks {
                block_sizes: t.block_sizes.clone(),
                blocks: t
                    .blocks
                    .iter()
                    .map(|b| YamlBlock {
                        block: b.name.clone(),
                        nodes: compress_hostlist(&b.nodes),
                    })
                    .collect(),
            }),
            flat: None,
        });
    }
    if doc.is_empty() {
        doc.push(YamlTopology {
            topology: &t.tree_name,
            cluster_default: true,
            tree: None,
            block: None,
            flat: Some(true),
        });
    }
    let mut o = String::new();
    for line in header.lines() {
        o.push_str("# ");
        o.push_str(line);
        o.push('\n');
    }
    o.push_str(&crate::util::to_yaml(&doc));
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
//
// The import locates and collects, like the fabric loader: every problem in the file becomes a
// diagnostic (codes FP901-FP909, plus the shared FP00x read and YAML codes) with a byte span on
// the offending text, and the topology is returned only when there is none.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopology {
    topology: Spanned<String>,
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
    switch: Spanned<String>,
    #[serde(default)]
    children: Option<Spanned<String>>,
    #[serde(default)]
    nodes: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlockTopo {
    #[serde(default)]
    block_sizes: Option<Spanned<Vec<u32>>>,
    blocks: Vec<RawBlock>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlock {
    block: Spanned<String>,
    nodes: Spanned<String>,
}

/// What `topology.yaml` must look like, for the shared YAML diagnostics' help lines.
const SLURM_YAML_DOC: DocKind = DocKind {
    doc: "topology.yaml(5)",
    empty_help: "a Slurm topology needs at least one `SwitchName=` or `BlockName=` line (topology.conf) or one `- topology: NAME` entry (topology.yaml)",
};

const CONF_HELP: &str = "expected `SwitchName=NAME [Switches=LIST] [Nodes=LIST] [LinkSpeed=N]`, `BlockName=NAME Nodes=LIST` or `BlockSizes=N,N,...` (topology.conf(5))";
const HOSTLIST_HELP: &str = "write hostlists as Slurm does: `gb-a[01-18]`, `leaf[1-4],spine1`";

/// A switch as written, with the spans diagnostics point at.
struct SwitchDecl {
    name: String,
    name_span: Span,
    children: Vec<String>,
    children_span: Option<Span>,
    nodes: Vec<String>,
    nodes_span: Option<Span>,
}

struct BlockDecl {
    name: String,
    name_span: Span,
    nodes: Vec<String>,
    nodes_span: Span,
}

/// The topology as written, before the structural checks.
#[derive(Default)]
struct Written {
    tree_name: String,
    tree_name_span: Option<Span>,
    tree: Vec<SwitchDecl>,
    block_name: String,
    block_name_span: Option<Span>,
    block_sizes: Vec<u32>,
    block_sizes_span: Option<Span>,
    blocks: Vec<BlockDecl>,
}

/// Length of a leading UTF-8 byte-order mark (Windows editors write one).
fn bom_len(text: &str) -> usize {
    if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    }
}

/// Whether the text looks like `topology.yaml` (a YAML list) rather than `topology.conf`.
fn is_yaml(text: &str) -> bool {
    text[bom_len(text)..]
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with('-') || l.starts_with("topology:"))
}

fn span(start: usize, len: usize) -> Span {
    Span {
        start,
        len: len.max(1),
    }
}

/// Names fabplan writes into the fabric skeleton: Slurm's own node and switch names are
/// letters, digits, `-`, `_` and `.` (slurm.conf(5) NodeName); anything else would not be a
/// usable fabric name.
fn bad_name_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
}

fn check_name(what: &str, name: &str, at: Span, diags: &mut Vec<Diagnostic>) {
    if name.is_empty() {
        diags.push(
            diag("FP908", format!("the {what} name is empty"))
                .at(at, "empty name")
                .help(format!("give the {what} a name")),
        );
    } else if let Some(c) = bad_name_char(name) {
        diags.push(
            diag(
                "FP909",
                format!("{what} name `{name}` contains `{}`", c.escape_debug()),
            )
            .at(at, "not a Slurm name")
            .help(
                "names are letters, digits, `-`, `_` and `.`, as Slurm's NodeName and SwitchName",
            ),
        );
    }
}

/// Most names one topology file may expand to, all hostlists together (the per-list limit of
/// `util::expand_hostlist` alone would let 2,000 lines of 4M names each exhaust memory);
/// docs/limits.md.
pub const MAX_TOPOLOGY_NAMES: u64 = crate::limits::MAX_IMPORT_NAMES;

/// Expands a hostlist, or pushes FP903 on its span and returns `None`. `names` counts what the
/// file has expanded so far, against `MAX_TOPOLOGY_NAMES`; each list's size is computed before
/// it is expanded, so the refusal says the count and nothing large is allocated.
fn expand_at(
    list: &str,
    at: Span,
    diags: &mut Vec<Diagnostic>,
    names: &Cell<u64>,
) -> Option<Vec<String>> {
    if names.get() > MAX_TOPOLOGY_NAMES {
        return None;
    }
    let err = |diags: &mut Vec<Diagnostic>, e: crate::util::HostlistError| {
        diags.push(
            diag("FP903", format!("bad hostlist `{list}`: {}", e.0))
                .at(at, "this hostlist")
                .help(HOSTLIST_HELP),
        );
    };
    let len = match crate::util::hostlist_len(list) {
        Ok(n) => n,
        Err(e) => {
            err(diags, e);
            return None;
        }
    };
    names.set(names.get().saturating_add(len));
    if names.get() > MAX_TOPOLOGY_NAMES {
        diags.push(
            diag(
                "FP903",
                format!(
                    "the file's hostlists expand to {} names, more than the limit of {MAX_TOPOLOGY_NAMES}",
                    names.get()
                ),
            )
            .at(at, "limit passed here")
            .help(format!("fabplan imports at most {MAX_TOPOLOGY_NAMES} switch and node names per topology (docs/limits.md); split the topology")),
        );
        return None;
    }
    match expand_hostlist(list) {
        Ok(expanded) => Some(expanded),
        Err(e) => {
            err(diags, e);
            None
        }
    }
}

/// Parses a `topology.conf` or `topology.yaml` (the format is detected). Returns the topology
/// when the file has no problem, and every diagnostic found (spans are byte ranges of
/// `file.text`; render them with `file`).
pub fn parse(file: &SourceFile) -> (Option<SlurmTopology>, Vec<Diagnostic>) {
    let text = file.text.as_str();
    let mut diags = Vec::new();
    let body = &text[bom_len(text)..];
    if body
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        diags.push(diag("FP007", "the file is empty").help(SLURM_YAML_DOC.empty_help));
        return (None, diags);
    }
    let names = Cell::new(0u64);
    let written = if is_yaml(text) {
        parse_yaml(file, &mut diags, &names)
    } else {
        parse_conf(text, &mut diags, &names)
    };
    let Some(written) = written else {
        return (None, diags);
    };
    check(&written, &mut diags);
    clamp_spans(&mut diags, text.len());
    if has_errors(&diags) {
        return (None, diags);
    }
    let t = SlurmTopology {
        tree_name: written.tree_name,
        tree: written
            .tree
            .into_iter()
            .map(|s| TreeSwitch {
                name: s.name,
                switches: s.children,
                nodes: s.nodes,
            })
            .collect(),
        block_name: written.block_name,
        block_sizes: written.block_sizes,
        blocks: written
            .blocks
            .into_iter()
            .map(|b| Block {
                name: b.name,
                nodes: b.nodes,
            })
            .collect(),
    };
    (Some(t), diags)
}

/// Labels on a value at the very end of the file (`BlockSizes=18,` without a newline) must
/// not reach past it.
fn clamp_spans(diags: &mut [Diagnostic], len: usize) {
    for l in diags.iter_mut().flat_map(|d| d.labels.iter_mut()) {
        if let crate::diag::Target::Span(s) = &mut l.target {
            s.start = s.start.min(len);
            s.len = s.len.min(len - s.start);
        }
    }
}

fn parse_yaml(
    file: &SourceFile,
    diags: &mut Vec<Diagnostic>,
    names: &Cell<u64>,
) -> Option<Written> {
    let raw: Vec<RawTopology> = match parse_yaml_as(file, SLURM_YAML_DOC) {
        Ok(r) => r,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let mut w = Written::default();
    for topo in raw {
        let name_span = span_of(&topo.topology);
        check_name("topology", &topo.topology.value, name_span, diags);
        if let Some(tree) = topo.tree {
            if let Some(first) = w.tree_name_span {
                diags.push(
                    diag(
                        "FP906",
                        format!("a second tree topology `{}`", topo.topology.value),
                    )
                    .at(name_span, "second tree")
                    .also_at(first, "first tree")
                    .help("fabplan imports one tree and one block topology; split the file"),
                );
                continue;
            }
            w.tree_name = topo.topology.value.clone();
            w.tree_name_span = Some(name_span);
            for s in tree.switches {
                let name_span = span_of(&s.switch);
                let list = |v: &Option<Spanned<String>>, diags: &mut Vec<Diagnostic>| match v {
                    Some(l) => {
                        let at = span_of(l);
                        (
                            expand_at(&l.value, at, diags, names).unwrap_or_default(),
                            Some(at),
                        )
                    }
                    None => (Vec::new(), None),
                };
                let (children, children_span) = list(&s.children, diags);
                let (nodes, nodes_span) = list(&s.nodes, diags);
                w.tree.push(SwitchDecl {
                    name: s.switch.value,
                    name_span,
                    children,
                    children_span,
                    nodes,
                    nodes_span,
                });
            }
        }
        if let Some(block) = topo.block {
            if let Some(first) = w.block_name_span {
                diags.push(
                    diag(
                        "FP906",
                        format!("a second block topology `{}`", topo.topology.value),
                    )
                    .at(name_span, "second block topology")
                    .also_at(first, "first block topology")
                    .help("fabplan imports one tree and one block topology; split the file"),
                );
                continue;
            }
            w.block_name = topo.topology.value.clone();
            w.block_name_span = Some(name_span);
            if let Some(sizes) = block.block_sizes {
                w.block_sizes_span = Some(span_of(&sizes));
                w.block_sizes = sizes.value;
            }
            for b in block.blocks {
                let at = span_of(&b.nodes);
                w.blocks.push(BlockDecl {
                    nodes: expand_at(&b.nodes.value, at, diags, names).unwrap_or_default(),
                    nodes_span: at,
                    name_span: span_of(&b.block),
                    name: b.block.value,
                });
            }
        }
    }
    Some(w)
}

/// One `KEY=VALUE` word of a topology.conf line, with byte offsets into the file.
struct Word<'a> {
    key: &'a str,
    value: &'a str,
    span: Span,
    value_span: Span,
}

/// Splits a line (comment removed) into whitespace-separated words with their offsets.
fn words(line: &str, offset: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = line;
    let mut pos = offset;
    std::iter::from_fn(move || {
        let skip = rest.len() - rest.trim_start().len();
        rest = &rest[skip..];
        pos += skip;
        if rest.is_empty() {
            return None;
        }
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = (pos, &rest[..len]);
        rest = &rest[len..];
        pos += len;
        Some(word)
    })
}

fn parse_conf(text: &str, diags: &mut Vec<Diagnostic>, names: &Cell<u64>) -> Option<Written> {
    let mut w = Written {
        tree_name: "tree".into(),
        block_name: "block".into(),
        ..Default::default()
    };
    let mut offset = 0;
    for (no, raw_line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw_line.len();
        let mut line = raw_line.trim_end_matches(['\n', '\r']);
        let mut line_start = start;
        if no == 0 {
            let b = bom_len(line);
            line = &line[b..];
            line_start += b;
        }
        // topology.conf(5): `#` starts a comment.
        let line = line.split('#').next().unwrap_or("");
        let mut kvs: Vec<Word> = Vec::new();
        let mut reported = false;
        for (at, tok) in words(line, line_start) {
            match tok.split_once('=') {
                Some((k, v)) if !k.is_empty() => kvs.push(Word {
                    key: k,
                    value: v,
                    span: span(at, tok.len()),
                    value_span: span(at + k.len() + 1, v.len()),
                }),
                // One per line: a file that is not a topology.conf at all (a wrong file
                // passed) gives a line each, not a diagnostic per word.
                _ if reported => {}
                _ => {
                    reported = true;
                    diags.push(
                        diag("FP901", format!("`{tok}` is not KEY=VALUE"))
                            .at(span(at, tok.len()), "not KEY=VALUE")
                            .help(CONF_HELP),
                    )
                }
            }
        }
        let Some(first) = kvs.first() else {
            continue;
        };
        let kind = first.key.to_ascii_lowercase();
        let allowed: &[&str] = match kind.as_str() {
            "switchname" => &["switchname", "switches", "nodes", "linkspeed"],
            "blockname" => &["blockname", "nodes"],
            "blocksizes" => &["blocksizes"],
            _ => {
                diags.push(
                    diag("FP901", format!("unknown line kind `{}`", first.key))
                        .at(first.span, "not a topology.conf line")
                        .help(CONF_HELP),
                );
                continue;
            }
        };
        // Keys are case-insensitive (Slurm's parser); each may be given once per line.
        let mut fields: BTreeMap<String, &Word> = BTreeMap::new();
        for kv in &kvs {
            let k = kv.key.to_ascii_lowercase();
            if !allowed.contains(&k.as_str()) {
                diags.push(
                    diag(
                        "FP902",
                        format!("unknown key `{}` on a `{}` line", kv.key, first.key),
                    )
                    .at(kv.span, "unknown key")
                    .help(format!(
                        "a `{}` line takes {}",
                        first.key,
                        allowed
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
                continue;
            }
            if let Some(prev) = fields.get(&k) {
                diags.push(
                    diag("FP908", format!("`{}` is given twice on one line", kv.key))
                        .at(kv.span, "given again")
                        .also_at(prev.span, "first given here")
                        .help("give each key once per line"),
                );
                continue;
            }
            if kv.value.is_empty() {
                diags.push(
                    diag("FP908", format!("`{}=` has no value", kv.key))
                        .at(kv.span, "empty value")
                        .help("give a value, or remove the key"),
                );
                continue;
            }
            fields.insert(k, kv);
        }
        // The kind's own key was refused (empty): the line is reported, nothing to build.
        let Some(&name) = fields.get(&kind) else {
            continue;
        };
        match kind.as_str() {
            "switchname" => {
                check_name("switch", name.value, name.value_span, diags);
                let list = |key: &str, diags: &mut Vec<Diagnostic>| match fields.get(key) {
                    Some(kv) => (
                        expand_at(kv.value, kv.value_span, diags, names).unwrap_or_default(),
                        Some(kv.value_span),
                    ),
                    None => (Vec::new(), None),
                };
                let (children, children_span) = list("switches", diags);
                let (nodes, nodes_span) = list("nodes", diags);
                if let Some(ls) = fields.get("linkspeed") {
                    if ls.value.parse::<u64>().is_err() {
                        diags.push(
                            diag("FP908", format!("`LinkSpeed={}` is not a number", ls.value))
                                .at(ls.value_span, "not a number")
                                .help(
                                    "LinkSpeed is a plain number (Slurm ignores it; fabplan too)",
                                ),
                        );
                    }
                }
                w.tree.push(SwitchDecl {
                    name: name.value.to_string(),
                    name_span: name.value_span,
                    children,
                    children_span,
                    nodes,
                    nodes_span,
                });
            }
            "blockname" => {
                check_name("block", name.value, name.value_span, diags);
                let Some(nodes) = fields.get("nodes") else {
                    diags.push(
                        diag("FP908", format!("block `{}` has no `Nodes=`", name.value))
                            .at(name.span, "no nodes")
                            .help("a block line is `BlockName=NAME Nodes=LIST`"),
                    );
                    continue;
                };
                w.blocks.push(BlockDecl {
                    name: name.value.to_string(),
                    name_span: name.value_span,
                    nodes: expand_at(nodes.value, nodes.value_span, diags, names)
                        .unwrap_or_default(),
                    nodes_span: nodes.value_span,
                });
            }
            _ => {
                if let Some(prev) = w.block_sizes_span {
                    diags.push(
                        diag("FP908", "`BlockSizes=` is given twice")
                            .at(name.span, "given again")
                            .also_at(prev, "first given here")
                            .help("give one BlockSizes line"),
                    );
                    continue;
                }
                w.block_sizes_span = Some(name.value_span);
                let mut sizes = Vec::new();
                let mut at = name.value_span.start;
                for part in name.value.split(',') {
                    match part.trim().parse::<u32>() {
                        Ok(n) => sizes.push(n),
                        Err(_) => diags.push(
                            diag(
                                "FP907",
                                if part.trim().is_empty() {
                                    "`BlockSizes` has an empty entry".to_string()
                                } else {
                                    format!("block size `{part}` is not a number")
                                },
                            )
                                .at(span(at, part.len()), "not a number")
                                .help("BlockSizes is a comma-separated list of node counts, e.g. `BlockSizes=18,36,72`"),
                        ),
                    }
                    at += part.len() + 1;
                }
                w.block_sizes = sizes;
            }
        }
    }
    Some(w)
}

/// Reports names listed twice: `lists` gives, per declaration, its name, its list and the
/// list's span. One diagnostic per pair of declarations (not per node), so a wrong range of a
/// million nodes gives one line, not a million.
fn duplicates_across<'a>(
    what: &str,
    owner: &str,
    lists: impl Iterator<Item = (&'a str, &'a [String], Span)>,
    diags: &mut Vec<Diagnostic>,
    help: &str,
) {
    // node -> index of the first declaration listing it
    let mut first_of: BTreeMap<&str, usize> = BTreeMap::new();
    let decls: Vec<(&str, &[String], Span)> = lists.collect();
    for (k, (name, nodes, at)) in decls.iter().enumerate() {
        // earlier declaration -> (first repeated node, count)
        let mut clashes: BTreeMap<usize, (&str, usize)> = BTreeMap::new();
        for n in nodes.iter() {
            match first_of.get(n.as_str()) {
                Some(&j) => {
                    let e = clashes.entry(j).or_insert((n.as_str(), 0));
                    e.1 += 1;
                }
                None => {
                    first_of.insert(n.as_str(), k);
                }
            }
        }
        for (j, (node, count)) in clashes {
            let more = if count > 1 {
                format!(" and {} more", count - 1)
            } else {
                String::new()
            };
            let (other, _, other_at) = decls[j];
            let message = if j == k {
                format!("{what} `{node}`{more} listed twice under {owner} `{name}`")
            } else {
                format!("{what} `{node}`{more} also under {owner} `{other}`, listed under {owner} `{name}`")
            };
            let mut d = diag("FP904", message).at(*at, "listed again here");
            if j != k {
                d = d.also_at(other_at, format!("first under `{other}`"));
            }
            diags.push(d.help(help));
        }
    }
}

/// Structural checks: names unique, children declared, each node under one leaf switch and in
/// one block, a tree of at most 3 tiers without cycles, block sizes as Slurm requires.
fn check(w: &Written, diags: &mut Vec<Diagnostic>) {
    // Node names become node ids of the skeleton: the first bad one of each list.
    let lists = w
        .tree
        .iter()
        .filter_map(|s| Some((s.nodes.as_slice(), s.nodes_span?)))
        .chain(w.blocks.iter().map(|b| (b.nodes.as_slice(), b.nodes_span)));
    for (nodes, at) in lists {
        if let Some(bad) = nodes
            .iter()
            .find(|n| n.is_empty() || bad_name_char(n).is_some())
        {
            check_name("node", bad, at, diags);
        }
    }
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, s) in w.tree.iter().enumerate() {
        if let Some(&j) = by_name.get(s.name.as_str()) {
            diags.push(
                diag("FP904", format!("switch `{}` is declared twice", s.name))
                    .at(s.name_span, "declared again")
                    .also_at(w.tree[j].name_span, "first declared here")
                    .help("give each SwitchName one line"),
            );
        } else {
            by_name.insert(&s.name, k);
        }
    }
    let mut blocks: BTreeMap<&str, Span> = BTreeMap::new();
    for b in &w.blocks {
        if let Some(first) = blocks.get(b.name.as_str()) {
            diags.push(
                diag("FP904", format!("block `{}` is declared twice", b.name))
                    .at(b.name_span, "declared again")
                    .also_at(*first, "first declared here")
                    .help("give each BlockName one line"),
            );
        } else {
            blocks.insert(&b.name, b.name_span);
        }
    }
    for s in &w.tree {
        if !s.children.is_empty() && !s.nodes.is_empty() {
            diags.push(
                diag(
                    "FP906",
                    format!("switch `{}` has both child switches and nodes", s.name),
                )
                .at(s.name_span, "both")
                .also_at_opt(s.nodes_span, "nodes")
                .help(
                    "fabplan maps switches with nodes to leaves; put the nodes under a leaf switch",
                ),
            );
        }
        let mut missing: Vec<&str> = s
            .children
            .iter()
            .filter(|c| !by_name.contains_key(c.as_str()))
            .map(String::as_str)
            .collect();
        missing.dedup();
        if let Some(first) = missing.first() {
            let more = if missing.len() > 1 {
                format!(" and {} more", missing.len() - 1)
            } else {
                String::new()
            };
            diags.push(
                diag(
                    "FP905",
                    format!(
                        "switch `{}` lists child `{first}`{more}, which is not declared",
                        s.name
                    ),
                )
                .at_opt(s.children_span, "undeclared child")
                .help("declare every child switch with its own SwitchName line"),
            );
        }
    }
    duplicates_across(
        "node",
        "switch",
        w.tree
            .iter()
            .filter_map(|s| Some((s.name.as_str(), s.nodes.as_slice(), s.nodes_span?))),
        diags,
        "Slurm's tree places each node under one leaf switch",
    );
    duplicates_across(
        "node",
        "block",
        w.blocks
            .iter()
            .map(|b| (b.name.as_str(), b.nodes.as_slice(), b.nodes_span)),
        diags,
        "each node belongs to one block (topology.conf(5), topology/block)",
    );
    check_tiers(w, &by_name, diags);
    check_block_sizes(w, diags);
}

/// Cycles and depth: fabplan models at most 3 tiers (leaf, spine, core).
fn check_tiers(w: &Written, by_name: &BTreeMap<&str, usize>, diags: &mut Vec<Diagnostic>) {
    // 0 = unvisited, 1 = on the stack, 2 = done; tier of each finished switch.
    let n = w.tree.len();
    let mut state = vec![0u8; n];
    let mut tier = vec![1usize; n];
    let mut reported_cycle = false;
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        // Iterative DFS: (switch, next child index).
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (s, ref mut next)) = stack.last_mut() {
            let children = &w.tree[s].children;
            if *next < children.len() {
                let c = &children[*next];
                *next += 1;
                let Some(&ci) = by_name.get(c.as_str()) else {
                    continue;
                };
                match state[ci] {
                    0 => {
                        state[ci] = 1;
                        stack.push((ci, 0));
                    }
                    1 if !reported_cycle => {
                        reported_cycle = true;
                        diags.push(
                            diag(
                                "FP906",
                                format!(
                                    "the tree has a cycle: `{}` lists `{c}`, which is above it",
                                    w.tree[s].name
                                ),
                            )
                            .at_opt(
                                w.tree[s].children_span.or(Some(w.tree[s].name_span)),
                                "closes the cycle",
                            )
                            .also_at(w.tree[ci].name_span, "declared here")
                            .help("a switch's children must be below it; remove the back edge"),
                        );
                    }
                    _ => {}
                }
            } else {
                state[s] = 2;
                tier[s] = 1 + children
                    .iter()
                    .filter_map(|c| by_name.get(c.as_str()))
                    .filter(|&&ci| state[ci] == 2)
                    .map(|&ci| tier[ci])
                    .max()
                    .unwrap_or(0);
                stack.pop();
            }
        }
    }
    if reported_cycle {
        return;
    }
    for (k, s) in w.tree.iter().enumerate() {
        if tier[k] > 3 {
            diags.push(
                diag(
                    "FP906",
                    format!(
                        "switch `{}` is {} tiers up; fabplan models at most 3 (leaf, spine, core)",
                        s.name, tier[k]
                    ),
                )
                .at(s.name_span, "too high")
                .help("flatten the tree to leaf, spine and core switches"),
            );
        }
    }
}

fn check_block_sizes(w: &Written, diags: &mut Vec<Diagnostic>) {
    let at = w.block_sizes_span;
    if w.block_sizes.contains(&0) {
        diags.push(
            diag("FP907", "a block size is 0")
                .at_opt(at, "block sizes")
                .help("block sizes are node counts of at least 1"),
        );
        return;
    }
    let Some(&base) = w.block_sizes.first() else {
        return;
    };
    for b in &w.blocks {
        if (b.nodes.len() as u64) < base as u64 {
            diags.push(
                diag(
                    "FP907",
                    format!(
                        "block `{}` has {} nodes, fewer than the base block size {base}",
                        b.name,
                        b.nodes.len()
                    ),
                )
                .at(b.nodes_span, "too few nodes")
                .also_at_opt(at, "base size")
                .help("every block needs at least the first BlockSizes entry of nodes"),
            );
        }
    }
    for pair in w.block_sizes.windows(2) {
        let ratio = pair[1] / pair[0];
        if pair[1] % pair[0] != 0 || !ratio.is_power_of_two() || ratio < 2 {
            diags.push(
                diag(
                    "FP907",
                    format!(
                        "block size {} is not a power-of-two multiple of {}",
                        pair[1], pair[0]
                    ),
                )
                .at_opt(at, "block sizes")
                .help("each BlockSizes entry must be a power-of-two multiple of the one before (18,36,72)"),
            );
        }
    }
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
    use serde_json::{json, Value};
    use serde_saphyr::FlowMap;
    let mut links: Vec<FlowMap<Value>> = Vec::new();
    for s in &t.tree {
        for n in &s.nodes {
            let p = port(&s.name);
            links.push(FlowMap(json!({
                "a": format!("{n}:nic0"),
                "b": format!("{}:{p}", s.name),
                "gbps": gbps,
                "medium": "dac",
            })));
        }
    }
    for s in &t.tree {
        for c in &s.switches {
            let pc = port(c);
            let pp = port(&s.name);
            links.push(FlowMap(json!({
                "a": format!("{c}:{pc}"),
                "b": format!("{}:{pp}", s.name),
                "gbps": gbps,
                "medium": "aoc",
            })));
        }
    }
    let ports = next_port.values().copied().max().unwrap_or(1).max(1);
    let mut template = serde_json::Map::new();
    template.insert("id".into(), json!("slurm-node"));
    if let Some(g) = &o.gpu {
        template.insert("gpu".into(), json!(g));
        template.insert("gpus".into(), json!(o.gpus_per_node));
        let nvlink = if has_blocks {
            "nvl72-tray"
        } else if o.gpus_per_node == 8 {
            "hgx8"
        } else {
            "none"
        };
        template.insert("nvlink".into(), json!(nvlink));
    }
    template.insert("power_kw".into(), json!(o.node_power_kw));
    let nic = if o.gpu.is_some() {
        json!({"port": "nic0", "gpu": 0, "gbps": gbps})
    } else {
        json!({"port": "nic0", "gbps": gbps})
    };
    template.insert("nics".into(), json!([nic]));
    let racks: Vec<FlowMap<Value>> = racks
        .iter()
        .map(|(name, nodes, nvl)| {
            let kw = (nodes.len() as f64 * o.node_power_kw * 10.0).ceil() / 10.0;
            let mut r = serde_json::Map::new();
            r.insert("id".into(), json!(name));
            r.insert("power_kw".into(), json!(kw));
            r.insert(
                "cooling".into(),
                json!(if kw > 40.0 { "liquid" } else { "air" }),
            );
            if *nvl && has_blocks {
                r.insert("nvlink_domain".into(), json!({"kind": "nvl72"}));
            }
            r.insert(
                "nodes".into(),
                json!([{"template": "slurm-node", "ids": compress_hostlist(nodes)}]),
            );
            FlowMap(Value::Object(r))
        })
        .collect();
    #[derive(serde::Serialize)]
    struct Skeleton {
        fabric: String,
        description: &'static str,
        transport: &'static str,
        switch_models: Vec<FlowMap<Value>>,
        node_templates: Vec<Value>,
        racks: Vec<FlowMap<Value>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        switches: Vec<FlowMap<Value>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        links: Vec<FlowMap<Value>>,
    }
    let doc = Skeleton {
        fabric: o.fabric_name.clone(),
        description:
            "skeleton imported from a Slurm topology; power, GPUs and link speeds are assumptions",
        transport: o.transport.as_str(),
        // Radix: the busiest switch's links.
        switch_models: vec![FlowMap(
            json!({"id": "slurm-switch", "ports": ports, "port_gbps": gbps}),
        )],
        node_templates: vec![Value::Object(template)],
        racks,
        switches: t
            .tree
            .iter()
            .map(|s| {
                FlowMap(json!({
                    "ids": s.name,
                    "tier": tier_name(tiers[&s.name]),
                    "model": "slurm-switch",
                }))
            })
            .collect(),
        links: if t.tree.is_empty() { Vec::new() } else { links },
    };
    let mut y = String::new();
    for line in header.lines() {
        y.push_str("# ");
        y.push_str(line);
        y.push('\n');
    }
    y.push_str("# switch_models: the radix is the busiest switch's links\n");
    y.push_str(&crate::util::to_yaml(&doc));
    Ok(y)
}
