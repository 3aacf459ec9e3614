//! `fabplan export <FORMAT>`: a fabric in a scheduler's format, or a plan's MIG layouts as
//! mig-parted configs.

use std::io::Write;

use super::inputs::{load_fabric, report, DiagStyle};
use crate::cli::export::{ExportArgs, ExportFormat, SlurmFormat, SlurmTopologyKind};
use crate::cli::output::emit;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::formats::{kueue, slurm};
use crate::source::Provenance;

pub fn run(args: ExportArgs, out: &mut dyn Write) -> Result<Outcome> {
    match args.format {
        ExportFormat::Slurm(a) => {
            let f = load_fabric(&a.fabric)?;
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
            let f = load_fabric(&a.fabric)?;
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
