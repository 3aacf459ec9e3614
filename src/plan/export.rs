//! `export mig-parted`: a mig-parted config per node from a plan's GPU layouts, and the
//! `nvidia.com/mig.config` node labels that select them.

use std::collections::BTreeMap;

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

/// Renders the mig-parted config (YAML, one serializer call) under a header comment that
/// gives the planned starts and the label commands.
/// GPUs the plan lists without a MIG layout, on a node that has MIG GPUs, get
/// `mig-enabled: false`; nodes without MIG GPUs are left out.
///
/// mig-parted's v1 format has profile counts only: it creates the instances largest first
/// and lets the driver choose each start (`CreateGpuInstance` without a placement), so the
/// planned starts are listed in the header (`# planned: CONFIG devices [..]: LAYOUT`), for
/// operators to compare with `nvidia-smi mig -lgi` (docs/mig.md, "Exporting a plan to
/// mig-parted"). Devices are grouped only when both counts and planned layout agree.
///
/// Nothing invalid is written: with the fabric the plan is validated like a current state
/// (`load::state`); without it each layout is checked on the GPU model the plan names for
/// the workloads on that GPU, and a GPU whose model the plan does not tell is an error.
pub fn mig_parted(plan: &PlanDocument, fabric: Option<&Fabric>) -> Result<String, Vec<Diagnostic>> {
    let mut diags = match fabric {
        Some(f) => state_from_document(plan, f).1,
        None => check_layouts_on_catalog(plan),
    };
    diags.extend(check_config_names(plan));
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

/// One device group of a mig-parted config (NVIDIA/mig-parted `config.yaml`, `version: v1`).
#[derive(serde::Serialize)]
struct Entry {
    devices: serde_saphyr::FlowSeq<Vec<u32>>,
    #[serde(rename = "mig-enabled")]
    mig_enabled: bool,
    #[serde(rename = "mig-devices", skip_serializing_if = "Option::is_none")]
    mig_devices: Option<BTreeMap<String, u32>>,
}

/// The mig-parted config name of `node`, which is also its `nvidia.com/mig.config` label
/// value.
fn config_name(node: &str) -> String {
    format!("fabplan-{node}")
}

/// Every `nvidia.com/mig.config` value must be a Kubernetes label value (FP927) on the
/// plan's GPU entry that names the node.
fn check_config_names(plan: &PlanDocument) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for g in plan.gpus.iter().filter(|g| g.mig.is_some()) {
        let Some((node, _)) = g.gpu.value.rsplit_once('/') else {
            continue;
        };
        let name = config_name(node);
        if !seen.insert(name.clone()) || crate::formats::names::is_label_value(&name) {
            continue;
        }
        diags.push(
            Diagnostic::error(
                "FP927",
                format!("mig-parted config `{name}` is not a Kubernetes label value"),
            )
            .at_opt(
                source::known_span_of(&g.gpu),
                "its node names the `nvidia.com/mig.config` label value",
            )
            .help(
                "label values are at most 63 letters, digits, `-`, `_` and `.`, alphanumeric at \
both ends; rename the node in the fabric and plan again",
            ),
        );
    }
    diags
}

/// A whole mig-parted config (`version: v1`, `mig-configs:`), serialized in one piece.
#[derive(serde::Serialize)]
struct Document {
    version: &'static str,
    #[serde(rename = "mig-configs")]
    mig_configs: BTreeMap<String, Vec<Entry>>,
}

/// The config and, for the header, each MIG device group's planned layout and each node.
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
    let mut doc = Document {
        version: "v1",
        mig_configs: BTreeMap::new(),
    };
    // (config, devices, planned layout) of each MIG device group, for the header.
    let mut planned: Vec<(String, Vec<u32>, String)> = Vec::new();
    for (node, gpus) in &nodes {
        // Group devices with identical settings, in device order of first appearance.
        let mut groups: Vec<DeviceGroup> = Vec::new();
        for (idx, cfg) in gpus {
            match groups.iter_mut().find(|(c, _)| c == cfg) {
                Some((_, d)) => d.push(*idx),
                None => groups.push((cfg.clone(), vec![*idx])),
            }
        }
        let name = config_name(node);
        let entries = groups
            .into_iter()
            .map(|(cfg, devices)| {
                if let Some(m) = &cfg {
                    planned.push((name.clone(), devices.clone(), m.planned.join(" ")));
                }
                Entry {
                    devices: serde_saphyr::FlowSeq(devices),
                    mig_enabled: cfg.is_some(),
                    mig_devices: cfg.map(|m| m.counts),
                }
            })
            .collect();
        doc.mig_configs.insert(name, entries);
    }
    // The header: comments before the document, never between its parts. The planned starts
    // are kept although the plan has them too: this file is what reaches the node, and the
    // operator who compares `nvidia-smi mig -lgi` with the plan's starts there may not have
    // the plan. Every piece is a plan word or a node name that passed FP927 (no line breaks).
    let mut header = vec![
        "mig-parted config written by `fabplan export mig-parted`; apply with".to_string(),
        "`nvidia-mig-parted apply -f FILE -c <config>` or the GPU operator's mig-manager.".into(),
        "mig-parted applies the profile counts and the driver picks each instance's start;".into(),
    ];
    if !planned.is_empty() {
        header.push(
            "the plan's starts, per config and devices (compare with `nvidia-smi mig -lgi`):"
                .into(),
        );
        for (name, devices, layout) in &planned {
            let devices: Vec<String> = devices.iter().map(u32::to_string).collect();
            header.push(format!(
                "  planned: {name} devices [{}]: {layout}",
                devices.join(", ")
            ));
        }
    }
    if !nodes.is_empty() {
        header.push("node labels to apply (nvidia.com/mig.config selects the config):".into());
        for node in nodes.keys() {
            header.push(format!(
                "  kubectl label node {node} nvidia.com/mig.config={} --overwrite",
                config_name(node)
            ));
        }
    }
    let mut s = String::new();
    for line in header.iter().flat_map(|h| h.lines()) {
        s.push_str("# ");
        s.push_str(line);
        s.push('\n');
    }
    // List items indented under their key, as in mig-parted's own config-default.yaml.
    let opts =
        serde_saphyr::ser_options! { compact_list_indent: false, prefer_block_scalars: false };
    s.push_str(&serde_saphyr::to_string_with_options(&doc, opts).expect("plain data serializes"));
    s
}
