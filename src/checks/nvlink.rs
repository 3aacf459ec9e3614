//! NVLink domains.

use std::collections::BTreeSet;

use super::{diag, Ctx};
use crate::diag::Diagnostic;
use crate::model::*;

pub fn domain_shape(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for d in &f.nvlink_domains {
        let first = d.nodes.first().copied();
        let problem = match d.kind {
            DomainKind::Hgx8 if d.gpus != 8 => Some(format!(
                "HGX domain `{}` has {} GPUs; an HGX/DGX board has 8",
                d.name, d.gpus
            )),
            DomainKind::Nvl72 => {
                let trays = d.nodes.len();
                let per_tray: BTreeSet<u32> =
                    d.nodes.iter().map(|n| f.template_of(*n).gpus).collect();
                if trays != 18
                    || d.gpus != 72
                    || d.switch_trays != 9
                    || per_tray.iter().any(|g| *g != 4)
                {
                    Some(format!(
                        "NVL72 domain `{}` has {trays} compute trays, {} GPUs and {} switch trays; NVL72 is 18 trays x 4 GPUs with 9 switch trays",
                        d.name, d.gpus, d.switch_trays
                    ))
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(p) = problem {
            // An HGX domain is one node's baseboard; an NVL72 domain is declared on its rack.
            let mut diagnostic = match (d.kind, first) {
                (DomainKind::Hgx8, Some(n)) => {
                    diag("FP401", p).on(Entity::Node(n), None, "this node's HGX domain")
                }
                _ => {
                    diag("FP401", p).on(Entity::Rack(d.rack), Some("nvlink_domain"), "this domain")
                }
            };
            if let Some(n) = first {
                diagnostic = diagnostic.also(
                    Entity::Template(f.nodes[n.index()].template),
                    Some("gpus"),
                    "GPUs per node",
                );
            }
            out.push(diagnostic.help("an HGX template has `gpus: 8`; an NVL72 rack holds 18 trays of 4 GPUs and declares `switch_trays: 9`"));
        }
    }
}

pub fn mixed_gpu(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for d in &f.nvlink_domains {
        let models: BTreeSet<&str> = d
            .nodes
            .iter()
            .map(|n| f.template_of(*n).gpu_model.as_str())
            .collect();
        if models.len() > 1 {
            let list: Vec<&str> = models.into_iter().collect();
            out.push(
                diag(
                    "FP402",
                    format!(
                        "NVLink domain `{}` mixes GPU models: {}",
                        d.name,
                        list.join(", ")
                    ),
                )
                .on(Entity::Rack(d.rack), Some("nvlink_domain"), "this domain")
                .help("put one GPU model in each NVLink domain"),
            );
        }
    }
}

pub fn orphan_tray(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let f = ctx.fabric;
    for (i, n) in f.nodes.iter().enumerate() {
        if f.templates[n.template.index()].nvlink == NvlinkKind::Nvl72Tray
            && n.nvlink_domain.is_none()
        {
            out.push(
                diag(
                    "FP403",
                    format!(
                        "NVL72 tray `{}` is in rack `{}`, which declares no NVL72 domain",
                        n.name,
                        f.racks[n.rack.index()].name
                    ),
                )
                .on(Entity::Node(NodeId::from_index(i)), None, "tray here")
                .also(Entity::Rack(n.rack), None, "rack declared here")
                .help("add `nvlink_domain: {kind: nvl72, switch_trays: 9}` to the rack"),
            );
        }
    }
}
