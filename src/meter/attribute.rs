//! Attribution: record -> tokens -> GPU-seconds (prefill and decode apart) -> cost on both
//! bases of the one ledger (`crate::model::cost`, through the report's per-GPU-model rates),
//! per tenant, project, model and tool, with idle cost distributed by a named rule, in
//! integer cents that add up to the fleet's cost for the period (docs/meter.md).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::report::tokens;

use super::{Intake, UsageRecord};

/// How idle cost is handed out (OpenCost's two rules, plus keeping it visible).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdleRule {
    /// Idle stays on its own lines (tenant `unallocated`, or the deployment's headroom).
    Keep,
    /// Idle is shared in proportion to each line's usage cost.
    Proportional,
    /// Idle is shared evenly among the lines.
    Even,
}

/// USD per GPU-hour on both bases.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    /// Depreciation plus energy (`model::cost::depreciation_usd_per_hour` + energy).
    pub owned: f64,
    /// List price plus energy (`model::cost::chargeback_usd_per_hour`).
    pub chargeback: f64,
}

/// One plan workload's (or the idle capacity's) share of a GPU model: the report's
/// attribution row with the rates of its GPU model.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub tenant: String,
    pub workload: String,
    pub kind: String,
    pub gpu_model: String,
    pub gpu_equivalents: f64,
    pub rates: Rates,
    /// Idle or stranded capacity (tenant `unallocated`).
    pub idle: bool,
}

/// A served model: the plan workload that serves it and its serving roofline inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    /// The model name records carry.
    pub model: String,
    pub workload: String,
    pub gpu_model: String,
    pub gpu_equivalents: f64,
    pub replicas: u32,
    pub params_billion: f64,
    pub bytes_per_param: f64,
    pub kv_bytes_per_token: u64,
    /// Concurrent sequences a replica decodes per step.
    pub batch: u32,
    /// HBM bandwidth of one GPU, TB/s (catalog).
    pub hbm_tbps: f64,
    /// Dense tensor TFLOPS of one GPU at the weights' precision ([`dense_tflops`]).
    pub dense_tflops: f64,
    /// HBM per GPU left for KV after the replica's weights, GB (90 % of HBM usable, as the
    /// report's token table): the context's first tier.
    pub hbm_kv_gb_per_gpu: f64,
}

/// HBM per GPU left for KV after a replica's weights, GB: 90 % of HBM usable (the report's
/// token table, `report::HBM_USABLE_FRACTION`) less the weights' share on one GPU.
pub fn hbm_kv_gb_per_gpu(
    memory_gib: f64,
    params_billion: f64,
    bytes_per_param: f64,
    gpus_per_replica: f64,
) -> f64 {
    let usable = memory_gib * (1u64 << 30) as f64 * crate::report::HBM_USABLE_FRACTION;
    (usable - params_billion * 1e9 * bytes_per_param / gpus_per_replica.max(1e-9)).max(0.0) / 1e9
}

impl Deployment {
    pub fn gpus_per_replica(&self) -> f64 {
        self.gpu_equivalents / self.replicas.max(1) as f64
    }

    /// Prefill GPU-seconds: 2 x parameters FLOPs per uncached prompt token, at `mfu` of the
    /// dense peak (compute bound; Kaplan et al. 2020, forward pass ~ 2N FLOPs per token).
    pub fn prefill_gpu_seconds(&self, uncached_tokens: u64, mfu: f64) -> f64 {
        2.0 * self.params_billion * 1e9 * uncached_tokens as f64 / (self.dense_tflops * 1e12 * mfu)
    }

    /// Decode GPU-seconds: the replica's memory-bound roofline (`report::tokens::
    /// decode_tokens_per_s`) at `batch` sequences of this record's context; the record owns
    /// 1/batch of each step, so its GPU-seconds are output tokens / aggregate tokens/s x the
    /// replica's GPUs.
    pub fn decode_gpu_seconds(&self, context_tokens: u64, output_tokens: u64) -> f64 {
        if output_tokens == 0 {
            return 0.0;
        }
        let gpr = self.gpus_per_replica();
        let weights = self.params_billion * 1e9 * self.bytes_per_param;
        let kv_seq = self.kv_bytes_per_token * context_tokens;
        let tps = tokens::decode_tokens_per_s(self.hbm_tbps * gpr, 1, weights, self.batch, kv_seq);
        output_tokens as f64 / tps * gpr
    }
}

