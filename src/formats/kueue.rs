//! Kueue topology-aware scheduling, out: a `Topology`, one `ResourceFlavor` per GPU model,
//! and the node labels the topology's levels read.
//!
//! Kueue's `Topology.spec.levels` run from the top level down and end at
//! `kubernetes.io/hostname`; a `ResourceFlavor.spec.topologyName` points at it (KEP-2724;
//! docs/sources.md, scheduler and cost formats). Label keys are the ones
//! NVIDIA topograph writes (`network.topology.nvidia.com/{accelerator,leaf,spine,core}`), so
//! a cluster labelled by topograph and one labelled from this file agree.
//!
//! Levels: core and spine groups when the fabric has those tiers, then the NVLink domain
//! (`accelerator`) when domains span several nodes (NVL72), else the leaf group. On a
//! rail-optimized NVL72 fabric a rack's trays sit under several leaf groups, so leaf and
//! NVLink domain do not nest; the NVLink domain is the level that matters for tensor
//! parallelism, and the leaf level is dropped. Values not nested in their parent are reported.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::fabric::levels::levels;
use crate::model::*;

pub const LABEL_CORE: &str = "network.topology.nvidia.com/core";
pub const LABEL_SPINE: &str = "network.topology.nvidia.com/spine";
pub const LABEL_LEAF: &str = "network.topology.nvidia.com/leaf";
pub const LABEL_ACCELERATOR: &str = "network.topology.nvidia.com/accelerator";
pub const LABEL_HOST: &str = "kubernetes.io/hostname";
/// Set by NVIDIA GPU feature discovery: the product name with spaces as dashes.
pub const LABEL_GPU_PRODUCT: &str = "nvidia.com/gpu.product";

/// The Kueue view of a fabric.
#[derive(Debug, Clone, PartialEq)]
pub struct KueueTopology {
    pub name: String,
    /// Label keys, top level first, ending with `kubernetes.io/hostname`.
    pub levels: Vec<&'static str>,
    /// Per compute node: label key -> value (hostname excluded: the kubelet sets it).
    pub node_labels: BTreeMap<String, BTreeMap<&'static str, String>>,
    /// Per GPU model key: the `nvidia.com/gpu.product` value.
    pub flavors: BTreeMap<String, String>,
    /// Level values whose domain is split across two parents (Kueue then sees two domains).
    pub not_nested: Vec<String>,
}

pub fn from_fabric(f: &Fabric) -> KueueTopology {
    let lv = levels(f);
    let multi_node_domains = f.nvlink_domains.iter().any(|d| d.nodes.len() > 1);
    let mut levels_out: Vec<(&'static str, usize)> = Vec::new(); // (label, tier level or usize::MAX for accelerator)
    for (level, label) in [(2usize, LABEL_CORE), (1, LABEL_SPINE)] {
        if lv.tiers.len() > level {
            levels_out.push((label, level));
        }
    }
    if multi_node_domains {
        levels_out.push((LABEL_ACCELERATOR, usize::MAX));
    } else if !lv.tiers.is_empty() {
        levels_out.push((LABEL_LEAF, 0));
    }
    let mut node_labels = BTreeMap::new();
    let mut flavors = BTreeMap::new();
    for (i, node) in f.nodes.iter().enumerate() {
        let id = NodeId::from_index(i);
        if !f.is_compute_node(id) {
            continue;
        }
        let t = f.template_of(id);
        if t.gpus > 0 {
            let product = f
                .gpu_model(&t.gpu_model)
                .map(|m| m.name.replace(' ', "-"))
                .unwrap_or_else(|| t.gpu_model.clone());
            flavors.insert(t.gpu_model.clone(), product);
        }
        let mut labels = BTreeMap::new();
        for (label, level) in &levels_out {
            let value = if *level == usize::MAX {
                node.nvlink_domain
                    .map(|d| f.nvlink_domains[d.index()].name.clone())
            } else {
                lv.group_of(id, *level)
                    .map(|g| lv.tiers[*level][g].name.clone())
            };
            if let Some(v) = value {
                labels.insert(*label, v);
            }
        }
        node_labels.insert(node.name.clone(), labels);
    }
    // Nesting: each value of a level must sit under one value of the level above.
    let mut not_nested = Vec::new();
    for w in levels_out.windows(2) {
        let (upper, lower) = (w[0].0, w[1].0);
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        for labels in node_labels.values() {
            if let (Some(u), Some(l)) = (labels.get(upper), labels.get(lower)) {
                if let Some(p) = parent.insert(l.as_str(), u.as_str()) {
                    if p != u && !not_nested.contains(&format!("{lower}={l}")) {
                        not_nested.push(format!("{lower}={l}"));
                    }
                }
            }
        }
    }
    let mut levels: Vec<&'static str> = levels_out.iter().map(|(l, _)| *l).collect();
    levels.push(LABEL_HOST);
    KueueTopology {
        name: f.name.clone(),
        levels,
        node_labels,
        flavors,
        not_nested,
    }
}

/// YAML documents: `Topology`, one `ResourceFlavor` per GPU model, then one `Node` per compute
/// node carrying only the topology labels (`kubectl apply` merges them into existing nodes).
pub fn render(k: &KueueTopology, header: &str) -> String {
    let mut o = String::new();
    for line in header.lines() {
        let _ = writeln!(o, "# {line}");
    }
    for n in &k.not_nested {
        let _ = writeln!(
            o,
            "# warning: `{n}` spans two parent domains; Kueue sees one domain per parent"
        );
    }
    let _ = writeln!(o, "apiVersion: kueue.x-k8s.io/v1beta1");
    let _ = writeln!(o, "kind: Topology");
    let _ = writeln!(o, "metadata:\n  name: {}", k.name);
    let _ = writeln!(o, "spec:\n  levels:");
    for l in &k.levels {
        let _ = writeln!(o, "    - nodeLabel: {l}");
    }
    for (model, product) in &k.flavors {
        let _ = writeln!(o, "---");
        let _ = writeln!(o, "apiVersion: kueue.x-k8s.io/v1beta1");
        let _ = writeln!(o, "kind: ResourceFlavor");
        let _ = writeln!(o, "metadata:\n  name: {}-{model}", k.name);
        let _ = writeln!(o, "spec:");
        let _ = writeln!(o, "  nodeLabels:\n    {LABEL_GPU_PRODUCT}: {product}");
        let _ = writeln!(o, "  topologyName: {}", k.name);
    }
    for (node, labels) in &k.node_labels {
        let _ = writeln!(o, "---");
        let _ = writeln!(o, "apiVersion: v1");
        let _ = writeln!(o, "kind: Node");
        let _ = writeln!(o, "metadata:\n  name: {node}\n  labels:");
        for (key, value) in labels {
            let _ = writeln!(o, "    {key}: {value}");
        }
    }
    o
}
