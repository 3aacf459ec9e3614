//! NVIDIA topograph's outputs in: the Slurm topology it writes (`topology.conf`, tree and
//! block plugins) and the Kubernetes node labels it sets (read from `kubectl get nodes -o
//! json`), each turned into an as-built *placement* per node: the switch it hangs off at each
//! fabric tier (tier 0 first) and its accelerator (NVLink) block.
//!
//! Formats (NVIDIA/topograph at e2b6250: `docs/engines/slurm.md`, `docs/reference/node-labels.md`,
//! and its expected outputs `tests/ci/expected.slinky-oci-sim-tree.conf`,
//! `tests/ci/expected.slinky-dra-block.conf`, `pkg/ib/ib_test.go`):
//! - `SwitchName=<name> Switches=<hostlist>` or `SwitchName=<name> Nodes=<hostlist>`, with an
//!   optional `LinkSpeed=`; `BlockName=<name> Nodes=<hostlist>`; `BlockSizes=<n>,...`. Tree
//!   and block lines may share one file (topograph writes both for NVL racks).
//! - A comment `# <slurm name>=<original name>` before a line gives the switch's or block's
//!   name as the provider knows it (`# switch.1.1=leaf-1-1`): fabplan matches on both.
//!   On InfiniBand, switches are named by node GUID (`S-2c5eab0300b87b40`), which only the
//!   mapping file can tie to a design name.
//! - Labels: `fabric.topograph.run/tier-N` (N = 0 is the switch closest to the node) and
//!   `accelerator.topograph.run/domain`; a value longer than 63 characters is replaced by
//!   `x` + its FNV-64a hash, which matches no name.
//!
//! Neither format has port numbers, so neither can show a miswired port: what they show is a
//! node on the wrong leaf, under the wrong spine, in the wrong NVLink block, or absent.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::asbuilt::{Parsed, Placement, TierSwitch};
use crate::diag::{Diagnostic, Span};
use crate::source::{known_span_of, DocKind, SourceFile};

const CONF_HELP: &str = "topograph writes `SwitchName=NAME Switches=LIST`, `SwitchName=NAME Nodes=LIST`, `BlockName=NAME Nodes=LIST` and `BlockSizes=N,...` lines (Slurm topology.conf(5)); docs/as-built.md";

fn syntax(message: String, at: Span, label: &str) -> Diagnostic {
    Diagnostic::error("FP965", message)
        .at(at, label.to_string())
        .help(CONF_HELP)
}

/// Whether a text is a topograph Slurm topology (a `SwitchName=` or `BlockName=` line).
pub fn is_slurm(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("SwitchName=") || l.starts_with("BlockName=")
    })
}

/// Whether a JSON text is a Kubernetes node list (`kubectl get nodes -o json`).
pub fn is_k8s(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') && t.contains("\"items\"") && !t.contains("\"lldp\"")
}

struct Word<'a> {
    key: &'a str,
    value: &'a str,
    value_span: Span,
}

fn words(line: &str, at: usize) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    for w in line.split_ascii_whitespace() {
        let off = line[pos..].find(w).map(|o| o + pos).unwrap_or(pos);
        pos = off + w.len();
        let (key, value) = w.split_once('=').unwrap_or((w, ""));
        out.push(Word {
            key,
            value,
            value_span: Span {
                start: at + off + key.len() + usize::from(w.contains('=')),
                len: value.len().max(1),
            },
        });
    }
    out
}

fn expand(value: &str, at: Span, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    match crate::util::expand_hostlist(value) {
        Ok(v) => v,
        Err(e) => {
            diags.push(syntax(
                format!("`{value}` is not a hostlist: {}", e.0),
                at,
                "this list",
            ));
            Vec::new()
        }
    }
}

