//! `fabplan export <FORMAT>`: a fabric in a scheduler's format, or a plan's MIG layouts as
//! mig-parted configs.

use std::io::Write;
use std::path::Path;

use crate::cli::export::{ExportArgs, ExportFormat, SlurmFormat, SlurmTopologyKind};
use crate::cli::output::{emit, stderr_color};
use crate::cli::render;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::formats::{kueue, slurm};
use crate::load::load_fabric_file;
use crate::model::Fabric;
use crate::schema::demand::RawState;
use crate::source;

pub fn run(args: ExportArgs, out: &mut dyn Write) -> Result<Outcome> {
    match args.format {
        ExportFormat::Slurm(a) => {
            let f = load(&a.fabric)?;
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
            // An unreadable plan is reported like any input: with its file, line and column.
            let file = match source::read_source(&a.plan) {
                Ok(f) => f,
                Err((f, d)) => return Err(super::reject_input(&f, d)),
            };
            let plan: RawState = source::parse_yaml_as(&file, source::STATE_DOC)
                .map_err(|d| super::reject_input(&file, d))?;
            let text = crate::plan::export::mig_parted(&plan);
            emit(out, a.output.as_deref(), &[&a.plan], text.as_bytes())?;
        }
        ExportFormat::Kueue(a) => {
            let f = load(&a.fabric)?;
            let k = kueue::from_fabric(&f);
            let header = format!(
                "Kueue topology of fabric `{}`, written by `fabplan export kueue`",
                f.name
            );
            emit(
                out,
                a.output.as_deref(),
                &[&a.fabric],
                kueue::render(&k, &header).as_bytes(),
            )?;
        }
    }
    Ok(Outcome::Clean)
}

/// Loads a fabric or prints its problems and stops with exit 2.
pub(crate) fn load(path: &Path) -> Result<Fabric> {
    let loaded = load_fabric_file(path);
    match loaded.fabric {
        Some(f) => Ok(f),
        None => {
            eprint!(
                "{}",
                render::human(
                    &loaded.diagnostics,
                    &loaded.file,
                    &loaded.provenance,
                    stderr_color()
                )
            );
            Err(Error::InputRejected { count: 1 })
        }
    }
}
