//! `fabplan verify`: re-check a plan against demand and fabric.

use std::io::Write;

use super::inputs::{load_inputs, DiagStyle};
use crate::cli::output::write_stdout;
use crate::cli::verify::VerifyArgs;
use crate::error::Result;
use crate::exit::Outcome;
use crate::source::Provenance;

pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<Outcome> {
    let (fabric, demand, _) = load_inputs(
        &args.demand,
        args.fabric.as_deref(),
        DiagStyle::Human,
        false,
    )?;
    // A plan that cannot be read is reported like any input: with its file, line and column.
    let (plan, file) = crate::load::state::read_plan_file(&args.plan)
        .map_err(|(f, d)| super::reject_input(&f, d))?;
    let violations = crate::plan::verify::verify(&fabric, &demand, &plan);
    let color = crate::cli::output::stdout_color();
    let mut s = crate::cli::render::human(&violations, &file, &Provenance::default(), color);
    if violations.is_empty() {
        s.push_str(&format!("{}: ok, no violations\n", args.plan.display()));
    } else {
        s.push_str(&format!(
            "{}: {} violation(s)\n",
            args.plan.display(),
            violations.len()
        ));
    }
    write_stdout(out, s.as_bytes())?;
    Ok(if violations.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
