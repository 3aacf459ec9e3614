//! Admission by policy (`fabplan admit`, docs/admission.md): budgets and priorities per
//! tenant and workload type; an agent workload's cost per task as a distribution (its runs in
//! a usage log, held to the agent's limits at the gate, or a declared lognormal or list),
//! admitted by a named percentile of it within budget; what-ifs that transform the
//! distribution (tool calls, context, steps) and decide again. No IO.
//!
//! The cost of a step goes through the meter's chain (`meter::attribute::Deployment`:
//! prefill compute bound at MFU, decode on the memory-bandwidth roofline) on the GPUs the
//! serving workload asks for, priced at the chargeback rate of the one ledger
//! (`model::cost`), the basis tenant budgets are on.

pub mod render;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{Diagnostic, Span};
use crate::meter::attribute::Deployment;
use crate::meter::UsageRecord;
use crate::model::admission::{AgentPolicy, CostSource, Limits, Percentile, Policy, ToolCall};
use crate::model::demand::{Demand, Kind, Workload};
use crate::model::TenantId;

/// The nearest-rank percentile of `sorted` (ascending, not empty): the value at rank
/// ceil(p/100 x n), 1-based, computed in integers (Hyndman and Fan 1996, definition 1; the
/// "nearest rank" method of NIST's e-Handbook, section 7.2.6.2).
pub fn nearest_rank(sorted: &[f64], p: Percentile) -> f64 {
    let n = sorted.len() as u64;
    let rank = (p.hundredths() * n).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

/// The `p` quantile of the lognormal with this median and 99th percentile:
/// sigma = ln(p99 / median) / z_0.99, q_p = median x exp(sigma x z_p).
pub fn lognormal_quantile(median: f64, p99: f64, p: Percentile) -> f64 {
    let sigma = (p99 / median).ln() / Percentile::P99.z();
    median * (sigma * p.z()).exp()
}

/// The lognormal's mean: median x exp(sigma^2 / 2).
pub fn lognormal_mean(median: f64, p99: f64) -> f64 {
    let sigma = (p99 / median).ln() / Percentile::P99.z();
    median * (sigma * sigma / 2.0).exp()
}

/// One step of an agent run (one usage record).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    /// `None`: the usage record carries no tool-call count (not in the input); the gate and
    /// the what-ifs then count none for the step, and `fabplan admit` warns (FP011).
    pub tool_calls: Option<u64>,
    pub file: usize,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: String,
    pub steps: Vec<Step>,
}