/// Dense (no sparsity) tensor TFLOPS per GPU, BF16 and FP8, from NVIDIA's datasheets (the
/// sparse figures halved): H100 SXM / H200 989 and 1,979 (H100 and H200 datasheets); H100
/// NVL 835 and 1,671; B200 2,250 and 4,500 (DGX B200: 72 PFLOPS FP8 sparse for 8 GPUs);
/// GB200 2,500 and 5,000 (GB200 NVL72: 720 PFLOPS FP8 sparse for 72); A100 312 BF16 (no FP8:
/// FP8 weights run at the BF16 rate).
pub fn dense_tflops(gpu_model: &str, bytes_per_param: f64) -> Option<f64> {
    let (bf16, fp8) = match gpu_model {
        "h100-80gb" | "h200-141gb" => (989.0, 1979.0),
        "h100-nvl-94gb" => (835.0, 1671.0),
        "b200" => (2250.0, 4500.0),
        "gb200" => (2500.0, 5000.0),
        "a100-40gb" | "a100-80gb" => (312.0, 312.0),
        _ => return None,
    };
    Some(if bytes_per_param <= 1.0 { fp8 } else { bf16 })
}

/// Everything attribution needs besides the records.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub hours: f64,
    /// The report's attribution rows: every GPU-equivalent of the fleet, once.
    pub shares: Vec<Share>,
    /// By the model name records carry.
    pub deployments: BTreeMap<String, Deployment>,
    /// By model name: why a model whose serving workload the plan admits is still not a
    /// deployment (its shape or its GPU's throughput unknown), for FP994's message.
    pub unserved_why: BTreeMap<String, String>,
    /// Network and context storage in the chain.
    pub chain: Chain,
}

/// The links of the chain beyond the GPUs: context tiers below HBM and the network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    /// Context tiers below HBM, fastest first (`tokens::context_tiers_with`).
    pub tiers: Vec<tokens::ContextTier>,
    /// USD per GB of KV moved over the network (tier fetches, prefill -> decode).
    pub network_usd_per_gb: f64,
    /// Prefill and decode on separate replicas: each prompt's KV crosses the network once.
    pub disaggregated: bool,
}

/// AWS data transfer within a region between Availability Zones: $0.01 per GB in each
/// direction (AWS EC2 on-demand pricing, "Data Transfer within the same AWS Region"): the
/// market price of moving a GB inside a data centre region. An owned fabric whose cost is in
/// the GPUs' capex (docs/cost.md, network share) can set it to 0.
pub const DEFAULT_NETWORK_USD_PER_GB: f64 = 0.01;

impl Default for Chain {
    fn default() -> Chain {
        Chain {
            tiers: tokens::default_context_tiers(),
            network_usd_per_gb: DEFAULT_NETWORK_USD_PER_GB,
            disaggregated: false,
        }
    }
}

/// Where one deployment's context lives and what that costs (docs/meter.md, "Context").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentContext {
    pub model: String,
    pub workload: String,
    /// `unbounded` / `lru` (prefix-block hashes replayed) or `usage-log` (cached tokens as
    /// logged; cache footprint estimated as the largest cached prefix per line).
    pub cache_model: String,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    /// cached / input tokens.
    pub hit_rate: f64,
    /// KV of the sequences in flight: replicas x batch x mean context x KV bytes per token.
    pub active_kv_gb: f64,
    /// KV the prefix cache keeps.
    pub prefix_cache_gb: f64,
    pub tiers: Vec<TierUse>,
    /// Working set no tier holds (recomputed).
    pub unplaced_gb: f64,
    /// The slowest tier holding part of the working set.
    pub deepest_tier: Option<String>,
    /// GPU-seconds per cached token (the cheaper of fetch and recompute per tier), and per
    /// recomputed (prefilled) token.
    pub cached_token_gpu_seconds: f64,
    pub prefill_token_gpu_seconds: f64,
    /// Prefill GPU-seconds the cache saved: cached tokens x (prefill - cached cost).
    pub prefill_gpu_seconds_saved: f64,
    /// Decode tokens/s of a replica at its batch and mean context: all KV in HBM (the
    /// roofline), and with the in-flight KV where it is placed.
    pub decode_tokens_per_s_hbm: f64,
    pub decode_tokens_per_s_placed: f64,
    /// Owned USD per million output tokens at the placed rate.
    pub usd_per_million_tokens_placed: Option<f64>,
    pub kv_transfer_gb: f64,
    pub storage_gb_hours: f64,
    pub network_usd: f64,
    pub storage_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierUse {
    pub tier: String,
    /// Capacity over the deployment's GPUs, GB.
    pub capacity_gb: f64,
    pub read_gb_per_s: f64,
    pub usd_per_gb_hour: f64,
    pub networked: bool,
    /// In-flight KV and prefix cache held here, GB.
    pub active_gb: f64,
    pub cache_gb: f64,
    /// `fetch` when loading a cached token from here beats recomputing it, else `recompute`.
    pub cached_tokens_by: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub idle: IdleRule,
    /// Model FLOPs utilization of prefill.
    pub mfu: f64,
}

