//! `fabplan report`: flags to [`crate::report::ReportOptions`], then build and render.

use std::io::Write;

use crate::cli::output::emit;
use crate::cli::report::{Precision, ReportArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::report::{self, html, pricing::Pricing, render, tokens, Failure, ReportOptions};

pub fn run(args: &ReportArgs, out: &mut dyn Write) -> Result<Outcome> {
    let options = options(args)?;
    let hours = period_hours(&args.period)?;
    let mut options = options;
    let f = crate::commands::export::load(&args.fabric)?;
    if let Some(p) = &args.plan {
        let text = std::fs::read_to_string(p).map_err(|source| Error::Read {
            path: p.clone(),
            source,
        })?;
        let usage = report::usage::read_plan(&text, &f).map_err(|m| {
            Error::usage(
                format!("reading plan `{}`: {m}", p.display()),
                Some(
                    "pass a plan written by `fabplan plan --format json` for this fabric"
                        .to_string(),
                ),
            )
        })?;
        options.usage = Some(usage);
    }
    if let Some(d) = &args.demand {
        options.demand_models = demand_models(d)?;
        options.demand = Some(demand_units(d, &f)?);
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
        ReportFormat::Human => render::text(&r, false),
        ReportFormat::Md => render::text(&r, true),
        ReportFormat::Json => serde_json::to_string_pretty(&r).expect("json") + "\n",
        ReportFormat::Csv => {
            let (start, end) = args.period.split_once('/').expect("checked");
            render::focus_csv(&r, start, end, hours)
        }
        ReportFormat::Html => html::page(&f, &r, options.usage.as_ref()),
    };
    emit(out, args.output.as_deref(), text.as_bytes())?;
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
    if !(a.pue >= 1.0 && a.pue.is_finite()) {
        return Err(bad("--pue", format!("`{}` must be at least 1", a.pue)));
    }
    positive("--usd-per-kwh", a.usd_per_kwh)?;
    positive("--depreciation-years", a.depreciation_years)?;
    if !(0.0..1.0).contains(&a.network_share) {
        return Err(bad(
            "--network-share",
            format!("`{}` must be in [0, 1)", a.network_share),
        ));
    }
    if let Some(c) = a.capex_usd_per_gpu {
        positive("--capex-usd-per-gpu", c)?;
    }
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
    let bytes = |p: Precision| match p {
        Precision::Fp8 => 1u32,
        Precision::Fp16 => 2,
    };
    Ok(ReportOptions {
        pricing: Pricing {
            pue: a.pue,
            usd_per_kwh: a.usd_per_kwh,
            depreciation_years: a.depreciation_years,
            network_share: a.network_share,
            capex_override: a.capex_usd_per_gpu,
            cloud_override: a.cloud_usd_per_gpu_hour,
        },
        utilization: a.utilization,
        growth_per_month: growth,
        failure,
        token_model,
        weight_bytes_per_param: bytes(a.weights) as f64,
        kv_bytes_per_element: bytes(a.kv),
        context_tokens: a.context,
        concurrency: a.concurrency,
        usage: None,
        demand_models: Vec::new(),
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
    let parse = |s: &str| -> Option<i64> {
        let b = s.as_bytes();
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
            return None;
        }
        let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
        let (y, m, d, hh, mm, ss) = (
            n(0..4)?,
            n(5..7)?,
            n(8..10)?,
            n(11..13)?,
            n(14..16)?,
            n(17..19)?,
        );
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 59 {
            return None;
        }
        // Days from civil (Howard Hinnant's algorithm).
        let y2 = if m <= 2 { y - 1 } else { y };
        let era = y2.div_euclid(400);
        let yoe = y2 - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
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
    Ok((b - a) as f64 / 3600.0)
}

/// Inference workloads with a model spec, from a demand file (docs/demand-format.md). Only
/// the keys the report needs are read; the planner validates the rest.
fn demand_models(path: &std::path::Path) -> Result<Vec<report::DemandModel>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    report::demand::inference_models(&text).map_err(|m| {
        Error::usage(
            format!("reading demand `{}`: {m}", path.display()),
            Some("see docs/demand-format.md (`workloads[].model`)".to_string()),
        )
    })
}

/// The demand validated and sized by the planner's rules (the same units `fabplan plan`
/// places), converted into the report's own types.
fn demand_units(path: &std::path::Path, f: &crate::model::Fabric) -> Result<report::DemandUnits> {
    use crate::model::demand::{Isolation, Level, Unit};
    let invalid = |m: String| {
        Error::usage(
            format!("reading demand `{}`: {m}", path.display()),
            Some(format!(
                "`fabplan plan {}` shows every problem with the file",
                path.display()
            )),
        )
    };
    let file = crate::load::demand::read_demand(path);
    let Some(raw) = file.raw else {
        let m = file
            .diagnostics
            .first()
            .map(|d| d.message.clone())
            .unwrap_or_else(|| "not a demand file".into());
        return Err(invalid(m));
    };
    let (demand, diags) = crate::load::demand::validate_demand(raw, f);
    let Some(d) = demand else {
        let m = diags
            .iter()
            .find(|d| d.severity == crate::diag::Severity::Error)
            .map(|d| d.message.clone())
            .unwrap_or_else(|| "the demand does not validate".into());
        return Err(invalid(m));
    };
    let catalog = crate::load::demand::fabric_catalog(f);
    let tenants = d
        .tenants
        .iter()
        .map(|t| report::DemandTenant {
            name: t.name.clone(),
            isolation: match t.isolation {
                Isolation::DedicatedNode => report::TenantIsolation::DedicatedNode,
                Isolation::DedicatedGpu => report::TenantIsolation::DedicatedGpu,
                Isolation::Mig { co_tenancy } => report::TenantIsolation::Mig { co_tenancy },
                Isolation::Shared => report::TenantIsolation::Shared,
            },
            share_with: t
                .share_with
                .iter()
                .map(|i| d.tenants[*i].name.clone())
                .collect(),
        })
        .collect();
    let workloads = d
        .workloads
        .iter()
        .map(|w| report::DemandWorkload {
            name: w.name.clone(),
            tenant: d.tenants[w.tenant].name.clone(),
            units: w
                .units
                .iter()
                .filter_map(|(model, u)| {
                    let unit = match u {
                        Unit::Gpus(n) => report::DemandUnit::Gpus(*n),
                        Unit::Share { milli, .. } => report::DemandUnit::Share(*milli),
                        Unit::Mig(p) => report::DemandUnit::Mig(
                            catalog.gpu(model)?.mig.as_ref()?.profile(*p).name.clone(),
                        ),
                    };
                    Some((model.clone(), unit))
                })
                .collect(),
            gang_level: w.gang.as_ref().map(|g| {
                match g.required {
                    Level::Nvlink => "nvlink-domain",
                    Level::Leaf => "leaf-group",
                    Level::Su => "scalable-unit",
                    Level::Fabric => "fabric",
                }
                .to_string()
            }),
        })
        .collect();
    Ok(report::DemandUnits { tenants, workloads })
}
