//! `fabplan plan`: load demand, fabric and current state; plan; render.

use std::io::Write;
use std::path::Path;

use crate::cli::output::emit;
use crate::cli::plan::{PlanArgs, PlanFormat, SolverArg};
use crate::cli::render;
use crate::diag::{has_errors, Diagnostic};
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::model::demand::Demand;
use crate::model::Fabric;
use crate::plan::{self, load, Current, PlanOptions, SolverChoice};
use crate::source::{Provenance, SourceFile};

/// How load diagnostics are printed on stderr: miette for people, or `validate`'s JSON
/// document when the command's output is for machines (`plan --format json|yaml`). Either
/// way they go to stderr, so stdout and `-o FILE` only ever carry a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagStyle {
    Human,
    Json,
}

fn report(diags: &[Diagnostic], file: &SourceFile, prov: &Provenance, style: DiagStyle) {
    match style {
        DiagStyle::Human => {
            let color = crate::cli::output::stderr_color();
            eprint!("{}", render::human(diags, file, prov, color));
        }
        DiagStyle::Json => {
            let doc = render::files_json(&[(file, prov, diags, false)]);
            eprintln!("{}", serde_json::to_string_pretty(&doc).expect("json"));
        }
    }
}

/// Loads the demand and its fabric (shared by `plan` and `verify`); diagnostics go to stderr.
pub fn load_inputs(
    demand_path: &Path,
    fabric_flag: Option<&Path>,
    style: DiagStyle,
) -> Result<(Fabric, Demand)> {
    let none = Provenance::default();
    let df = crate::load::demand::read_demand(demand_path);
    let Some(raw) = df.raw else {
        report(&df.diagnostics, &df.file, &none, style);
        return Err(Error::InputRejected { count: 1 });
    };
    let Some(fpath) = crate::load::demand::fabric_path(demand_path, &raw, fabric_flag) else {
        return Err(Error::usage(
            format!("`{}` names no fabric", demand_path.display()),
            Some("add `fabric: PATH` to the demand or pass --fabric FILE".to_string()),
        ));
    };
    let loaded = crate::load::load_fabric_file(&fpath);
    let Some(fabric) = loaded.fabric else {
        report(&loaded.diagnostics, &loaded.file, &loaded.provenance, style);
        return Err(Error::InputRejected { count: 1 });
    };
    let (demand, diags) = crate::load::demand::validate_demand(raw, &fabric);
    if has_errors(&diags) || demand.is_none() {
        report(&diags, &df.file, &none, style);
        return Err(Error::InputRejected { count: 1 });
    }
    Ok((fabric, demand.expect("demand")))
}

pub fn run(args: &PlanArgs, out: &mut dyn Write) -> Result<Outcome> {
    // --time-limit counts from here: loading, planning and writing the plan.
    let started = std::time::Instant::now();
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
        Some(p) => match load::read_state(p, &fabric) {
            Ok((c, _)) => Some(c),
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
    let doc = plan::output::plan_json(&geo, &demand, &result, &opts, current.as_ref());
    let text = match args.format {
        PlanFormat::Human => plan::output::plan_human(&demand, &doc),
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