/// Reads a topograph `topology.conf` into placements.
pub fn parse_slurm(file: &SourceFile, file_index: usize) -> Parsed {
    let text = file.text.as_str();
    let mut p = Parsed::default();
    // Switch -> (its line's name span, alias, children, nodes).
    struct Sw {
        span: Span,
        alias: Option<String>,
        children: Vec<String>,
        nodes: Vec<(String, Span)>,
    }
    let mut switches: BTreeMap<String, Sw> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    // Block name, its alias, its span, and its nodes with the span of their list.
    type BlockLine = (String, Option<String>, Span, Vec<(String, Span)>);
    let mut blocks: Vec<BlockLine> = Vec::new();
    let mut alias: Option<(String, String)> = None;
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let start = at;
        at += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(c) = trimmed.strip_prefix('#') {
            // `# switch.1.1=leaf-1-1`: the original name of the next line's switch or block.
            alias = c
                .trim()
                .split_once('=')
                .filter(|(a, b)| !a.contains(' ') && !b.contains(' ') && !b.is_empty())
                .map(|(a, b)| (a.to_string(), b.to_string()));
            continue;
        }
        let ws = words(line, start);
        let first = &ws[0];
        let name_span = first.value_span;
        let alias_for = |name: &str, alias: &Option<(String, String)>| {
            alias
                .as_ref()
                .filter(|(a, _)| a == name)
                .map(|(_, b)| b.clone())
        };
        match first.key {
            "SwitchName" if !first.value.is_empty() => {
                let mut sw = Sw {
                    span: name_span,
                    alias: alias_for(first.value, &alias),
                    children: Vec::new(),
                    nodes: Vec::new(),
                };
                for w in &ws[1..] {
                    match w.key {
                        "Switches" => {
                            sw.children = expand(w.value, w.value_span, &mut p.diagnostics)
                        }
                        "Nodes" => {
                            sw.nodes = expand(w.value, w.value_span, &mut p.diagnostics)
                                .into_iter()
                                .map(|n| (n, w.value_span))
                                .collect()
                        }
                        "LinkSpeed" => {}
                        other => p.diagnostics.push(syntax(
                            format!("`{other}=` is not a key of a `SwitchName=` line"),
                            Span {
                                start: w.value_span.start.saturating_sub(other.len() + 1),
                                len: other.len().max(1),
                            },
                            "unknown key",
                        )),
                    }
                }
                if switches.contains_key(first.value) {
                    p.diagnostics.push(syntax(
                        format!("switch `{}` is declared twice", first.value),
                        name_span,
                        "again here",
                    ));
                } else {
                    order.push(first.value.to_string());
                    switches.insert(first.value.to_string(), sw);
                }
            }
            "BlockName" if !first.value.is_empty() => {
                let mut nodes = Vec::new();
                for w in &ws[1..] {
                    match w.key {
                        "Nodes" => {
                            nodes = expand(w.value, w.value_span, &mut p.diagnostics)
                                .into_iter()
                                .map(|n| (n, w.value_span))
                                .collect()
                        }
                        other => p.diagnostics.push(syntax(
                            format!("`{other}=` is not a key of a `BlockName=` line"),
                            Span {
                                start: w.value_span.start.saturating_sub(other.len() + 1),
                                len: other.len().max(1),
                            },
                            "unknown key",
                        )),
                    }
                }
                blocks.push((
                    first.value.to_string(),
                    alias_for(first.value, &alias),
                    name_span,
                    nodes,
                ));
            }
            "BlockSizes" => {}
            _ => p.diagnostics.push(syntax(
                format!(
                    "`{}` is not a line of a topograph Slurm topology",
                    trimmed.chars().take(40).collect::<String>()
                ),
                Span {
                    start: start + (line.len() - line.trim_start().len()),
                    len: trimmed.len().max(1),
                },
                "not understood",
            )),
        }
        alias = None;
    }
    // Parents: a switch's parent is the switch whose `Switches=` lists it.
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    for name in &order {
        for c in &switches[name].children {
            if !switches.contains_key(c) {
                p.diagnostics.push(syntax(
                    format!("switch `{name}` lists `{c}`, which has no `SwitchName=` line"),
                    switches[name].span,
                    "its children",
                ));
                continue;
            }
            parent.entry(c.as_str()).or_insert(name.as_str());
        }
    }
    let tier = |name: &str| TierSwitch {
        name: name.to_string(),
        alias: switches[name].alias.clone(),
        seen: crate::asbuilt::Seen {
            file: file_index,
            span: switches[name].span,
        },
    };
    let mut by_node: BTreeMap<String, usize> = BTreeMap::new();
    for name in &order {
        for (node, span) in &switches[name].nodes {
            if by_node.contains_key(node) {
                // A node under two leaves (a rail-optimised node seen on each rail): keep all.
                let i = by_node[node];
                p.placements[i].extra_leaves.push(tier(name));
                continue;
            }
            let mut tiers = vec![tier(name)];
            let mut cur = name.as_str();
            let mut guard = 0;
            while let Some(up) = parent.get(cur) {
                tiers.push(tier(up));
                cur = up;
                guard += 1;
                if guard > 16 {
                    break;
                }
            }
            by_node.insert(node.clone(), p.placements.len());
            p.placements.push(Placement {
                node: node.clone(),
                seen: crate::asbuilt::Seen {
                    file: file_index,
                    span: *span,
                },
                tiers,
                extra_leaves: Vec::new(),
                block: None,
            });
        }
    }
    for (block, alias, bspan, nodes) in blocks {
        for (node, span) in nodes {
            let b = TierSwitch {
                name: block.clone(),
                alias: alias.clone(),
                seen: crate::asbuilt::Seen {
                    file: file_index,
                    span: bspan,
                },
            };
            match by_node.get(&node) {
                Some(&i) => p.placements[i].block = Some(b),
                None => {
                    by_node.insert(node.clone(), p.placements.len());
                    p.placements.push(Placement {
                        node,
                        seen: crate::asbuilt::Seen {
                            file: file_index,
                            span,
                        },
                        tiers: Vec::new(),
                        extra_leaves: Vec::new(),
                        block: Some(b),
                    });
                }
            }
        }
    }
    p
}