/// One line of the attribution: a (tenant, project, model, tool) of metered records, a plan
/// workload nobody metered, or idle capacity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub tenant: String,
    pub project: String,
    pub model: String,
    pub tool: String,
    /// `metered`, `plan` (a workload with no records: its reservation), `headroom` (a
    /// deployment's reserved but unmetered GPU time) or `idle` (no workload).
    pub source: &'static str,
    pub requests: u64,
    pub agent_runs: u64,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub output_tokens: u64,
    /// `null` when a request of the line carries no tool-call count (not in the input).
    pub tool_calls: Option<u64>,
    pub prefill_gpu_seconds: f64,
    pub decode_gpu_seconds: f64,
    /// GPU-seconds loading cached prefix KV from slower tiers (part of the usage cost).
    pub kv_fetch_gpu_seconds: f64,
    /// KV moved over the network, GB (pooled-tier fetches; prefill -> decode when
    /// disaggregated).
    pub kv_transfer_gb: f64,
    /// Context held in priced tiers, GB-hours.
    pub context_gb_hours: f64,
    /// Network and context-storage cost in cents (one price, both bases).
    pub network_cents: u64,
    pub storage_cents: u64,
    /// Usage cost before idle is distributed, USD (owned basis).
    pub usage_owned_usd: f64,
    /// The line's cost in cents, idle included (owned basis: depreciation + energy).
    pub owned_cents: u64,
    /// The line's cost in cents, idle included (chargeback basis: list price + energy).
    pub chargeback_cents: u64,
    #[serde(skip)]
    weight: [f64; 2],
    /// Network and storage USD before rounding.
    #[serde(skip)]
    chain_usd: [f64; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub fleet_owned_cents: u64,
    pub fleet_chargeback_cents: u64,
    /// Lines other than `idle` and `headroom`.
    pub attributed_owned_cents: u64,
    pub attributed_chargeback_cents: u64,
    pub idle_owned_cents: u64,
    pub idle_chargeback_cents: u64,
    /// Network (KV transfer) and context storage: metered, so all attributed.
    pub network_cents: u64,
    pub storage_cents: u64,
    /// GPUs + network + storage, each basis.
    pub total_owned_cents: u64,
    pub total_chargeback_cents: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    pub hours: f64,
    pub idle_rule: IdleRule,
    pub mfu: f64,
    pub records: u64,
    pub rejected: BTreeMap<&'static str, u64>,
    pub deployments: Vec<Deployment>,
    /// Where each deployment's context lives.
    pub context: Vec<DeploymentContext>,
    pub chain: Chain,
    pub lines: Vec<Line>,
    pub totals: Totals,
}

type Key = (String, String, String, String);

#[derive(Default)]
struct Agg {
    requests: u64,
    runs: BTreeSet<String>,
    input: u64,
    cached: u64,
    output: u64,
    tool_calls: u64,
    /// Some request carried no tool-call count.
    tool_calls_unknown: bool,
    prefill: f64,
    decode: f64,
    fetch: f64,
    net_gb: f64,
    storage_usd: f64,
    gb_hours: f64,
}

/// Pass-1 sums of one deployment.
#[derive(Default)]
struct DepSums {
    requests: u64,
    input: u64,
    cached: u64,
    context_tokens: u64,
    /// Largest cached prefix per (file, line key), for files without a prefix-cache model.
    max_cached: BTreeMap<(usize, Key), u64>,
    files: BTreeSet<usize>,
}

