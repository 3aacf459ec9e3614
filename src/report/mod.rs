//! Capacity and cost reports: inventory, power against rack budgets, the largest gang that
//! fits at each topology level, owned-cluster cost against a cloud price, token economics,
//! and what-if (a failure, demand growth).
//!
//! `build` computes a [`Report`] from a validated fabric and [`ReportOptions`]; renderers in
//! `render` and `html` turn it into human text, Markdown, CSV (FinOps FOCUS) and one HTML
//! page. Every figure a renderer prints is a field of `Report`, so the JSON, the tables and
//! the HTML cannot disagree. No IO here.

pub mod groups;
pub mod host;
pub mod html;
pub mod pricing;
pub mod render;
pub mod stranded;
pub mod tokens;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::fabric::levels::{levels, Levels};
use crate::fabric::power::{rack_load_kw, unracked_switch_kw};
use crate::fabric::topology::Topology;
use crate::mig::{check_layout, maximal_multisets, Placement, Rules};
use crate::model::demand::{Level, Unit};
use crate::model::*;
use pricing::Pricing;

/// A gang's required level as the capacity level that holds it (`nvlink-domain`, ...).
pub fn level_name(l: Level) -> &'static str {
    match l {
        Level::Nvlink => "nvlink-domain",
        Level::Leaf => "leaf-group",
        Level::Su => "scalable-unit",
        Level::Fabric => "fabric",
    }
}

/// What the user asked for beyond the fabric.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    pub pricing: Pricing,
    /// Share of GPUs in use (0..=1), when known: cost at this utilization and the base of
    /// growth. `None`: costs are shown at 100 % and at the break-even point.
    pub utilization: Option<f64>,
    /// Demand growth per month (0.10 = 10 %/month).
    pub growth_per_month: Option<f64>,
    pub failure: Option<Failure>,
    pub token_model: &'static tokens::ModelSpec,
    /// Bytes per weight (FP8 1, FP16 2).
    pub weight_bytes_per_param: f64,
    /// Bytes per KV element (FP16 2, FP8 1).
    pub kv_bytes_per_element: u32,
    pub context_tokens: u64,
    /// Concurrent sequences per replica the service wants.
    pub concurrency: u32,
    /// Context tiers below HBM, fastest first (`tokens::context_tiers_with`).
    pub context_tiers: Vec<tokens::ContextTier>,
    /// What a plan uses (`--plan`).
    pub usage: Option<usage::Usage>,
    /// The validated demand (`--demand`): its workloads' model specs (token economics),
    /// units and tenants' isolation (what pending demand could use: stranded capacity) and
    /// the gangs each level must hold (growth).
    pub demand: Option<crate::model::demand::Demand>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            pricing: Pricing::default(),
            utilization: None,
            growth_per_month: None,
            failure: None,
            token_model: tokens::model("llama-3.1-70b").expect("built-in"),
            weight_bytes_per_param: 1.0,
            kv_bytes_per_element: 2,
            context_tokens: 8192,
            concurrency: 32,
            context_tiers: tokens::default_context_tiers(),
            usage: None,
            demand: None,
        }
    }
}

/// A what-if failure: `switch:NAME`, `rack:NAME` or `plane:N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Switch(String),
    Rack(String),
    Plane(u32),
}

