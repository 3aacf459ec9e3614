//! Name rules of the export targets, checked before anything is written: a fabric whose names
//! the target cannot take gets a diagnostic on the name (FP926-FP928), never an invalid file.
//!
//! - Kubernetes object names (`Node`, `Topology`, `ResourceFlavor`): DNS-1123 subdomains, at
//!   most 253 characters of `[a-z0-9.-]`, each dot-separated part alphanumeric at both ends.
//! - Kubernetes label values: at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at both
//!   ends (or empty). A node name is also the value of `kubernetes.io/hostname`.
//!   Source: kubernetes.io, "Object Names and IDs" and "Labels and Selectors"; the Kueue
//!   Topology CRD's `nodeLabel` pattern (`shared` reference copy of
//!   kubernetes-sigs/kueue `config/components/crd/bases/`).
//! - Slurm names (NodeName, SwitchName, BlockName): letters, digits, `-`, `_` and `.`, the
//!   rule `fabplan import slurm` reads them back with (FP909); SchedMD topology.conf(5).

use crate::diag::Diagnostic;
use crate::model::{Entity, Fabric, NodeId};

pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

pub fn is_label_value(s: &str) -> bool {
    let b = s.as_bytes();
    b.is_empty()
        || (b.len() <= 63
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric())
}

pub fn is_slurm_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Where a name comes from, for the diagnostic's label.
#[derive(Debug, Clone, Copy)]
pub enum NameOf {
    Fabric,
    Node(NodeId),
    /// A switch group (leaf, spine or core): its first switch.
    Switch(crate::model::SwitchId),
    /// An NVLink domain: its rack.
    Domain(crate::model::RackId),
    /// A GPU model's product name (the catalog's, not the fabric's): the fabric.
    GpuProduct,
}

impl NameOf {
    fn entity(self) -> Entity {
        match self {
            NameOf::Fabric | NameOf::GpuProduct => Entity::Fabric,
            NameOf::Node(n) => Entity::Node(n),
            NameOf::Switch(s) => Entity::Switch(s),
            NameOf::Domain(r) => Entity::Rack(r),
        }
    }
}

/// FP926: `name` is used as a Kubernetes object name.
pub fn k8s_object_name(name: &str, what: &str, of: NameOf, out: &mut Vec<Diagnostic>) {
    if !is_dns1123_subdomain(name) {
        out.push(
            Diagnostic::error(
                "FP926",
                format!("{what} `{name}` is not a Kubernetes object name"),
            )
            .on(of.entity(), None, "becomes a Kubernetes object name here")
            .help(
                "object names are DNS-1123 subdomains: lowercase letters, digits, `-` and `.`, \
alphanumeric at both ends, at most 253 characters; rename it in the fabric",
            ),
        );
    }
}

/// FP927: `value` is used as a Kubernetes label value.
pub fn k8s_label_value(value: &str, what: &str, of: NameOf, out: &mut Vec<Diagnostic>) {
    if !is_label_value(value) {
        out.push(
            Diagnostic::error(
                "FP927",
                format!("{what} `{value}` is not a Kubernetes label value"),
            )
            .on(of.entity(), None, "becomes a node label value here")
            .help(
                "label values are at most 63 letters, digits, `-`, `_` and `.`, alphanumeric at \
both ends; rename it in the fabric",
            ),
        );
    }
}

/// FP928: `name` is written as a Slurm node, switch or block name.
pub fn slurm_name(name: &str, what: &str, of: NameOf, out: &mut Vec<Diagnostic>) {
    if !is_slurm_name(name) {
        out.push(
            Diagnostic::error("FP928", format!("{what} `{name}` is not a Slurm name"))
                .on(of.entity(), None, "becomes a Slurm name here")
                .help(
                    "Slurm names are letters, digits, `-`, `_` and `.` (no spaces, `:`, `#`, \
`=`, `,` or brackets); rename it in the fabric",
                ),
        );
    }
}

/// Every name `fabplan export slurm` writes: compute nodes, switch groups, NVLink domains.
pub fn check_slurm(f: &Fabric) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    slurm_name(&f.name, "fabric name", NameOf::Fabric, &mut out);
    for (i, n) in f.nodes.iter().enumerate() {
        let id = NodeId::from_index(i);
        if f.is_compute_node(id) {
            slurm_name(&n.name, "node name", NameOf::Node(id), &mut out);
        }
    }
    let lv = crate::fabric::levels::levels(f);
    for groups in &lv.tiers {
        for g in groups {
            if let Some(&s) = g.switches.first() {
                slurm_name(&g.name, "switch name", NameOf::Switch(s), &mut out);
            }
        }
    }
    for d in &f.nvlink_domains {
        if d.nodes.len() > 1 {
            slurm_name(
                &d.name,
                "NVLink domain name",
                NameOf::Domain(d.rack),
                &mut out,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(is_dns1123_subdomain("dgx01.lab"));
        assert!(!is_dns1123_subdomain("lab: 4"));
        assert!(!is_dns1123_subdomain("Dgx01"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(!is_dns1123_subdomain("-a"));
        assert!(is_label_value("NVIDIA-H100-80GB-HBM3"));
        assert!(is_label_value(""));
        assert!(!is_label_value("lab: 4"));
        assert!(!is_label_value("a-"));
        assert!(!is_label_value(&"a".repeat(64)));
        assert!(is_slurm_name("gb-a01"));
        assert!(!is_slurm_name("lab#4"));
        assert!(!is_slurm_name("lab: 4"));
    }
}
