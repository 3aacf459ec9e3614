//! `fabplan admit`: demand + policy (+ usage logs) -> a decision per workload, with what-ifs.
//! Rates come from `report::chargeback_rates` (the one ledger, chargeback basis on the
//! demand's prices, as `report::build` prices it);
//! agent steps are priced on `meter::attribute::Deployment` (the meter's chain).

use std::collections::BTreeMap;
use std::io::Write;

use crate::admit::{self, Inputs, StepPricing, WhatIf};
use crate::catalog::Catalog;
use crate::cli::admit::{AdmitArgs, AdmitFormat, PercentileFlag};
use crate::cli::output::emit;
use crate::diag::has_errors;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::meter::attribute::{dense_tflops, Deployment};
use crate::meter::{self, Labels, Period};
use crate::model::admission::{CostSource, Percentile};
use crate::model::demand::{Unit, Workload, MILLI_PER_GPU};
use crate::report::{self, tokens};
use crate::source::known_span_of;

use super::inputs::print_diags;

/// `tools=2,context=1.5` -> a what-if; each multiplier finite, above 0 and at most 100.
fn parse_what_if(s: &str) -> std::result::Result<WhatIf, String> {
    let mut w = WhatIf::default();
    for part in s.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not DIM=K"))?;
        let x: f64 = v
            .trim()
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite() && *x > 0.0 && *x <= 100.0)
            .ok_or_else(|| format!("`{v}` is not a multiplier above 0 and at most 100"))?;
        match k.trim() {
            "tools" => w.tools = x,
            "context" => w.context = x,
            "steps" => w.steps = x,
            other => return Err(format!("`{other}` is not `tools`, `context` or `steps`")),
        }
    }
    Ok(w)
}

/// FP011 when some steps of an agent's runs carry no tool-call count and the policy or a
/// what-if reads tool calls (`max_tool_calls`, `tool_call.gpu_seconds`, `tools=`): those
/// steps count none, which is "not in the input", not 0. On the first such step.
fn unknown_tool_calls(
    agent: &str,
    a: &crate::model::admission::AgentPolicy,
    runs: &[admit::Run],
    what_ifs: &[WhatIf],
) -> Option<(usize, crate::diag::Diagnostic)> {
    let steps = runs.iter().flat_map(|r| &r.steps);
    let unknown: Vec<&admit::Step> = steps.clone().filter(|s| s.tool_calls.is_none()).collect();
    let first = unknown.first()?;
    let mut uses = Vec::new();
    if let Some(m) = a.limits.max_tool_calls {
        uses.push(format!("`max_tool_calls` ({m}) cannot stop them"));
    }
    if a.tool_call.gpu_seconds > 0.0 {
        uses.push("their tools' GPU-seconds are not priced".to_string());
    }
    if what_ifs.iter().any(|w| w.tools != 1.0) {
        uses.push("`tools=` does not change them".to_string());
    }
    if uses.is_empty() {
        return None;
    }
    let d = crate::checks::diag(
        "FP011",
        format!(
            "agent `{agent}`: {} of its {} steps carry no tool-call count (not in the input): {}",
            unknown.len(),
            steps.count(),
            uses.join("; ")
        ),
    )
    .at(first.span, "no tool-call count")
    .help("record tool calls: the usage log's `tool_calls` column, or OTLP `execute_tool` spans or captured `gen_ai.output.messages` (docs/meter.md)");
    Some((first.file, d))
}

