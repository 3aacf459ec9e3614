//! Kueue topology-aware scheduling, out: a `Topology`, one `ResourceFlavor` per GPU model,
//! and the node labels the topology's levels read.
//!
//! Kueue's `Topology.spec.levels` run from the top level down and end at
//! `kubernetes.io/hostname`; a `ResourceFlavor.spec.topologyName` points at it (KEP-2724;
//! the Kueue CRDs, kubernetes-sigs/kueue `config/components/crd/bases/`). The API version is
//! `kueue.x-k8s.io/v1beta2` (the storage version) by default, `v1beta1` (deprecated) on request.
//!
//! Label keys are the ones NVIDIA topograph writes, so a cluster labelled by topograph and one
//! labelled from this file agree: topograph v1's `fabric.topograph.run/tier-N` (tier 0 is the
//! switch closest to the node: leaf 0, spine 1, core 2) and `accelerator.topograph.run/domain`
//! by default (NVIDIA/topograph `docs/reference/node-labels.md`), or the older
//! `network.topology.nvidia.com/{core,spine,leaf,accelerator}`.
//!
//! Levels: core and spine groups when the fabric has those tiers, then the NVLink domain
//! (`accelerator`) when domains span several nodes (NVL72), else the leaf group. On a
//! rail-optimized NVL72 fabric a rack's trays sit under several leaf groups, so leaf and
//! NVLink domain do not nest; the NVLink domain is the level that matters for tensor
//! parallelism, and the leaf level is dropped. A level with one value across the cluster
//! tells the scheduler nothing and is dropped too. Values not nested in their parent are
//! reported.
//!
//! Written through serde-saphyr; every name is checked first against Kubernetes' rules
//! ([`super::names`], FP926/FP927).

use serde::Serialize;
use std::collections::BTreeMap;

use crate::fabric::levels::levels;
use crate::model::*;

/// Which node-label keys the topology levels use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelScheme {
    /// topograph v1 (2026-08): `fabric.topograph.run/tier-N`, `accelerator.topograph.run/domain`.
    Topograph,
    /// topograph before v1: `network.topology.nvidia.com/{core,spine,leaf,accelerator}`.
    NvidiaNetwork,
}

impl LabelScheme {
    /// The key of switch tier `level` (0 leaf, 1 spine, 2 core).
    fn tier(self, level: usize) -> &'static str {
        match (self, level) {
            (LabelScheme::Topograph, 0) => "fabric.topograph.run/tier-0",
            (LabelScheme::Topograph, 1) => "fabric.topograph.run/tier-1",
            (LabelScheme::Topograph, _) => "fabric.topograph.run/tier-2",
            (LabelScheme::NvidiaNetwork, 0) => "network.topology.nvidia.com/leaf",
            (LabelScheme::NvidiaNetwork, 1) => "network.topology.nvidia.com/spine",
            (LabelScheme::NvidiaNetwork, _) => "network.topology.nvidia.com/core",
        }
    }

    fn accelerator(self) -> &'static str {
        match self {
            LabelScheme::Topograph => "accelerator.topograph.run/domain",
            LabelScheme::NvidiaNetwork => "network.topology.nvidia.com/accelerator",
        }
    }
}

/// The Kueue API version written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KueueApi {
    /// `kueue.x-k8s.io/v1beta2`, the storage version.
    V1beta2,
    /// `kueue.x-k8s.io/v1beta1`, deprecated.
    V1beta1,
}

impl KueueApi {
    pub fn as_str(self) -> &'static str {
        match self {
            KueueApi::V1beta2 => "kueue.x-k8s.io/v1beta2",
            KueueApi::V1beta1 => "kueue.x-k8s.io/v1beta1",
        }
    }
}

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