/// The context plan of one deployment, from its pass-1 sums.
fn plan_context(
    d: &Deployment,
    sums: &DepSums,
    intake: &Intake,
    chain: &Chain,
    rates: Rates,
    hours: f64,
    mfu: f64,
) -> (DeploymentContext, Extra) {
    let kv = d.kv_bytes_per_token as f64;
    let mean_ctx = if sums.requests > 0 {
        sums.context_tokens as f64 / sums.requests as f64
    } else {
        0.0
    };
    let active_gb = d.replicas as f64 * d.batch as f64 * mean_ctx * kv / 1e9;
    let mut cache_tokens = 0u64;
    let mut models = BTreeSet::new();
    for f in &sums.files {
        match intake.prefix_caches.get(f) {
            Some(st) => {
                cache_tokens += st.peak_blocks * super::prefix::BLOCK_TOKENS;
                models.insert(st.model.to_string());
            }
            None => {
                cache_tokens += sums
                    .max_cached
                    .iter()
                    .filter(|((file, _), _)| file == f)
                    .map(|(_, c)| *c)
                    .sum::<u64>();
                models.insert("usage-log".to_string());
            }
        }
    }
    let cache_gb = cache_tokens as f64 * kv / 1e9;
    let mut tiers = vec![tokens::hbm_tier(d.hbm_kv_gb_per_gpu, d.hbm_tbps)];
    tiers.extend(chain.tiers.iter().cloned());
    let g = d.gpu_equivalents;
    let active = tokens::place(active_gb, &tiers, g);
    let left: Vec<tokens::ContextTier> = tiers
        .iter()
        .zip(&active.held_gb)
        .map(|(t, held)| {
            let mut t = t.clone();
            t.capacity_gb_per_gpu = (t.capacity_gb_per_gpu - held / g.max(1e-12)).max(0.0);
            t
        })
        .collect();
    let cache = tokens::place(cache_gb, &left, g);
    let pre = tokens::prefill_gpu_seconds_per_token(d.params_billion, d.dense_tflops, mfu);
    let (cached_s, net_per_cached) =
        tokens::cached_token_cost(&cache, &tiers, d.kv_bytes_per_token, pre);
    let gpr = d.gpus_per_replica();
    let weights = d.params_billion * 1e9 * d.bytes_per_param;
    let kv_seq = (mean_ctx * kv) as u64;
    let hbm_tps = tokens::decode_tokens_per_s(d.hbm_tbps * gpr, 1, weights, d.batch, kv_seq);
    // Per replica: its GPUs' share of each tier (the tiers are per GPU).
    let placed_tps = {
        let per_replica: Vec<tokens::ContextTier> = tiers
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.capacity_gb_per_gpu *= gpr;
                t.read_gb_per_s *= gpr;
                t
            })
            .collect();
        tokens::decode_tokens_per_s_tiered(
            d.hbm_tbps * gpr,
            1,
            weights,
            d.batch,
            kv_seq,
            &per_replica,
        )
    };
    let priced = |p: &tokens::Placement| -> (f64, f64) {
        tiers
            .iter()
            .zip(&p.held_gb)
            .filter(|(t, _)| t.usd_per_gb_hour > 0.0)
            .fold((0.0, 0.0), |(gbh, usd), (t, held)| {
                (gbh + held * hours, usd + held * hours * t.usd_per_gb_hour)
            })
    };
    let (gbh_active, usd_active) = priced(&active);
    let (gbh_cache, usd_cache) = priced(&cache);
    let extra = Extra {
        net_bytes_per_cached: net_per_cached,
        decode_slowdown: if placed_tps > 0.0 && hbm_tps > 0.0 {
            (hbm_tps / placed_tps).max(1.0)
        } else {
            1.0
        },
        storage: [(gbh_active, usd_active), (gbh_cache, usd_cache)],
    };
    let storage_gb_hours: f64 = tiers
        .iter()
        .enumerate()
        .filter(|(_, t)| t.usd_per_gb_hour > 0.0)
        .map(|(i, _)| (active.held_gb[i] + cache.held_gb[i]) * hours)
        .sum();
    let storage_usd: f64 = tiers
        .iter()
        .enumerate()
        .map(|(i, t)| (active.held_gb[i] + cache.held_gb[i]) * hours * t.usd_per_gb_hour)
        .sum();
    let transfer_gb = (sums.cached as f64 * net_per_cached
        + if chain.disaggregated {
            sums.input as f64 * kv
        } else {
            0.0
        })
        / 1e9;
    let ctx = DeploymentContext {
        model: d.model.clone(),
        workload: d.workload.clone(),
        cache_model: models.into_iter().collect::<Vec<_>>().join("+"),
        input_tokens: sums.input,
        cached_tokens: sums.cached,
        hit_rate: if sums.input > 0 {
            sums.cached as f64 / sums.input as f64
        } else {
            0.0
        },
        active_kv_gb: active_gb,
        prefix_cache_gb: cache_gb,
        tiers: tiers
            .iter()
            .enumerate()
            .map(|(i, t)| TierUse {
                tier: t.name.clone(),
                capacity_gb: t.capacity_gb_per_gpu * g,
                read_gb_per_s: t.read_gb_per_s,
                usd_per_gb_hour: t.usd_per_gb_hour,
                networked: t.networked,
                active_gb: active.held_gb[i],
                cache_gb: cache.held_gb[i],
                cached_tokens_by: if tokens::fetch_gpu_seconds_per_token(d.kv_bytes_per_token, t)
                    <= pre
                {
                    "fetch"
                } else {
                    "recompute"
                },
            })
            .collect(),
        unplaced_gb: active.unplaced_gb + cache.unplaced_gb,
        deepest_tier: {
            let both = tokens::Placement {
                held_gb: active
                    .held_gb
                    .iter()
                    .zip(&cache.held_gb)
                    .map(|(a, b)| a + b)
                    .collect(),
                unplaced_gb: 0.0,
            };
            both.deepest(&tiers).map(str::to_string)
        },
        cached_token_gpu_seconds: cached_s,
        prefill_token_gpu_seconds: pre,
        prefill_gpu_seconds_saved: sums.cached as f64 * (pre - cached_s),
        decode_tokens_per_s_hbm: hbm_tps,
        decode_tokens_per_s_placed: placed_tps,
        usd_per_million_tokens_placed: tokens::usd_per_million_tokens(
            rates.owned,
            1,
            placed_tps / gpr,
        )
        .filter(|_| placed_tps > 0.0),
        kv_transfer_gb: transfer_gb,
        storage_gb_hours,
        network_usd: transfer_gb * chain.network_usd_per_gb,
        storage_usd,
    };
    (ctx, extra)
}

