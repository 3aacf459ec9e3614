//! Demand validation: `schema::demand::RawDemand` (spanned values) -> `model::demand::Demand`
//! against a loaded fabric and the catalog, collecting every problem with a span on the
//! offending value; and reading demand files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Span};
use crate::mig::ProfileIdx;
use crate::model::demand::*;
use crate::model::{Fabric, TenantId};
use crate::schema::demand::{
    RawDemand, RawModelSpec, RawPricing, RawPriority, RawSize, RawTenant, RawWeights, RawWorkload,
};
use crate::source::{self, known_span_of, SourceFile};

fn class_weight(classes: &BTreeMap<String, f64>, name: &str) -> Option<f64> {
    classes.get(name).copied().or(match name {
        "critical" => Some(8.0),
        "high" => Some(4.0),
        "normal" => Some(2.0),
        "low" => Some(1.0),
        _ => None,
    })
}

fn dtype_bytes(s: &str) -> Option<f64> {
    Some(match s {
        "fp32" => 4.0,
        "bf16" | "fp16" => 2.0,
        "fp8" | "int8" => 1.0,
        "fp4" | "int4" => 0.5,
        _ => return None,
    })
}

/// Thousandths of a GPU for a fraction in (0, 1] written in at most three decimals
/// (`0.46` -> 460); `None` for anything else (nothing is rounded).
pub fn milli_of_fraction(fraction: f64) -> Option<u32> {
    if !(fraction.is_finite() && fraction > 0.0 && fraction <= 1.0) {
        return None;
    }
    let m = (fraction * 1000.0).round();
    ((fraction * 1000.0 - m).abs() < 1e-6 && m >= 1.0).then_some(m as u32)
}

/// The lowest value a demand number may take.
#[derive(Clone, Copy)]
enum Least {
    /// `>= x`
    AtLeast(f64),
    /// `> x`
    Above(f64),
}

/// FP840 unless `v` is finite and in range; returns the value (or `fallback` after an error,
/// which stops the run anyway).
fn number(
    diags: &mut Vec<Diagnostic>,
    v: &Spanned<f64>,
    key: &str,
    least: Least,
    fallback: f64,
) -> f64 {
    let x = v.value;
    let (ok, want) = match least {
        Least::AtLeast(m) => (
            x.is_finite() && x >= m,
            format!("a finite number of at least {m}"),
        ),
        Least::Above(m) => (x.is_finite() && x > m, format!("a finite number above {m}")),
    };
    if ok {
        return x;
    }
    diags.push(err_at(
        "FP840",
        format!("`{key}` must be {want}, got {x}"),
        v,
        "out of range",
        match least {
            Least::AtLeast(1.0) => {
                format!("give `{key}` a value of 1 or more (1.0 = no overhead)")
            }
            Least::AtLeast(_) => format!("give `{key}` a non-negative value, or leave it out"),
            Least::Above(_) => format!("give `{key}` a positive value"),
        },
    ));
    fallback
}

fn opt_number(
    diags: &mut Vec<Diagnostic>,
    v: &Option<Spanned<f64>>,
    key: &str,
    least: Least,
) -> Option<f64> {
    v.as_ref().map(|v| number(diags, v, key, least, 0.0))
}

/// `min_replicas` checked against the workload (FP816-FP818): not on a training gang (one
/// all-or-nothing gang), at most `replicas` (as given or derived for an agent), and not 0 on
/// a required workload. Absent: all of `replicas`.
fn min_replicas_of(
    name: &str,
    kind: Kind,
    w: &RawWorkload,
    replicas: u32,
    diags: &mut Vec<Diagnostic>,
) -> Option<u32> {
    let Some(m) = &w.min_replicas else {
        return Some(replicas);
    };
    if kind == Kind::Training {
        diags.push(err_at(
            "FP816",
            format!("training workload `{name}` has `min_replicas`"),
            m,
            "a gang is all or nothing",
            "drop `min_replicas`, or split the job into smaller gangs that may run alone",
        ));
        return None;
    }
    if m.value > replicas {
        let what = if w.replicas.is_some() {
            format!("`replicas: {replicas}`")
        } else {
            format!("the {replicas} replicas it is sized to")
        };
        diags.push(err_at(
            "FP817",
            format!(
                "workload `{name}` has `min_replicas: {}` above {what}",
                m.value
            ),
            m,
            "more than the workload asks for",
            format!("give `min_replicas` between 0 and {replicas}"),
        ));
        return None;
    }
    if m.value == 0 && w.required {
        diags.push(err_at(
            "FP818",
            format!("required workload `{name}` has `min_replicas: 0`"),
            m,
            "a required workload must run at least one replica",
            "give `min_replicas: 1` or more, or drop `required: true`",
        ));
        return None;
    }
    Some(m.value)
}

/// A diagnostic whose primary label sits on `value` (when its location is known).
fn err_at<T>(
    code: &'static str,
    message: String,
    value: &Spanned<T>,
    label: &str,
    help: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(code, message)
        .at_opt(known_span_of(value), label)
        .help(help)
}

/// Names as a short backticked list for a help line (`a`, `b`, `c` and 4 more).
fn name_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let shown: Vec<String> = names.iter().take(6).map(|n| format!("`{n}`")).collect();
    let more = names.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Validates `raw` against the fabric's GPU models. Collects every problem; each diagnostic
/// points at the offending value in the demand file.
pub fn build_demand(
    raw: RawDemand,
    fabric: &Fabric,
    catalog: &Catalog,
) -> (Option<Demand>, Vec<Diagnostic>) {
    // Arrival and duration fields (replay input), checked here so every command sees them.
    let mut diags = super::arrivals::timings(&raw).1;
    let weights = build_weights(&raw.weights, &mut diags);
    let pricing = build_pricing(&raw.pricing, fabric, &mut diags);
    let tenants = build_tenants(&raw.tenants, &raw.priority_classes, &mut diags);
    let (workloads, host_workloads) = build_workloads(
        &raw.workloads,
        &tenants,
        &raw.priority_classes,
        &fabric_gpu_models(fabric),
        catalog,
        &mut diags,
    );
    if diags
        .iter()
        .any(|d| d.severity == crate::diag::Severity::Error)
    {
        return (None, diags);
    }
    (
        Some(Demand {
            fabric: raw.fabric,
            tenants: tenants.tenants,
            workloads,
            host_workloads,
            pricing,
            weights,
        }),
        diags,
    )
}