pub fn from_fabric(f: &Fabric, scheme: LabelScheme) -> KueueTopology {
    let lv = levels(f);
    let multi_node_domains = f.nvlink_domains.iter().any(|d| d.nodes.len() > 1);
    // (label, tier level or usize::MAX for accelerator)
    let mut levels_out: Vec<(&'static str, usize)> = Vec::new();
    for level in [2usize, 1] {
        if lv.tiers.len() > level {
            levels_out.push((scheme.tier(level), level));
        }
    }
    if multi_node_domains {
        levels_out.push((scheme.accelerator(), usize::MAX));
    } else if !lv.tiers.is_empty() {
        levels_out.push((scheme.tier(0), 0));
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
    // A level with one value across the cluster (one core group, one spine group) splits
    // nothing: drop it and its labels.
    levels_out.retain(|(label, _)| {
        let values: std::collections::BTreeSet<&str> = node_labels
            .values()
            .filter_map(|l: &BTreeMap<&'static str, String>| l.get(label).map(String::as_str))
            .collect();
        values.len() > 1
    });
    for labels in node_labels.values_mut() {
        labels.retain(|k, _| levels_out.iter().any(|(l, _)| l == k));
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

/// Every name the export writes, against Kubernetes' rules: the fabric (`Topology` and
/// `ResourceFlavor` names), nodes (`Node` names and `kubernetes.io/hostname` values), and the
/// label values of the levels and flavors.
pub fn check_names(f: &Fabric, k: &KueueTopology) -> Vec<crate::diag::Diagnostic> {
    use super::names::{k8s_label_value, k8s_object_name, NameOf};
    let mut out = Vec::new();
    k8s_object_name(&k.name, "fabric name", NameOf::Fabric, &mut out);
    for model in k.flavors.keys() {
        k8s_object_name(
            &flavor_name(k, model),
            "ResourceFlavor name",
            NameOf::Fabric,
            &mut out,
        );
    }
    for product in k.flavors.values() {
        k8s_label_value(product, "GPU product", NameOf::GpuProduct, &mut out);
    }
    let lv = levels(f);
    let domain_rack: BTreeMap<&str, crate::model::RackId> = f
        .nvlink_domains
        .iter()
        .map(|d| (d.name.as_str(), d.rack))
        .collect();
    let group_switch: BTreeMap<&str, crate::model::SwitchId> = lv
        .tiers
        .iter()
        .flatten()
        .filter_map(|g| g.switches.first().map(|s| (g.name.as_str(), *s)))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for (i, node) in f.nodes.iter().enumerate() {
        let id = NodeId::from_index(i);
        let Some(labels) = k.node_labels.get(&node.name) else {
            continue;
        };
        k8s_object_name(&node.name, "node name", NameOf::Node(id), &mut out);
        if crate::formats::names::is_dns1123_subdomain(&node.name) {
            k8s_label_value(&node.name, "node name", NameOf::Node(id), &mut out);
        }
        for v in labels.values() {
            if !seen.insert(v.clone()) {
                continue;
            }
            let of = match (domain_rack.get(v.as_str()), group_switch.get(v.as_str())) {
                (Some(r), _) => NameOf::Domain(*r),
                (None, Some(s)) => NameOf::Switch(*s),
                (None, None) => NameOf::Node(id),
            };
            k8s_label_value(v, "topology domain", of, &mut out);
        }
    }
    out
}

fn flavor_name(k: &KueueTopology, model: &str) -> String {
    format!("{}-{model}", k.name)
}

#[derive(Serialize)]
struct Meta<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<&'a BTreeMap<&'static str, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Doc<'a, S: Serialize> {
    api_version: &'a str,
    kind: &'a str,
    metadata: Meta<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spec: Option<S>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Level<'a> {
    node_label: &'a str,
}

#[derive(Serialize)]
struct TopologySpec<'a> {
    levels: Vec<Level<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlavorSpec<'a> {
    node_labels: BTreeMap<&'static str, &'a str>,
    topology_name: &'a str,
}

fn yaml<T: Serialize>(doc: &T) -> String {
    crate::util::to_yaml(doc)
}

/// YAML documents: `Topology`, one `ResourceFlavor` per GPU model, then one `Node` per compute
/// node carrying only the topology labels (`kubectl apply` merges them into existing nodes;
/// none when no level is left but the hostname).
/// Names must have passed [`check_names`].
pub fn render(k: &KueueTopology, api: KueueApi, header: &str) -> String {
    let mut docs: Vec<String> = Vec::new();
    docs.push(yaml(&Doc {
        api_version: api.as_str(),
        kind: "Topology",
        metadata: Meta {
            name: &k.name,
            labels: None,
        },
        spec: Some(TopologySpec {
            levels: k.levels.iter().map(|l| Level { node_label: l }).collect(),
        }),
    }));
    for (model, product) in &k.flavors {
        let name = flavor_name(k, model);
        docs.push(yaml(&Doc {
            api_version: api.as_str(),
            kind: "ResourceFlavor",
            metadata: Meta {
                name: &name,
                labels: None,
            },
            spec: Some(FlavorSpec {
                node_labels: BTreeMap::from([(LABEL_GPU_PRODUCT, product.as_str())]),
                topology_name: &k.name,
            }),
        }));
    }
    for (node, labels) in k.node_labels.iter().filter(|(_, l)| !l.is_empty()) {
        docs.push(yaml(&Doc::<()> {
            api_version: "v1",
            kind: "Node",
            metadata: Meta {
                name: node,
                labels: Some(labels),
            },
            spec: None,
        }));
    }
    let mut o = String::new();
    for line in header.lines() {
        o.push_str("# ");
        o.push_str(line);
        o.push('\n');
    }
    for n in &k.not_nested {
        o.push_str(&format!(
            "# warning: `{n}` spans two parent domains; Kueue sees one domain per parent\n"
        ));
    }
    o.push_str(&docs.join("---\n"));
    o
}
