//! `fabplan what-if`: fail parts of the fabric, re-plan the displaced work from the current
//! plan on the degraded fabric, verify, and sweep N-1 per level (docs/what-if.md).

use std::io::Write;

use super::inputs::{load_inputs_for_outputs, report, DiagStyle};
use crate::cli::output::emit;
use crate::cli::whatif::{WhatIfArgs, WhatIfFormat, WhatIfSolver};
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::model::GpuId;
use crate::plan::{self, PlanOptions, SolverChoice};
use crate::source::Provenance;
use crate::whatif;

pub fn run(args: &WhatIfArgs, out: &mut dyn Write) -> Result<Outcome> {
    let started = std::time::Instant::now();
    let style = match args.format {
        WhatIfFormat::Human => DiagStyle::Human,
        WhatIfFormat::Json => DiagStyle::Json,
    };
    let given: Vec<&std::path::Path> = [args.demand.as_path(), args.current.as_path()]
        .into_iter()
        .chain(args.fabric.as_deref())
        .collect();
    let outputs: Vec<&std::path::Path> = [&args.output, &args.write_plan]
        .into_iter()
        .flatten()
        .map(|p| p.as_path())
        .collect();
    let (fabric, demand, fabric_path) = load_inputs_for_outputs(
        &outputs,
        &given,
        &args.demand,
        args.fabric.as_deref(),
        style,
        true,
    )?;
    let current = match crate::load::state::read_state(&args.current, &fabric) {
        Ok((c, _, _)) => c,
        Err((file, diags)) => {
            report(&diags, &file, &Provenance::default(), style);
            return Err(Error::InputRejected { count: 1 });
        }
    };
    let mut failures = Vec::new();
    for spec in &args.fail {
        match whatif::parse_failure(spec, &fabric) {
            Ok(f) => failures.push(f),
            Err(bad) => {
                // Shown like any input problem, on the command line's own text.
                let text = format!("--fail {spec}");
                let file = crate::source::SourceFile::new("<command line>", text);
                let diag = crate::diag::Diagnostic::error("FP961", bad.message)
                    .at(
                        crate::diag::Span {
                            start: "--fail ".len(),
                            len: spec.len().max(1),
                        },
                        "this failure",
                    )
                    .help(bad.help);
                return Err(super::reject_input(&file, diag));
            }
        }
    }
    failures.sort();
    failures.dedup();
    let impact = whatif::impact(&fabric, &failures);
    let degraded = whatif::degrade(&fabric, &impact);
    let (kept, displaced) = whatif::carry_over(&fabric, &demand, &impact, &current, &degraded);
    // Partially frozen work is reported with the displaced, replica by replica.
    let survivors: Vec<(String, Vec<GpuId>)> = kept
        .running
        .iter()
        .filter(|(n, _)| !kept.partial.contains(*n))
        .map(|(n, a)| {
            let mut g: Vec<GpuId> = a.iter().map(|x| x.gpu).collect();
            g.sort_unstable();
            g.dedup();
            (n.clone(), g)
        })
        .collect();
    let opts = PlanOptions {
        solver: match args.solver {
            WhatIfSolver::Highs => SolverChoice::Highs,
            WhatIfSolver::Greedy => SolverChoice::Greedy,
        },
        time_limit_seconds: args.time_limit,
        mip_gap: args.mip_gap,
        freeze: !args.allow_moves,
        candidates: 0,
        warm_start: false,
        started: Some(started),
        solver_log: crate::cli::output::verbose(),
        progress: None,
    };
    let mut replanned = None;
    let mut violations = Vec::new();
    if !failures.is_empty() {
        let d = &degraded.fabric;
        let catalog = crate::load::demand::fabric_catalog(d);
        let result = plan::plan(d, &catalog, &demand, &kept, &opts);
        let geo = plan::state::Geometry::new(d, &catalog, &demand);
        let doc = plan::output::document(&geo, &demand, &result, &opts, Some(&kept));
        violations = plan::verify::verify(d, &demand, &doc)
            .into_iter()
            .map(|v| format!("{}: {}", v.code, v.message))
            .collect();
        if let Some(p) = &args.write_plan {
            let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
            let inputs: Vec<&std::path::Path> = given
                .iter()
                .copied()
                .chain(std::iter::once(fabric_path.as_path()))
                .collect();
            emit(out, Some(p), &inputs, text.as_bytes())?;
        }
        replanned = Some(result);
    } else if args.write_plan.is_some() {
        return Err(Error::usage(
            "--write-plan needs at least one --fail (there is nothing to re-plan)",
            None,
        ));
    }
    let sweep = whatif::sweep(&fabric, Some(&demand), &current);
    let rep = whatif::report::build(whatif::report::Inputs {
        fabric: &fabric,
        demand: &demand,
        failures: &failures,
        impact: &impact,
        degraded: &degraded,
        displaced: &displaced,
        survivors: &survivors,
        result: replanned.as_ref(),
        survivors_frozen: !args.allow_moves,
        violations,
        sweep,
    });
    let text = match args.format {
        WhatIfFormat::Human => whatif::report::human(&rep),
        WhatIfFormat::Json => serde_json::to_string_pretty(&rep).expect("json") + "\n",
    };
    let inputs: Vec<&std::path::Path> = given
        .into_iter()
        .chain(std::iter::once(fabric_path.as_path()))
        .collect();
    emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
    let failed = rep.findings.iter().any(|f| f.severity == "error")
        || rep.replan.as_ref().is_some_and(|p| !p.verified);
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
