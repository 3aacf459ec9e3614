//! `export mig-parted`: a mig-parted config per node from a plan's GPU layouts, and the
//! `nvidia.com/mig.config` node labels that select them.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::schema::demand::RawState;

/// Renders the mig-parted config (YAML) with the label commands as trailing comments.
/// GPUs the plan lists without a MIG layout, on a node that has MIG GPUs, get
/// `mig-enabled: false`; nodes without MIG GPUs are left out.
pub fn mig_parted(plan: &RawState) -> String {
    // node -> gpu index -> Some(profile counts) for MIG, None for whole/shared.
    let mut nodes: BTreeMap<String, BTreeMap<u32, Option<BTreeMap<String, u32>>>> = BTreeMap::new();
    for g in &plan.gpus {
        let Some((node, idx)) = g.gpu.value.rsplit_once('/') else {
            continue;
        };
        let Ok(idx) = idx.parse::<u32>() else {
            continue;
        };
        let entry = nodes.entry(node.to_string()).or_default();
        match &g.mig {
            Some(layout) => {
                let mut counts = BTreeMap::new();
                for w in layout.value.split_whitespace() {
                    let p = w.split_once('@').map(|x| x.0).unwrap_or(w);
                    *counts.entry(p.to_string()).or_insert(0) += 1;
                }
                entry.insert(idx, Some(counts));
            }
            None => {
                entry.insert(idx, None);
            }
        }
    }
    nodes.retain(|_, gpus| gpus.values().any(|x| x.is_some()));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# mig-parted config written by `fabplan export mig-parted`; apply with"
    );
    let _ = writeln!(
        s,
        "# `nvidia-mig-parted apply -f FILE -c <config>` or the GPU operator's mig-manager."
    );
    let _ = writeln!(s, "version: v1");
    let _ = writeln!(s, "mig-configs:");
    if nodes.is_empty() {
        s.truncate(s.len() - "mig-configs:\n".len());
        let _ = writeln!(s, "mig-configs: {{}}");
    }
    for (node, gpus) in &nodes {
        let _ = writeln!(s, "  fabplan-{node}:");
        // Group devices with identical settings, in device order of first appearance.
        let mut groups: Vec<(Option<BTreeMap<String, u32>>, Vec<u32>)> = Vec::new();
        for (idx, cfg) in gpus {
            match groups.iter_mut().find(|(c, _)| c == cfg) {
                Some((_, d)) => d.push(*idx),
                None => groups.push((cfg.clone(), vec![*idx])),
            }
        }
        for (cfg, devices) in groups {
            let list = devices
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(s, "    - devices: [{list}]");
            match cfg {
                Some(counts) => {
                    let _ = writeln!(s, "      mig-enabled: true");
                    let _ = writeln!(s, "      mig-devices:");
                    for (p, n) in counts {
                        let _ = writeln!(s, "        \"{p}\": {n}");
                    }
                }
                None => {
                    let _ = writeln!(s, "      mig-enabled: false");
                }
            }
        }
    }
    let _ = writeln!(
        s,
        "# node labels to apply (nvidia.com/mig.config selects the config above):"
    );
    for node in nodes.keys() {
        let _ = writeln!(
            s,
            "# kubectl label node {node} nvidia.com/mig.config=fabplan-{node} --overwrite"
        );
    }
    s
}
