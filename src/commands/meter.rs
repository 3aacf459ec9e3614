//! `fabplan meter`: fabric, plan and demand to the fleet's shares and rates (through
//! `report::build`, the one cost ledger), usage files to records, then attribution.

use std::collections::BTreeMap;
use std::io::Write;

use crate::catalog::Catalog;
use crate::cli::meter::{IdleFlag, MeterArgs, MeterFormat};
use crate::cli::output::emit;
use crate::cli::report::FocusVersion;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::formats::focus;
use crate::meter::attribute::{self, Deployment, Fleet, IdleRule, Options, Rates, Share};
use crate::meter::{self, Intake, Labels};
use crate::report::{self, tokens, ReportOptions};
use crate::source::Provenance;

pub fn run(args: &MeterArgs, out: &mut dyn Write) -> Result<Outcome> {
    let period = meter::parse_period(&args.period).map_err(|m| {
        Error::usage(
            format!("--period: {m}"),
            Some("write START/END as `2026-12-01T00:00:00Z/2026-12-02T00:00:00Z`".to_string()),
        )
    })?;
    let mut serve: BTreeMap<String, String> = BTreeMap::new();
    for s in &args.serve {
        let Some((m, w)) = s
            .split_once('=')
            .filter(|(m, w)| !m.is_empty() && !w.is_empty())
        else {
            return Err(Error::usage(
                format!("--serve: `{s}` is not MODEL=WORKLOAD"),
                None,
            ));
        };
        serve.insert(m.to_string(), w.to_string());
    }
    let f = super::inputs::load_fabric(&args.fabric)?;
    let (_, plan, _) =
        crate::load::state::read_state(&args.plan, &f).map_err(|(file, diags)| {
            super::inputs::report(
                &diags,
                &file,
                &Provenance::default(),
                super::inputs::DiagStyle::Human,
            );
            Error::InputRejected { count: 1 }
        })?;
    let demand = match &args.demand {
        Some(d) => Some(super::inputs::load_demand(d, &f)?),
        None => None,
    };
    let usage = crate::load::usage::from_document(&plan, &f);
    let options = ReportOptions {
        pricing: super::inputs::pricing(&args.cost, None)?,
        utilization: None,
        growth_per_month: None,
        failure: None,
        token_model: &tokens::MODELS[1],
        weight_bytes_per_param: args.weights.bytes() as f64,
        kv_bytes_per_element: args.kv.bytes(),
        context_tokens: 8192,
        concurrency: args.batch,
        context_tiers: tokens::context_tiers_with(&args.context_tier),
        usage: Some(usage.clone()),
        demand: demand.clone(),
    };
    let r = report::build(&f, &options);

    // Usage files.
    let labels = Labels {
        tenant: args.tenant.clone(),
        project: args.project.clone(),
        model: args.model.clone(),
        tool: args.tool.clone(),
    };
    let (files, mut intake) = super::inputs::read_usage(
        &args.usage,
        |file, kind| {
            if matches!(kind, meter::InputKind::Azure | meter::InputKind::Mooncake)
                && (labels.tenant.is_none() || labels.model.is_none())
            {
                let what = if kind == meter::InputKind::Azure {
                    "an Azure LLM trace"
                } else {
                    "a Mooncake trace"
                };
                return Err(Error::usage(
                    format!(
                        "`{}` is {what}: its records name no tenant or model",
                        file.name
                    ),
                    Some("label it with --tenant NAME --model NAME".to_string()),
                ));
            }
            Ok(())
        },
        |intake, i, text, kind| {
            meter::read_with_cache(
                intake,
                i,
                text,
                kind,
                &labels,
                period,
                args.prefix_cache_tokens,
            )
        },
    )?;

    let fleet = fleet(
        &f,
        &r,
        &plan,
        demand.as_ref(),
        &usage,
        &intake,
        &serve,
        args,
        period.hours(),
    );
    let rule = match args.idle {
        IdleFlag::Keep => IdleRule::Keep,
        IdleFlag::Proportional => IdleRule::Proportional,
        IdleFlag::Even => IdleRule::Even,
    };
    let (a, warnings) = attribute::attribute(
        &mut intake,
        &fleet,
        Options {
            idle: rule,
            mfu: args.mfu,
        },
    );
    super::inputs::print_by_file(&files, intake.diagnostics.iter().cloned().chain(warnings));
    eprintln!("{}", meter::render::summary_line(&a));
    let text = match args.format {
        MeterFormat::Human => meter::render::human(&a),
        MeterFormat::Json => serde_json::to_string_pretty(&a).expect("json") + "\n",
        MeterFormat::Focus => {
            let (start, end) = args.period.split_once('/').expect("checked");
            let version = match args.focus_version {
                FocusVersion::V1_2 => focus::FocusVersion::V1_2,
                FocusVersion::V1_3 => focus::FocusVersion::V1_3,
            };
            focus::metered_csv(&r.fabric, &a, version, start.trim(), end.trim())
        }
    };
    let inputs: Vec<&std::path::Path> = std::iter::once(args.fabric.as_path())
        .chain(std::iter::once(args.plan.as_path()))
        .chain(args.demand.as_deref())
        .chain(args.usage.iter().map(|p| p.as_path()))
        .collect();
    emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
    Ok(if intake.rejected_total() > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// The report's attribution rows with their GPU model's rates, and a deployment per model
/// the records (or --serve) name that a plan workload serves and whose shape is known.
#[allow(clippy::too_many_arguments)]
fn fleet(
    f: &crate::model::Fabric,
    r: &report::Report,
    plan: &crate::schema::plan::PlanDocument,
    demand: Option<&crate::model::demand::Demand>,
    usage: &crate::model::usage::Usage,
    intake: &Intake,
    serve: &BTreeMap<String, String>,
    args: &MeterArgs,
    hours: f64,
) -> Fleet {
    let rates: BTreeMap<&str, Rates> = r
        .cost
        .models
        .iter()
        .filter_map(|m| {
            let owned = m.owned_usd_per_hour? / m.gpus.max(1) as f64;
            // Without a list price the chargeback basis is the owned cost (docs/cost.md).
            Some((
                m.model.as_str(),
                Rates {
                    owned,
                    chargeback: m.chargeback_rate.unwrap_or(owned),
                },
            ))
        })
        .collect();
    let shares: Vec<Share> = r
        .attribution
        .iter()
        .flat_map(|a| a.rows.iter())
        .filter_map(|row| {
            Some(Share {
                tenant: row.tenant.clone(),
                workload: row.workload.clone(),
                kind: row.kind.clone(),
                gpu_model: row.gpu_model.clone(),
                gpu_equivalents: row.gpu_equivalents,
                rates: *rates.get(row.gpu_model.as_str())?,
                idle: row.tenant == report::UNALLOCATED,
            })
        })
        .collect();
    let mut names: std::collections::BTreeSet<&str> =
        intake.records.iter().map(|r| r.model.as_str()).collect();
    names.extend(serve.keys().map(String::as_str));
    let kv_elem = args.kv.bytes();
    let mut deployments = BTreeMap::new();
    let mut unserved_why = BTreeMap::new();
    for name in names {
        let workload = serve.get(name).map(String::as_str).unwrap_or(name);
        let Some(wu) = usage
            .workloads
            .iter()
            .find(|w| w.name == workload && w.admitted)
        else {
            continue;
        };
        let Some((gpu_model, _)) = wu.gpu_equivalents.iter().max_by(|a, b| a.1.total_cmp(b.1))
        else {
            continue;
        };
        let eq: f64 = wu.gpu_equivalents.values().sum();
        let dw = demand.and_then(|d| d.workloads.iter().find(|w| w.name == workload));
        let pw = plan.workloads.iter().find(|w| w.name.value == workload);
        let (params, bpp, kvpt, batch) = match dw.and_then(|w| w.model.as_ref()) {
            Some(m) => (
                m.parameters_b,
                m.bytes_per_param,
                tokens::kv_bytes_per_token_of(m.layers, m.kv_heads, m.head_dim, kv_elem),
                m.concurrent_sequences.max(1),
            ),
            None => match tokens::model(name) {
                Some(m) => {
                    let bpp = f64::from(args.weights.bytes());
                    (
                        m.params_billion,
                        bpp,
                        tokens::kv_bytes_per_token(m, kv_elem),
                        args.batch,
                    )
                }
                None => {
                    unserved_why.insert(
                        name.to_string(),
                        format!(
                            "its serving workload `{workload}` is admitted, but the model's shape \
                             (parameters, layers, KV heads) is known neither from the demand's \
                             `model:` nor as a built-in model"
                        ),
                    );
                    continue;
                }
            },
        };
        // Replicas: the plan's admitted count (elastic), else the demand's, else one per
        // assignment (a GPU, MIG instance or share each).
        let replicas = pw
            .and_then(|w| w.replicas)
            .or(dw.map(|w| w.replicas))
            .or(pw.map(|w| w.assignments.len() as u32))
            .unwrap_or(1)
            .max(1);
        let Some(cat) = f
            .gpu_model(gpu_model)
            .or_else(|| Catalog::builtin().gpu(gpu_model))
        else {
            unserved_why.insert(
                name.to_string(),
                format!("its serving workload `{workload}` runs on GPU model `{gpu_model}`, which the catalog does not know"),
            );
            continue;
        };
        let Some(tflops) = attribute::dense_tflops(&cat.key, bpp) else {
            unserved_why.insert(
                name.to_string(),
                format!(
                    "its serving workload `{workload}` runs on `{}`, and fabplan has no dense \
                     TFLOPS figure for it at {bpp} bytes per parameter",
                    cat.key
                ),
            );
            continue;
        };
        deployments.insert(
            name.to_string(),
            Deployment {
                model: name.to_string(),
                workload: workload.to_string(),
                gpu_model: gpu_model.clone(),
                gpu_equivalents: eq,
                replicas,
                params_billion: params,
                bytes_per_param: bpp,
                kv_bytes_per_token: kvpt,
                batch,
                hbm_tbps: cat.hbm_tbps,
                dense_tflops: tflops,
                hbm_kv_gb_per_gpu: attribute::hbm_kv_gb_per_gpu(
                    cat.memory_gib,
                    params,
                    bpp,
                    eq / replicas as f64,
                ),
            },
        );
    }
    Fleet {
        hours,
        shares,
        deployments,
        unserved_why,
        chain: attribute::Chain {
            tiers: tokens::context_tiers_with(&args.context_tier),
            network_usd_per_gb: args.network_usd_per_gb,
            disaggregated: args.disaggregated,
        },
    }
}
