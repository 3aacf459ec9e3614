//! `fabplan plan`: load demand, fabric and current state; plan; render.

use std::io::Write;

use super::inputs::{load_inputs, report, DiagStyle};
use crate::cli::output::emit;
use crate::cli::plan::{PlanArgs, PlanFormat, SolverArg};
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::plan::{self, Current, PlanOptions, SolverChoice};
use crate::source::Provenance;

pub fn run(args: &PlanArgs, out: &mut dyn Write) -> Result<Outcome> {
    if !(args.time_limit > 0.0) || !(0.0..1.0).contains(&args.mip_gap) {
        return Err(Error::usage(
            "--time-limit must be > 0 and --mip-gap in [0, 1)",
            None,
        ));
    }
    let style = match args.format {
        PlanFormat::Human => DiagStyle::Human,
        PlanFormat::Json | PlanFormat::Yaml => DiagStyle::Json,
    };
    let (fabric, demand) = load_inputs(&args.demand, args.fabric.as_deref(), style)?;
    let current = match &args.current {
        None => None,
        Some(p) => match crate::load::state::read_state(p, &fabric) {
            Ok((c, _, _)) => Some(c),
            Err((file, diags)) => {
                report(&diags, &file, &Provenance::default(), style);
                return Err(Error::InputRejected { count: 1 });
            }
        },
    };
    let opts = PlanOptions {
        solver: match args.solver {
            SolverArg::Highs => SolverChoice::Highs,
            SolverArg::Greedy => SolverChoice::Greedy,
        },
        time_limit_seconds: args.time_limit,
        mip_gap: args.mip_gap,
        freeze: args.freeze,
        candidates: args.candidates,
        warm_start: false,
    };
    let catalog = &crate::load::demand::fabric_catalog(&fabric);
    let empty = Current::default();
    let result = plan::plan(
        &fabric,
        catalog,
        &demand,
        current.as_ref().unwrap_or(&empty),
        &opts,
    );
    let geo = plan::state::Geometry::new(&fabric, catalog, &demand);
    let doc = plan::output::document(&geo, &demand, &result, &opts, current.as_ref());
    let text = match args.format {
        PlanFormat::Human => plan::output::human(&demand, &doc),
        PlanFormat::Json => serde_json::to_string_pretty(&doc).expect("json") + "\n",
        PlanFormat::Yaml => serde_saphyr::to_string(&doc)
            .map_err(|e| Error::usage(format!("rendering YAML: {e}"), None))?,
    };
    emit(out, args.output.as_deref(), text.as_bytes())?;
    Ok(if result.infeasible.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