/// The runs of one agent in the usage records: records of `tenant` whose project is
/// `project` and that carry an `agent_run_id`, grouped by run id (sorted), the steps of a
/// run in time order (then file order).
pub fn runs_of(records: &[UsageRecord], tenant: &str, project: &str) -> Vec<Run> {
    let mut by_id: BTreeMap<&str, Vec<&UsageRecord>> = BTreeMap::new();
    for r in records {
        if r.tenant == tenant && r.project == project {
            if let Some(id) = &r.agent_run_id {
                by_id.entry(id.as_str()).or_default().push(r);
            }
        }
    }
    by_id
        .into_iter()
        .map(|(id, mut rs)| {
            rs.sort_by(|a, b| {
                a.timestamp_s
                    .total_cmp(&b.timestamp_s)
                    .then(a.file.cmp(&b.file))
                    .then(a.span.start.cmp(&b.span.start))
            });
            Run {
                id: id.to_string(),
                steps: rs
                    .iter()
                    .map(|r| Step {
                        input_tokens: r.input_tokens,
                        output_tokens: r.output_tokens,
                        cached_tokens: r.cached_tokens,
                        tool_calls: r.tool_calls,
                        file: r.file,
                        span: r.span,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Which limit stopped a task at the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    MaxSteps,
    MaxTokens,
    MaxToolCalls,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::MaxSteps => "max_steps",
            Limit::MaxTokens => "max_tokens",
            Limit::MaxToolCalls => "max_tool_calls",
        }
    }
}

/// The gate: before each step the task's steps, tokens (input + output) and tool calls so
/// far are compared with the limits; when one is reached the task stops there (the step
/// that crosses a limit has run: its size is known only after it). Returns how many steps
/// ran and the limit that stopped the rest, if any.
pub fn gate(steps: &[Step], limits: &Limits) -> (usize, Option<Limit>) {
    let (mut tokens, mut tools) = (0u64, 0u64);
    for (i, s) in steps.iter().enumerate() {
        let reached = if limits.max_steps.is_some_and(|m| i as u64 >= m) {
            Some(Limit::MaxSteps)
        } else if limits.max_tokens.is_some_and(|m| tokens >= m) {
            Some(Limit::MaxTokens)
        } else if limits.max_tool_calls.is_some_and(|m| tools >= m) {
            Some(Limit::MaxToolCalls)
        } else {
            None
        };
        if reached.is_some() {
            return (i, reached);
        }
        tokens += s.input_tokens + s.output_tokens;
        tools += s.tool_calls.unwrap_or(0);
    }
    (steps.len(), None)
}

/// Multipliers a what-if applies to an agent's tasks (1 leaves a dimension as metered).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WhatIf {
    /// Tool calls per step x this; each added call adds the policy's `tool_call.result_tokens`
    /// to the step's prompt and its `tool_call.gpu_seconds`.
    pub tools: f64,
    /// Every step's prompt (and its cached part) x this.
    pub context: f64,
    /// Steps per task x this: the run's steps repeated in order (or cut) to round(n x k).
    pub steps: f64,
}

impl Default for WhatIf {
    fn default() -> Self {
        WhatIf {
            tools: 1.0,
            context: 1.0,
            steps: 1.0,
        }
    }
}

impl WhatIf {
    pub fn is_baseline(&self) -> bool {
        *self == WhatIf::default()
    }

    /// `baseline`, or the changed dimensions: `tools x2, context x1.5`.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        for (name, k) in [
            ("tools", self.tools),
            ("context", self.context),
            ("steps", self.steps),
        ] {
            if k != 1.0 {
                parts.push(format!("{name} x{k}"));
            }
        }
        if parts.is_empty() {
            "baseline".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// A run's steps as the what-if changes them.
    pub fn apply(&self, steps: &[Step], tool: &ToolCall) -> Vec<Step> {
        let n = steps.len();
        let target = if self.steps == 1.0 {
            n
        } else {
            ((n as f64 * self.steps).round() as usize).max(1)
        };
        (0..target)
            .map(|i| {
                let mut s = steps[i % n].clone();
                if self.context != 1.0 {
                    s.input_tokens = (s.input_tokens as f64 * self.context).round() as u64;
                    s.cached_tokens = ((s.cached_tokens as f64 * self.context).round() as u64)
                        .min(s.input_tokens);
                }
                // A step without a tool-call count has none to scale.
                if let (true, Some(had)) = (self.tools != 1.0, s.tool_calls) {
                    let calls = (had as f64 * self.tools).round() as u64;
                    if calls >= had {
                        s.input_tokens += (calls - had) * tool.result_tokens;
                    } else {
                        let less = (had - calls) * tool.result_tokens;
                        s.input_tokens = s.input_tokens.saturating_sub(less);
                        s.cached_tokens = s.cached_tokens.min(s.input_tokens);
                    }
                    s.tool_calls = Some(calls);
                }
                s
            })
            .collect()
    }
}

/// How one agent's steps are priced: the serving deployment, the prefill MFU and the
/// chargeback rate of its GPU model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepPricing {
    pub deployment: Deployment,
    pub mfu: f64,
    /// USD per GPU-hour, chargeback basis (list price + energy, docs/cost.md).
    pub usd_per_gpu_hour: f64,
}

impl StepPricing {
    /// GPU-seconds of the steps: prefill of the uncached prompt + decode of the output at
    /// the step's context, plus the tools' own GPU-seconds (meter's chain, docs/meter.md).
    pub fn gpu_seconds(&self, steps: &[Step], tool: &ToolCall) -> f64 {
        steps
            .iter()
            .map(|s| {
                self.deployment
                    .prefill_gpu_seconds(s.input_tokens - s.cached_tokens, self.mfu)
                    + self
                        .deployment
                        .decode_gpu_seconds(s.input_tokens + s.output_tokens, s.output_tokens)
                    + s.tool_calls.unwrap_or(0) as f64 * tool.gpu_seconds
            })
            .sum()
    }

    pub fn usd(&self, gpu_seconds: f64) -> f64 {
        gpu_seconds / 3600.0 * self.usd_per_gpu_hour
    }
}

/// One agent's cost per task under one what-if.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskCost {
    /// `usage` (runs in the log), `lognormal` or `empirical` (declared).
    pub source: &'static str,
    /// Tasks observed (`None` for a lognormal).
    pub tasks: Option<u64>,
    /// Runs the gate stopped, by the limit that stopped them.
    pub cut: BTreeMap<Limit, u64>,
    pub mean_usd: f64,
    /// USD per task at p50, p90, p95, p99.
    pub percentiles_usd: BTreeMap<Percentile, f64>,
    /// The largest task (`None` for a lognormal).
    pub max_usd: Option<f64>,
}

