//! Admission policy validation: `schema::admission::RawPolicy` (spanned values) ->
//! `model::admission::Policy` against a validated demand, collecting every
//! problem (FP720-FP723) with a span on the offending value. Whether the serving GPU model
//! can be priced (FP725) is the command's check: it needs the meter's TFLOPS table and the
//! report's rates, which sit downstream of `load/`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_saphyr::Spanned;

use crate::diag::Diagnostic;
use crate::model::admission::*;
use crate::model::demand::{Demand, Kind};
use crate::schema::admission::{RawAgentPolicy, RawPerKind, RawPolicy};
use crate::source::{known_span_of, read_source, DocKind, SourceFile};

pub const POLICY_DOC: DocKind = DocKind {
    doc: "docs/admission.md",
    empty_help: "a policy needs `tenants:` or `agents:`; see docs/admission.md",
};

/// Reads and parses a policy file; a file that cannot be read or parsed is one diagnostic.
#[allow(clippy::result_large_err)]
pub fn read_policy(path: &Path) -> Result<(SourceFile, RawPolicy), (SourceFile, Diagnostic)> {
    let file = read_source(path)?;
    match crate::source::parse_yaml_as::<RawPolicy>(&file, POLICY_DOC) {
        Ok(raw) => Ok((file, raw)),
        Err(d) => Err((file, d)),
    }
}

fn at<T>(
    code: &'static str,
    v: &Spanned<T>,
    message: String,
    label: &str,
    help: &str,
) -> Diagnostic {
    crate::checks::diag(code, message)
        .at_opt(known_span_of(v), label.to_string())
        .help(help.to_string())
}

fn percentile(diags: &mut Vec<Diagnostic>, v: &Option<Spanned<String>>) -> Option<Percentile> {
    let v = v.as_ref()?;
    let p = Percentile::parse(v.value.trim());
    if p.is_none() {
        diags.push(at(
            "FP721",
            v,
            format!("`{}` is not a percentile fabplan admits by", v.value),
            "not p50, p90, p95 or p99",
            "write `p50`, `p90`, `p95` or `p99`",
        ));
    }
    p
}

/// A finite number of at least 0 (`positive`: above 0), else FP722.
fn amount(
    diags: &mut Vec<Diagnostic>,
    v: &Spanned<f64>,
    what: &str,
    positive: bool,
) -> Option<f64> {
    let x = v.value;
    let ok = x.is_finite() && if positive { x > 0.0 } else { x >= 0.0 };
    if ok {
        return Some(x);
    }
    diags.push(at(
        "FP722",
        v,
        format!(
            "`{what}` is `{x}`, not a {} number",
            if positive { "positive" } else { "non-negative" }
        ),
        "this value",
        if positive {
            "use a finite number above 0"
        } else {
            "use a finite number of at least 0"
        },
    ));
    None
}

/// A whole number of at least 1 (a limit), else FP722.
fn count(diags: &mut Vec<Diagnostic>, v: &Spanned<f64>, what: &str) -> Option<u64> {
    let x = v.value;
    if x.is_finite() && x >= 1.0 && x.fract() == 0.0 && x <= 1e15 {
        return Some(x as u64);
    }
    diags.push(at(
        "FP722",
        v,
        format!("`{what}` is `{x}`, not a whole number of at least 1"),
        "this value",
        "a limit is a whole count of at least 1 (leave it out for no limit)",
    ));
    None
}

fn per_kind(
    diags: &mut Vec<Diagnostic>,
    raw: &RawPerKind,
    what: &str,
    positive: bool,
) -> BTreeMap<Kind, f64> {
    let mut out = BTreeMap::new();
    for (kind, v) in [
        (Kind::Training, &raw.training),
        (Kind::Inference, &raw.inference),
        (Kind::Agent, &raw.agent),
    ] {
        if let Some(v) = v {
            if let Some(x) = amount(diags, v, &format!("{what}.{}", kind.as_str()), positive) {
                out.insert(kind, x);
            }
        }
    }
    out
}

