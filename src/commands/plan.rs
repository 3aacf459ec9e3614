//! `fabplan plan`: load demand, fabric and current state; plan; render.

use std::io::Write;

use super::inputs::{load_inputs_for_outputs, report, DiagStyle};
use crate::cli::output::emit;
use crate::cli::plan::{PlanArgs, PlanFormat, SolverArg};
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::plan::{self, Current, PlanOptions, SolverChoice};
use crate::source::Provenance;

pub fn run(args: &PlanArgs, out: &mut dyn Write) -> Result<Outcome> {
    // --time-limit counts from here: loading, planning and writing the plan.
    let started = std::time::Instant::now();
    // `partial_cmp` keeps NaN out: it compares as neither above nor at 0.
    let positive = args.time_limit.partial_cmp(&0.0) == Some(std::cmp::Ordering::Greater);
    if !positive || !(0.0..1.0).contains(&args.mip_gap) {
        return Err(Error::usage(
            "--time-limit must be > 0 and --mip-gap in [0, 1)",
            None,
        ));
    }
    let style = match args.format {
        PlanFormat::Human => DiagStyle::Human,
        PlanFormat::Json | PlanFormat::Yaml => DiagStyle::Json,
    };
    // `-o` onto an input is refused before planning, which may take a while.
    let given: Vec<&std::path::Path> = std::iter::once(args.demand.as_path())
        .chain(args.fabric.as_deref())
        .chain(args.current.as_deref())
        .collect();
    let outputs: Vec<&std::path::Path> = args.output.as_deref().into_iter().collect();
    let (fabric, demand, fabric_path) = load_inputs_for_outputs(
        &outputs,
        &given,
        &args.demand,
        args.fabric.as_deref(),
        style,
        true,
    )?;
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
        started: Some(started),
        solver_log: crate::cli::output::verbose(),
        progress: None,
    };
    // The progress line (a terminal, not -q, solves over 2 s); cleared when planning ends.
    let progress = crate::cli::progress::plan_progress(started);
    let opts = PlanOptions {
        progress: progress.as_ref().map(|(sink, _)| sink.clone()),
        ..opts
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
    drop(progress);
    let geo = plan::state::Geometry::new(&fabric, catalog, &demand);
    let doc = plan::output::document(&geo, &demand, &result, &opts, current.as_ref());
    let text = match args.format {
        PlanFormat::Human => plan::output::human(&demand, &doc),
        PlanFormat::Json => serde_json::to_string_pretty(&doc).expect("json") + "\n",
        PlanFormat::Yaml => serde_saphyr::to_string(&doc)
            .map_err(|e| Error::usage(format!("rendering YAML: {e}"), None))?,
    };
    let inputs: Vec<&std::path::Path> = given
        .into_iter()
        .chain(std::iter::once(fabric_path.as_path()))
        .collect();
    emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
    Ok(if result.infeasible.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
