//! `fabplan export <FORMAT>`: a fabric in a scheduler's format, or a plan's MIG layouts as
//! mig-parted configs.

use std::io::Write;

use super::inputs::{load_fabric, report, DiagStyle};
use crate::cli::export::{
    ExportArgs, ExportFormat, KueueApiVersion, KueueLabels, SlurmFormat, SlurmTopologyKind,
};
use crate::cli::output::emit;
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::formats::{kueue, slurm};
use crate::model::Fabric;
use crate::source::{Provenance, SourceFile};

pub fn run(args: ExportArgs, out: &mut dyn Write) -> Result<Outcome> {
    match args.format {
        ExportFormat::Slurm(a) => {
            let (f, file, prov) = load_located(&a.fabric)?;
            reject_names(crate::formats::names::check_slurm(&f), &file, &prov)?;
            let t = slurm::from_fabric(&f);
            let header = format!(
                "Slurm topology of fabric `{}`, written by `fabplan export slurm`",
                f.name
            );
            let text = match a.format {
                SlurmFormat::Yaml => {
                    if a.topology.is_some() {
                        return Err(Error::usage(
                            "--topology applies to --format conf only",
                            Some(
                                "topology.yaml holds the tree and the blocks together".to_string(),
                            ),
                        ));
                    }
                    slurm::render_yaml(&t, &header)
                }
                SlurmFormat::Conf => {
                    let kind = match a.topology {
                        Some(SlurmTopologyKind::Tree) => slurm::ConfKind::Tree,
                        Some(SlurmTopologyKind::Block) => slurm::ConfKind::Block,
                        None if !t.blocks.is_empty() => slurm::ConfKind::Block,
                        None => slurm::ConfKind::Tree,
                    };
                    if kind == slurm::ConfKind::Block && t.blocks.is_empty() {
                        return Err(Error::usage(
                            format!("fabric `{}` has no NVLink domain spanning several nodes, so no blocks", f.name),
                            Some("use `--topology tree`".to_string()),
                        ));
                    }
                    slurm::render_conf(&t, kind, &header)
                }
            };
            emit(out, a.output.as_deref(), &[&a.fabric], text.as_bytes())?;
        }
        ExportFormat::MigParted(a) => {
            // An unreadable or invalid plan is reported like any input: with its file, line
            // and column, and nothing is written.
            let fabric = a.fabric.as_deref().map(load_fabric).transpose()?;
            let (plan, file) = crate::load::state::read_plan_file(&a.plan)
                .map_err(|(f, d)| super::reject_input(&f, d))?;
            let text = crate::plan::export::mig_parted(&plan, fabric.as_ref()).map_err(|d| {
                report(&d, &file, &Provenance::default(), DiagStyle::Human);
                Error::InputRejected { count: 1 }
            })?;
            let mut inputs: Vec<&std::path::Path> = vec![a.plan.as_path()];
            inputs.extend(a.fabric.as_deref());
            emit(out, a.output.as_deref(), &inputs, text.as_bytes())?;
        }
        ExportFormat::Kueue(a) => {
            let (f, file, prov) = load_located(&a.fabric)?;
            let scheme = match a.labels {
                KueueLabels::Topograph => kueue::LabelScheme::Topograph,
                KueueLabels::NvidiaNetwork => kueue::LabelScheme::NvidiaNetwork,
            };
            let api = match a.api {
                KueueApiVersion::V1beta2 => kueue::KueueApi::V1beta2,
                KueueApiVersion::V1beta1 => kueue::KueueApi::V1beta1,
            };
            let k = kueue::from_fabric(&f, scheme);
            reject_names(kueue::check_names(&f, &k), &file, &prov)?;
            let header = format!(
                "Kueue topology of fabric `{}`, written by `fabplan export kueue`",
                f.name
            );
            emit(
                out,
                a.output.as_deref(),
                &[&a.fabric],
                kueue::render(&k, api, &header).as_bytes(),
            )?;
        }
    }
    Ok(Outcome::Clean)
}

/// Loads a fabric keeping its file and spans, so a name the target cannot take is reported
/// where the fabric declares it.
fn load_located(path: &std::path::Path) -> Result<(Fabric, SourceFile, Provenance)> {
    let loaded = crate::load::load_fabric_file(path);
    match loaded.fabric {
        Some(f) => Ok((f, loaded.file, loaded.provenance)),
        None => {
            report(
                &loaded.diagnostics,
                &loaded.file,
                &loaded.provenance,
                DiagStyle::Human,
            );
            Err(Error::InputRejected { count: 1 })
        }
    }
}

/// Names the target cannot take stop the export (exit 2), each reported on its declaration:
/// nothing is written.
fn reject_names(diags: Vec<Diagnostic>, file: &SourceFile, prov: &Provenance) -> Result<()> {
    if diags.is_empty() {
        return Ok(());
    }
    report(&diags, file, prov, DiagStyle::Human);
    Err(Error::InputRejected { count: diags.len() })
}