#[derive(Deserialize)]
struct NodeList {
    items: Vec<K8sNode>,
}

#[derive(Deserialize)]
struct K8sNode {
    metadata: Meta,
}

#[derive(Deserialize)]
struct Meta {
    name: Spanned<String>,
    #[serde(default)]
    labels: BTreeMap<String, Spanned<String>>,
}

const K8S_DOC: DocKind = DocKind {
    doc: "docs/as-built.md",
    empty_help:
        "give `kubectl get nodes -o json` output: a NodeList with `items[].metadata.labels`",
};

const TIER: &str = "fabric.topograph.run/tier-";
const DOMAIN: &str = "accelerator.topograph.run/domain";

/// Reads `kubectl get nodes -o json` and topograph's labels into placements.
pub fn parse_k8s(file: &SourceFile, file_index: usize) -> Parsed {
    let mut p = Parsed::default();
    let list: NodeList = match crate::source::parse_yaml_as(file, K8S_DOC) {
        Ok(l) => l,
        Err(mut d) => {
            d.code = "FP965";
            d.help = Some("give `kubectl get nodes -o json` output: a NodeList whose `items[].metadata` has `name` and `labels` (topograph's `fabric.topograph.run/tier-N`, `accelerator.topograph.run/domain`); docs/as-built.md".into());
            p.diagnostics.push(d);
            return p;
        }
    };
    let seen = |v: &Spanned<String>| crate::asbuilt::Seen {
        file: file_index,
        span: known_span_of(v).unwrap_or(Span { start: 0, len: 1 }),
    };
    for item in list.items {
        let m = item.metadata;
        let mut tiers: Vec<(u32, TierSwitch)> = Vec::new();
        for (k, v) in &m.labels {
            if let Some(n) = k.strip_prefix(TIER) {
                match n.parse::<u32>() {
                    Ok(n) => tiers.push((
                        n,
                        TierSwitch {
                            name: v.value.clone(),
                            alias: None,
                            seen: seen(v),
                        },
                    )),
                    Err(_) => p.diagnostics.push(
                        Diagnostic::error("FP965", format!("label `{k}` has no tier number"))
                            .at(seen(v).span, "this label's value")
                            .help("topograph's fabric labels are `fabric.topograph.run/tier-0`, `-1`, ... (docs/reference/node-labels.md)"),
                    ),
                }
            }
        }
        tiers.sort_by_key(|(n, _)| *n);
        if tiers.iter().enumerate().any(|(i, (n, _))| *n as usize != i) {
            p.diagnostics.push(
                Diagnostic::error("FP965", format!("node `{}` skips a fabric tier label", m.name.value))
                    .at(seen(&m.name).span, "this node")
                    .help("topograph writes tiers 0, 1, ... without gaps; a gap means the labels were edited"),
            );
        }
        let block = m.labels.get(DOMAIN).map(|v| TierSwitch {
            name: v.value.clone(),
            alias: None,
            seen: seen(v),
        });
        if tiers.is_empty() && block.is_none() {
            // A node topograph has not labelled (a CPU node): nothing to compare.
            continue;
        }
        p.placements.push(Placement {
            node: m.name.value.clone(),
            seen: seen(&m.name),
            tiers: tiers.into_iter().map(|(_, t)| t).collect(),
            extra_leaves: Vec::new(),
            block,
        });
    }
    p
}