/// The objective's weights (FP840 for a negative or non-finite one; defaults otherwise).
fn build_weights(rw: &RawWeights, diags: &mut Vec<Diagnostic>) -> Weights {
    let mut weights = Weights::default();
    for (v, key, slot) in [
        (&rw.value, "weights.value", &mut weights.value),
        (
            &rw.cost_per_usd,
            "weights.cost_per_usd",
            &mut weights.cost_per_usd,
        ),
        (
            &rw.communication,
            "weights.communication",
            &mut weights.communication,
        ),
        (&rw.stranded, "weights.stranded", &mut weights.stranded),
        (
            &rw.disruption,
            "weights.disruption",
            &mut weights.disruption,
        ),
    ] {
        if let Some(x) = opt_number(diags, v, key, Least::AtLeast(0.0)) {
            *slot = x;
        }
    }
    weights
}

/// GPU models present on the fabric, with the most GPUs a node of each has.
fn fabric_gpu_models(fabric: &Fabric) -> BTreeMap<String, u32> {
    let mut models: BTreeMap<String, u32> = BTreeMap::new();
    for t in &fabric.templates {
        if t.gpus > 0 && !t.gpu_model.is_empty() {
            let e = models.entry(t.gpu_model.clone()).or_insert(0);
            *e = (*e).max(t.gpus);
        }
    }
    models
}

/// Prices: the built-in GPU-hour list, overridden by the fabric's node prices (per GPU),
/// overridden by the demand's own `pricing:` (FP840 for a negative price, a PUE below 1).
fn build_pricing(rp: &RawPricing, fabric: &Fabric, diags: &mut Vec<Diagnostic>) -> Pricing {
    let w0 = Least::AtLeast(0.0);
    let mut gpu_usd: BTreeMap<String, f64> = DEFAULT_GPU_USD_PER_HOUR
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    for t in &fabric.templates {
        if t.gpus > 0 && !t.gpu_model.is_empty() {
            if let Some(p) = t.price_usd_per_hour {
                gpu_usd.insert(t.gpu_model.clone(), p / t.gpus as f64);
            }
        }
    }
    for (k, v) in &rp.gpu_usd_per_hour {
        let x = number(diags, v, &format!("pricing.gpu_usd_per_hour.{k}"), w0, 0.0);
        gpu_usd.insert(k.clone(), x);
    }
    Pricing {
        gpu_usd_per_hour: gpu_usd,
        power_usd_per_kwh: opt_number(
            diags,
            &rp.power_usd_per_kwh,
            "pricing.power_usd_per_kwh",
            w0,
        )
        .unwrap_or(0.10),
        pue: opt_number(diags, &rp.pue, "pricing.pue", Least::AtLeast(1.0)).unwrap_or(1.2),
    }
}

/// The tenants as built, with where each one's name and isolation are written (for
/// diagnostics on their workloads).
struct BuiltTenants<'a> {
    tenants: Vec<Tenant>,
    /// By tenant index.
    spans: Vec<TenantSpans>,
    /// Where each name is first defined.
    first: BTreeMap<&'a str, Option<Span>>,
}

impl BuiltTenants<'_> {
    /// The tenant names for a help line.
    fn names(&self) -> String {
        name_list(self.first.keys().copied())
    }
}

/// Tenants: unique names (FP804), known isolation and priority class (FP802), limits in
/// range (FP840), then `share_with` resolved to tenant ids (FP801).
fn build_tenants<'a>(
    raw: &'a [RawTenant],
    classes: &BTreeMap<String, f64>,
    diags: &mut Vec<Diagnostic>,
) -> BuiltTenants<'a> {
    let mut built = BuiltTenants {
        tenants: Vec::new(),
        spans: Vec::new(),
        first: BTreeMap::new(),
    };
    for t in raw {
        let name = t.name.value.as_str();
        if let Some(prev) = built.first.get(name) {
            diags.push(
                err_at(
                    "FP804",
                    format!("tenant `{name}` is defined twice"),
                    &t.name,
                    "defined again here",
                    "give each tenant a unique name",
                )
                .also_at_opt(*prev, "first defined here"),
            );
        } else {
            built.first.insert(name, known_span_of(&t.name));
        }
        built.tenants.push(build_tenant(t, classes, diags));
        built.spans.push(TenantSpans {
            isolation: known_span_of(&t.isolation),
        });
    }
    for (i, t) in raw.iter().enumerate() {
        for other in &t.share_with {
            match built.tenants.iter().position(|x| x.name == other.value) {
                Some(j) => built.tenants[i].share_with.push(TenantId::from_index(j)),
                None => diags.push(err_at(
                    "FP801",
                    format!(
                        "tenant `{}` shares with unknown tenant `{}`",
                        t.name.value, other.value
                    ),
                    other,
                    "not a tenant",
                    format!("list tenants defined under `tenants:` ({})", built.names()),
                )),
            }
        }
    }
    built
}

