//! `fabplan export FORMAT`: plans out to other tools.

use std::io::Write;

use crate::cli::export::{ExportArgs, ExportFormat};
use crate::cli::output::emit;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::schema::demand::RawState;
use crate::source;

pub fn run(args: &ExportArgs, out: &mut dyn Write) -> Result<Outcome> {
    match &args.format {
        ExportFormat::MigParted(a) => {
            let file =
                source::read_source(&a.plan).map_err(|(_, d)| Error::usage(d.message, None))?;
            let plan: RawState = source::parse_yaml(&file).map_err(|d| {
                Error::usage(
                    format!("reading plan `{}`: {}", a.plan.display(), d.message),
                    None,
                )
            })?;
            let text = crate::plan::export::mig_parted(&plan);
            emit(out, a.output.as_deref(), text.as_bytes())?;
            Ok(Outcome::Clean)
        }
    }
}