/// What attribution needs per record of a deployment beyond [`DeploymentContext`].
struct Extra {
    net_bytes_per_cached: f64,
    /// Roofline decode tokens/s over tokens/s with the in-flight KV where it is placed.
    decode_slowdown: f64,
    /// (GB-hours, USD) of priced tiers: in-flight KV (shared by tokens), prefix cache
    /// (shared by cached tokens).
    storage: [(f64, f64); 2],
}

/// Attributes the accepted records of `intake` (records whose model no deployment serves
/// are rejected here, FP994, and counted) and returns the attribution and its warnings.
pub fn attribute(
    intake: &mut Intake,
    fleet: &Fleet,
    o: Options,
) -> (Attribution, Vec<(usize, Diagnostic)>) {
    let mut warnings = Vec::new();
    let records = std::mem::take(&mut intake.records);
    let key_of = |r: &UsageRecord| -> Key {
        (
            r.tenant.clone(),
            r.project.clone(),
            r.model.clone(),
            r.tool.clone(),
        )
    };
    // Pass 1: per deployment, the sums its context plan needs.
    let mut sums: BTreeMap<&str, DepSums> = BTreeMap::new();
    for r in &records {
        let Some(d) = fleet.deployments.get(&r.model) else {
            continue;
        };
        let s = sums.entry(d.workload.as_str()).or_default();
        s.requests += 1;
        s.input += r.input_tokens;
        s.cached += r.cached_tokens;
        s.context_tokens += r.input_tokens + r.output_tokens;
        s.files.insert(r.file);
        if r.cached_tokens > 0 && !intake.prefix_caches.contains_key(&r.file) {
            let m = s.max_cached.entry((r.file, key_of(r))).or_insert(0);
            *m = (*m).max(r.cached_tokens);
        }
    }
    let mut contexts: BTreeMap<&str, (DeploymentContext, Extra)> = BTreeMap::new();
    for d in fleet.deployments.values() {
        if let Some(s) = sums.get(d.workload.as_str()) {
            let rates = rate_of(&fleet.shares, &d.workload);
            contexts.insert(
                d.workload.as_str(),
                plan_context(d, s, intake, &fleet.chain, rates, fleet.hours, o.mfu),
            );
        }
    }

    // Pass 2: per deployment (by workload), per key.
    let mut per_dep: BTreeMap<&str, BTreeMap<Key, Agg>> = BTreeMap::new();
    let mut accepted = 0u64;
    for r in &records {
        let Some(d) = fleet.deployments.get(&r.model) else {
            intake.reject(r.file, unserved(r, fleet.unserved_why.get(&r.model)));
            continue;
        };
        accepted += 1;
        let (ctx, extra) = &contexts[d.workload.as_str()];
        let a = per_dep
            .entry(d.workload.as_str())
            .or_default()
            .entry(key_of(r))
            .or_default();
        a.requests += 1;
        if let Some(run) = &r.agent_run_id {
            if !a.runs.contains(run) {
                a.runs.insert(run.clone());
            }
        }
        a.input += r.input_tokens;
        a.cached += r.cached_tokens;
        a.output += r.output_tokens;
        match r.tool_calls {
            Some(n) => a.tool_calls += n,
            None => a.tool_calls_unknown = true,
        }
        a.prefill += d.prefill_gpu_seconds(r.input_tokens - r.cached_tokens, o.mfu);
        a.fetch += r.cached_tokens as f64 * ctx.cached_token_gpu_seconds;
        a.decode += d.decode_gpu_seconds(r.input_tokens + r.output_tokens, r.output_tokens)
            * extra.decode_slowdown;
        let disagg = if fleet.chain.disaggregated {
            r.input_tokens as f64 * d.kv_bytes_per_token as f64
        } else {
            0.0
        };
        a.net_gb += (r.cached_tokens as f64 * extra.net_bytes_per_cached + disagg) / 1e9;
    }
    intake.records = records;
    // Context storage per key: in-flight KV by its tokens, the prefix cache by its cached tokens.
    for (workload, keys) in &mut per_dep {
        let (ctx, extra) = &contexts[workload];
        let tokens_all: u64 = keys.values().map(|a| a.input + a.output).sum();
        for a in keys.values_mut() {
            let share = [
                if tokens_all > 0 {
                    (a.input + a.output) as f64 / tokens_all as f64
                } else {
                    0.0
                },
                if ctx.cached_tokens > 0 {
                    a.cached as f64 / ctx.cached_tokens as f64
                } else {
                    0.0
                },
            ];
            for (i, sh) in share.iter().enumerate() {
                a.gb_hours += extra.storage[i].0 * sh;
                a.storage_usd += extra.storage[i].1 * sh;
            }
        }
    }

    // Reserved cost per workload for the period, both bases, from the report's rows.
    let mut reserved: BTreeMap<&str, ([f64; 2], &Share)> = BTreeMap::new();
    let mut idle = [0.0f64; 2];
    for s in &fleet.shares {
        let c = [
            s.gpu_equivalents * s.rates.owned * fleet.hours,
            s.gpu_equivalents * s.rates.chargeback * fleet.hours,
        ];
        if s.idle {
            idle[0] += c[0];
            idle[1] += c[1];
            continue;
        }
        let e = reserved.entry(s.workload.as_str()).or_insert(([0.0; 2], s));
        e.0[0] += c[0];
        e.0[1] += c[1];
    }

    let mut lines: Vec<Line> = Vec::new();
    for (workload, (cost, share)) in &reserved {
        match per_dep.get(workload) {
            None => lines.push(line(&share.tenant, workload, "-", "-", "plan", cost)),
            Some(keys) => {
                let dep = fleet
                    .deployments
                    .values()
                    .find(|d| d.workload == *workload)
                    .expect("deployment");
                let rates = rate_of(&fleet.shares, workload);
                let first = lines.len();
                for (k, a) in keys {
                    let hours = (a.prefill + a.fetch + a.decode) / 3600.0;
                    let mut l = line(
                        &k.0,
                        &k.1,
                        &k.2,
                        &k.3,
                        "metered",
                        &[hours * rates.owned, hours * rates.chargeback],
                    );
                    l.requests = a.requests;
                    l.agent_runs = a.runs.len() as u64;
                    l.input_tokens = a.input;
                    l.cached_tokens = a.cached;
                    l.output_tokens = a.output;
                    l.tool_calls = (!a.tool_calls_unknown).then_some(a.tool_calls);
                    l.prefill_gpu_seconds = a.prefill;
                    l.decode_gpu_seconds = a.decode;
                    l.kv_fetch_gpu_seconds = a.fetch;
                    l.kv_transfer_gb = a.net_gb;
                    l.context_gb_hours = a.gb_hours;
                    l.chain_usd = [a.net_gb * fleet.chain.network_usd_per_gb, a.storage_usd];
                    l.usage_owned_usd = l.weight[0];
                    lines.push(l);
                }
                for b in 0..2 {
                    let used: f64 = lines[first..].iter().map(|l| l.weight[b]).sum();
                    if used > cost[b] {
                        if b == 0 {
                            warnings.push((0, over_capacity(dep, used, cost[0])));
                        }
                        let s = cost[b] / used;
                        for l in &mut lines[first..] {
                            l.weight[b] *= s;
                        }
                    }
                }
                let headroom: [f64; 2] = std::array::from_fn(|b| {
                    (cost[b] - lines[first..].iter().map(|l| l.weight[b]).sum::<f64>()).max(0.0)
                });
                distribute(
                    &mut lines,
                    first,
                    headroom,
                    o.idle,
                    &share.tenant,
                    workload,
                    &dep.model,
                    "headroom",
                );
            }
        }
    }
    distribute(
        &mut lines,
        0,
        idle,
        o.idle,
        crate::report::UNALLOCATED,
        "idle",
        "-",
        "idle",
    );

    let fleet_cents: [u64; 2] = std::array::from_fn(|b| {
        let total: f64 = fleet
            .shares
            .iter()
            .map(|s| {
                let rate = if b == 0 {
                    s.rates.owned
                } else {
                    s.rates.chargeback
                };
                s.gpu_equivalents * rate * fleet.hours
            })
            .sum();
        (total * 100.0).round().max(0.0) as u64
    });
    for (b, &cents) in fleet_cents.iter().enumerate() {
        let w: Vec<f64> = lines.iter().map(|l| l.weight[b]).collect();
        for (l, c) in lines.iter_mut().zip(apportion(cents, &w)) {
            if b == 0 {
                l.owned_cents = c;
            } else {
                l.chargeback_cents = c;
            }
        }
    }
    // Network and storage: each total rounded once, shared by the largest remainder.
    let mut chain_cents = [0u64; 2];
    for (c, cents_total) in chain_cents.iter_mut().enumerate() {
        let w: Vec<f64> = lines.iter().map(|l| l.chain_usd[c]).collect();
        *cents_total = (w.iter().sum::<f64>() * 100.0).round().max(0.0) as u64;
        for (l, x) in lines.iter_mut().zip(apportion(*cents_total, &w)) {
            if c == 0 {
                l.network_cents = x;
            } else {
                l.storage_cents = x;
            }
        }
    }
    lines.sort_by(|a, b| {
        (&a.tenant, &a.project, &a.model, &a.tool, a.source)
            .cmp(&(&b.tenant, &b.project, &b.model, &b.tool, b.source))
    });
    let is_idle = |l: &Line| l.source == "idle" || l.source == "headroom";
    let sum = |f: &dyn Fn(&Line) -> bool, b: usize| -> u64 {
        lines
            .iter()
            .filter(|l| f(l))
            .map(|l| {
                if b == 0 {
                    l.owned_cents
                } else {
                    l.chargeback_cents
                }
            })
            .sum()
    };
    let totals = Totals {
        fleet_owned_cents: fleet_cents[0],
        fleet_chargeback_cents: fleet_cents[1],
        attributed_owned_cents: sum(&|l| !is_idle(l), 0),
        attributed_chargeback_cents: sum(&|l| !is_idle(l), 1),
        idle_owned_cents: sum(&is_idle, 0),
        idle_chargeback_cents: sum(&is_idle, 1),
        network_cents: chain_cents[0],
        storage_cents: chain_cents[1],
        total_owned_cents: fleet_cents[0] + chain_cents[0] + chain_cents[1],
        total_chargeback_cents: fleet_cents[1] + chain_cents[0] + chain_cents[1],
    };
    let a = Attribution {
        hours: fleet.hours,
        idle_rule: o.idle,
        mfu: o.mfu,
        records: accepted,
        rejected: intake.rejected.clone(),
        deployments: fleet.deployments.values().cloned().collect(),
        context: contexts.into_values().map(|(c, _)| c).collect(),
        chain: fleet.chain.clone(),
        lines,
        totals,
    };
    (a, warnings)
}