/// Validates a raw policy against the demand.
/// Every problem becomes a diagnostic; the policy is returned only when there is none.
pub fn validate_policy(raw: &RawPolicy, demand: &Demand) -> (Option<Policy>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let default = percentile(&mut diags, &raw.percentile).unwrap_or(Percentile::P95);
    let mut tenants = BTreeMap::new();
    let mut tenant_seen: BTreeMap<crate::model::TenantId, ()> = BTreeMap::new();
    for t in &raw.tenants {
        let Some(ti) = demand.tenant_index(&t.name.value) else {
            diags.push(at(
                "FP720",
                &t.name,
                format!("tenant `{}` is not in the demand", t.name.value),
                "no such tenant",
                &format!(
                    "the demand's tenants: {}",
                    names(demand.tenants.iter().map(|t| t.name.as_str()))
                ),
            ));
            continue;
        };
        if tenant_seen.insert(ti, ()).is_some() {
            diags.push(at(
                "FP720",
                &t.name,
                format!("tenant `{}` has two policy entries", t.name.value),
                "second entry",
                "merge them into one entry",
            ));
            continue;
        }
        let budgets = per_kind(
            &mut diags,
            &t.budgets_usd_per_hour,
            "budgets_usd_per_hour",
            false,
        );
        let priorities = per_kind(&mut diags, &t.priorities, "priorities", true);
        tenants.insert(
            ti,
            TenantPolicy {
                budgets,
                priorities,
            },
        );
    }
    let mut agents: Vec<AgentPolicy> = Vec::new();
    for a in &raw.agents {
        if let Some(p) = agent(&mut diags, a, demand) {
            if agents.iter().any(|b| b.workload == p.workload) {
                diags.push(at(
                    "FP720",
                    &a.workload,
                    format!("agent `{}` has two policy entries", a.workload.value),
                    "second entry",
                    "merge them into one entry",
                ));
                continue;
            }
            agents.push(p);
        }
    }
    if crate::diag::has_errors(&diags) {
        return (None, diags);
    }
    (
        Some(Policy {
            percentile: default,
            tenants,
            agents,
        }),
        diags,
    )
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = it.map(|n| format!("`{n}`")).collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

fn agent(diags: &mut Vec<Diagnostic>, a: &RawAgentPolicy, demand: &Demand) -> Option<AgentPolicy> {
    let before = diags.len();
    let agents = || {
        names(
            demand
                .workloads
                .iter()
                .filter(|w| w.kind == Kind::Agent)
                .map(|w| w.name.as_str()),
        )
    };
    let workload = match demand
        .workloads
        .iter()
        .position(|w| w.name == a.workload.value)
    {
        Some(i) if demand.workloads[i].kind == Kind::Agent => Some(i),
        Some(i) => {
            diags.push(at(
                "FP720",
                &a.workload,
                format!(
                    "workload `{}` is of kind `{}`, not `agent`",
                    a.workload.value,
                    demand.workloads[i].kind.as_str()
                ),
                "not an agent",
                &format!("agent policies name agent workloads: {}", agents()),
            ));
            None
        }
        None => {
            diags.push(at(
                "FP720",
                &a.workload,
                format!(
                    "agent `{}` is not a workload of the demand",
                    a.workload.value
                ),
                "no such workload",
                &format!("the demand's agent workloads: {}", agents()),
            ));
            None
        }
    };
    let served = || {
        names(
            demand
                .workloads
                .iter()
                .filter(|w| w.kind == Kind::Inference && w.model.is_some())
                .map(|w| w.name.as_str()),
        )
    };
    let serve = match demand
        .workloads
        .iter()
        .position(|w| w.name == a.serve.value)
    {
        Some(i)
            if demand.workloads[i].kind == Kind::Inference
                && demand.workloads[i].model.is_some() =>
        {
            Some(i)
        }
        found => {
            diags.push(at(
                "FP720",
                &a.serve,
                if found.is_some() {
                    format!("workload `{}` serves no model (`model:`)", a.serve.value)
                } else {
                    format!("workload `{}` is not in the demand", a.serve.value)
                },
                "cannot price the agent's steps on it",
                &format!(
                    "`serve:` names an inference workload with a `model:` spec: {}",
                    served()
                ),
            ));
            None
        }
    };
    let gpu_model = serve.and_then(|s| {
        let w = &demand.workloads[s];
        let key = match &a.gpu_model {
            Some(g) if w.units.contains_key(&g.value) => g.value.clone(),
            Some(g) => {
                diags.push(at(
                    "FP720",
                    g,
                    format!("`{}` runs on no `{}` GPU", a.serve.value, g.value),
                    "not one of its GPU models",
                    &format!(
                        "its GPU models: {}",
                        names(w.units.keys().map(String::as_str))
                    ),
                ));
                return None;
            }
            None => w.units.keys().next()?.clone(),
        };
        Some(key)
    });
    let pct = percentile(diags, &a.percentile);
    let limits = Limits {
        max_steps: a
            .limits
            .max_steps
            .as_ref()
            .and_then(|v| count(diags, v, "limits.max_steps")),
        max_tokens: a
            .limits
            .max_tokens
            .as_ref()
            .and_then(|v| count(diags, v, "limits.max_tokens")),
        max_tool_calls: a
            .limits
            .max_tool_calls
            .as_ref()
            .and_then(|v| count(diags, v, "limits.max_tool_calls")),
    };
    let tool_call = ToolCall {
        result_tokens: match &a.tool_call.result_tokens {
            Some(v) => match amount(diags, v, "tool_call.result_tokens", false) {
                Some(x) if x.fract() == 0.0 && x <= 1e12 => x as u64,
                Some(x) => {
                    diags.push(at(
                        "FP722",
                        v,
                        format!("`tool_call.result_tokens` is `{x}`, not a whole number"),
                        "this value",
                        "tokens are whole numbers",
                    ));
                    0
                }
                None => 0,
            },
            None => 0,
        },
        gpu_seconds: a
            .tool_call
            .gpu_seconds
            .as_ref()
            .and_then(|v| amount(diags, v, "tool_call.gpu_seconds", false))
            .unwrap_or(0.0),
    };
    let tool_calls_per_task = a
        .tool_calls_per_task
        .as_ref()
        .and_then(|v| amount(diags, v, "tool_calls_per_task", false))
        .unwrap_or(0.0);
    let given = [
        a.usage.is_some(),
        a.lognormal.is_some(),
        a.empirical_gpu_seconds.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let cost = if given != 1 {
        diags.push(at(
            "FP723",
            &a.workload,
            format!(
                "agent `{}` gives {} cost sources; it needs exactly one",
                a.workload.value,
                if given == 0 { "no" } else { "several" }
            ),
            "this agent",
            "give one of `usage: {project: NAME}`, `lognormal: {median_gpu_seconds, p99_gpu_seconds}` or `empirical_gpu_seconds: [...]`",
        ));
        None
    } else if let Some(u) = &a.usage {
        Some(CostSource::Usage {
            project: u
                .value
                .project
                .as_ref()
                .map(|p| p.value.clone())
                .unwrap_or_else(|| a.workload.value.clone()),
        })
    } else if let Some(l) = &a.lognormal {
        let m = amount(
            diags,
            &l.value.median_gpu_seconds,
            "lognormal.median_gpu_seconds",
            true,
        );
        let q = amount(
            diags,
            &l.value.p99_gpu_seconds,
            "lognormal.p99_gpu_seconds",
            true,
        );
        match (m, q) {
            (Some(m), Some(q)) if q >= m => Some(CostSource::LogNormal {
                median_gpu_seconds: m,
                p99_gpu_seconds: q,
            }),
            (Some(m), Some(q)) => {
                diags.push(at(
                    "FP722",
                    &l.value.p99_gpu_seconds,
                    format!("`p99_gpu_seconds` ({q}) is below `median_gpu_seconds` ({m})"),
                    "below the median",
                    "the 99th percentile of a distribution is at least its median",
                ));
                None
            }
            _ => None,
        }
    } else {
        let e = a.empirical_gpu_seconds.as_ref().expect("one source");
        if e.value.is_empty() || e.value.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
            diags.push(at(
                "FP722",
                e,
                "`empirical_gpu_seconds` is empty or holds a value that is not a non-negative number"
                    .to_string(),
                "this list",
                "list each observed task's GPU-seconds, at least one, each at least 0",
            ));
            None
        } else {
            Some(CostSource::Empirical {
                gpu_seconds: e.value.clone(),
            })
        }
    };
    if diags[before..]
        .iter()
        .any(|d| d.severity == crate::diag::Severity::Error)
    {
        return None;
    }
    Some(AgentPolicy {
        workload: workload?,
        serve: serve?,
        gpu_model: gpu_model?,
        percentile: pct,
        limits,
        tool_call,
        tool_calls_per_task,
        cost: cost?,
    })
}
