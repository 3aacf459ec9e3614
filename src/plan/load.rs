//! Loading demand and current-state files (text -> raw schema -> validated, span-free).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::diag::Diagnostic;
use crate::mig::{Placement, ProfileIdx};
use crate::model::Fabric;
use crate::schema::demand::{RawAssignment, RawDemand, RawState};
use crate::source::{self, SourceFile};

use super::demand::{build_demand, Demand};
use super::state::{Assignment, Hold};
use super::Current;

/// A demand file read and parsed (not yet validated: that needs the fabric).
pub struct DemandFile {
    pub file: SourceFile,
    pub raw: Option<RawDemand>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn read_demand(path: &Path) -> DemandFile {
    match source::read_source(path) {
        Ok(file) => match source::parse_yaml::<RawDemand>(&file) {
            Ok(raw) => DemandFile {
                file,
                raw: Some(raw),
                diagnostics: Vec::new(),
            },
            Err(d) => DemandFile {
                file,
                raw: None,
                diagnostics: vec![d],
            },
        },
        Err((file, d)) => DemandFile {
            file,
            raw: None,
            diagnostics: vec![d],
        },
    }
}

/// The fabric path: `--fabric` wins, else the demand's `fabric:` relative to the demand file.
pub fn fabric_path(demand_path: &Path, raw: &RawDemand, flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(f) = flag {
        return Some(f.to_path_buf());
    }
    let rel = raw.fabric.as_ref()?;
    Some(demand_path.parent().unwrap_or(Path::new(".")).join(rel))
}

pub fn validate_demand(raw: RawDemand, fabric: &Fabric) -> (Option<Demand>, Vec<Diagnostic>) {
    build_demand(raw, fabric, &fabric_catalog(fabric))
}

/// The built-in catalog plus the fabric's own GPU models (which win).
pub fn fabric_catalog(fabric: &Fabric) -> Catalog {
    Catalog::builtin().with_models(fabric.gpu_models.clone())
}

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
    let raw: RawState = match source::parse_yaml(&file) {
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

pub fn assignments_from_raw(
    list: &[RawAssignment],
    fabric: &Fabric,
    names: &BTreeMap<String, u32>,
    owner: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Assignment> {
    let mut out = Vec::new();
    for a in list {
        let Some(&g) = names.get(&a.gpu) else {
            diags.push(
                Diagnostic::error(
                    "FP806",
                    format!("`{owner}` is assigned unknown GPU `{}`", a.gpu),
                )
                .help("GPUs are named `node/index`, e.g. `dgx-001/3`"),
            );
            continue;
        };
        let hold = if let Some(i) = &a.instance {
            match parse_instance(fabric, g, i) {
                Some(p) => Hold::Mig(p),
                None => {
                    diags.push(
                        Diagnostic::error(
                            "FP806",
                            format!(
                                "`{owner}` names MIG instance `{i}` that GPU `{}` does not offer",
                                a.gpu
                            ),
                        )
                        .help("write instances as `profile@start`, e.g. `1g.10gb@3`"),
                    );
                    continue;
                }
            }
        } else if let Some(f) = a.fraction {
            Hold::Eighths((f * 8.0).round().clamp(1.0, 8.0) as u8)
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
        let a = assignments_from_raw(&w.assignments, fabric, &names, &w.name, &mut diags);
        cur.running.insert(w.name.clone(), a);
    }
    for g in &raw.gpus {
        let Some(&id) = names.get(&g.gpu) else {
            diags.push(
                Diagnostic::error(
                    "FP806",
                    format!("unknown GPU `{}` in the state's `gpus`", g.gpu),
                )
                .help("GPUs are named `node/index`, e.g. `dgx-001/3`"),
            );
            continue;
        };
        if let Some(layout) = &g.mig {
            let mut pl = Vec::new();
            for word in layout.split_whitespace() {
                match parse_instance(fabric, id, word) {
                    Some(p) => pl.push(p),
                    None => diags.push(
                        Diagnostic::error(
                            "FP806",
                            format!(
                                "GPU `{}` has MIG instance `{word}` it does not offer",
                                g.gpu
                            ),
                        )
                        .help("write layouts as `profile@start` words"),
                    ),
                }
            }
            pl.sort_by_key(|p| (p.start, p.profile));
            cur.mig.insert(id, pl);
        }
    }
    (cur, diags)
}

/// Parses and validates demand text against `fabric` (tests, generated demand).
pub fn demand_from_str(name: &str, text: &str, fabric: &Fabric) -> Result<Demand, Vec<Diagnostic>> {
    let file = SourceFile::new(name, text);
    let raw: RawDemand = source::parse_yaml(&file).map_err(|d| vec![d])?;
    match validate_demand(raw, fabric) {
        (Some(d), _) => Ok(d),
        (None, diags) => Err(diags),
    }
}