fn line(
    tenant: &str,
    project: &str,
    model: &str,
    tool: &str,
    source: &'static str,
    w: &[f64; 2],
) -> Line {
    Line {
        tenant: tenant.into(),
        project: project.into(),
        model: model.into(),
        tool: tool.into(),
        source,
        requests: 0,
        agent_runs: 0,
        input_tokens: 0,
        cached_tokens: 0,
        output_tokens: 0,
        // No requests (a plan's reservation, headroom, idle): no tool calls.
        tool_calls: Some(0),
        prefill_gpu_seconds: 0.0,
        decode_gpu_seconds: 0.0,
        kv_fetch_gpu_seconds: 0.0,
        kv_transfer_gb: 0.0,
        context_gb_hours: 0.0,
        network_cents: 0,
        storage_cents: 0,
        chain_usd: [0.0; 2],
        usage_owned_usd: if source == "plan" { w[0] } else { 0.0 },
        owned_cents: 0,
        chargeback_cents: 0,
        weight: *w,
    }
}

/// The rates of the GPU model holding most of a workload's GPU-equivalents.
fn rate_of(shares: &[Share], workload: &str) -> Rates {
    shares
        .iter()
        .filter(|s| s.workload == workload && !s.idle)
        .max_by(|a, b| a.gpu_equivalents.total_cmp(&b.gpu_equivalents))
        .map(|s| s.rates)
        .unwrap_or(Rates {
            owned: 0.0,
            chargeback: 0.0,
        })
}

