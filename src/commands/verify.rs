//! `fabplan verify`: re-check a plan against demand and fabric.

use std::io::Write;

use super::inputs::{load_inputs_for_outputs, DiagStyle};
use crate::cli::output::emit;
use crate::cli::verify::{VerifyArgs, VerifyFormat};
use crate::error::Result;
use crate::exit::Outcome;
use crate::source::Provenance;

pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<Outcome> {
    let given: Vec<&std::path::Path> = [args.demand.as_path(), args.plan.as_path()]
        .into_iter()
        .chain(args.fabric.as_deref())
        .collect();
    let outputs: Vec<&std::path::Path> = args.output.as_deref().into_iter().collect();
    let (fabric, demand, fabric_path) = load_inputs_for_outputs(
        &outputs,
        &given,
        &args.demand,
        args.fabric.as_deref(),
        DiagStyle::Human,
        false,
    )?;
    // A plan that cannot be read is reported like any input: with its file, line and column.
    let (plan, file) = crate::load::state::read_plan_file(&args.plan)
        .map_err(|(f, d)| super::reject_input(&f, d))?;
    let violations = crate::plan::verify::verify(&fabric, &demand, &plan);
    let none = Provenance::default();
    if args.format == VerifyFormat::Json {
        let doc = crate::cli::render::files_json(&[(&file, &none, &violations, true)]);
        let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
        let inputs: Vec<&std::path::Path> =
            given.into_iter().chain([fabric_path.as_path()]).collect();
        emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
        return Ok(outcome(&violations));
    }
    let color = args.output.is_none() && crate::cli::output::stdout_color();
    let mut s = crate::cli::render::human(&violations, &file, &none, color);
    if violations.is_empty() {
        s.push_str(&format!("{}: ok, no violations\n", file.name));
    } else {
        s.push_str(&format!(
            "{}: {} violation(s)\n",
            file.name,
            violations.len()
        ));
    }
    let inputs: Vec<&std::path::Path> = given.into_iter().chain([fabric_path.as_path()]).collect();
    emit(out, args.output.as_deref(), &inputs, s.as_bytes())?;
    Ok(outcome(&violations))
}

fn outcome(violations: &[crate::diag::Diagnostic]) -> Outcome {
    if violations.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    }
}