pub fn run(args: &AdmitArgs, out: &mut dyn Write) -> Result<Outcome> {
    let what_ifs = args
        .what_if
        .iter()
        .map(|s| parse_what_if(s))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|m| {
            Error::usage(
                format!("--what-if: {m}"),
                Some("write `--what-if tools=2`, `--what-if context=1.5,steps=2`".to_string()),
            )
        })?;
    let period = match &args.period {
        Some(p) => meter::parse_period(p).map_err(|m| {
            Error::usage(
                format!("--period: {m}"),
                Some("write START/END as `2026-12-01T00:00:00Z/2026-12-02T00:00:00Z`".to_string()),
            )
        })?,
        None => Period {
            start_s: f64::NEG_INFINITY,
            end_s: f64::INFINITY,
        },
    };
    let (f, demand, _) = super::inputs::load_inputs(
        &args.demand,
        args.fabric.as_deref(),
        super::inputs::DiagStyle::Human,
        false,
    )?;
    let (pfile, raw) = crate::load::admission::read_policy(&args.policy).map_err(|(file, d)| {
        print_diags(&[d], &file);
        Error::InputRejected { count: 1 }
    })?;
    let (policy, diags) = crate::load::admission::validate_policy(&raw, &demand);
    if !diags.is_empty() {
        print_diags(&diags, &pfile);
    }
    let Some(mut policy) = policy.filter(|_| !has_errors(&diags)) else {
        return Err(Error::InputRejected { count: 1 });
    };
    if let Some(p) = args.percentile {
        policy.percentile = match p {
            PercentileFlag::P50 => Percentile::P50,
            PercentileFlag::P90 => Percentile::P90,
            PercentileFlag::P95 => Percentile::P95,
            PercentileFlag::P99 => Percentile::P99,
        };
    }

    // Usage files, read as the meter reads them.
    let (files, intake) = super::inputs::read_usage(
        &args.usage,
        |file, kind| {
            if kind == meter::InputKind::Azure {
                return Err(Error::usage(
                    format!(
                        "`{}` is an Azure LLM trace: it has no agent runs",
                        file.name
                    ),
                    Some("give a usage log with `agent_run_id` (docs/meter.md)".to_string()),
                ));
            }
            Ok(())
        },
        |intake, i, text, kind| meter::read(intake, i, text, kind, &Labels::default(), period),
    )?;

    // Chargeback rates per GPU model, on the demand's prices (the basis of budgets): the
    // ledger's figures, not a whole report.
    let rates: BTreeMap<String, f64> = report::chargeback_rates(&f, &demand);
    let equivalents = |w: &Workload, model: &str| -> Option<f64> {
        Some(match *w.units.get(model)? {
            Unit::Gpus(n) => n as f64,
            Unit::Share { milli, .. } => milli as f64 / MILLI_PER_GPU as f64,
            Unit::Mig(p) => {
                let t = f
                    .gpu_model(model)
                    .or_else(|| Catalog::builtin().gpu(model))?
                    .mig
                    .as_ref()?;
                t.profile(p).compute_slices as f64 / t.compute_slices as f64
            }
        })
    };

    // Per agent: its runs and how its steps are priced.
    let kv_elem = args.kv.bytes();
    let mut agents = Vec::new();
    let mut problems = Vec::new();
    let mut tool_warnings = Vec::new();
    for a in &policy.agents {
        let aw = &demand.workloads[a.workload];
        // The agent's raw entry, for the spans of FP724 and FP725.
        let ra = raw.agents.iter().find(|r| r.workload.value == aw.name);
        let sw = &demand.workloads[a.serve];
        let m = sw.model.as_ref().expect("validated: serve has a model");
        let cat = f
            .gpu_model(&a.gpu_model)
            .or_else(|| Catalog::builtin().gpu(&a.gpu_model))
            .expect("validated: one of the serving workload's GPU models");
        let gpr = equivalents(sw, &a.gpu_model).unwrap_or(1.0);
        let served_at = ra.and_then(|r| {
            r.gpu_model
                .as_ref()
                .and_then(known_span_of)
                .or_else(|| known_span_of(&r.serve))
        });
        let Some(tflops) = dense_tflops(&cat.key, m.bytes_per_param) else {
            problems.push(
                crate::checks::diag(
                    "FP725",
                    format!(
                        "no dense tensor TFLOPS figure for `{}`: the steps cannot be priced",
                        a.gpu_model
                    ),
                )
                .at_opt(served_at, "served here")
                .help("serve the agent from a workload on an H100, H200, H100 NVL, B200, GB200 or A100 (docs/meter.md)"),
            );
            continue;
        };
        let rate = rates.get(&a.gpu_model).copied();
        let Some(rate) = rate else {
            problems.push(
                crate::checks::diag(
                    "FP725",
                    format!(
                        "no chargeback rate for `{}`: the steps cannot be priced",
                        a.gpu_model
                    ),
                )
                .at_opt(served_at, "served here")
                .help("serve the agent from a workload on a GPU model of the fabric"),
            );
            continue;
        };
        let deployment = Deployment {
            model: sw.name.clone(),
            workload: sw.name.clone(),
            gpu_model: a.gpu_model.clone(),
            gpu_equivalents: gpr * sw.replicas.max(1) as f64,
            replicas: sw.replicas.max(1),
            params_billion: m.parameters_b,
            bytes_per_param: m.bytes_per_param,
            kv_bytes_per_token: tokens::kv_bytes_per_token_of(
                m.layers, m.kv_heads, m.head_dim, kv_elem,
            ),
            batch: m.concurrent_sequences.max(1),
            hbm_tbps: cat.hbm_tbps,
            dense_tflops: tflops,
            hbm_kv_gb_per_gpu: crate::meter::attribute::hbm_kv_gb_per_gpu(
                cat.memory_gib,
                m.parameters_b,
                m.bytes_per_param,
                gpr,
            ),
        };
        let runs = match &a.cost {
            CostSource::Usage { project } => {
                let runs = admit::runs_of(&intake.records, &demand.tenant(aw.tenant).name, project);
                if runs.is_empty() {
                    problems.push(
                        crate::checks::diag(
                            "FP724",
                            format!(
                                "agent `{}` has no runs in the usage logs (tenant `{}`, project `{project}`, with an `agent_run_id`)",
                                aw.name, demand.tenant(aw.tenant).name
                            ),
                        )
                        .at_opt(
                            ra.and_then(|r| r.usage.as_ref()).and_then(known_span_of),
                            "cost from the usage log",
                        )
                        .help(if args.usage.is_empty() {
                            "pass the log with --usage FILE, or declare the distribution (`lognormal:` or `empirical_gpu_seconds:`)"
                        } else {
                            "check the records' tenant, project and agent_run_id, or set `usage: {project: NAME}`"
                        }),
                    );
                    continue;
                }
                if let Some(d) = unknown_tool_calls(&aw.name, a, &runs, &what_ifs) {
                    tool_warnings.push(d);
                }
                runs
            }
            _ => Vec::new(),
        };
        agents.push((
            runs,
            StepPricing {
                deployment,
                mfu: args.mfu,
                usd_per_gpu_hour: rate,
            },
        ));
    }
    if !problems.is_empty() {
        print_diags(&problems, &pfile);
        return Err(Error::InputRejected { count: 1 });
    }

    let inputs = Inputs {
        demand: &demand,
        policy: &policy,
        rates: &rates,
        equivalents: &equivalents,
        agents,
    };
    let (doc, cuts) = admit::admit(&inputs, &what_ifs);
    // The gate's cuts after the records' own problems, at most MAX_DIAGNOSTICS_PER_CODE a file.
    let mut capped: BTreeMap<usize, usize> = BTreeMap::new();
    let cut_diags = cuts.iter().filter_map(|c| {
        let n = capped.entry(c.file).or_insert(0);
        *n += 1;
        (*n <= meter::MAX_DIAGNOSTICS_PER_CODE).then(|| (c.file, admit::cut_diagnostic(c)))
    });
    super::inputs::print_by_file(
        &files,
        intake
            .diagnostics
            .iter()
            .cloned()
            .chain(tool_warnings)
            .chain(cut_diags),
    );
    let by: Vec<String> = intake
        .rejected
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    if !args.usage.is_empty() {
        eprintln!(
            "admit: {} usage records read, {} rejected{}; {} agent runs cut at the gate",
            intake.records.len(),
            intake.rejected_total(),
            if by.is_empty() {
                String::new()
            } else {
                format!(" ({})", by.join(", "))
            },
            cuts.len()
        );
    }
    let text = match args.format {
        AdmitFormat::Human => admit::render::human(&doc),
        AdmitFormat::Json => serde_json::to_string_pretty(&doc).expect("json") + "\n",
    };
    let paths: Vec<&std::path::Path> = std::iter::once(args.demand.as_path())
        .chain(args.fabric.as_deref())
        .chain(std::iter::once(args.policy.as_path()))
        .chain(args.usage.iter().map(|p| p.as_path()))
        .collect();
    emit(out, args.output.as_deref(), &paths, text.as_bytes())?;
    Ok(if doc.rejected() > 0 || intake.rejected_total() > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
