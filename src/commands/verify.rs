//! `fabplan verify`: re-check a plan against demand and fabric.

use std::io::Write;

use crate::cli::output::write_stdout;
use crate::cli::verify::VerifyArgs;
use crate::error::Result;
use crate::exit::Outcome;
use crate::schema::demand::RawState;
use crate::source;

pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<Outcome> {
    let (fabric, demand, _) = crate::commands::plan::load_inputs(
        &args.demand,
        args.fabric.as_deref(),
        crate::commands::plan::DiagStyle::Human,
    )?;
    // A plan that cannot be read is reported like any input: with its file, line and column.
    let file = match source::read_source(&args.plan) {
        Ok(f) => f,
        Err((f, d)) => return Err(super::reject_input(&f, d)),
    };
    let plan: RawState = source::parse_yaml_as(&file, source::STATE_DOC)
        .map_err(|d| super::reject_input(&file, d))?;
    let violations = crate::plan::verify::verify(&fabric, &demand, &plan);
    let mut s = String::new();
    for v in &violations {
        s.push_str(&format!("{}: {}\n", v.code, v.message));
    }
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