/// Hands `amount` (both bases) to `lines[first..]` by `rule`, or keeps it on its own line.
#[allow(clippy::too_many_arguments)]
fn distribute(
    lines: &mut Vec<Line>,
    first: usize,
    amount: [f64; 2],
    rule: IdleRule,
    tenant: &str,
    project: &str,
    model: &str,
    source: &'static str,
) {
    if amount[0] <= 0.0 && amount[1] <= 0.0 {
        return;
    }
    let n = lines.len() - first;
    let base: [f64; 2] = std::array::from_fn(|b| lines[first..].iter().map(|l| l.weight[b]).sum());
    let keep = rule == IdleRule::Keep
        || n == 0
        || (rule == IdleRule::Proportional && base.iter().any(|x| *x <= 0.0));
    if keep {
        lines.push(line(tenant, project, model, "-", source, &amount));
        return;
    }
    for b in 0..2 {
        for l in &mut lines[first..] {
            let part = match rule {
                IdleRule::Proportional => amount[b] * l.weight[b] / base[b],
                _ => amount[b] / n as f64,
            };
            l.weight[b] += part;
        }
    }
}

/// Splits `total` cents over `weights` by the largest remainder (Hamilton): every part is
/// the floor of its exact share, and the cents left go to the largest fractional parts
/// (ties to the earlier line), so the parts add up to `total` exactly.
pub fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum <= 0.0 {
        let mut v = vec![0; weights.len()];
        v[weights.len() - 1] = total;
        return v;
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| w.max(0.0) / sum * total as f64)
        .collect();
    let mut parts: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let given: u64 = parts.iter().sum();
    let mut left = total.saturating_sub(given);
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let mut i = 0;
    while left > 0 {
        parts[order[i % order.len()]] += 1;
        left -= 1;
        i += 1;
    }
    parts
}