impl TaskCost {
    pub fn at(&self, p: Percentile) -> f64 {
        self.percentiles_usd[&p]
    }
}

/// A run the gate cut: where its first step that did not run is, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct CutRun {
    pub agent: String,
    pub run: String,
    pub limit: Limit,
    pub value: u64,
    pub ran: usize,
    pub steps: usize,
    pub file: usize,
    pub span: Span,
}

fn summarize(source: &'static str, mut usd: Vec<f64>, cut: BTreeMap<Limit, u64>) -> TaskCost {
    usd.sort_by(f64::total_cmp);
    let mean = usd.iter().sum::<f64>() / usd.len().max(1) as f64;
    TaskCost {
        source,
        tasks: Some(usd.len() as u64),
        cut,
        mean_usd: mean,
        percentiles_usd: Percentile::ALL
            .iter()
            .map(|p| (*p, nearest_rank(&usd, *p)))
            .collect(),
        max_usd: usd.last().copied(),
    }
}

/// The cost per task of `agent` under `what`: its runs gated, or its declared distribution.
/// Declared distributions have no steps: context x k and steps x k scale the GPU-seconds by
/// k (first order: prefill is linear in prompt tokens and decode at most linear), tools x k
/// adds (k - 1) x `tool_calls_per_task` tool calls, each its GPU-seconds plus the prefill of
/// its result tokens. Runs must not be empty for a usage source (FP724 is checked before).
pub fn task_cost(
    agent: &AgentPolicy,
    runs: &[Run],
    pricing: &StepPricing,
    what: &WhatIf,
    cuts: &mut Vec<CutRun>,
    name: &str,
) -> TaskCost {
    match &agent.cost {
        CostSource::Usage { .. } => {
            let mut cut: BTreeMap<Limit, u64> = BTreeMap::new();
            let usd: Vec<f64> = runs
                .iter()
                .map(|r| {
                    let steps = what.apply(&r.steps, &agent.tool_call);
                    let (ran, limit) = gate(&steps, &agent.limits);
                    if let Some(l) = limit {
                        *cut.entry(l).or_insert(0) += 1;
                        if what.is_baseline() {
                            let s = &steps[ran];
                            cuts.push(CutRun {
                                agent: name.to_string(),
                                run: r.id.clone(),
                                limit: l,
                                value: match l {
                                    Limit::MaxSteps => agent.limits.max_steps,
                                    Limit::MaxTokens => agent.limits.max_tokens,
                                    Limit::MaxToolCalls => agent.limits.max_tool_calls,
                                }
                                .unwrap_or(0),
                                ran,
                                steps: steps.len(),
                                file: s.file,
                                span: s.span,
                            });
                        }
                    }
                    pricing.usd(pricing.gpu_seconds(&steps[..ran], &agent.tool_call))
                })
                .collect();
            summarize("usage", usd, cut)
        }
        CostSource::Empirical { gpu_seconds } => {
            let usd = gpu_seconds
                .iter()
                .map(|g| pricing.usd(declared(*g, agent, pricing, what)))
                .collect();
            summarize("empirical", usd, BTreeMap::new())
        }
        CostSource::LogNormal {
            median_gpu_seconds,
            p99_gpu_seconds,
        } => {
            // Scaling by a constant keeps it lognormal; an added constant shifts it.
            let scale = what.context * what.steps;
            let extra = declared(0.0, agent, pricing, what);
            let (m, q) = (median_gpu_seconds * scale, p99_gpu_seconds * scale);
            TaskCost {
                source: "lognormal",
                tasks: None,
                cut: BTreeMap::new(),
                mean_usd: pricing.usd(lognormal_mean(m, q) + extra),
                percentiles_usd: Percentile::ALL
                    .iter()
                    .map(|p| (*p, pricing.usd(lognormal_quantile(m, q, *p) + extra)))
                    .collect(),
                max_usd: None,
            }
        }
    }
}

