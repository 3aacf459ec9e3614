//! `fabplan validate`: load each file, run the checks, render every diagnostic.

use std::io::Write;

use crate::checks::run_checks;
use crate::cli::output::emit;
use crate::cli::render::{self, Tally};
use crate::cli::validate::{ValidateArgs, ValidateFormat};
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::load::{load_fabric_file, LoadedFabric};

pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> Result<Outcome> {
    // Files are independent: load and check them in parallel, report in argument order.
    use rayon::prelude::*;
    let results: Vec<(LoadedFabric, Vec<Diagnostic>)> = args
        .files
        .par_iter()
        .map(|path| {
            let loaded = load_fabric_file(path);
            let mut diags = loaded.diagnostics.clone();
            if let Some(f) = &loaded.fabric {
                diags.extend(run_checks(f));
            }
            (loaded, diags)
        })
        .collect();
    let rejected = results.iter().filter(|(l, _)| l.fabric.is_none()).count();
    let mut total = Tally::default();
    for (_, d) in &results {
        total.add(Tally::of(d));
    }
    let text = match args.format {
        ValidateFormat::Human => {
            let color = args.output.is_none() && crate::cli::output::stdout_color();
            let mut s = String::new();
            for (loaded, diags) in &results {
                let (shown, hidden) = limit_per_code(diags, args.limit);
                s.push_str(&render::human(
                    &shown,
                    &loaded.file,
                    &loaded.provenance,
                    color,
                ));
                for (code, n) in hidden {
                    s.push_str(&format!(
                        "{}: {n} more {code} not shown (`--limit 0` shows all)\n",
                        loaded.file.name
                    ));
                }
            }
            for (loaded, diags) in &results {
                let t = Tally::of(diags);
                let status = if loaded.fabric.is_none() {
                    "could not be loaded"
                } else if t.errors > 0 {
                    "has design errors"
                } else {
                    "ok"
                };
                s.push_str(&format!(
                    "{}: {status} ({})\n",
                    loaded.file.name,
                    t.describe()
                ));
            }
            s
        }
        ValidateFormat::Json => {
            let files: Vec<_> = results
                .iter()
                .map(|(l, d)| (&l.file, &l.provenance, d.as_slice(), l.fabric.is_some()))
                .collect();
            serde_json::to_string_pretty(&render::files_json(&files)).expect("json") + "\n"
        }
        ValidateFormat::Sarif => {
            let files: Vec<_> = results
                .iter()
                .map(|(l, d)| (&l.file, &l.provenance, d.as_slice()))
                .collect();
            let base = crate::formats::sarif::HelpUriBase::resolve(args.help_uri_base.as_ref())?;
            let log = crate::formats::sarif::with_help_uris(
                crate::formats::sarif::sarif_log(&files),
                base.as_ref(),
            );
            serde_json::to_string_pretty(&log).expect("json") + "\n"
        }
    };
    let inputs: Vec<&std::path::Path> = args.files.iter().map(|p| p.as_path()).collect();
    emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
    if rejected > 0 {
        return Err(Error::InputRejected { count: rejected });
    }
    let failing = total.errors > 0 || (args.deny_warnings && total.warnings > 0);
    Ok(if failing {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// The first `limit` diagnostics of each code (all when `limit` is 0), and how many of each
/// code were left out. A systematic mistake in a 100k-GPU design would otherwise print
/// 100k near-identical reports.
fn limit_per_code(
    diags: &[Diagnostic],
    limit: usize,
) -> (Vec<Diagnostic>, Vec<(&'static str, usize)>) {
    if limit == 0 {
        return (diags.to_vec(), Vec::new());
    }
    let mut seen: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut shown = Vec::new();
    for d in diags {
        let n = seen.entry(d.code).or_default();
        *n += 1;
        if *n <= limit {
            shown.push(d.clone());
        }
    }
    let hidden = seen
        .into_iter()
        .filter(|(_, n)| *n > limit)
        .map(|(c, n)| (c, n - limit))
        .collect();
    (shown, hidden)
}
