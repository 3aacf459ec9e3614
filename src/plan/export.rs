//! `export mig-parted`: a mig-parted config per node from a plan's GPU layouts, and the
//! `nvidia.com/mig.config` node labels that select them.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::schema::demand::RawState;

/// One GPU's MIG setting: the profile counts mig-parted applies, and the layout the plan
/// chose (`profile@start` words in start order), which mig-parted cannot express.
#[derive(Debug, Clone, PartialEq)]
struct MigSetting {
    counts: BTreeMap<String, u32>,
    planned: Vec<String>,
}

/// Devices of one node that share a setting (`None`: MIG disabled).
type DeviceGroup = (Option<MigSetting>, Vec<u32>);

fn setting(layout: &str) -> MigSetting {
    let mut counts = BTreeMap::new();
    let mut words: Vec<(u32, &str)> = Vec::new();
    for w in layout.split_whitespace() {
        let (p, start) = match w.split_once('@') {
            Some((p, s)) => (p, s.parse::<u32>().unwrap_or(u32::MAX)),
            None => (w, u32::MAX),
        };
        *counts.entry(p.to_string()).or_insert(0) += 1;
        words.push((start, w));
    }
    words.sort();
    MigSetting {
        counts,
        planned: words.into_iter().map(|(_, w)| w.to_string()).collect(),
    }
}

/// Renders the mig-parted config (YAML) with the label commands as trailing comments.
/// GPUs the plan lists without a MIG layout, on a node that has MIG GPUs, get
/// `mig-enabled: false`; nodes without MIG GPUs are left out.
///
/// mig-parted's v1 format has profile counts only: it creates the instances largest first
/// and lets the driver choose each start (`CreateGpuInstance` without a placement), so the
/// planned starts are written as a `# planned:` comment above each device group, for
/// operators to compare with `nvidia-smi mig -lgi` (docs/mig.md, "Exporting a plan to
/// mig-parted"). Devices are grouped only when both counts and planned layout agree.
pub fn mig_parted(plan: &RawState) -> String {
    // node -> gpu index -> Some(setting) for MIG, None for whole/shared.
    let mut nodes: BTreeMap<String, BTreeMap<u32, Option<MigSetting>>> = BTreeMap::new();
    for g in &plan.gpus {
        let Some((node, idx)) = g.gpu.value.rsplit_once('/') else {
            continue;
        };
        let Ok(idx) = idx.parse::<u32>() else {
            continue;
        };
        let entry = nodes.entry(node.to_string()).or_default();
        entry.insert(idx, g.mig.as_ref().map(|layout| setting(&layout.value)));
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
    let _ = writeln!(
        s,
        "# mig-parted applies the profile counts and the driver picks each instance's start;"
    );
    let _ = writeln!(
        s,
        "# `# planned:` gives the plan's starts: compare them with `nvidia-smi mig -lgi`."
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
        let mut groups: Vec<DeviceGroup> = Vec::new();
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
            if let Some(m) = &cfg {
                let _ = writeln!(s, "    # planned: {}", m.planned.join(" "));
            }
            let _ = writeln!(s, "    - devices: [{list}]");
            match cfg {
                Some(m) => {
                    let _ = writeln!(s, "      mig-enabled: true");
                    let _ = writeln!(s, "      mig-devices:");
                    for (p, n) in m.counts {
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
