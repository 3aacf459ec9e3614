//! Input wiring shared by several subcommands (not a subcommand): loading a demand with its
//! fabric, or a fabric alone, with diagnostics printed on stderr and exit 2 on errors.

use std::path::Path;

use crate::cli::output::stderr_color;
use crate::cli::render;
use crate::cli::report::CostArgs;
use crate::diag::{has_errors, Diagnostic};
use crate::error::{Error, Result};
use crate::load::load_fabric_file;
use crate::model::demand::Demand;
use crate::model::Fabric;
use crate::report::pricing::Pricing;
use crate::source::{Provenance, SourceFile};

/// How load diagnostics are printed on stderr: miette for people, or `validate`'s JSON
/// document when the command's output is for machines (`plan --format json|yaml`). Either
/// way they go to stderr, so stdout and `-o FILE` only ever carry a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagStyle {
    Human,
    Json,
}

pub fn report(diags: &[Diagnostic], file: &SourceFile, prov: &Provenance, style: DiagStyle) {
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

/// [`load_inputs`] for a command that writes `outputs` (`-o`, `--write-plan`): each is
/// refused as one of the inputs `given` before the load, and again after it with the fabric
/// the demand names and that fabric's `gpu_models:` files (the loader records them), so a
/// long plan or check never runs only to be refused at the write.
pub fn load_inputs_for_outputs(
    outputs: &[&Path],
    given: &[&Path],
    demand_path: &Path,
    fabric_flag: Option<&Path>,
    style: DiagStyle,
    check_design: bool,
) -> Result<(Fabric, Demand, std::path::PathBuf)> {
    for o in outputs {
        crate::cli::output::refuse_input_as_output(o, given)?;
    }
    let (fabric, demand, fabric_path) = load_inputs(demand_path, fabric_flag, style, check_design)?;
    let given = [given, &[fabric_path.as_path()]].concat();
    for o in outputs {
        crate::cli::output::refuse_input_as_output(o, &given)?;
    }
    Ok((fabric, demand, fabric_path))
}

/// Loads the demand and its fabric (`plan`, `verify`); diagnostics go to stderr.
/// Also returns the fabric's path (the flag, or the demand's `fabric:`). With
/// `check_design`, the fabric's design errors (the checks `fabplan validate` runs) stop the
/// run too: `plan` places work only on a valid design; `verify` re-checks a plan on any
/// fabric that loads.
pub fn load_inputs(
    demand_path: &Path,
    fabric_flag: Option<&Path>,
    style: DiagStyle,
    check_design: bool,
) -> Result<(Fabric, Demand, std::path::PathBuf)> {
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
    if check_design {
        let design: Vec<Diagnostic> = crate::checks::run_checks(&fabric)
            .into_iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .collect();
        if !design.is_empty() {
            report(&design, &loaded.file, &loaded.provenance, style);
            return Err(Error::usage(
                format!(
                    "fabric `{}` has {} design error(s); nothing was planned",
                    fpath.display(),
                    design.len()
                ),
                Some(
                    "fix them first (`fabplan validate` shows every finding with its hint)"
                        .to_string(),
                ),
            ));
        }
    }
    let (demand, diags) = crate::load::demand::validate_demand(raw, &fabric);
    if has_errors(&diags) || demand.is_none() {
        report(&diags, &df.file, &none, style);
        return Err(Error::InputRejected { count: 1 });
    }
    Ok((fabric, demand.expect("demand"), fpath))
}

/// Loads a fabric or prints its problems and stops with exit 2.
pub fn load_fabric(path: &Path) -> Result<Fabric> {
    let loaded = load_fabric_file(path);
    match loaded.fabric {
        Some(f) => Ok(f),
        None => {
            eprint!(
                "{}",
                render::human(
                    &loaded.diagnostics,
                    &loaded.file,
                    &loaded.provenance,
                    stderr_color()
                )
            );
            Err(Error::InputRejected { count: 1 })
        }
    }
}

/// The demand validated by the planner's rules against the fabric (the same units `fabplan
/// plan` places); problems are printed located, as `plan` prints them, and stop with exit 2.
pub fn load_demand(
    path: &std::path::Path,
    f: &crate::model::Fabric,
) -> Result<crate::model::demand::Demand> {
    let none = Provenance::default();
    let file = crate::load::demand::read_demand(path);
    let Some(raw) = file.raw else {
        report(&file.diagnostics, &file.file, &none, DiagStyle::Human);
        return Err(Error::InputRejected { count: 1 });
    };
    let (demand, diags) = crate::load::demand::validate_demand(raw, f);
    match demand {
        Some(d) if !crate::diag::has_errors(&diags) => Ok(d),
        _ => {
            report(&diags, &file.file, &none, DiagStyle::Human);
            Err(Error::InputRejected { count: 1 })
        }
    }
}

/// The owned-cost pricing of `report` and `meter` from their shared flags, checked where the
/// flag ranges cannot say it (PUE at least 1, a network share below 1: capex is divided by
/// `1 - share`), with the list price to compare with when the command has one.
pub fn pricing(c: &CostArgs, cloud_override: Option<f64>) -> Result<Pricing> {
    let bad = |flag: &str, msg: String| Error::usage(format!("{flag}: {msg}"), None);
    let positive = |flag: &str, v: f64| -> Result<f64> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(bad(flag, format!("`{v}` must be a positive number")))
        }
    };
    if !(c.pue >= 1.0 && c.pue.is_finite()) {
        return Err(bad("--pue", format!("`{}` must be at least 1", c.pue)));
    }
    positive("--usd-per-kwh", c.usd_per_kwh)?;
    positive("--depreciation-years", c.depreciation_years)?;
    if !(0.0..1.0).contains(&c.network_share) {
        return Err(bad(
            "--network-share",
            format!("`{}` must be in [0, 1)", c.network_share),
        ));
    }
    if let Some(v) = c.capex_usd_per_gpu {
        positive("--capex-usd-per-gpu", v)?;
    }
    Ok(Pricing {
        pue: c.pue,
        usd_per_kwh: c.usd_per_kwh,
        depreciation_years: c.depreciation_years,
        network_share: c.network_share,
        capex_override: c.capex_usd_per_gpu,
        cloud_override,
    })
}