/// A declared task's GPU-seconds under a what-if (see [`task_cost`]).
fn declared(gpu_seconds: f64, agent: &AgentPolicy, pricing: &StepPricing, what: &WhatIf) -> f64 {
    let added_calls = (what.tools - 1.0) * agent.tool_calls_per_task;
    let per_call = agent.tool_call.gpu_seconds
        + pricing
            .deployment
            .prefill_gpu_seconds(agent.tool_call.result_tokens, pricing.mfu);
    gpu_seconds * what.context * what.steps + added_calls * per_call
}

/// One workload's admission decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub workload: String,
    pub tenant: String,
    pub kind: &'static str,
    pub priority: f64,
    /// The percentile an agent is admitted by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentile: Option<Percentile>,
    /// Agents: the cost per task at that percentile, USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_task: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks_per_hour: Option<f64>,
    /// What the decision charges to the budgets, USD per hour (chargeback basis).
    pub usd_per_hour: f64,
    pub admitted: bool,
    pub reason: String,
}

/// Everything a decision needs besides the policy and the demand.
pub struct Inputs<'a> {
    pub demand: &'a Demand,
    pub policy: &'a Policy,
    /// USD per GPU-hour, chargeback basis, by GPU model (the report's ledger).
    pub rates: &'a BTreeMap<String, f64>,
    /// GPU-equivalents of one replica (a gang's total) by workload and GPU model.
    pub equivalents: &'a dyn Fn(&Workload, &str) -> Option<f64>,
    /// Per agent of the policy (same order): its runs and how its steps are priced.
    pub agents: Vec<(Vec<Run>, StepPricing)>,
}

/// One scenario: the decisions and each agent's cost per task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub what_if: WhatIf,
    pub label: String,
    /// By agent workload name.
    pub task_costs: BTreeMap<String, TaskCost>,
    pub decisions: Vec<Decision>,
}

/// A workload's cost per hour when it is not an agent of the policy: what it asks (GPU-
/// equivalents per replica x replicas) at the cheapest chargeback rate among its GPU models
/// (the plan may place it on a dearer one; `fabplan plan` checks the budget on what it
/// places). `None` when no model of it is priced.
fn reservation_usd_per_hour(w: &Workload, inp: &Inputs) -> Option<f64> {
    w.units
        .keys()
        .filter_map(|m| Some((inp.equivalents)(w, m)? * inp.rates.get(m)?))
        .min_by(f64::total_cmp)
        .map(|per_replica| per_replica * w.replicas as f64)
}

pub fn money(x: f64) -> String {
    let cents = (x * 100.0).round() as i64;
    let (whole, frac) = (cents / 100, (cents % 100).abs());
    let digits = whole.abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}.{frac:02}", if cents < 0 { "-" } else { "" })
}

/// A cost per task: four significant digits below $1 (`$0.004123`), cents above.
pub fn money_per_task(x: f64) -> String {
    if x >= 1.0 || x == 0.0 {
        money(x)
    } else {
        let digits = (3 - x.log10().floor() as i32).clamp(2, 9) as usize;
        format!("${x:.digits$}")
    }
}

pub fn count(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let s = (x as i64).to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 && c != '-' {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{x}")
    }
}