/// One tenant, its `share_with` not yet resolved.
fn build_tenant(
    t: &RawTenant,
    classes: &BTreeMap<String, f64>,
    diags: &mut Vec<Diagnostic>,
) -> Tenant {
    let name = t.name.value.as_str();
    let w0 = Least::AtLeast(0.0);
    let isolation = match t.isolation.value.as_str() {
        "dedicated-node" => Isolation::DedicatedNode,
        "dedicated-gpu" => Isolation::DedicatedGpu,
        "mig" => Isolation::Mig {
            co_tenancy: t.co_tenancy.unwrap_or(false),
        },
        "shared" => Isolation::Shared,
        other => {
            diags.push(err_at(
                "FP802",
                format!("tenant `{name}` has unknown isolation `{other}`"),
                &t.isolation,
                "not an isolation policy",
                "use `dedicated-node`, `dedicated-gpu`, `mig` or `shared`",
            ));
            Isolation::DedicatedGpu
        }
    };
    let priority = match &t.priority {
        None => 1.0,
        Some(c) => class_weight(classes, &c.value).unwrap_or_else(|| {
            diags.push(err_at(
                "FP802",
                format!("tenant `{name}` has unknown priority class `{}`", c.value),
                c,
                "not a priority class",
                class_help(classes, false),
            ));
            1.0
        }),
    };
    Tenant {
        name: name.to_string(),
        budget_usd_per_hour: opt_number(diags, &t.budget_usd_per_hour, "budget_usd_per_hour", w0),
        max_gpus: opt_number(diags, &t.max_gpus, "max_gpus", w0),
        max_power_kw: opt_number(diags, &t.max_power_kw, "max_power_kw", w0),
        priority,
        isolation,
        share_with: Vec::new(),
    }
}

/// Workloads: unique names (FP804), a known tenant (FP801), then each one built; GPU and
/// host-only workloads apart.
fn build_workloads(
    raw: &[RawWorkload],
    tenants: &BuiltTenants,
    classes: &BTreeMap<String, f64>,
    fabric_models: &BTreeMap<String, u32>,
    catalog: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Workload>, Vec<HostWorkload>) {
    let mut workloads: Vec<Workload> = Vec::new();
    let mut host_workloads: Vec<HostWorkload> = Vec::new();
    let mut first_workload: BTreeMap<&str, Option<Span>> = BTreeMap::new();
    for w in raw {
        let name = w.name.value.as_str();
        if let Some(prev) = first_workload.get(name) {
            diags.push(
                err_at(
                    "FP804",
                    format!("workload `{name}` is defined twice"),
                    &w.name,
                    "defined again here",
                    "give each workload a unique name",
                )
                .also_at_opt(*prev, "first defined here"),
            );
            continue;
        }
        first_workload.insert(name, known_span_of(&w.name));
        let Some(tenant) = tenants
            .tenants
            .iter()
            .position(|t| t.name == w.tenant.value)
        else {
            diags.push(err_at(
                "FP801",
                format!(
                    "workload `{name}` names unknown tenant `{}`",
                    w.tenant.value
                ),
                &w.tenant,
                "not a tenant",
                if tenants.first.is_empty() {
                    "define the tenant under `tenants:`".to_string()
                } else {
                    format!(
                        "define the tenant under `tenants:`, or use one that is ({})",
                        tenants.names()
                    )
                },
            ));
            continue;
        };
        match build_workload(
            w,
            tenant,
            &tenants.tenants[tenant],
            &tenants.spans[tenant],
            classes,
            fabric_models,
            catalog,
            diags,
        ) {
            Some(Built::Gpu(wl)) => workloads.push(wl),
            Some(Built::Host(h)) => host_workloads.push(h),
            None => {}
        }
    }
    (workloads, host_workloads)
}

/// Where a tenant's values are written, for secondary labels on workload diagnostics.
struct TenantSpans {
    isolation: Option<Span>,
}

/// The help line for an unknown priority class: the built-in classes and the file's own.
fn class_help(classes: &BTreeMap<String, f64>, number_ok: bool) -> String {
    let mut names: Vec<&str> = vec!["critical", "high", "normal", "low"];
    names.extend(
        classes
            .keys()
            .map(String::as_str)
            .filter(|c| !["critical", "high", "normal", "low"].contains(c)),
    );
    format!(
        "use {}{}, or define the class under `priority_classes:`",
        if number_ok { "a number or " } else { "" },
        name_list(names)
    )
}

/// A workload as built: one that holds GPUs, or a host-only one (`size: {gpus: 0}`).
enum Built {
    Gpu(Workload),
    Host(HostWorkload),
}

/// Whether `size` is exactly `{gpus: 0}`: a host-only workload (CPU and memory, no GPU).
fn host_only_size(size: &RawSize) -> bool {
    size.gpus.as_ref().is_some_and(|g| g.value == 0)
        && size.mig.is_none()
        && size.fraction.is_none()
        && size.gpu_milli.is_none()
        && size.gpu_memory_gib.is_none()
}

