//! Loading demand and current-state files (text -> raw schema -> validated, span-free).

use std::collections::BTreeMap;
use std::path::Path;

use serde_saphyr::Spanned;

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Span};
use crate::mig::{Placement, ProfileIdx};
use crate::model::Fabric;
use crate::schema::demand::{RawAssignment, RawState};
use crate::source::{self, SourceFile};

use super::state::{Assignment, Hold};
use super::Current;

/// GPU name (`node/index`) -> global GPU index.
pub fn gpu_index(fabric: &Fabric) -> BTreeMap<String, u32> {
    fabric
        .gpus
        .iter()
        .enumerate()
        .map(|(i, g)| {
            (
                format!("{}/{}", fabric.nodes[g.node.index()].name, g.index),
                i as u32,
            )
        })
        .collect()
}

fn parse_instance(fabric: &Fabric, gpu: u32, text: &str) -> Option<Placement> {
    let (name, start) = text.split_once('@')?;
    let start: u8 = start.trim().parse().ok()?;
    let node = fabric.gpus[gpu as usize].node;
    let model = &fabric.template_of(node).gpu_model;
    let table = fabric
        .gpu_model(model)
        .or_else(|| Catalog::builtin().gpu(model))?
        .mig
        .as_ref()?;
    let p: ProfileIdx = table.profile_index(name)?;
    // A start the profile does not allow is an instance the GPU cannot create.
    if !table.profile(p).starts.contains(&start) {
        return None;
    }
    Some(Placement { profile: p, start })
}

/// Reads a plan or current-state file (JSON or YAML) into assignments, with diagnostics for
/// names it cannot resolve.
pub fn read_state(
    path: &Path,
    fabric: &Fabric,
) -> Result<(Current, SourceFile), (SourceFile, Vec<Diagnostic>)> {
    let file = match source::read_source(path) {
        Ok(f) => f,
        Err((f, d)) => return Err((f, vec![d])),
    };
    let raw: RawState = match source::parse_yaml_as(&file, source::STATE_DOC) {
        Ok(r) => r,
        Err(d) => return Err((file, vec![d])),
    };
    let (cur, diags) = state_from_raw(&raw, fabric);
    if diags.is_empty() {
        Ok((cur, file))
    } else {
        Err((file, diags))
    }
}

/// Help for a GPU name the fabric does not have: the node's GPU range when the node exists.
fn unknown_gpu_help(fabric: &Fabric, names: &BTreeMap<String, u32>, gpu: &str) -> String {
    let node = gpu.rsplit_once('/').map(|(n, _)| n).unwrap_or(gpu);
    match fabric.nodes.iter().position(|n| n.name == node) {
        Some(n) => {
            let count = fabric.gpus.iter().filter(|g| g.node.index() == n).count();
            if count == 0 {
                format!("node `{node}` has no GPUs")
            } else {
                format!(
                    "node `{node}` has GPUs `{node}/0` to `{node}/{}`",
                    count - 1
                )
            }
        }
        None => match names.keys().next() {
            Some(first) => format!(
                "the fabric has no node `{node}`; GPUs are named `node/index`, e.g. `{first}`"
            ),
            None => "the fabric has no GPUs".to_string(),
        },
    }
}