/// Decides every GPU workload of the demand under `what` (docs/admission.md, "The rule"):
/// per tenant, in priority order (the policy's per-type priority, else the workload's;
/// ties in demand order), a workload is admitted when its cost per hour fits both what is
/// left of the tenant's budget for its type (policy) and of the tenant's overall budget
/// (demand, `budget_usd_per_hour`). An agent's cost per hour is tasks per hour x its cost
/// per task at the percentile; anything else costs its reservation.
pub fn decide(inp: &Inputs, what: &WhatIf, cuts: &mut Vec<CutRun>) -> Scenario {
    let d = inp.demand;
    let mut task_costs = BTreeMap::new();
    let mut agent_cost: BTreeMap<usize, (Percentile, TaskCost, f64)> = BTreeMap::new();
    for (a, (runs, pricing)) in inp.policy.agents.iter().zip(&inp.agents) {
        let w = &d.workloads[a.workload];
        let tc = task_cost(a, runs, pricing, what, cuts, &w.name);
        let p = a.percentile.unwrap_or(inp.policy.percentile);
        let tph = w.tasks_per_hour.unwrap_or(0.0);
        task_costs.insert(w.name.clone(), tc.clone());
        agent_cost.insert(a.workload, (p, tc, tph));
    }
    let priority = |i: usize| -> f64 {
        let w = &d.workloads[i];
        inp.policy
            .tenants
            .get(&w.tenant)
            .and_then(|t| t.priorities.get(&w.kind))
            .copied()
            .unwrap_or(w.priority)
    };
    let mut order: Vec<usize> = (0..d.workloads.len()).collect();
    order.sort_by(|a, b| {
        let (wa, wb) = (&d.workloads[*a], &d.workloads[*b]);
        wa.tenant
            .cmp(&wb.tenant)
            .then(priority(*b).total_cmp(&priority(*a)))
            .then(a.cmp(b))
    });
    // Spent per tenant: by type, and overall.
    let mut spent: BTreeMap<(TenantId, Kind), f64> = BTreeMap::new();
    let mut spent_total: BTreeMap<TenantId, f64> = BTreeMap::new();
    let mut decisions = Vec::new();
    for i in order {
        let w = &d.workloads[i];
        let tenant = d.tenant(w.tenant);
        let (cost, pct, per_task, tph, what_text) = match agent_cost.get(&i) {
            Some((p, tc, tph)) => {
                let c = tc.at(*p);
                (
                    c * tph,
                    Some(*p),
                    Some(c),
                    Some(*tph),
                    format!(
                        "agent `{}` {} cost {}/task x {} tasks/h = {}/h",
                        w.name,
                        p.as_str(),
                        money_per_task(c),
                        count(*tph),
                        money(c * tph)
                    ),
                )
            }
            None => match reservation_usd_per_hour(w, inp) {
                Some(c) => (
                    c,
                    None,
                    None,
                    None,
                    format!("{} `{}` reserves {}/h", w.kind.as_str(), w.name, money(c)),
                ),
                None => {
                    decisions.push(Decision {
                        workload: w.name.clone(),
                        tenant: tenant.name.clone(),
                        kind: w.kind.as_str(),
                        priority: priority(i),
                        percentile: None,
                        usd_per_task: None,
                        tasks_per_hour: None,
                        usd_per_hour: 0.0,
                        admitted: false,
                        reason: format!(
                            "{} `{}` runs on no GPU model the ledger prices",
                            w.kind.as_str(),
                            w.name
                        ),
                    });
                    continue;
                }
            },
        };
        let type_budget = inp
            .policy
            .tenants
            .get(&w.tenant)
            .and_then(|t| t.budgets.get(&w.kind))
            .copied();
        let used_type = spent.get(&(w.tenant, w.kind)).copied().unwrap_or(0.0);
        let used_total = spent_total.get(&w.tenant).copied().unwrap_or(0.0);
        let eps = 1e-9;
        let over_type = type_budget.filter(|b| used_type + cost > b + eps);
        let over_total = tenant
            .budget_usd_per_hour
            .filter(|b| used_total + cost > b + eps);
        let already = |used: f64| {
            if used > 0.0 {
                format!(" ({} already admitted)", money(used))
            } else {
                String::new()
            }
        };
        let reason = if let Some(b) = over_type {
            let mut r = format!(
                "{what_text} exceeds tenant `{}`'s {} budget {}/h{}",
                tenant.name,
                w.kind.as_str(),
                money(b),
                already(used_type)
            );
            if let Some((p, tc, tph)) = agent_cost.get(&i) {
                if *p != Percentile::P50 {
                    r.push_str(&format!(
                        "; p50 would be {}/h",
                        money(tc.at(Percentile::P50) * tph)
                    ));
                }
            }
            r
        } else if let Some(b) = over_total {
            format!(
                "{what_text} exceeds tenant `{}`'s budget {}/h{}",
                tenant.name,
                money(b),
                already(used_total)
            )
        } else {
            let left = match (type_budget, tenant.budget_usd_per_hour) {
                (Some(b), _) => format!(
                    " within tenant `{}`'s {} budget {}/h ({} left)",
                    tenant.name,
                    w.kind.as_str(),
                    money(b),
                    money(b - used_type - cost)
                ),
                (None, Some(b)) => format!(
                    " within tenant `{}`'s budget {}/h ({} left)",
                    tenant.name,
                    money(b),
                    money(b - used_total - cost)
                ),
                (None, None) => format!(" (tenant `{}` has no budget)", tenant.name),
            };
            format!("{what_text}{left}")
        };
        let admitted = over_type.is_none() && over_total.is_none();
        if admitted {
            *spent.entry((w.tenant, w.kind)).or_insert(0.0) += cost;
            *spent_total.entry(w.tenant).or_insert(0.0) += cost;
        }
        decisions.push(Decision {
            workload: w.name.clone(),
            tenant: tenant.name.clone(),
            kind: w.kind.as_str(),
            priority: priority(i),
            percentile: pct,
            usd_per_task: per_task,
            tasks_per_hour: tph,
            usd_per_hour: cost,
            admitted,
            reason,
        });
    }
    Scenario {
        what_if: *what,
        label: what.label(),
        task_costs,
        decisions,
    }
}

