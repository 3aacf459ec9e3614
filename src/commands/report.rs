//! `fabplan report`: flags to [`crate::report::ReportOptions`], then build and render.

use std::io::Write;

use crate::cli::output::emit;
use crate::cli::report::{FocusVersion, ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::formats::focus;
use crate::report::{self, html, render, tokens, Failure, ReportOptions};

pub fn run(args: &ReportArgs, out: &mut dyn Write) -> Result<Outcome> {
    let options = options(args)?;
    let hours = period_hours(&args.period)?;
    let mut options = options;
    let f = super::inputs::load_fabric(&args.fabric)?;
    if let Some(p) = &args.plan {
        // The plan is validated like a current state (every problem, located; exit 2).
        let (_, plan, _) = crate::load::state::read_state(p, &f).map_err(|(file, diags)| {
            let none = crate::source::Provenance::default();
            super::inputs::report(&diags, &file, &none, super::inputs::DiagStyle::Human);
            Error::InputRejected { count: 1 }
        })?;
        options.usage = Some(report::usage::from_document(&plan, &f));
    }
    if let Some(d) = &args.demand {
        options.demand = Some(super::inputs::load_demand(d, &f)?);
    }
    if let Some(fl) = &options.failure {
        let known = match fl {
            Failure::Switch(n) => f.switches.iter().any(|s| &s.name == n),
            Failure::Rack(n) => f.racks.iter().any(|r| &r.name == n),
            Failure::Plane(p) => f.switches.iter().any(|s| s.plane == *p),
        };
        if !known {
            return Err(Error::usage(
                format!("`{}` is not in fabric `{}`", fl.label(), f.name),
                Some(
                    "name a switch, rack or plane of the fabric (see `fabplan inspect`)"
                        .to_string(),
                ),
            ));
        }
    }
    let r = report::build(&f, &options);
    let text = match args.format {
        ReportFormat::Human => render::text(&r, false, args.per_rack),
        ReportFormat::Md => render::text(&r, true, args.per_rack),
        ReportFormat::Json => serde_json::to_string_pretty(&r).expect("json") + "\n",
        ReportFormat::Csv => {
            let (start, end) = args.period.split_once('/').expect("checked");
            let version = match args.focus_version {
                FocusVersion::V1_2 => focus::FocusVersion::V1_2,
                FocusVersion::V1_3 => focus::FocusVersion::V1_3,
            };
            focus::csv(&r, version, start, end, hours)
        }
        ReportFormat::Html => html::page(&f, &r, options.usage.as_ref(), args.per_rack),
    };
    let inputs: Vec<&std::path::Path> = std::iter::once(args.fabric.as_path())
        .chain(args.demand.as_deref())
        .chain(args.plan.as_deref())
        .collect();
    emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
    Ok(Outcome::Clean)
}

fn bad(flag: &str, msg: String) -> Error {
    Error::usage(format!("{flag}: {msg}"), None)
}

fn options(a: &ReportArgs) -> Result<ReportOptions> {
    let positive = |flag: &str, v: f64| -> Result<f64> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(bad(flag, format!("`{v}` must be a positive number")))
        }
    };
    if let Some(c) = a.cloud_usd_per_gpu_hour {
        positive("--cloud-usd-per-gpu-hour", c)?;
    }
    if let Some(u) = a.utilization {
        if !(u > 0.0 && u <= 1.0) {
            return Err(bad("--utilization", format!("`{u}` must be in (0, 1]")));
        }
    }
    let growth = a.growth.as_deref().map(parse_growth).transpose()?;
    let failure = a
        .fail
        .as_deref()
        .map(|s| Failure::parse(s).map_err(|m| bad("--fail", m)))
        .transpose()?;
    let token_model = tokens::model(&a.model).ok_or_else(|| {
        Error::usage(
            format!("unknown model `{}`", a.model),
            Some(format!(
                "known models: {}",
                tokens::MODELS
                    .iter()
                    .map(|m| m.key)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )
    })?;
    if a.context == 0 {
        return Err(bad("--context", "must be at least 1 token".into()));
    }
    Ok(ReportOptions {
        pricing: super::inputs::pricing(&a.cost, a.cloud_usd_per_gpu_hour)?,
        utilization: a.utilization,
        growth_per_month: growth,
        failure,
        token_model,
        weight_bytes_per_param: a.weights.bytes() as f64,
        kv_bytes_per_element: a.kv.bytes(),
        context_tokens: a.context,
        concurrency: a.concurrency,
        context_tiers: crate::report::tokens::context_tiers_with(&a.context_tier),
        usage: None,
        demand: None,
    })
}

/// `10%/month`, `10%`, `0.1` or `0.1/month` -> 0.1 per month.
pub fn parse_growth(s: &str) -> Result<f64> {
    let t = s.trim();
    let t = t.strip_suffix("/month").unwrap_or(t).trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|x| x / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| {
        bad(
            "--growth",
            format!("`{s}` is not a rate such as `10%/month`"),
        )
    })?;
    if !(v.is_finite() && v > 0.0) {
        return Err(bad("--growth", format!("`{s}` must be a positive rate")));
    }
    Ok(v)
}

/// Hours in `START/END`, both `YYYY-MM-DDTHH:MM:SSZ`.
fn period_hours(p: &str) -> Result<f64> {
    // FOCUS writes the period back as given, so only the exact UTC form is taken here.
    let parse = |s: &str| -> Option<f64> {
        let b = s.as_bytes();
        (b.len() == 20 && b[10] == b'T' && b[19] == b'Z')
            .then(|| crate::util::parse_timestamp(s))
            .flatten()
    };
    let err = || {
        bad(
            "--period",
            format!("`{p}` is not START/END such as 2026-01-01T00:00:00Z/2026-01-02T00:00:00Z"),
        )
    };
    let (a, b) = p.split_once('/').ok_or_else(err)?;
    let (a, b) = (parse(a).ok_or_else(err)?, parse(b).ok_or_else(err)?);
    if b <= a {
        return Err(bad("--period", "END must be after START".into()));
    }
    Ok((b - a) / 3600.0)
}