impl Failure {
    /// Parses `switch:NAME | rack:NAME | plane:N`.
    pub fn parse(s: &str) -> Result<Failure, String> {
        let (kind, name) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not KIND:NAME"))?;
        match kind {
            "switch" if !name.is_empty() => Ok(Failure::Switch(name.to_string())),
            "rack" if !name.is_empty() => Ok(Failure::Rack(name.to_string())),
            "plane" => name
                .parse()
                .map(Failure::Plane)
                .map_err(|_| format!("plane `{name}` is not a number")),
            _ => Err(format!("`{s}`: expected switch:NAME, rack:NAME or plane:N")),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Failure::Switch(n) => format!("switch:{n}"),
            Failure::Rack(n) => format!("rack:{n}"),
            Failure::Plane(p) => format!("plane:{p}"),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub fabric: String,
    pub transport: Transport,
    pub inventory: Inventory,
    pub power: Power,
    /// Racks by scalable unit, else leaf group (`groups.rs`): what the renderings print.
    pub groups: Vec<groups::RackGroup>,
    pub capacity: Capacity,
    pub cost: Cost,
    /// Cost by tenant and workload; needs a plan.
    pub attribution: Option<Attribution>,
    /// Host CPU and memory per node and tenant; needs a plan that takes some (`host.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<host::HostUse>,
    pub tokens: Tokens,
    pub what_if: WhatIf,
    pub assumptions: Assumptions,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Inventory {
    pub gpus: u32,
    pub nodes: usize,
    pub management_nodes: usize,
    pub racks: usize,
    pub scalable_units: usize,
    pub models: Vec<ModelInventory>,
    pub nvlink_domains: Vec<DomainCount>,
    pub switches: BTreeMap<String, usize>,
    pub links: usize,
    pub link_gbps_total: u64,
    /// Free MIG instances by profile: every free GPU cut into that profile alone (the most
    /// instances any valid layout holds, from the MIG engine), plus the configured instances
    /// no workload holds on the plan's MIG GPUs.
    pub mig_free: Vec<MigFree>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelInventory {
    pub model: String,
    pub gpus: u32,
    pub nodes: usize,
    pub memory_gib: f64,
    pub hbm_tbps: f64,
    pub tdp_w: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DomainCount {
    pub kind: String,
    pub gpus_each: u32,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MigFree {
    pub model: String,
    pub profile: String,
    /// Most instances of this profile in one valid layout of an empty GPU.
    pub per_gpu: u32,
    /// `per_gpu` x free GPUs of the model.
    pub on_free_gpus: u32,
    /// Instances of this profile configured in a plan's MIG layout that no workload holds.
    pub on_partly_used_gpus: u32,
    /// `on_free_gpus + on_partly_used_gpus`.
    pub instances: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Power {
    pub pue: f64,
    pub power_derate: f64,
    pub it_kw: f64,
    pub facility_kw: f64,
    pub unracked_switches_kw: f64,
    pub racks: Vec<RackPower>,
    pub racks_at_risk: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RackPower {
    pub rack: String,
    pub budget_kw: f64,
    /// Budget x site power_derate: what may be planned.
    pub usable_kw: f64,
    pub it_kw: f64,
    pub facility_kw: f64,
    pub headroom_kw: f64,
    pub load_pct: f64,
    /// IT load above the usable budget.
    pub at_risk: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Capacity {
    /// One row per (level, GPU model).
    pub levels: Vec<LevelCapacity>,
    /// Idle GPU-equivalents on GPUs a plan uses in part (free MIG slices, unshared time):
    /// only MIG or shared requests can use them. Needs a plan.
    pub idle_on_partly_used_gpu_equivalents: Option<f64>,
    /// Free capacity no pending workload can use (`stranded`). Needs a plan that rejected
    /// some workload and the demand file.
    pub stranded: Option<stranded::Stranded>,
    /// Workloads the plan did not admit: the pending demand.
    pub pending_workloads: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LevelCapacity {
    /// `nvlink-domain`, `leaf-group`, `spine-group`, `core-group`, `scalable-unit`, `fabric`.
    pub level: String,
    pub model: String,
    pub domains: usize,
    pub gpus: u32,
    pub free_gpus: u32,
    /// The largest gang of this model that fits inside one domain of the level.
    pub largest_gang_gpus: u32,
    pub largest_domain: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cost {
    pub models: Vec<ModelCost>,
    pub owned_usd_per_hour: f64,
    pub energy_usd_per_year: f64,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelCost {
    pub model: String,
    pub gpus: u32,
    pub capex_usd_per_gpu: Option<f64>,
    pub capex_source: String,
    /// GPU capex / (1 - network share).
    pub capex_usd: Option<f64>,
    /// The model's nodes plus its GPU share of switch power.
    pub it_kw: f64,
    pub facility_kw: f64,
    pub energy_usd_per_hour: f64,
    pub depreciation_usd_per_hour: Option<f64>,
    pub owned_usd_per_hour: Option<f64>,
    pub owned_usd_per_gpu_hour_at_full_use: Option<f64>,
    pub owned_usd_per_gpu_hour_at_utilization: Option<f64>,
    pub cloud_usd_per_gpu_hour: Option<f64>,
    pub cloud_source: String,
    /// The chargeback basis (`crate::model::cost`): list price per GPU-hour, from the demand's
    /// pricing with `--demand` (the basis the plan's budgets used), else the cloud price.
    pub list_usd_per_gpu_hour: Option<f64>,
    /// List price plus energy (node kW / GPUs x PUE x $/kWh, the demand's PUE and $/kWh with
    /// `--demand`, else `--pue` and `--usd-per-kwh`): what a tenant is charged per GPU-hour.
    pub chargeback_usd_per_gpu_hour: Option<f64>,
    /// Unrounded chargeback rate, so attribution rows add up.
    #[serde(skip)]
    pub chargeback_rate: Option<f64>,
    /// Utilization above which owning is cheaper than renting.
    pub break_even_utilization: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attribution {
    pub policy: String,
    pub rows: Vec<AttributionRow>,
    /// Owned cost per tenant (the rows' `usd_per_hour`).
    pub by_tenant_usd_per_hour: BTreeMap<String, f64>,
    /// Chargeback per tenant (the rows' `chargeback_usd_per_hour`): with the plan's demand,
    /// equal to the plan's `cost_per_hour` of the tenant.
    pub by_tenant_chargeback_usd_per_hour: BTreeMap<String, f64>,
    pub idle_gpu_equivalents: f64,
    pub idle_usd_per_hour: f64,
    /// Sum of the rows: equals the owned cost per hour of the priced models.
    pub total_usd_per_hour: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttributionRow {
    pub tenant: String,
    pub workload: String,
    pub kind: String,
    pub gpu_model: String,
    pub gpu_equivalents: f64,
    /// Owned cost (`crate::model::cost`).
    pub usd_per_hour: f64,
    /// Chargeback: GPU-equivalents x the model's chargeback rate.
    pub chargeback_usd_per_hour: Option<f64>,
}

/// The tenant that idle and stranded capacity is charged to.
pub const UNALLOCATED: &str = "unallocated";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tokens {
    pub model: String,
    pub model_source: String,
    pub kv_bytes_per_token: u64,
    pub context_tokens: u64,
    pub kv_bytes_per_sequence: u64,
    pub weight_gb: f64,
    pub concurrency: u32,
    pub rows: Vec<TokenRow>,
    /// Inference workloads of the demand file, each on its first eligible GPU model.
    pub workloads: Vec<TokenRow>,
    /// Where each row's wanted KV lives (the reference rows, then the workloads).
    pub context: Vec<ContextPlan>,
    pub notes: Vec<String>,
}

/// The context-tier table of one token row: the wanted sequences' KV placed on HBM, host
/// DRAM, pooled context storage and NVMe (fastest first), and what that does to decode
/// tokens/s and $/Mtok against fitting the batch to HBM (docs/report.md).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ContextPlan {
    pub workload: Option<String>,
    pub gpu_model: String,
    pub gpus_per_replica: u32,
    pub wanted_sequences: u32,
    /// KV of the wanted sequences per replica, GB.
    pub kv_wanted_gb: f64,
    pub tiers: Vec<ContextTierRow>,
    /// KV no tier holds, GB.
    pub unplaced_gb: f64,
    /// The slowest tier holding part of the KV.
    pub deepest_tier: Option<String>,
    /// Decode at the batch that fits HBM (the token row), and at the wanted batch with the
    /// spilled KV read at its tier's bandwidth each step.
    pub decode_tokens_per_s_fit_hbm: f64,
    pub decode_tokens_per_s_spilled: f64,
    /// Owned $/Mtok of each, the spilled one with its tiers' storage price.
    pub usd_per_million_tokens_fit_hbm: Option<f64>,
    pub usd_per_million_tokens_spilled: Option<f64>,
    /// `all in HBM` (nothing spills), else `fit batch to HBM` or `spill to tiers`: the one
    /// with more tokens/s.
    pub better: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ContextTierRow {
    pub tier: String,
    pub capacity_gb_per_replica: f64,
    pub read_gb_per_s_per_gpu: f64,
    pub usd_per_gb_month: f64,
    pub holds_gb: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenRow {
    /// The demand workload (`null` for the reference model rows).
    pub workload: Option<String>,
    pub gpu_model: String,
    /// Smallest power of two of GPUs (within an NVLink domain) whose HBM holds the weights and
    /// the wanted concurrency's KV cache; the domain's largest power of two when none does.
    pub gpus_per_replica: Option<u32>,
    pub replicas: u32,
    /// HBM left for KV per replica after weights (90 % of HBM usable).
    pub kv_capacity_gb: f64,
    pub sequences_per_replica: u32,
    pub decode_tokens_per_s_batch1: f64,
    /// At min(concurrency, sequences that fit).
    pub decode_tokens_per_s: f64,
    pub usd_per_million_tokens: Option<f64>,
    /// KV of the wanted concurrency that does not fit in HBM, per replica: the context-tier
    /// demand (host DRAM, local SSD, shared context storage).
    pub kv_spill_gb_per_replica: f64,
    pub context_tier: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhatIf {
    pub failure: Option<FailureImpact>,
    pub growth: Option<Growth>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FailureImpact {
    pub target: String,
    /// Planned workloads on GPUs the failure lost, cut off or degraded (needs a plan).
    pub placements: Vec<AffectedPlacement>,
    pub switches_failed: Vec<String>,
    pub gpus_lost: u32,
    /// Every compute NIC port of the GPU is on a failed switch.
    pub gpus_disconnected: u32,
    /// Some NIC port or some uplink above its leaf is gone.
    pub gpus_degraded: u32,
    pub uplink_gbps_lost: u64,
    /// Capacity with lost and disconnected GPUs removed.
    pub capacity_after: Vec<LevelCapacity>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AffectedPlacement {
    pub workload: String,
    pub tenant: String,
    pub gpus_lost: u32,
    pub gpus_disconnected: u32,
    pub gpus_degraded: u32,
    /// Free GPUs of the same models (after the failure) can take the lost and disconnected ones.
    pub replaceable: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Growth {
    pub per_month: f64,
    pub used_gpus: f64,
    /// Per GPU model: months until demand exceeds the model's GPUs (`null`: never, no use).
    pub months_until_full: BTreeMap<String, Option<f64>>,
    /// Per capacity level and GPU model: months until the level can no longer hold the gang
    /// it must hold.
    pub levels: Vec<LevelGrowth>,
    pub notes: Vec<String>,
}

/// When one level runs out (docs/report.md, "Growth per level"). Growth takes free whole GPUs,
/// packed outside the domain holding the needed gang (what a topology-aware scheduler does),
/// so the level runs out when fewer free GPUs remain than the needed gang:
/// `months = ln(1 + (free - needed) / in use) / ln(1 + rate)`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LevelGrowth {
    pub level: String,
    pub model: String,
    /// The largest free gang inside one domain of the level today.
    pub largest_gang_gpus: u32,
    /// The demand's largest gang that requires this level (`--demand`), else today's largest
    /// free gang at the level.
    pub needed_gang_gpus: u32,
    /// The workload that needs that gang, or `largest free gang`.
    pub needed_by: String,
    /// GPU-equivalents of the model in use today: the base that grows.
    pub used_gpus: f64,
    /// Free GPUs growth can take: whole free GPUs with a plan, else GPUs x (1 - utilization).
    pub free_gpus: f64,
    /// `0`: the needed gang does not fit today; `null`: nothing in use, so nothing grows.
    pub months_until_out: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Assumptions {
    pub pricing_as_of: String,
    pub pue: f64,
    pub usd_per_kwh: f64,
    pub depreciation_years: f64,
    pub network_share_of_capex: f64,
    pub utilization: Option<f64>,
    pub hbm_usable_fraction: f64,
    pub sources: Vec<String>,
}

/// Fraction of HBM usable for weights and KV (the rest: runtime, activations, fragmentation).
pub const HBM_USABLE_FRACTION: f64 = 0.9;

// `+ 0.0` turns -0.0 (an empty f64 sum) into 0.0.
fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0 + 0.0
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

/// GPU model of each node ("" for GPU-less nodes).
fn node_model(f: &Fabric, n: NodeId) -> &str {
    &f.template_of(n).gpu_model
}

/// Builds the report.
pub fn build(f: &Fabric, o: &ReportOptions) -> Report {
    let lv = levels(f);
    let busy: Vec<bool> = match &o.usage {
        Some(u) => (0..f.gpus.len())
            .map(|g| u.busy(GpuId::from_index(g)))
            .collect(),
        None => vec![false; f.gpus.len()],
    };
    let inventory = inventory(f, &busy, o.usage.as_ref());
    let power = power(f, o);
    let groups = groups::build(f, &lv, &power, o.usage.as_ref());
    let mut cap_notes = Vec::new();
    if o.usage.is_none() {
        cap_notes.push("no plan given: every GPU counts as free".to_string());
        cap_notes.push(
            "stranded capacity and pending demand need a plan (--plan) and its demand (--demand)"
                .to_string(),
        );
    } else {
        cap_notes.push("a GPU the plan uses in any part is not free for a gang".to_string());
    }
    if f.sus.is_empty() {
        cap_notes.push("the fabric declares no scalable units".to_string());
    }
    let pending: Vec<&str> = o
        .usage
        .iter()
        .flat_map(|u| u.workloads.iter().filter(|w| !w.admitted))
        .map(|w| w.name.as_str())
        .collect();
    let stranded = match (&o.usage, &o.demand) {
        (None, _) => None,
        (Some(_), None) => {
            cap_notes.push(
                "stranded capacity needs the demand file (--demand): what the pending workloads ask for"
                    .to_string(),
            );
            None
        }
        (Some(_), Some(_)) if pending.is_empty() => {
            cap_notes.push(
                "the plan admitted every workload: no pending demand, so nothing is counted stranded"
                    .to_string(),
            );
            None
        }
        (Some(u), Some(d)) => {
            let known: std::collections::BTreeSet<&str> =
                d.workloads.iter().map(|w| w.name.as_str()).collect();
            for p in &pending {
                if !known.contains(&**p) {
                    cap_notes.push(format!(
                        "pending workload `{p}` is not in the demand file: left out of stranded"
                    ));
                }
            }
            cap_notes.push(
                "stranded: free whole GPUs, idle MIG slices and idle time-sliced shares that no \
pending workload can use (its unit, gang level and tenant isolation; docs/report.md)"
                    .to_string(),
            );
            Some(stranded::stranded(f, &lv, u, d, &pending))
        }
    };
    let capacity = Capacity {
        levels: capacity_levels(f, &lv, &busy, &busy),
        stranded,
        idle_on_partly_used_gpu_equivalents: o.usage.as_ref().map(|u| {
            r3(u.used
                .iter()
                .filter(|x| **x > 1e-9)
                .map(|x| (1.0 - x).max(0.0))
                .sum())
        }),
        pending_workloads: o
            .usage
            .as_ref()
            .map(|u| {
                u.workloads
                    .iter()
                    .filter(|w| !w.admitted)
                    .map(|w| w.name.clone())
                    .collect()
            })
            .unwrap_or_default(),
        notes: cap_notes,
    };
    let cost = cost(f, o, &inventory);
    let attribution = o.usage.as_ref().map(|u| attribution(f, u, &cost));
    let host = o
        .usage
        .as_ref()
        .and_then(|u| host::host_use(f, u, o.demand.as_ref()));
    let tokens = token_rows(f, o, &cost);
    let failure = o
        .failure
        .as_ref()
        .map(|fl| failure_impact(f, &lv, fl, o.usage.as_ref()));
    let growth = o
        .growth_per_month
        .map(|g| growth(f, o, g, &capacity.levels));
    Report {
        fabric: f.name.clone(),
        transport: f.transport,
        inventory,
        power,
        groups,
        capacity,
        cost,
        attribution,
        host,
        tokens,
        what_if: WhatIf { failure, growth },
        assumptions: Assumptions {
            pricing_as_of: pricing::PRICING_AS_OF.to_string(),
            pue: o.pricing.pue,
            usd_per_kwh: o.pricing.usd_per_kwh,
            depreciation_years: o.pricing.depreciation_years,
            network_share_of_capex: o.pricing.network_share,
            utilization: o.utilization,
            hbm_usable_fraction: HBM_USABLE_FRACTION,
            sources: pricing::SOURCES.iter().map(|s| s.to_string()).collect(),
        },
    }
}

/// Every GPU-hour is charged: a workload pays its GPU-equivalents at its model's owned cost
/// per GPU-hour; what no workload uses (idle and stranded) goes to `unallocated`, the
/// platform owner, rather than being spread over tenants, so the cost of unused capacity
/// stays visible. The rows sum to the owned cost of the priced models.
fn attribution(f: &Fabric, u: &usage::Usage, cost: &Cost) -> Attribution {
    // Unrounded per-GPU rate, so the rows sum back to the owned cost.
    let rate: BTreeMap<&str, f64> = cost
        .models
        .iter()
        .filter_map(|m| {
            m.owned_usd_per_hour
                .map(|o| (m.model.as_str(), o / m.gpus.max(1) as f64))
        })
        .collect();
    let charge: BTreeMap<&str, f64> = cost
        .models
        .iter()
        .filter_map(|m| m.chargeback_rate.map(|c| (m.model.as_str(), c)))
        .collect();
    let charge_of = |model: &str, eq: f64| charge.get(model).map(|c| c * eq);
    let mut by_tenant_charge: BTreeMap<String, f64> = BTreeMap::new();
    let mut rows = Vec::new();
    let mut used_by_model: BTreeMap<String, f64> = BTreeMap::new();
    for w in u.workloads.iter().filter(|w| w.admitted) {
        for (model, eq) in &w.gpu_equivalents {
            *used_by_model.entry(model.clone()).or_default() += eq;
            let chargeback = charge_of(model, *eq);
            *by_tenant_charge.entry(w.tenant.clone()).or_default() += chargeback.unwrap_or(0.0);
            rows.push(AttributionRow {
                tenant: w.tenant.clone(),
                workload: w.name.clone(),
                kind: w.kind.clone(),
                gpu_model: model.clone(),
                gpu_equivalents: r3(*eq),
                usd_per_hour: r3(eq * rate.get(model.as_str()).copied().unwrap_or(0.0)),
                chargeback_usd_per_hour: chargeback.map(r3),
            });
        }
    }
    let mut idle_eq = 0.0;
    let mut idle_usd = 0.0;
    for m in &cost.models {
        let idle = (m.gpus as f64 - used_by_model.get(&m.model).copied().unwrap_or(0.0)).max(0.0);
        idle_eq += idle;
        let usd = idle * rate.get(m.model.as_str()).copied().unwrap_or(0.0);
        idle_usd += usd;
        let chargeback = charge_of(&m.model, idle);
        *by_tenant_charge.entry(UNALLOCATED.into()).or_default() += chargeback.unwrap_or(0.0);
        rows.push(AttributionRow {
            tenant: UNALLOCATED.into(),
            workload: "idle".into(),
            kind: "-".into(),
            gpu_model: m.model.clone(),
            gpu_equivalents: r3(idle),
            usd_per_hour: r3(usd),
            chargeback_usd_per_hour: chargeback.map(r3),
        });
    }
    let _ = f;
    let mut by_tenant: BTreeMap<String, f64> = BTreeMap::new();
    for r in &rows {
        *by_tenant.entry(r.tenant.clone()).or_default() += r.usd_per_hour;
    }
    // From unrounded figures: the rows' own rounding must not shift the total.
    let total = cost
        .models
        .iter()
        .filter_map(|m| m.owned_usd_per_hour)
        .sum::<f64>();
    Attribution {
        policy: "workloads pay GPU-equivalents (whole GPU 1, MIG compute slices / GPU slices, \
shares their fraction) x the model's owned $/GPU-h; idle and stranded capacity is charged to \
`unallocated` (the platform owner)"
            .into(),
        rows,
        by_tenant_usd_per_hour: by_tenant.into_iter().map(|(k, v)| (k, r3(v))).collect(),
        by_tenant_chargeback_usd_per_hour: by_tenant_charge
            .into_iter()
            .map(|(k, v)| (k, r3(v)))
            .collect(),
        idle_gpu_equivalents: r3(idle_eq),
        idle_usd_per_hour: r3(idle_usd),
        total_usd_per_hour: r3(total),
    }
}

/// Configured MIG instances that no workload holds, per (GPU model, profile): the plan's
/// layouts (`profile@start`) minus its assignments. A layout the MIG engine rejects (R1-R3)
/// contributes nothing.
fn unassigned_mig_instances(f: &Fabric, u: &usage::Usage) -> BTreeMap<(String, String), u32> {
    let mut out = BTreeMap::new();
    for (g, layout) in &u.mig_layouts {
        let model = node_model(f, f.gpus[g.index()].node);
        let Some(table) = f.gpu_model(model).and_then(|m| m.mig.as_ref()) else {
            continue;
        };
        let placements: Option<Vec<Placement>> = layout
            .iter()
            .map(|(p, start)| {
                table.profile_index(p).map(|profile| Placement {
                    profile,
                    start: *start,
                })
            })
            .collect();
        let valid = placements.is_some_and(|p| check_layout(table, Rules::default(), &p).is_ok());
        if !valid {
            continue;
        }
        let held = &u.assigned_instances[g.index()];
        for slot in layout.iter().filter(|s| !held.contains(s)) {
            *out.entry((model.to_string(), slot.0.clone())).or_default() += 1;
        }
    }
    out
}

fn inventory(f: &Fabric, busy: &[bool], u: Option<&usage::Usage>) -> Inventory {
    let mut models: BTreeMap<String, ModelInventory> = BTreeMap::new();
    for (i, _) in f.nodes.iter().enumerate() {
        let id = NodeId::from_index(i);
        let t = f.template_of(id);
        if t.gpus == 0 {
            continue;
        }
        let spec = f.gpu_model(&t.gpu_model);
        let e = models
            .entry(t.gpu_model.clone())
            .or_insert_with(|| ModelInventory {
                model: t.gpu_model.clone(),
                gpus: 0,
                nodes: 0,
                memory_gib: spec.map(|m| m.memory_gib).unwrap_or(0.0),
                hbm_tbps: spec.map(|m| m.hbm_tbps).unwrap_or(0.0),
                tdp_w: spec.map(|m| m.tdp_w).unwrap_or(0),
            });
        e.gpus += t.gpus;
        e.nodes += 1;
    }
    let mut domains: BTreeMap<(String, u32), usize> = BTreeMap::new();
    for d in &f.nvlink_domains {
        let kind = match d.kind {
            DomainKind::Hgx8 => "hgx8",
            DomainKind::Nvl72 => "nvl72",
        };
        *domains.entry((kind.to_string(), d.gpus)).or_default() += 1;
    }
    let mut switches = BTreeMap::new();
    for t in Tier::ALL {
        let n = f.switches.iter().filter(|s| s.tier == t).count();
        if n > 0 {
            switches.insert(t.as_str().to_string(), n);
        }
    }
    let mut mig_free = Vec::new();
    let unassigned = u
        .map(|u| unassigned_mig_instances(f, u))
        .unwrap_or_default();
    for m in models.values() {
        let Some(table) = f.gpu_model(&m.model).and_then(|g| g.mig.as_ref()) else {
            continue;
        };
        let maximal = maximal_multisets(table, Rules::default());
        let free_gpus = (0..f.gpus.len())
            .filter(|g| !busy[*g] && node_model(f, f.gpus[*g].node) == m.model)
            .count() as u32;
        for (pi, p) in table.profiles.iter().enumerate() {
            let per_gpu = maximal.iter().map(|ms| ms[pi]).max().unwrap_or(0);
            let on_partly_used_gpus = unassigned
                .get(&(m.model.clone(), p.name.clone()))
                .copied()
                .unwrap_or(0);
            mig_free.push(MigFree {
                model: m.model.clone(),
                profile: p.name.clone(),
                per_gpu,
                on_free_gpus: per_gpu * free_gpus,
                on_partly_used_gpus,
                instances: per_gpu * free_gpus + on_partly_used_gpus,
            });
        }
    }
    Inventory {
        gpus: f.gpus.len() as u32,
        nodes: (0..f.nodes.len())
            .filter(|i| f.is_compute_node(NodeId::from_index(*i)))
            .count(),
        management_nodes: (0..f.nodes.len())
            .filter(|i| !f.is_compute_node(NodeId::from_index(*i)))
            .count(),
        racks: f.racks.len(),
        scalable_units: f.sus.len(),
        models: models.into_values().collect(),
        nvlink_domains: domains
            .into_iter()
            .map(|((kind, gpus_each), count)| DomainCount {
                kind,
                gpus_each,
                count,
            })
            .collect(),
        switches,
        links: f.links.len(),
        link_gbps_total: f.links.iter().map(|l| l.gbps as u64).sum(),
        mig_free,
    }
}

fn power(f: &Fabric, o: &ReportOptions) -> Power {
    let pue = o.pricing.pue;
    let loads = rack_load_kw(f);
    let derate = f.site.power_derate;
    let racks: Vec<RackPower> = f
        .racks
        .iter()
        .zip(&loads)
        .map(|(r, &it)| {
            let usable = r.power_kw * derate;
            RackPower {
                rack: r.name.clone(),
                budget_kw: r3(r.power_kw),
                usable_kw: r3(usable),
                it_kw: r3(it),
                facility_kw: r3(it * pue),
                headroom_kw: r3(usable - it),
                load_pct: if usable > 0.0 {
                    r2(100.0 * it / usable)
                } else {
                    0.0
                },
                at_risk: it > usable + 1e-9,
            }
        })
        .collect();
    let unracked = unracked_switch_kw(f);
    let it: f64 = loads.iter().sum::<f64>() + unracked;
    Power {
        pue,
        power_derate: derate,
        it_kw: r3(it),
        facility_kw: r3(it * pue),
        unracked_switches_kw: r3(unracked),
        racks_at_risk: racks
            .iter()
            .filter(|r| r.at_risk)
            .map(|r| r.rack.clone())
            .collect(),
        racks,
    }
}

/// Largest gang per level and GPU model. `lost[g]`: the GPU is gone; `cut[g]`: it is off the
/// network (still usable inside its NVLink domain).
fn capacity_levels(f: &Fabric, lv: &Levels, lost: &[bool], cut: &[bool]) -> Vec<LevelCapacity> {
    let free_on = |nodes: &[NodeId], model: &str, network: bool| -> (u32, u32) {
        let mut total = 0;
        let mut free = 0;
        for n in nodes {
            if node_model(f, *n) != model {
                continue;
            }
            for g in f.node_gpus(*n) {
                total += 1;
                if !(lost[g.index()] || network && cut[g.index()]) {
                    free += 1;
                }
            }
        }
        (total, free)
    };
    let models: BTreeSet<String> = f
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| f.template_of(NodeId::from_index(*i)).gpus > 0)
        .map(|(i, _)| node_model(f, NodeId::from_index(i)).to_string())
        .collect();
    // (level name, counts network reachability, domains as (name, nodes))
    type Domains = Vec<(String, Vec<NodeId>)>;
    let mut levels_nodes: Vec<(String, bool, Domains)> = Vec::new();
    // NVLink domains; nodes without one are their own domain.
    let mut doms: Vec<(String, Vec<NodeId>)> = f
        .nvlink_domains
        .iter()
        .map(|d| (d.name.clone(), d.nodes.clone()))
        .collect();
    for (i, n) in f.nodes.iter().enumerate() {
        if n.nvlink_domain.is_none() && f.template_of(NodeId::from_index(i)).gpus > 0 {
            doms.push((n.name.clone(), vec![NodeId::from_index(i)]));
        }
    }
    levels_nodes.push(("nvlink-domain".into(), false, doms));
    for (level, name) in ["leaf-group", "spine-group", "core-group"]
        .iter()
        .enumerate()
    {
        if let Some(groups) = lv.tiers.get(level) {
            levels_nodes.push((
                name.to_string(),
                true,
                groups
                    .iter()
                    .enumerate()
                    .map(|(gi, g)| (g.name.clone(), lv.nodes_below(level, gi)))
                    .collect(),
            ));
        }
    }
    if !f.sus.is_empty() {
        let sus = f
            .sus
            .iter()
            .enumerate()
            .map(|(si, name)| {
                let nodes = (0..f.nodes.len())
                    .map(NodeId::from_index)
                    .filter(|n| f.nodes[n.index()].su == Some(SuId::from_index(si)))
                    .collect();
                (name.clone(), nodes)
            })
            .collect();
        levels_nodes.push(("scalable-unit".into(), true, sus));
    }
    // Fabric: the top tier's groups, each a connected domain (one in a proper Clos).
    let fabric_domains = match lv.tiers.len() {
        0 => Vec::new(),
        top => lv.tiers[top - 1]
            .iter()
            .enumerate()
            .map(|(gi, g)| (g.name.clone(), lv.nodes_below(top - 1, gi)))
            .collect(),
    };
    levels_nodes.push(("fabric".into(), true, fabric_domains));
    let mut out = Vec::new();
    for (level, network, domains) in &levels_nodes {
        for model in &models {
            let mut row = LevelCapacity {
                level: level.clone(),
                model: model.clone(),
                domains: 0,
                gpus: 0,
                free_gpus: 0,
                largest_gang_gpus: 0,
                largest_domain: None,
            };
            for (name, nodes) in domains {
                let (total, free) = free_on(nodes, model, *network);
                if total == 0 {
                    continue;
                }
                row.domains += 1;
                row.gpus += total;
                row.free_gpus += free;
                if free > row.largest_gang_gpus {
                    row.largest_gang_gpus = free;
                    row.largest_domain = Some(name.clone());
                }
            }
            out.push(row);
        }
    }
    out
}

/// The kW the nodes of each GPU model draw at maximum (their templates' `power_kw`), summed
/// in node order, and their GPUs: one pass over the nodes. Nodes without GPUs count under
/// their template's `gpu_model` (`""` when none), as the cost table reads them.
fn node_kw_by_model(f: &Fabric) -> BTreeMap<&str, (f64, u32)> {
    let mut by: BTreeMap<&str, (f64, u32)> = BTreeMap::new();
    for i in 0..f.nodes.len() {
        let t = f.template_of(NodeId::from_index(i));
        let e = by.entry(t.gpu_model.as_str()).or_insert((0.0, 0));
        e.0 += t.power_kw;
        e.1 += t.gpus;
    }
    by
}

/// Chargeback, USD per GPU-hour, on the demand's basis: its list price for `model` plus the
/// energy of one GPU (its nodes' kW / GPUs) at the demand's PUE and $/kWh (`model::cost`).
fn demand_chargeback_rate(d: &crate::model::demand::Demand, model: &str, gpu_kw: f64) -> f64 {
    crate::model::cost::chargeback_usd_per_hour(
        1.0,
        d.gpu_price(model),
        gpu_kw,
        d.pricing.pue,
        d.pricing.power_usd_per_kwh,
    )
}

/// The chargeback rate (USD per GPU-hour, list price + energy on the demand's prices) of each
/// GPU model the fabric has GPUs of: the `cost.models[].chargeback_rate` that [`build`] gives
/// with this demand, without the rest of the report. `fabplan admit` prices budgets with it.
pub fn chargeback_rates(f: &Fabric, d: &crate::model::demand::Demand) -> BTreeMap<String, f64> {
    node_kw_by_model(f)
        .into_iter()
        .filter(|(_, (_, gpus))| *gpus > 0)
        .map(|(model, (kw, gpus))| {
            (
                model.to_string(),
                demand_chargeback_rate(d, model, kw / gpus as f64),
            )
        })
        .collect()
}

fn cost(f: &Fabric, o: &ReportOptions, inv: &Inventory) -> Cost {
    let p = &o.pricing;
    let node_kw_of = node_kw_by_model(f);
    let switch_kw: f64 = (0..f.switches.len())
        .map(|i| f.switch_model(SwitchId::from_index(i)).power_w / 1000.0)
        .sum();
    let total_gpus: u32 = inv.models.iter().map(|m| m.gpus).sum();
    let mut models = Vec::new();
    let mut notes = vec![
        "owned cost = capex / (1 - network share) over the depreciation years, plus energy at \
maximum IT power x PUE (typical draw is 65-85 % of maximum, so energy is an upper bound)"
            .to_string(),
    ];
    for m in &inv.models {
        let node_kw = node_kw_of.get(m.model.as_str()).map_or(0.0, |e| e.0);
        let it_kw = node_kw + switch_kw * m.gpus as f64 / total_gpus.max(1) as f64;
        let facility_kw = it_kw * p.pue;
        let energy = facility_kw * p.usd_per_kwh;
        let (capex_per_gpu, capex_source) = p.capex_usd_per_gpu(&m.model);
        let capex = capex_per_gpu.map(|c| c * m.gpus as f64 / (1.0 - p.network_share));
        let dep = capex_per_gpu.map(|c| {
            crate::model::cost::depreciation_usd_per_hour(
                c,
                m.gpus as f64,
                p.network_share,
                p.depreciation_years,
            )
        });
        let owned = dep.map(|d| d + energy);
        let per_gpu_full = owned.map(|o| o / m.gpus as f64);
        // A template price is the fabric's own comparison price; else the dated default.
        let template_price = (0..f.nodes.len())
            .map(NodeId::from_index)
            .map(|n| f.template_of(n))
            .find(|t| t.gpu_model == m.model && t.gpus > 0 && t.price_usd_per_hour.is_some())
            .map(|t| t.price_usd_per_hour.expect("some") / t.gpus as f64);
        let (cloud, cloud_source) = match (p.cloud_override, template_price) {
            (Some(c), _) => (Some(c), "--cloud-usd-per-gpu-hour".to_string()),
            (None, Some(c)) => (
                Some(c),
                "node template price_usd_per_hour / gpus".to_string(),
            ),
            (None, None) => p.cloud_usd_per_gpu_hour(&m.model),
        };
        // Chargeback on the demand's basis when there is one (the plan's budgets), else on
        // the report's own cloud price, PUE and $/kWh.
        let gpu_kw = node_kw / m.gpus.max(1) as f64;
        let (list, chargeback) = match &o.demand {
            Some(d) => (
                Some(d.gpu_price(&m.model)),
                Some(demand_chargeback_rate(d, &m.model, gpu_kw)),
            ),
            None => (
                cloud,
                cloud.map(|l| {
                    crate::model::cost::chargeback_usd_per_hour(
                        1.0,
                        l,
                        gpu_kw,
                        p.pue,
                        p.usd_per_kwh,
                    )
                }),
            ),
        };
        models.push(ModelCost {
            model: m.model.clone(),
            gpus: m.gpus,
            capex_usd_per_gpu: capex_per_gpu.map(r2),
            capex_source,
            capex_usd: capex.map(r2),
            it_kw: r3(it_kw),
            facility_kw: r3(facility_kw),
            energy_usd_per_hour: r3(energy),
            depreciation_usd_per_hour: dep.map(r3),
            owned_usd_per_hour: owned.map(r3),
            owned_usd_per_gpu_hour_at_full_use: per_gpu_full.map(r3),
            owned_usd_per_gpu_hour_at_utilization: match (per_gpu_full, o.utilization) {
                (Some(c), Some(u)) if u > 0.0 => Some(r3(c / u)),
                _ => None,
            },
            cloud_usd_per_gpu_hour: cloud.map(r3),
            cloud_source,
            list_usd_per_gpu_hour: list.map(r3),
            chargeback_usd_per_gpu_hour: chargeback.map(r3),
            chargeback_rate: chargeback,
            break_even_utilization: match (per_gpu_full, cloud) {
                (Some(c), Some(cl)) if cl > 0.0 => Some(r3(c / cl)),
                _ => None,
            },
        });
    }
    notes.push(format!(
        "chargeback = list price + energy (node kW / GPUs x PUE x $/kWh), what tenants are \
charged and budgets count, on {}; owned is what the platform pays (docs/cost.md)",
        if o.demand.is_some() {
            "the demand's prices, PUE and $/kWh"
        } else {
            "the cloud price, --pue and --usd-per-kwh"
        }
    ));
    if models.iter().any(|m| m.capex_usd_per_gpu.is_none()) {
        notes.push("no capex default for some models: pass --capex-usd-per-gpu".to_string());
    }
    let owned_total: f64 = models.iter().filter_map(|m| m.owned_usd_per_hour).sum();
    let energy_year: f64 = models.iter().map(|m| m.energy_usd_per_hour).sum::<f64>() * 8760.0;
    Cost {
        models,
        owned_usd_per_hour: r3(owned_total),
        energy_usd_per_year: r2(energy_year),
        notes,
    }
}

fn token_rows(f: &Fabric, o: &ReportOptions, cost: &Cost) -> Tokens {
    let m = o.token_model;
    let kv_tok = tokens::kv_bytes_per_token(m, o.kv_bytes_per_element);
    let kv_seq = kv_tok * o.context_tokens;
    let weights = tokens::weight_bytes(m, o.weight_bytes_per_param);
    let mut context = Vec::new();
    let rows: Vec<TokenRow> = cost
        .models
        .iter()
        .filter_map(|mc| token_row(f, mc, None, weights, kv_seq, o.concurrency))
        .collect();
    for (row, mc) in rows.iter().zip(
        cost.models
            .iter()
            .filter(|mc| f.gpu_model(&mc.model).is_some()),
    ) {
        context.extend(context_plan(
            f,
            mc,
            row,
            weights,
            kv_seq,
            o.concurrency,
            &o.context_tiers,
        ));
    }
    let workloads = o
        .demand
        .iter()
        .flat_map(|d| &d.workloads)
        .filter_map(|w| {
            let d = w.model.as_ref()?;
            let mc = cost
                .models
                .iter()
                .find(|mc| w.units.contains_key(&mc.model))?;
            let kv = tokens::kv_bytes_per_token_of(d.layers, d.kv_heads, d.head_dim, 2)
                * d.context_tokens;
            let weight_bytes = d.parameters_b * 1e9 * d.bytes_per_param;
            let row = token_row(
                f,
                mc,
                Some(w.name.clone()),
                weight_bytes,
                kv,
                d.concurrent_sequences,
            )?;
            context.extend(context_plan(
                f,
                mc,
                &row,
                weight_bytes,
                kv,
                d.concurrent_sequences,
                &o.context_tiers,
            ));
            Some(row)
        })
        .collect();
    Tokens {
        model: m.key.to_string(),
        model_source: m.source.to_string(),
        kv_bytes_per_token: kv_tok,
        context_tokens: o.context_tokens,
        kv_bytes_per_sequence: kv_seq,
        weight_gb: r3(weights / 1e9),
        concurrency: o.concurrency,
        rows,
        workloads,
        context,
        notes: vec![
            "decode tokens/s is the memory-bandwidth roofline (an upper bound; compute bound at large batch)".to_string(),
            "USD per million tokens uses the owned cost per GPU-hour (at --utilization when given)".to_string(),
            "demand workloads: KV cache at FP16 (2 bytes), weights at the workload's dtype".to_string(),
            "context tiers: the wanted sequences' KV fills HBM, then host DRAM, pooled context storage and NVMe (per-GPU capacity and bandwidth, --context-tier); spilled KV is read at its tier's bandwidth every decode step".to_string(),
        ],
    }
}

/// One model on one GPU model: replica size, sequences that fit, roofline tokens/s, $/Mtok
/// and the KV that spills to slower context tiers.
fn token_row(
    f: &Fabric,
    mc: &ModelCost,
    workload: Option<String>,
    weights: f64,
    kv_seq: u64,
    concurrency: u32,
) -> Option<TokenRow> {
    let spec = f.gpu_model(&mc.model)?;
    let hbm = spec.memory_gib * (1u64 << 30) as f64 * HBM_USABLE_FRACTION;
    // Largest NVLink domain of this model bounds the replica.
    let domain_gpus = f
        .nvlink_domains
        .iter()
        .filter(|d| {
            d.nodes
                .first()
                .is_some_and(|n| node_model(f, *n) == mc.model)
        })
        .map(|d| d.gpus)
        .max()
        .unwrap_or_else(|| {
            (0..f.nodes.len())
                .map(NodeId::from_index)
                .filter(|n| node_model(f, *n) == mc.model)
                .map(|n| f.template_of(n).gpus)
                .max()
                .unwrap_or(1)
        });
    // Smallest power of two of GPUs that holds the weights and the wanted concurrency's KV;
    // when none within the NVLink domain does, the largest that holds the weights.
    let want = weights + concurrency as f64 * kv_seq as f64;
    let mut n = 1u32;
    while (n as f64 * hbm) < want && n * 2 <= domain_gpus.max(1) {
        n *= 2;
    }
    let fits = (n as f64 * hbm) > weights;
    let kv_capacity = if fits { n as f64 * hbm - weights } else { 0.0 };
    let seqs = if kv_seq > 0 {
        (kv_capacity / kv_seq as f64).floor() as u32
    } else {
        0
    };
    let batch = concurrency.min(seqs);
    let tps1 = if fits {
        tokens::decode_tokens_per_s(spec.hbm_tbps, n, weights, 1, kv_seq)
    } else {
        0.0
    };
    let tps = if fits && batch > 0 {
        tokens::decode_tokens_per_s(spec.hbm_tbps, n, weights, batch, kv_seq)
    } else {
        0.0
    };
    let usd_gpu_h = mc
        .owned_usd_per_gpu_hour_at_utilization
        .or(mc.owned_usd_per_gpu_hour_at_full_use);
    let spill = if fits {
        (concurrency as f64 * kv_seq as f64 - kv_capacity).max(0.0)
    } else {
        0.0
    };
    let tier = if !fits {
        "weights do not fit in one NVLink domain".to_string()
    } else if spill <= 0.0 {
        "G1 HBM".to_string()
    } else {
        "G2 host DRAM / G3 local SSD / G3.5 shared context storage".to_string()
    };
    Some(TokenRow {
        workload,
        gpu_model: mc.model.clone(),
        gpus_per_replica: fits.then_some(n),
        replicas: if fits { mc.gpus / n } else { 0 },
        kv_capacity_gb: r3(kv_capacity / 1e9),
        sequences_per_replica: seqs,
        decode_tokens_per_s_batch1: r2(tps1),
        decode_tokens_per_s: r2(tps),
        usd_per_million_tokens: usd_gpu_h
            .and_then(|c| tokens::usd_per_million_tokens(c, n, tps))
            .filter(|_| fits)
            .map(r3),
        kv_spill_gb_per_replica: r3(spill / 1e9),
        context_tier: tier,
    })
}

/// The context-tier table of `row` (None when the weights do not fit).
#[allow(clippy::too_many_arguments)]
fn context_plan(
    f: &Fabric,
    mc: &ModelCost,
    row: &TokenRow,
    weights: f64,
    kv_seq: u64,
    concurrency: u32,
    below_hbm: &[tokens::ContextTier],
) -> Option<ContextPlan> {
    let n = row.gpus_per_replica?;
    let spec = f.gpu_model(&mc.model)?;
    let mut tiers = vec![tokens::hbm_tier(
        row.kv_capacity_gb / n as f64,
        spec.hbm_tbps,
    )];
    tiers.extend(below_hbm.iter().cloned());
    let wanted_gb = concurrency as f64 * kv_seq as f64 / 1e9;
    let p = tokens::place(wanted_gb, &tiers, n as f64);
    let spilled =
        tokens::decode_tokens_per_s_tiered(spec.hbm_tbps, n, weights, concurrency, kv_seq, &tiers);
    let usd_gpu_h = mc
        .owned_usd_per_gpu_hour_at_utilization
        .or(mc.owned_usd_per_gpu_hour_at_full_use);
    let storage_usd_h: f64 = tiers
        .iter()
        .zip(&p.held_gb)
        .map(|(t, g)| t.usd_per_gb_hour * g)
        .sum();
    let r6 = |x: f64| (x * 1e6).round() / 1e6;
    let per_mtok = |usd_h: f64, tps: f64| (tps > 0.0).then(|| usd_h / (tps * 3600.0) * 1e6);
    Some(ContextPlan {
        workload: row.workload.clone(),
        gpu_model: row.gpu_model.clone(),
        gpus_per_replica: n,
        wanted_sequences: concurrency,
        kv_wanted_gb: r3(wanted_gb),
        tiers: tiers
            .iter()
            .zip(&p.held_gb)
            .map(|(t, g)| ContextTierRow {
                tier: t.name.clone(),
                capacity_gb_per_replica: r3(t.capacity_gb_per_gpu * n as f64),
                read_gb_per_s_per_gpu: r3(t.read_gb_per_s),
                usd_per_gb_month: r6(t.usd_per_gb_hour * tokens::HOURS_PER_MONTH),
                holds_gb: r3(*g),
            })
            .collect(),
        unplaced_gb: r3(p.unplaced_gb),
        deepest_tier: p.deepest(&tiers).map(str::to_string),
        decode_tokens_per_s_fit_hbm: row.decode_tokens_per_s,
        decode_tokens_per_s_spilled: r2(spilled),
        usd_per_million_tokens_fit_hbm: row.usd_per_million_tokens,
        usd_per_million_tokens_spilled: usd_gpu_h
            .and_then(|c| per_mtok(c * n as f64 + storage_usd_h, spilled))
            .map(r3),
        better: if p.held_gb.iter().skip(1).all(|g| *g <= 0.0) && p.unplaced_gb <= 0.0 {
            "all in HBM".into()
        } else if r2(spilled) > row.decode_tokens_per_s {
            "spill to tiers".into()
        } else {
            "fit batch to HBM".into()
        },
    })
}

fn failure_impact(
    f: &Fabric,
    lv: &Levels,
    fl: &Failure,
    u: Option<&usage::Usage>,
) -> FailureImpact {
    let topo = Topology::new(f);
    let mut failed_switch = vec![false; f.switches.len()];
    let mut lost = vec![false; f.gpus.len()];
    let mut notes = Vec::new();
    match fl {
        Failure::Switch(name) => {
            if let Some(i) = f.switches.iter().position(|s| &s.name == name) {
                failed_switch[i] = true;
            }
        }
        Failure::Rack(name) => {
            if let Some(r) = f.racks.iter().find(|r| &r.name == name) {
                for s in &r.switches {
                    failed_switch[s.index()] = true;
                }
                for n in &r.nodes {
                    for g in f.node_gpus(*n) {
                        lost[g.index()] = true;
                    }
                }
            }
        }
        Failure::Plane(p) => {
            for (i, s) in f.switches.iter().enumerate() {
                if s.plane == *p {
                    failed_switch[i] = true;
                }
            }
        }
    }
    // Per GPU: compute NIC ports, and how many sit on a failed switch.
    let mut nics = vec![0u32; f.gpus.len()];
    let mut on_failed = vec![0u32; f.gpus.len()];
    let mut on_degraded_leaf = vec![false; f.gpus.len()];
    let mut uplink_lost = 0u64;
    let mut leaf_lost_uplinks = vec![false; f.switches.len()];
    for (i, l) in f.links.iter().enumerate() {
        if let (Endpoint::Switch(a, _), Endpoint::Switch(b, _)) = (&l.a, &l.b) {
            if failed_switch[a.index()] != failed_switch[b.index()] {
                uplink_lost += l.gbps as u64;
                let survivor = if failed_switch[a.index()] { b } else { a };
                leaf_lost_uplinks[survivor.index()] = true;
            }
        }
        let _ = i;
    }
    for (i, nic) in f.nics.iter().enumerate() {
        let Some(g) = f.nic_port(NicId::from_index(i)).gpu else {
            continue;
        };
        let gpu = (f.nodes[nic.node.index()].first_gpu.0 + g) as usize;
        nics[gpu] += 1;
        if let Some(sw) = topo.nic_switch[i] {
            if failed_switch[sw.index()] {
                on_failed[gpu] += 1;
            } else if leaf_lost_uplinks[sw.index()] {
                on_degraded_leaf[gpu] = true;
            }
        }
    }
    let cut: Vec<bool> = (0..f.gpus.len())
        .map(|g| !lost[g] && nics[g] > 0 && on_failed[g] >= nics[g])
        .collect();
    let degraded = (0..f.gpus.len())
        .filter(|&g| !lost[g] && !cut[g] && (on_failed[g] > 0 || on_degraded_leaf[g]))
        .count() as u32;
    let switches_failed: Vec<String> = f
        .switches
        .iter()
        .zip(&failed_switch)
        .filter(|(_, x)| **x)
        .map(|(s, _)| s.name.clone())
        .collect();
    if cut.iter().any(|c| *c) {
        notes.push(
            "disconnected GPUs keep NVLink; with NCCL PXN their traffic can leave through a \
neighbour's NIC, at that NIC's bandwidth"
                .to_string(),
        );
    }
    let degraded_gpu: Vec<bool> = (0..f.gpus.len())
        .map(|g| !lost[g] && !cut[g] && (on_failed[g] > 0 || on_degraded_leaf[g]))
        .collect();
    let mut placements = Vec::new();
    // `gone`: lost or busy (unusable anywhere); `unavailable`: also cut off the network.
    let mut unavailable: Vec<bool> = (0..f.gpus.len()).map(|g| lost[g] || cut[g]).collect();
    let mut gone: Vec<bool> = lost.clone();
    match u {
        None => notes.push("no plan given: placements to re-place are not listed".to_string()),
        Some(u) => {
            for (g, x) in unavailable.iter_mut().enumerate() {
                *x = *x || u.busy(GpuId::from_index(g));
                gone[g] = gone[g] || u.busy(GpuId::from_index(g));
            }
            // Free GPUs per model after the failure, for re-placing what was lost.
            let mut free: BTreeMap<&str, u32> = BTreeMap::new();
            for (g, gpu) in f.gpus.iter().enumerate() {
                if !unavailable[g] {
                    *free.entry(node_model(f, gpu.node)).or_default() += 1;
                }
            }
            for w in u.workloads.iter().filter(|w| w.admitted) {
                let count = |v: &[bool]| w.gpus.iter().filter(|g| v[g.index()]).count() as u32;
                let (l, c, d) = (count(&lost), count(&cut), count(&degraded_gpu));
                if l + c + d == 0 {
                    continue;
                }
                let model = w
                    .gpus
                    .first()
                    .map(|g| node_model(f, f.gpus[g.index()].node))
                    .unwrap_or("");
                let replaceable = free.get(model).copied().unwrap_or(0) >= l + c;
                if replaceable {
                    *free.entry(model).or_default() -= l + c;
                }
                placements.push(AffectedPlacement {
                    workload: w.name.clone(),
                    tenant: w.tenant.clone(),
                    gpus_lost: l,
                    gpus_disconnected: c,
                    gpus_degraded: d,
                    replaceable,
                });
            }
            notes.push(
                "replaceable: enough free GPUs of the model remain, counted in plan order; a gang \
must still fit its topology level (re-run `fabplan plan --current`)"
                    .to_string(),
            );
        }
    }
    FailureImpact {
        target: fl.label(),
        placements,
        switches_failed,
        gpus_lost: lost.iter().filter(|x| **x).count() as u32,
        gpus_disconnected: cut.iter().filter(|x| **x).count() as u32,
        gpus_degraded: degraded,
        uplink_gbps_lost: uplink_lost,
        capacity_after: capacity_levels(f, lv, &gone, &unavailable),
        notes,
    }
}

/// Months until demand, growing by `rate` a month from today's use (the plan's
/// GPU-equivalents, else `--utilization` x GPUs), exceeds each GPU model's GPUs.
fn growth(f: &Fabric, o: &ReportOptions, rate: f64, levels: &[LevelCapacity]) -> Growth {
    let mut by_model: BTreeMap<String, u32> = BTreeMap::new();
    for (i, _) in f.nodes.iter().enumerate() {
        let t = f.template_of(NodeId::from_index(i));
        if t.gpus > 0 {
            *by_model.entry(t.gpu_model.clone()).or_default() += t.gpus;
        }
    }
    let used_by_model: BTreeMap<String, f64> = match &o.usage {
        Some(u) => {
            let mut m: BTreeMap<String, f64> = BTreeMap::new();
            for (g, x) in u.used.iter().enumerate() {
                *m.entry(node_model(f, f.gpus[g].node).to_string())
                    .or_default() += x;
            }
            m
        }
        None => by_model
            .iter()
            .map(|(k, v)| (k.clone(), *v as f64 * o.utilization.unwrap_or(0.0)))
            .collect(),
    };
    let months = |share: f64| -> Option<f64> {
        if share <= 0.0 || rate <= 0.0 {
            None
        } else if share >= 1.0 {
            Some(0.0)
        } else {
            Some(r2((1.0 / share).ln() / (1.0 + rate).ln()))
        }
    };
    let months_until_full = by_model
        .iter()
        .map(|(m, n)| {
            let used = used_by_model.get(m).copied().unwrap_or(0.0);
            (m.clone(), months(used / *n as f64))
        })
        .collect();
    // Free GPUs growth can take, per model.
    let free_by_model: BTreeMap<String, f64> = by_model
        .iter()
        .map(|(m, n)| {
            let free = match &o.usage {
                Some(u) => (0..f.gpus.len())
                    .filter(|g| u.used[*g] <= 1e-9 && node_model(f, f.gpus[*g].node) == m)
                    .count() as f64,
                None => *n as f64 * (1.0 - o.utilization.unwrap_or(0.0)),
            };
            (m.clone(), free)
        })
        .collect();
    let level_rows =
        levels
            .iter()
            .filter(|l| l.gpus > 0)
            .map(|l| {
                // The demand's largest gang that requires this level (first in file order on a tie).
                let demanded = o.demand.iter().flat_map(|d| &d.workloads).fold(
                    None::<(u32, &str)>,
                    |best, w| match (
                        w.gang.as_ref().map(|g| level_name(g.required)),
                        w.units.get(&l.model),
                    ) {
                        (Some(lvl), Some(Unit::Gpus(k)))
                            if lvl == l.level && best.is_none_or(|(b, _)| *k > b) =>
                        {
                            Some((*k, w.name.as_str()))
                        }
                        _ => best,
                    },
                );
                // Without a demanded gang: today's largest free gang where the level has
                // several domains; where it has one (the fabric, or a one-SU design), that gang
                // is all the free GPUs and any growth shrinks it, so the level runs out when
                // it can no longer take one whole node.
                let node_gpus = f
                    .nodes
                    .iter()
                    .enumerate()
                    .map(|(i, _)| f.template_of(NodeId::from_index(i)))
                    .find(|t| t.gpus > 0 && t.gpu_model == l.model)
                    .map(|t| t.gpus)
                    .unwrap_or(1);
                let fallback = if l.domains > 1 {
                    (l.largest_gang_gpus, "largest free gang")
                } else {
                    (
                        node_gpus.min(l.largest_gang_gpus),
                        "one whole node (single domain)",
                    )
                };
                let (needed, by) = demanded.unwrap_or(fallback);
                let used = used_by_model.get(&l.model).copied().unwrap_or(0.0);
                let free = free_by_model.get(&l.model).copied().unwrap_or(0.0);
                let months = if l.largest_gang_gpus == 0
                    || needed > l.largest_gang_gpus
                    || needed as f64 > free + 1e-9
                {
                    Some(0.0)
                } else if used <= 1e-9 {
                    None
                } else {
                    Some(r2(
                        (1.0 + (free - needed as f64) / used).ln() / (1.0 + rate).ln()
                    ))
                };
                LevelGrowth {
                    level: l.level.clone(),
                    model: l.model.clone(),
                    largest_gang_gpus: l.largest_gang_gpus,
                    needed_gang_gpus: needed,
                    needed_by: by.to_string(),
                    used_gpus: r3(used),
                    free_gpus: r3(free),
                    months_until_out: months,
                }
            })
            .collect();
    let mut notes = vec![
        "months until full = ln(GPUs / GPUs in use) / ln(1 + growth): demand grows on the current use"
            .to_string(),
        "per level: growth takes free whole GPUs outside the domain holding the needed gang; the \
level runs out when fewer free GPUs remain than that gang: months = ln(1 + (free - needed) / in \
use) / ln(1 + growth); the needed gang is the demand's largest gang requiring the level, else \
today's largest free gang, else (a level with one domain) one whole node"
            .to_string(),
    ];
    if o.usage.is_some() {
        notes.push("current use: the plan's GPU-equivalents".to_string());
    } else if o.utilization.is_none() {
        notes.push(
            "no --utilization and no plan: current use is 0, so nothing runs out".to_string(),
        );
    }
    Growth {
        per_month: rate,
        used_gpus: r2(used_by_model.values().sum()),
        months_until_full,
        levels: level_rows,
        notes,
    }
}