/// The admission document: the baseline and each what-if, side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Admission {
    pub percentile: Percentile,
    /// By agent workload name: how its steps are priced.
    pub pricing: BTreeMap<String, StepPricing>,
    pub scenarios: Vec<Scenario>,
}

impl Admission {
    pub fn rejected(&self) -> usize {
        self.scenarios
            .first()
            .map(|s| s.decisions.iter().filter(|d| !d.admitted).count())
            .unwrap_or(0)
    }
}

/// Decides the baseline and every what-if; returns the document and the runs the gate cut
/// in the baseline (for FP997).
pub fn admit(inp: &Inputs, what_ifs: &[WhatIf]) -> (Admission, Vec<CutRun>) {
    let mut cuts = Vec::new();
    let mut scenarios = vec![decide(inp, &WhatIf::default(), &mut cuts)];
    for w in what_ifs {
        scenarios.push(decide(inp, w, &mut Vec::new()));
    }
    let pricing = inp
        .policy
        .agents
        .iter()
        .zip(&inp.agents)
        .map(|(a, (_, p))| (inp.demand.workloads[a.workload].name.clone(), p.clone()))
        .collect();
    (
        Admission {
            percentile: inp.policy.percentile,
            pricing,
            scenarios,
        },
        cuts,
    )
}