/// Prints diagnostics of one input file on stderr (human, stderr's colour choice).
pub fn print_diags(ds: &[Diagnostic], file: &crate::source::SourceFile) {
    eprint!(
        "{}",
        render::human(
            ds,
            file,
            &crate::source::Provenance::default(),
            stderr_color()
        )
    );
}

/// Prints diagnostics grouped by the index of the file they concern (`files[i]`), files in
/// order: the per-record problems of usage files, as `meter` and `admit` print them.
pub fn print_by_file(
    files: &[crate::source::SourceFile],
    diags: impl IntoIterator<Item = (usize, Diagnostic)>,
) {
    let mut by_file: std::collections::BTreeMap<usize, Vec<Diagnostic>> = Default::default();
    for (i, d) in diags {
        by_file.entry(i).or_default().push(d);
    }
    for (i, ds) in &by_file {
        if let Some(file) = files.get(*i) {
            print_diags(ds, file);
        }
    }
}

/// Reads usage files in order into one `Intake`, as `meter` and `admit` do: a file that
/// cannot be read, or that `read` rejects whole, is printed and refused (exit 2); `check`
/// refuses an input kind the command cannot use. Per-record problems stay in
/// `intake.diagnostics`, keyed by the file's index.
pub fn read_usage(
    paths: &[std::path::PathBuf],
    mut check: impl FnMut(&crate::source::SourceFile, crate::meter::InputKind) -> Result<()>,
    mut read: impl FnMut(
        &mut crate::meter::Intake,
        usize,
        &str,
        crate::meter::InputKind,
    ) -> std::result::Result<(), Diagnostic>,
) -> Result<(Vec<crate::source::SourceFile>, crate::meter::Intake)> {
    let mut files = Vec::new();
    let mut intake = crate::meter::Intake::default();
    for (i, p) in paths.iter().enumerate() {
        let file = crate::source::read_input(p).map_err(|(file, d)| {
            print_diags(&[d], &file);
            Error::InputRejected { count: 1 }
        })?;
        let kind = crate::meter::detect(&file.name, &file.text);
        check(&file, kind)?;
        if let Err(d) = read(&mut intake, i, &file.text, kind) {
            print_diags(&[d], &file);
            return Err(Error::InputRejected { count: 1 });
        }
        files.push(file);
    }
    Ok((files, intake))
}
