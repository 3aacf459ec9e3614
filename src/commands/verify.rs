//! `fabplan verify`: re-check a plan against demand and fabric.

use std::io::Write;

use crate::cli::output::write_stdout;
use crate::cli::verify::VerifyArgs;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::schema::demand::RawState;
use crate::source;

pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<Outcome> {
    let (fabric, demand) =
        crate::commands::plan::load_inputs(&args.demand, args.fabric.as_deref())?;
    let file = source::read_source(&args.plan).map_err(|(_, d)| Error::usage(d.message, None))?;
    let plan: RawState = source::parse_yaml(&file).map_err(|d| {
        Error::usage(
            format!("reading plan `{}`: {}", args.plan.display(), d.message),
            None,
        )
    })?;
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