/// FP997 for a run the gate cut, on its first step that did not run.
pub fn cut_diagnostic(c: &CutRun) -> Diagnostic {
    crate::checks::diag(
        "FP997",
        format!(
            "run `{}` of agent `{}` reaches `{}` ({}) after {} of its {} steps: the gate stops it",
            c.run,
            c.agent,
            c.limit.as_str(),
            c.value,
            c.ran,
            c.steps
        ),
    )
    .at(c.span, "first step not run")
    .help("its cost per task counts the steps that ran; raise the limit in the policy to admit longer tasks")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_by_hand() {
        // n = 10: p50 rank ceil(5) = 5, p90 rank 9, p95 rank ceil(9.5) = 10, p99 rank 10.
        let v: Vec<f64> = (1..=10).map(|i| i as f64).collect();
        assert_eq!(nearest_rank(&v, Percentile::P50), 5.0);
        assert_eq!(nearest_rank(&v, Percentile::P90), 9.0);
        assert_eq!(nearest_rank(&v, Percentile::P95), 10.0);
        assert_eq!(nearest_rank(&v, Percentile::P99), 10.0);
        // n = 200: p99 rank 198, p95 rank 190, p50 rank 100.
        let v: Vec<f64> = (1..=200).map(|i| i as f64).collect();
        assert_eq!(nearest_rank(&v, Percentile::P99), 198.0);
        assert_eq!(nearest_rank(&v, Percentile::P95), 190.0);
        assert_eq!(nearest_rank(&v, Percentile::P50), 100.0);
        // n = 1: every percentile is the value.
        assert_eq!(nearest_rank(&[7.0], Percentile::P50), 7.0);
        assert_eq!(nearest_rank(&[7.0], Percentile::P99), 7.0);
        // n = 3: p50 rank ceil(1.5) = 2.
        assert_eq!(nearest_rank(&[1.0, 2.0, 30.0], Percentile::P50), 2.0);
    }

    #[test]
    fn lognormal_by_hand() {
        // median 10, p99 100: sigma = ln 10 / 2.3263478740 = 0.98978...; p99 returns 100,
        // p50 the median, p95 = 10 x exp(0.98978 x 1.6448536) = 50.9394 (Python: math.exp)
        let sigma = 10f64.ln() / 2.326_347_874_040_840_8;
        assert!((lognormal_quantile(10.0, 100.0, Percentile::P99) - 100.0).abs() < 1e-9);
        assert_eq!(lognormal_quantile(10.0, 100.0, Percentile::P50), 10.0);
        let p95 = lognormal_quantile(10.0, 100.0, Percentile::P95);
        assert!((p95 - 10.0 * (sigma * 1.644_853_626_951_472_2).exp()).abs() < 1e-9);
        assert!((p95 - 50.9394).abs() < 1e-4, "{p95}");
        // mean = 10 x exp(sigma^2 / 2) = 16.3205: above the median, far below p99.
        let mean = lognormal_mean(10.0, 100.0);
        assert!((mean - 10.0 * (sigma * sigma / 2.0).exp()).abs() < 1e-9);
        assert!((mean - 16.3205).abs() < 1e-4, "{mean}");
    }

    fn step(input: u64, output: u64, tools: u64) -> Step {
        Step {
            input_tokens: input,
            output_tokens: output,
            cached_tokens: 0,
            tool_calls: Some(tools),
            file: 0,
            span: Span::default(),
        }
    }

    #[test]
    fn the_gate_stops_before_the_step_past_a_limit() {
        let steps = vec![step(100, 10, 1), step(200, 10, 2), step(300, 10, 0)];
        let none = Limits::default();
        assert_eq!(gate(&steps, &none), (3, None));
        let l = Limits {
            max_steps: Some(2),
            ..Limits::default()
        };
        assert_eq!(gate(&steps, &l), (2, Some(Limit::MaxSteps)));
        // Tokens: 110 after step 1, 320 after step 2; a limit of 300 lets step 2 run.
        let l = Limits {
            max_tokens: Some(300),
            ..Limits::default()
        };
        assert_eq!(gate(&steps, &l), (2, Some(Limit::MaxTokens)));
        let l = Limits {
            max_tokens: Some(110),
            ..Limits::default()
        };
        assert_eq!(gate(&steps, &l), (1, Some(Limit::MaxTokens)));
        let l = Limits {
            max_tool_calls: Some(3),
            ..Limits::default()
        };
        assert_eq!(gate(&steps, &l), (2, Some(Limit::MaxToolCalls)));
    }

    #[test]
    fn what_ifs_transform_steps() {
        let steps = vec![step(1000, 10, 1), step(2000, 20, 0)];
        let tool = ToolCall {
            result_tokens: 300,
            gpu_seconds: 0.0,
        };
        let w = WhatIf {
            tools: 2.0,
            ..WhatIf::default()
        };
        let t = w.apply(&steps, &tool);
        assert_eq!((t[0].tool_calls, t[0].input_tokens), (Some(2), 1300));
        assert_eq!((t[1].tool_calls, t[1].input_tokens), (Some(0), 2000));
        let w = WhatIf {
            context: 1.5,
            ..WhatIf::default()
        };
        assert_eq!(w.apply(&steps, &tool)[1].input_tokens, 3000);
        let w = WhatIf {
            steps: 2.5,
            ..WhatIf::default()
        };
        let t = w.apply(&steps, &tool);
        assert_eq!(t.len(), 5);
        assert_eq!(t[4], steps[0]);
        assert_eq!(w.label(), "steps x2.5");
        assert_eq!(WhatIf::default().label(), "baseline");
    }

    #[test]
    fn money_formats() {
        assert_eq!(money(820.0), "$820.00");
        assert_eq!(money(12345.678), "$12,345.68");
        assert_eq!(money_per_task(0.41), "$0.4100");
        assert_eq!(money_per_task(0.004123), "$0.004123");
        assert_eq!(count(2000.0), "2,000");
    }
}