/// Help for a MIG instance `word` a GPU does not offer: the starts its profile allows, or
/// the model's profiles.
fn bad_instance_help(fabric: &Fabric, gpu: u32, word: &str) -> String {
    let node = fabric.gpus[gpu as usize].node;
    let model = &fabric.template_of(node).gpu_model;
    let table = fabric
        .gpu_model(model)
        .or_else(|| Catalog::builtin().gpu(model))
        .and_then(|g| g.mig.as_ref());
    let Some(t) = table.filter(|t| !t.profiles.is_empty()) else {
        return format!("`{model}` has no MIG profiles; drop the instance");
    };
    let name = word.split_once('@').map(|(n, _)| n).unwrap_or(word);
    if let Some(p) = t.profile_index(name) {
        let starts = &t.profile(p).starts;
        return format!(
            "on `{model}`, `{name}` may start at {}; write `profile@start`",
            starts
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    format!(
        "write `profile@start`, e.g. `{}@0`; `{model}` offers {}",
        t.profiles[0].name,
        t.profiles
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The span of word `index` (a byte offset into the value) of a spanned string: exact for a
/// plain or quoted scalar on one line, else the whole value.
fn word_span(value: &Spanned<String>, index: usize, len: usize) -> Option<Span> {
    let whole = source::known_span_of(value)?;
    let quote = match whole.len.checked_sub(value.value.len()) {
        Some(0) => 0,
        Some(2) => 1,
        _ => return Some(whole),
    };
    Some(Span {
        start: whole.start + quote + index,
        len,
    })
}

pub fn assignments_from_raw(
    list: &[RawAssignment],
    fabric: &Fabric,
    names: &BTreeMap<String, u32>,
    owner: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Assignment> {
    let mut out = Vec::new();
    for a in list {
        let Some(&g) = names.get(&a.gpu.value) else {
            diags.push(
                Diagnostic::error(
                    "FP806",
                    format!("`{owner}` is assigned unknown GPU `{}`", a.gpu.value),
                )
                .at_opt(source::known_span_of(&a.gpu), "not a GPU of the fabric")
                .help(unknown_gpu_help(fabric, names, &a.gpu.value)),
            );
            continue;
        };
        let hold = if let Some(i) = &a.instance {
            match parse_instance(fabric, g, &i.value) {
                Some(p) => Hold::Mig(p),
                None => {
                    diags.push(
                        Diagnostic::error(
                            "FP806",
                            format!(
                                "`{owner}` names MIG instance `{}` that GPU `{}` does not offer",
                                i.value, a.gpu.value
                            ),
                        )
                        .at_opt(source::known_span_of(i), "not an instance of this GPU")
                        .help(bad_instance_help(fabric, g, &i.value)),
                    );
                    continue;
                }
            }
        } else if let Some(m) = a
            .gpu_milli
            .or(a.fraction.map(|f| (f * 1000.0).round() as u32))
        {
            Hold::Share(m.clamp(1, 1000) as u16)
        } else {
            Hold::Whole
        };
        out.push(Assignment { gpu: g, hold });
    }
    out.sort();
    out
}

pub fn state_from_raw(raw: &RawState, fabric: &Fabric) -> (Current, Vec<Diagnostic>) {
    let names = gpu_index(fabric);
    let mut diags = Vec::new();
    let mut cur = Current::default();
    for w in &raw.workloads {
        if !w.admitted || w.assignments.is_empty() {
            continue;
        }
        let a = assignments_from_raw(&w.assignments, fabric, &names, &w.name.value, &mut diags);
        cur.running.insert(w.name.value.clone(), a);
    }
    for g in &raw.gpus {
        let Some(&id) = names.get(&g.gpu.value) else {
            diags.push(
                Diagnostic::error(
                    "FP806",
                    format!("unknown GPU `{}` in the state's `gpus`", g.gpu.value),
                )
                .at_opt(source::known_span_of(&g.gpu), "not a GPU of the fabric")
                .help(unknown_gpu_help(fabric, &names, &g.gpu.value)),
            );
            continue;
        };
        if let Some(layout) = &g.mig {
            let mut pl = Vec::new();
            let text = layout.value.as_str();
            for word in text.split_whitespace() {
                match parse_instance(fabric, id, word) {
                    Some(p) => pl.push(p),
                    None => {
                        // `split_whitespace` yields subslices of `text`: the pointer
                        // difference is the word's byte offset.
                        let at = word.as_ptr() as usize - text.as_ptr() as usize;
                        diags.push(
                            Diagnostic::error(
                                "FP806",
                                format!(
                                    "GPU `{}` has MIG instance `{word}` it does not offer",
                                    g.gpu.value
                                ),
                            )
                            .at_opt(
                                word_span(layout, at, word.len()),
                                "not an instance of this GPU",
                            )
                            .help(bad_instance_help(fabric, id, word)),
                        )
                    }
                }
            }
            pl.sort_by_key(|p| (p.start, p.profile));
            cur.mig.insert(id, pl);
        }
    }
    (cur, diags)
}