fn unserved(r: &UsageRecord, why: Option<&String>) -> Diagnostic {
    match why {
        Some(why) => crate::checks::diag(
            "FP994",
            format!("model `{}` cannot be metered: {why}", r.model),
        )
        .at(r.span, "this record")
        .help(
            "give the model's shape in the demand (`model:` on the workload) and pass it with \
             --demand, or use a built-in model name; the GPU needs a dense TFLOPS figure in the catalog",
        ),
        None => crate::checks::diag(
            "FP994",
            format!("model `{}` is served by no workload of the plan", r.model),
        )
        .at(r.span, "this record")
        .help(
            "name the serving workload with --serve MODEL=WORKLOAD, or label the file with --model",
        ),
    }
}

fn over_capacity(d: &Deployment, used: f64, reserved: f64) -> Diagnostic {
    crate::checks::diag(
        "FP995",
        format!(
            "metered use of `{}` costs ${used:.2}, more than its reservation of ${reserved:.2} in the period",
            d.workload
        ),
    )
    .help("the roofline is an upper bound on speed: raise --mfu or --batch if the deployment really served this, or check the plan gives it enough GPUs; usage was scaled down to the reservation")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_adds_up_and_favours_remainders() {
        assert_eq!(apportion(100, &[1.0, 1.0, 1.0]), vec![34, 33, 33]);
        assert_eq!(apportion(10, &[0.0, 0.0]), vec![0, 10]);
        assert_eq!(apportion(7, &[2.5, 0.5]), vec![6, 1]);
        let v = apportion(1_000_003, &[0.1, 0.2, 0.3, 0.4]);
        assert_eq!(v.iter().sum::<u64>(), 1_000_003);
    }
}