/// A host-only workload: `size: {gpus: 0}` on an inference or agent workload, with
/// `cpu_millicores` and/or `memory_mib` (FP835 when neither asks anything), no
/// `gpu_models`, `model`, `min_replicas` or `same_model` (FP836: they choose GPUs).
fn build_host_workload(
    w: &RawWorkload,
    kind: Kind,
    tenant: usize,
    priority: f64,
    size: &Spanned<RawSize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<HostWorkload> {
    let name = w.name.value.as_str();
    let gpus_span = size.value.gpus.as_ref().and_then(known_span_of);
    let cpu = w.cpu_millicores.as_ref().map(|c| c.value).unwrap_or(0);
    let mem = w.memory_mib.as_ref().map(|m| m.value).unwrap_or(0);
    let mut ok = true;
    if cpu == 0 && mem == 0 {
        diags.push(
            Diagnostic::error(
                "FP835",
                format!("host-only workload `{name}` asks no CPU and no memory"),
            )
            .at_opt(gpus_span, "no GPU")
            .help("give `cpu_millicores` or `memory_mib` (per replica), or a GPU size such as `size: {gpus: 1}`"),
        );
        ok = false;
    }
    let gpu_keys: [(&str, Option<Span>); 4] = [
        ("gpu_models", w.gpu_models.first().and_then(known_span_of)),
        (
            "model",
            w.model.as_ref().and_then(|m| known_span_of(&m.dtype)),
        ),
        (
            "min_replicas",
            w.min_replicas.as_ref().and_then(known_span_of),
        ),
        ("same_model", w.same_model.as_ref().and_then(known_span_of)),
    ];
    let present = [
        !w.gpu_models.is_empty(),
        w.model.is_some(),
        w.min_replicas.is_some(),
        w.same_model.is_some(),
    ];
    for ((key, span), there) in gpu_keys.iter().zip(present) {
        if there {
            diags.push(
                Diagnostic::error(
                    "FP836",
                    format!("host-only workload `{name}` has `{key}`, which only a GPU workload may give"),
                )
                .at_opt(span.or(gpus_span), "not for a workload without GPUs")
                .also_at_opt(span.and(gpus_span), "`gpus: 0` makes it host-only")
                .help(format!("drop `{key}`, or give the workload a GPU size")),
            );
            ok = false;
        }
    }
    let replicas = replicas_of(w, diags)?;
    ok.then_some(HostWorkload {
        name: name.to_string(),
        tenant: TenantId::from_index(tenant),
        kind,
        priority,
        required: w.required,
        replicas,
        cpu_millicores: cpu,
        memory_mib: mem,
    })
}

/// One GPU workload (or a host-only one, `size: {gpus: 0}`): kind and priority, the GPU
/// models it may use under its tenant's isolation, then the kind's own sizing, then
/// `min_replicas`. Each step pushes its diagnostics and stops the workload on an error.
#[allow(clippy::too_many_arguments)]
fn build_workload(
    w: &RawWorkload,
    tenant: usize,
    t: &Tenant,
    t_spans: &TenantSpans,
    classes: &BTreeMap<String, f64>,
    fabric_models: &BTreeMap<String, u32>,
    catalog: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> Option<Built> {
    let name = w.name.value.as_str();
    let kind = workload_kind(w, diags)?;
    let priority = workload_priority(w, t.priority, classes, diags)?;
    if let Some(size) = w.size.as_ref().filter(|s| host_only_size(&s.value)) {
        if kind != Kind::Training {
            return build_host_workload(w, kind, tenant, priority, size, diags).map(Built::Host);
        }
    }
    let eligible = eligible_models(w, &t.isolation, fabric_models, catalog, diags)?;
    let replicas = replicas_of(w, diags)?;
    let mut sizing = match kind {
        Kind::Training => training_sizing(w, &eligible, diags)?,
        Kind::Inference => inference_sizing(w, replicas, &eligible, catalog, diags)?,
        Kind::Agent => agent_sizing(w, replicas, &eligible, catalog, diags)?,
    };
    // Isolation policy decides which units are allowed.
    sizing.units.retain(|_, u| eligible.allows(u));
    if sizing.units.is_empty() {
        diags.push(fits_nowhere(w, t, t_spans, &eligible, fabric_models));
        return None;
    }
    let min_replicas = min_replicas_of(name, kind, w, sizing.replicas, diags)?;
    Some(Built::Gpu(Workload {
        name: name.to_string(),
        tenant: TenantId::from_index(tenant),
        kind,
        priority,
        required: w.required,
        replicas: sizing.replicas,
        min_replicas,
        same_model: w.same_model.as_ref().is_some_and(|s| s.value),
        units: sizing.units,
        gang: sizing.gang,
        memory_gib: sizing.memory_gib,
        cpu_millicores: w.cpu_millicores.as_ref().map(|c| c.value).unwrap_or(0),
        memory_mib: w.memory_mib.as_ref().map(|m| m.value).unwrap_or(0),
        gpu_seconds_per_task: sizing.gpu_seconds_per_task,
        tasks_per_hour: w.tasks_per_hour.as_ref().map(|t| t.value),
        model: model_spec(w),
    }))
}

/// `kind:` as a `Kind` (FP802 for anything else).
fn workload_kind(w: &RawWorkload, diags: &mut Vec<Diagnostic>) -> Option<Kind> {
    match w.kind.value.as_str() {
        "training" => Some(Kind::Training),
        "inference" => Some(Kind::Inference),
        "agent" => Some(Kind::Agent),
        other => {
            diags.push(err_at(
                "FP802",
                format!("workload `{}` has unknown kind `{other}`", w.name.value),
                &w.kind,
                "not a workload kind",
                "use `training`, `inference` or `agent`",
            ));
            None
        }
    }
}

/// The workload's priority: its own number or class, else its tenant's (FP840 for a number
/// that is not above 0, FP802 for an unknown class).
fn workload_priority(
    w: &RawWorkload,
    tenant_priority: f64,
    classes: &BTreeMap<String, f64>,
    diags: &mut Vec<Diagnostic>,
) -> Option<f64> {
    let name = w.name.value.as_str();
    let Some(p) = &w.priority else {
        return Some(tenant_priority);
    };
    match &p.value {
        RawPriority::Number(n) if n.is_finite() && *n > 0.0 => Some(*n),
        RawPriority::Number(n) => {
            diags.push(err_at(
                "FP840",
                format!(
                    "workload `{name}` has priority {n}; a priority is a finite number above 0"
                ),
                p,
                "out of range",
                class_help(classes, true),
            ));
            None
        }
        RawPriority::Class(c) => match class_weight(classes, c) {
            Some(v) => Some(v),
            None => {
                diags.push(err_at(
                    "FP802",
                    format!("workload `{name}` has unknown priority class `{c}`"),
                    p,
                    "not a priority class",
                    class_help(classes, true),
                ));
                None
            }
        },
    }
}

/// `replicas:` (1 when absent; FP840 for 0).
fn replicas_of(w: &RawWorkload, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    match &w.replicas {
        Some(r) if r.value == 0 => {
            diags.push(err_at(
                "FP840",
                format!("workload `{}` has `replicas: 0`", w.name.value),
                r,
                "must be at least 1",
                "give the number of replicas (1 or more), or drop the workload",
            ));
            None
        }
        Some(r) => Some(r.value),
        None => Some(1),
    }
}

/// The GPU models a workload may use and the units its tenant's isolation allows.
struct Eligible {
    /// The fabric's GPU models (with GPUs per node) that `gpu_models` admits.
    models: Vec<(String, u32)>,
    /// MIG slices are allowed (`isolation: mig`).
    mig_ok: bool,
    /// Shares of a GPU are allowed (`isolation: shared`).
    shared_ok: bool,
}

impl Eligible {
    fn allows(&self, unit: &Unit) -> bool {
        match unit {
            Unit::Gpus(_) => true,
            Unit::Mig(_) => self.mig_ok,
            Unit::Share { .. } => self.shared_ok,
        }
    }
}

/// The fabric's GPU models filtered by `gpu_models` (FP805 for a model the catalog does
/// not know), with what the tenant's isolation allows.
fn eligible_models(
    w: &RawWorkload,
    isolation: &Isolation,
    fabric_models: &BTreeMap<String, u32>,
    catalog: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> Option<Eligible> {
    let unknown_models: Vec<&Spanned<String>> = w
        .gpu_models
        .iter()
        .filter(|x| catalog.gpu(&x.value).is_none())
        .collect();
    for x in &unknown_models {
        let help = catalog.unknown_gpu_help(&x.value);
        diags.push(err_at(
            "FP805",
            format!(
                "workload `{}` names unknown GPU model `{}`",
                w.name.value, x.value
            ),
            x,
            "not a GPU model",
            help,
        ));
    }
    if !unknown_models.is_empty() {
        return None;
    }
    let mut models: Vec<(String, u32)> = Vec::new();
    for (m, gpn) in fabric_models {
        if w.gpu_models.is_empty()
            || w.gpu_models.iter().any(|x| {
                catalog
                    .gpu(&x.value)
                    .map(|g| &g.key == m)
                    .unwrap_or(&x.value == m)
            })
        {
            models.push((m.clone(), *gpn));
        }
    }
    Some(Eligible {
        models,
        mig_ok: matches!(isolation, Isolation::Mig { .. }),
        shared_ok: *isolation == Isolation::Shared,
    })
}

/// What a workload's kind and size make of it: the unit one replica takes on each eligible
/// model (before the isolation filter), the replica count and the kind's own figures.
struct Sizing {
    units: BTreeMap<String, Unit>,
    replicas: u32,
    gang: Option<Gang>,
    memory_gib: Option<f64>,
    gpu_seconds_per_task: Option<f64>,
}

impl Sizing {
    fn new(replicas: u32) -> Self {
        Sizing {
            units: BTreeMap::new(),
            replicas,
            gang: None,
            memory_gib: None,
            gpu_seconds_per_task: None,
        }
    }
}

/// A training workload is one gang of `gpus` (FP803 when missing or 0) with its topology
/// levels (FP802 for an unknown level) and collective traffic.
fn training_sizing(
    w: &RawWorkload,
    eligible: &Eligible,
    diags: &mut Vec<Diagnostic>,
) -> Option<Sizing> {
    let name = w.name.value.as_str();
    let n = match &w.gpus {
        Some(g) if g.value > 0 => g.value,
        Some(g) => {
            diags.push(err_at(
                "FP803",
                format!("training workload `{name}` has `gpus: 0`"),
                g,
                "must be at least 1",
                "give the gang size, e.g. `gpus: 64`",
            ));
            return None;
        }
        None => {
            diags.push(err_at(
                "FP803",
                format!("training workload `{name}` has no `gpus`"),
                &w.name,
                "this workload has no gang size",
                "give the gang size, e.g. `gpus: 64`",
            ));
            return None;
        }
    };
    let (required, preferred) = gang_levels(w, diags)?;
    let (bytes_per_step, steps_per_hour) = w
        .collective
        .as_ref()
        .map(|c| {
            (
                number(
                    diags,
                    &c.bytes_per_step,
                    "collective.bytes_per_step",
                    Least::AtLeast(0.0),
                    0.0,
                ),
                number(
                    diags,
                    &c.steps_per_hour,
                    "collective.steps_per_hour",
                    Least::AtLeast(0.0),
                    0.0,
                ),
            )
        })
        .unwrap_or((0.0, 0.0));
    let mut sizing = Sizing::new(1);
    sizing.gang = Some(Gang {
        required,
        preferred,
        bytes_per_step,
        steps_per_hour,
    });
    for (m, _) in &eligible.models {
        sizing.units.insert(m.clone(), Unit::Gpus(n));
    }
    Some(sizing)
}

/// A gang's required and preferred topology levels (both `fabric` when absent; preferred
/// never looser than required).
fn gang_levels(w: &RawWorkload, diags: &mut Vec<Diagnostic>) -> Option<(Level, Level)> {
    let level = |v: &Spanned<String>, diags: &mut Vec<Diagnostic>| {
        let l = Level::parse(&v.value);
        if l.is_none() {
            diags.push(err_at(
                "FP802",
                format!(
                    "workload `{}` has unknown topology level `{}`",
                    w.name.value, v.value
                ),
                v,
                "not a topology level",
                "use `nvlink`, `leaf`, `su` or `fabric`",
            ));
        }
        l
    };
    match &w.topology {
        None => Some((Level::Fabric, Level::Fabric)),
        Some(tp) => {
            let r = level(&tp.required, diags);
            let p = tp.preferred.as_ref().map(|p| level(p, diags));
            let (Some(r), Some(p)) = (r, p.unwrap_or(r)) else {
                return None;
            };
            Some((r, p.min(r)))
        }
    }
}

/// An inference workload sized by `size` or by a model spec: one unit per eligible model
/// that can host a replica.
fn inference_sizing(
    w: &RawWorkload,
    replicas: u32,
    eligible: &Eligible,
    catalog: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> Option<Sizing> {
    check_inference_size(w, &eligible.models, catalog, diags)?;
    let mut sizing = Sizing::new(replicas);
    for (m, gpn) in &eligible.models {
        let Some(gm) = catalog.gpu(m) else { continue };
        let unit = if let Some(size) = &w.size {
            match size_unit(&size.value, gm, *gpn) {
                Some(u) => u,
                None => continue,
            }
        } else if let Some(spec) = &w.model {
            let gib = model_memory_gib(spec);
            sizing.memory_gib = Some((gib * 100.0).round() / 100.0);
            match model_unit(gib, gm, *gpn, eligible) {
                Some(u) => u,
                None => continue,
            }
        } else {
            continue;
        };
        sizing.units.insert(m.clone(), unit);
    }
    Some(sizing)
}

/// An inference workload has a valid `size` (FP803: shape, unknown MIG profile) or a model
/// spec with a positive parameter count and a known dtype (FP840, FP802), else FP803.
fn check_inference_size(
    w: &RawWorkload,
    models: &[(String, u32)],
    catalog: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> Option<()> {
    let name = w.name.value.as_str();
    if let Some(size) = &w.size {
        if let Err((msg, span)) = size_shape(size) {
            diags.push(
                Diagnostic::error("FP803", format!("workload `{name}`: {msg}"))
                    .at_opt(span, "not a valid size")
                    .help("give exactly one of `gpus`, `mig`, `fraction` or `gpu_milli`"),
            );
            return None;
        }
        if let Some(p) = &size.value.mig {
            if let Some(d) = unknown_profile(name, p, models, catalog) {
                diags.push(d);
                return None;
            }
        }
    } else if let Some(spec) = &w.model {
        let before = diags.len();
        number(
            diags,
            &spec.parameters_b,
            "model.parameters_b",
            Least::Above(0.0),
            1.0,
        );
        if diags.len() > before {
            return None;
        }
        if dtype_bytes(&spec.dtype.value).is_none() {
            diags.push(err_at(
                "FP802",
                format!("workload `{name}` has unknown dtype `{}`", spec.dtype.value),
                &spec.dtype,
                "not a dtype",
                "use fp32, bf16, fp16, fp8, int8, fp4 or int4",
            ));
            return None;
        }
    } else {
        diags.push(err_at(
            "FP803",
            format!("inference workload `{name}` has neither `size` nor `model`"),
            &w.name,
            "this workload has no size",
            "size replicas explicitly (`size: {gpus: 1}`) or give a model spec",
        ));
        return None;
    }
    Some(())
}

/// GiB one replica of a model spec needs: weights plus KV cache for the stated context and
/// concurrency, with 10% headroom for activations and the runtime.
fn model_memory_gib(spec: &RawModelSpec) -> f64 {
    // The dtype was checked by `check_inference_size` (FP802).
    let b = dtype_bytes(&spec.dtype.value).unwrap_or(2.0);
    let weights = spec.parameters_b.value * 1e9 * b;
    let kv = 2.0
        * spec.layers as f64
        * spec.kv_heads as f64
        * spec.head_dim as f64
        * b
        * spec.context_tokens as f64
        * spec.concurrent_sequences as f64;
    // 10 % headroom for activations and the runtime; the same HBM working set as the report's
    // context tiers (`report::tokens`).
    crate::report::tokens::hbm_working_set_bytes(weights, kv, 1.0, 0.1) / (1u64 << 30) as f64
}

/// The unit a replica needing `gib` of GPU memory takes on model `gm` (`gpn` GPUs per node):
/// a power of two of whole GPUs when it needs more than one (`None` above a node), else the
/// smallest MIG slice that holds it (`mig`), the share its memory needs (`shared`) or one GPU.
fn model_unit(
    gib: f64,
    gm: &crate::catalog::GpuModel,
    gpn: u32,
    eligible: &Eligible,
) -> Option<Unit> {
    let gpus = (gib / gm.memory_gib).ceil().max(1.0) as u32;
    let whole = gpus.next_power_of_two();
    Some(if gpus > 1 {
        if whole > gpn {
            return None;
        }
        Unit::Gpus(whole)
    } else if eligible.mig_ok {
        smallest_mig_holding(gib, gm).unwrap_or(Unit::Gpus(1))
    } else if eligible.shared_ok {
        // The share the memory needs, exactly: thousandths of compute in proportion to
        // memory (the smallest unit above it), memory in MiB.
        let milli = (gib / gm.memory_gib * 1000.0).ceil().max(1.0) as u32;
        if milli >= MILLI_PER_GPU {
            Unit::Gpus(1)
        } else {
            Unit::Share {
                milli: milli as u16,
                mem_mib: (gib * 1024.0).ceil() as u32,
            }
        }
    } else {
        Unit::Gpus(1)
    })
}

/// The MIG profile of `gm` with the least memory (then compute) that holds `gib`.
fn smallest_mig_holding(gib: f64, gm: &crate::catalog::GpuModel) -> Option<Unit> {
    let table = gm.mig.as_ref()?;
    let mut best: Option<(f64, u8, usize)> = None;
    for (i, p) in table.profiles.iter().enumerate() {
        let mem = p
            .memory_gib
            .unwrap_or(gm.memory_gib * p.memory_slices as f64 / table.memory_slices as f64);
        if mem + 1e-9 >= gib
            && best
                .map(|(bm, bc, _)| (mem, p.compute_slices) < (bm, bc))
                .unwrap_or(true)
        {
            best = Some((mem, p.compute_slices, i));
        }
    }
    best.map(|(_, _, i)| Unit::Mig(ProfileIdx(i as u8)))
}

/// An agent workload: GPU-seconds per task from its per-task limits (FP840 out of range,
/// FP803 when a limit is missing), and the replicas that rate needs in the smallest unit
/// its isolation allows (eighths of a GPU, the smallest MIG slice, or whole GPUs).
fn agent_sizing(
    w: &RawWorkload,
    replicas: u32,
    eligible: &Eligible,
    catalog: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> Option<Sizing> {
    let (gpus, per_task) = agent_gpus(w, diags)?;
    let mut sizing = Sizing::new(replicas);
    sizing.gpu_seconds_per_task = Some(per_task);
    for (m, _) in &eligible.models {
        let Some(gm) = catalog.gpu(m) else { continue };
        let (unit, reps) = agent_unit(gpus, gm, eligible);
        // The first model's count: the replicas are sized once, whatever model they land on.
        if sizing.units.is_empty() {
            sizing.replicas = reps;
        }
        sizing.units.insert(m.clone(), unit);
    }
    Some(sizing)
}

/// GPUs an agent workload keeps busy on average and its GPU-seconds per task.
fn agent_gpus(w: &RawWorkload, diags: &mut Vec<Diagnostic>) -> Option<(f64, f64)> {
    let before = diags.len();
    let pos = Least::Above(0.0);
    let tasks = opt_number(diags, &w.tasks_per_hour, "tasks_per_hour", pos);
    let tokens = opt_number(diags, &w.max_tokens, "max_tokens", pos);
    let steps = opt_number(diags, &w.max_steps, "max_steps", pos);
    let tps = opt_number(
        diags,
        &w.tokens_per_gpu_second,
        "tokens_per_gpu_second",
        pos,
    )
    .unwrap_or(1000.0);
    let calls = opt_number(
        diags,
        &w.max_tool_calls,
        "max_tool_calls",
        Least::AtLeast(0.0),
    );
    let per_call = opt_number(
        diags,
        &w.gpu_seconds_per_tool_call,
        "gpu_seconds_per_tool_call",
        Least::AtLeast(0.0),
    );
    if diags.len() > before {
        return None;
    }
    let (Some(tasks), Some(tokens), Some(steps)) = (tasks, tokens, steps) else {
        diags.push(err_at(
            "FP803",
            format!(
                "agent workload `{}` needs `tasks_per_hour`, `max_tokens` and `max_steps`",
                w.name.value
            ),
            &w.name,
            "this workload has no per-task limits",
            "state the per-task limits so fabplan can bound GPU-seconds",
        ));
        return None;
    };
    let per_task = steps * tokens / tps + calls.unwrap_or(0.0) * per_call.unwrap_or(0.0);
    Some((tasks * per_task / 3600.0, per_task))
}

/// The unit of one agent replica on `gm` and how many replicas keep `gpus` busy.
fn agent_unit(gpus: f64, gm: &crate::catalog::GpuModel, eligible: &Eligible) -> (Unit, u32) {
    if eligible.shared_ok {
        // Eighths of a GPU per agent replica (the unit agents are sized in).
        (
            Unit::Share {
                milli: 125,
                mem_mib: 0,
            },
            (gpus * 8.0).ceil().max(1.0) as u32,
        )
    } else if let (true, Some(table)) = (eligible.mig_ok, gm.mig.as_ref()) {
        let i = (0..table.profiles.len())
            .min_by_key(|&i| {
                (
                    table.profiles[i].compute_slices,
                    table.profiles[i].memory_slices,
                    i,
                )
            })
            .unwrap_or(0);
        let share = table.profiles[i].compute_slices as f64 / table.compute_slices as f64;
        (
            Unit::Mig(ProfileIdx(i as u8)),
            (gpus / share).ceil().max(1.0) as u32,
        )
    } else {
        (Unit::Gpus(1), gpus.ceil().max(1.0) as u32)
    }
}

/// FP803 for a workload no GPU model on the fabric can take: `gpu_models` names only models
/// the fabric lacks, or the size rules out every model under the tenant's isolation.
fn fits_nowhere(
    w: &RawWorkload,
    t: &Tenant,
    t_spans: &TenantSpans,
    eligible: &Eligible,
    fabric_models: &BTreeMap<String, u32>,
) -> Diagnostic {
    let name = w.name.value.as_str();
    if let (Some(first), true) = (w.gpu_models.first(), eligible.models.is_empty()) {
        let listed = name_list(w.gpu_models.iter().map(|m| m.value.as_str()));
        return err_at(
            "FP803",
            format!("workload `{name}` may only run on {listed}, which the fabric does not have"),
            first,
            "not on the fabric",
            format!(
                "list a GPU model the fabric has ({}), or drop `gpu_models`",
                name_list(fabric_models.keys().map(String::as_str))
            ),
        );
    }
    let msg = format!(
        "workload `{name}` fits no GPU model on the fabric under tenant `{}`'s `{}` isolation",
        t.name,
        t.isolation.as_str()
    );
    let help = "check `gpu_models`, the size and the tenant's isolation (MIG sizes need `mig`, fractions need `shared`)";
    // Point at the size, which rules every model out, else at the workload itself.
    let d = match &w.size {
        Some(size) => Diagnostic::error("FP803", msg)
            .at_opt(size_value_span(size), "no GPU fits this size")
            .help(help),
        None => err_at("FP803", msg, &w.name, "this workload fits nowhere", help),
    };
    d.also_at_opt(
        t_spans.isolation,
        format!("tenant `{}`'s isolation", t.name),
    )
}

/// The model spec as the planner keeps it (the dtype as bytes per parameter).
fn model_spec(w: &RawWorkload) -> Option<ModelSpec> {
    w.model.as_ref().map(|m| ModelSpec {
        parameters_b: m.parameters_b.value,
        layers: m.layers,
        kv_heads: m.kv_heads,
        head_dim: m.head_dim,
        // Checked by `check_inference_size` (FP802).
        bytes_per_param: dtype_bytes(&m.dtype.value).unwrap_or(2.0),
        context_tokens: m.context_tokens,
        concurrent_sequences: m.concurrent_sequences,
    })
}

/// A `size` has exactly one of `gpus` (> 0), `mig`, `fraction` (0 < f <= 1, thousandths)
/// or `gpu_milli` (1..=1000), and `gpu_memory_gib` (finite, > 0) only beside a share. On
/// error, the message and where to point: the out-of-range value, else the `size` mapping.
fn size_shape(size: &Spanned<RawSize>) -> Result<(), (&'static str, Option<Span>)> {
    let s = &size.value;
    if let Some(m) = &s.gpu_memory_gib {
        if s.fraction.is_none() && s.gpu_milli.is_none() {
            return Err((
                "`size.gpu_memory_gib` goes with a share (`fraction` or `gpu_milli`)",
                known_span_of(m),
            ));
        }
        if !(m.value.is_finite() && m.value > 0.0) {
            return Err((
                "`size.gpu_memory_gib` must be a positive number",
                known_span_of(m),
            ));
        }
    }
    match (&s.gpus, &s.mig, &s.fraction, &s.gpu_milli) {
        (Some(k), None, None, None) if k.value > 0 => Ok(()),
        (None, Some(_), None, None) => Ok(()),
        (None, None, Some(f), None) if milli_of_fraction(f.value).is_some() => Ok(()),
        (None, None, None, Some(m)) if (1..=1000).contains(&m.value) => Ok(()),
        (Some(k), None, None, None) => Err(("`size.gpus` must be at least 1", known_span_of(k))),
        (None, None, Some(f), None) => Err((
            "`size.fraction` must be in (0, 1] with at most three decimals (thousandths of a GPU)",
            known_span_of(f),
        )),
        (None, None, None, Some(m)) => Err((
            "`size.gpu_milli` must be 1 to 1000 (thousandths of a GPU)",
            known_span_of(m),
        )),
        _ => Err((
            "`size` needs exactly one of `gpus` (> 0), `mig`, `fraction` (0 < f <= 1) or `gpu_milli` (1..=1000)",
            known_span_of(size),
        )),
    }
}

/// Where a size's one value is written (`gpus`, `mig` or `fraction`), else the mapping.
fn size_value_span(size: &Spanned<RawSize>) -> Option<Span> {
    let s = &size.value;
    s.gpus
        .as_ref()
        .and_then(known_span_of)
        .or_else(|| s.mig.as_ref().and_then(known_span_of))
        .or_else(|| s.fraction.as_ref().and_then(known_span_of))
        .or_else(|| s.gpu_milli.as_ref().and_then(known_span_of))
        .or_else(|| known_span_of(size))
}

/// FP803 when no eligible GPU model offers MIG profile `p` (a typo, or a profile of
/// another GPU generation), with the profiles the eligible models do offer.
fn unknown_profile(
    name: &str,
    p: &Spanned<String>,
    models: &[(String, u32)],
    catalog: &Catalog,
) -> Option<Diagnostic> {
    if models.is_empty() {
        // `gpu_models` leaves no model of the fabric: reported as such later.
        return None;
    }
    let tables: Vec<(&str, &crate::mig::MigTable)> = models
        .iter()
        .filter_map(|(m, _)| catalog.gpu(m))
        .filter_map(|gm| gm.mig.as_ref().map(|t| (gm.key.as_str(), t)))
        .collect();
    if tables
        .iter()
        .any(|(_, t)| t.profile_index(&p.value).is_some())
    {
        return None;
    }
    let help = match tables.first() {
        Some((key, t)) => format!(
            "`{key}` offers {}; `fabplan mig profiles --gpu {key}` lists them",
            name_list(t.profiles.iter().map(|x| x.name.as_str()))
        ),
        None => "no GPU model this workload may use on the fabric supports MIG; size it in `gpus` or `fraction`".to_string(),
    };
    Some(err_at(
        "FP803",
        format!(
            "workload `{name}` asks for MIG profile `{}`, which no GPU model on the fabric offers",
            p.value
        ),
        p,
        "not a MIG profile of these GPUs",
        help,
    ))
}

/// What one replica of `size` takes on a GPU of model `gm` with `gpn` GPUs per node; `None`
/// when this model cannot host it (too few GPUs, no such MIG profile, a share needing more
/// memory than the GPU has). The shape was checked by `size_shape`.
fn size_unit(size: &RawSize, gm: &crate::catalog::GpuModel, gpn: u32) -> Option<Unit> {
    let milli = match (&size.gpus, &size.mig, &size.fraction, &size.gpu_milli) {
        (Some(k), None, None, None) => return (k.value <= gpn).then_some(Unit::Gpus(k.value)),
        (None, Some(p), None, None) => {
            return gm
                .mig
                .as_ref()
                .and_then(|t| t.profile_index(&p.value))
                .map(Unit::Mig)
        }
        (None, None, Some(f), None) => milli_of_fraction(f.value)?,
        (None, None, None, Some(m)) => m.value,
        _ => return None,
    };
    let mem_mib = size
        .gpu_memory_gib
        .as_ref()
        .map(|m| (m.value * 1024.0).ceil().min(u32::MAX as f64) as u32)
        .unwrap_or(0);
    // A GPU whose memory the catalog gives (0: not given) must hold the share's memory.
    if mem_mib > 0 && gm.memory_gib > 0.0 && mem_mib as f64 > gm.memory_gib * 1024.0 + 1e-6 {
        return None;
    }
    Some(if milli >= MILLI_PER_GPU {
        Unit::Gpus(1)
    } else {
        Unit::Share {
            milli: milli as u16,
            mem_mib,
        }
    })
}

/// A demand file read and parsed (not yet validated: that needs the fabric).
pub struct DemandFile {
    pub file: SourceFile,
    pub raw: Option<RawDemand>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn read_demand(path: &Path) -> DemandFile {
    match source::read_source(path) {
        Ok(file) => match source::parse_yaml_as::<RawDemand>(&file, source::DEMAND_DOC) {
            Ok(raw) => DemandFile {
                file,
                raw: Some(raw),
                diagnostics: Vec::new(),
            },
            Err(d) => DemandFile {
                file,
                raw: None,
                diagnostics: vec![d],
            },
        },
        Err((file, d)) => DemandFile {
            file,
            raw: None,
            diagnostics: vec![d],
        },
    }
}

/// The fabric path: `--fabric` wins, else the demand's `fabric:` relative to the demand file.
pub fn fabric_path(demand_path: &Path, raw: &RawDemand, flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(f) = flag {
        return Some(f.to_path_buf());
    }
    let rel = raw.fabric.as_ref()?;
    Some(demand_path.parent().unwrap_or(Path::new(".")).join(rel))
}

pub fn validate_demand(raw: RawDemand, fabric: &Fabric) -> (Option<Demand>, Vec<Diagnostic>) {
    build_demand(raw, fabric, &fabric_catalog(fabric))
}

/// The built-in catalog plus the fabric's own GPU models (which win).
pub fn fabric_catalog(fabric: &Fabric) -> Catalog {
    Catalog::builtin().with_models(fabric.gpu_models.clone())
}

/// Parses and validates demand text against `fabric` (tests, generated demand).
pub fn demand_from_str(name: &str, text: &str, fabric: &Fabric) -> Result<Demand, Vec<Diagnostic>> {
    let file = SourceFile::new(name, text);
    let raw: RawDemand = source::parse_yaml_as(&file, source::DEMAND_DOC).map_err(|d| vec![d])?;
    match validate_demand(raw, fabric) {
        (Some(d), _) => Ok(d),
        (None, diags) => Err(diags),
    }
}
