//! `export mig-parted`: a mig-parted config per node from a plan's GPU layouts, and the
//! `nvidia.com/mig.config` node labels that select them.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::catalog::Catalog;
use crate::diag::Diagnostic;
use crate::load::state::{check_layout_at, layout_words, state_from_document};
use crate::model::Fabric;
use crate::schema::plan::PlanDocument;
use crate::source;

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
///
/// Nothing invalid is written: with the fabric the plan is validated like a current state
/// (`load::state`); without it each layout is checked on the GPU model the plan names for
/// the workloads on that GPU, and a GPU whose model the plan does not tell is an error.
pub fn mig_parted(plan: &PlanDocument, fabric: Option<&Fabric>) -> Result<String, Vec<Diagnostic>> {
    let diags = match fabric {
        Some(f) => state_from_document(plan, f).1,
        None => check_layouts_on_catalog(plan),
    };
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(render(plan))
}

/// Each MIG layout checked against the catalog table of the model the plan names for it.
fn check_layouts_on_catalog(plan: &PlanDocument) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for g in &plan.gpus {
        let Some(layout) = &g.mig else { continue };
        // The model of the workloads the plan puts on this GPU: the assignment's own when
        // the workload's replicas span models, else the workload's.
        let model = plan
            .workloads
            .iter()
            .filter(|w| {
                g.workloads.contains(&w.name.value)
                    || w.assignments.iter().any(|a| a.gpu.value == g.gpu.value)
            })
            .find_map(|w| {
                w.assignments
                    .iter()
                    .find(|a| a.gpu.value == g.gpu.value)
                    .and_then(|a| a.gpu_model.as_deref())
                    .or(w.gpu_model.as_deref())
            });
        let table = model
            .and_then(|m| Catalog::builtin().gpu(m))
            .and_then(|m| m.mig.as_ref());
        let (Some(model), Some(table)) = (model, table) else {
            diags.push(
                Diagnostic::error(
                    "FP815",
                    format!(
                        "the plan does not say which MIG-capable GPU model `{}` is",
                        g.gpu.value
                    ),
                )
                .at_opt(source::known_span_of(&g.gpu), "model unknown")
                .help("pass the fabric the plan was made for: `--fabric FILE`"),
            );
            continue;
        };
        let before = diags.len();
        let pl = layout_words(layout, Some(table), &mut diags, |word| {
            (
                format!(
                    "GPU `{}` has MIG instance `{word}` `{model}` does not offer",
                    g.gpu.value
                ),
                format!(
                    "write `profile@start` with a start the profile allows; `{model}` offers {}",
                    table
                        .profiles
                        .iter()
                        .map(|p| format!("`{}`", p.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        });
        if diags.len() == before {
            check_layout_at(table, &pl, layout, &g.gpu.value, &mut diags);
        }
    }
    diags
}

fn render(plan: &PlanDocument) -> String {
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
