//! Token economics and context: KV-cache bytes and the memory-bandwidth decode roofline.
//!
//! Formulas (docs/sources.md §5 and (c)):
//! - KV bytes per token = 2 (K and V) x layers x kv_heads x head_dim x bytes per element;
//!   Llama-3.1-70B at FP16: 2 x 80 x 8 x 128 x 2 = 327,680 B (0.33 MB; 42.9 GB at 128K).
//! - Decode, memory bound: tokens/s per replica ~ HBM_BW x n_gpus / (weight_bytes + batch x
//!   kv_bytes_per_seq) x batch. Batch 1, 70B at FP8 (70 GB): H100 ~48, H200 ~69, B200 ~114.
//!   It is an upper bound: compute bound once batch > FLOPS x bytes_per_param / (2 x HBM_BW).
//!
//! No IO, no fabric: usable with or without a demand file.

use serde::Serialize;

/// The shape of a transformer that decides its KV cache and weight bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSpec {
    pub key: &'static str,
    pub params_billion: f64,
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    /// Where the shape comes from.
    pub source: &'static str,
}

/// Built-in model shapes (Meta's published Llama 3.1 configs: GQA with 8 KV heads of 128).
pub const MODELS: &[ModelSpec] = &[
    ModelSpec {
        key: "llama-3.1-8b",
        params_billion: 8.0,
        layers: 32,
        kv_heads: 8,
        head_dim: 128,
        source: "meta-llama/Llama-3.1-8B config.json",
    },
    ModelSpec {
        key: "llama-3.1-70b",
        params_billion: 70.0,
        layers: 80,
        kv_heads: 8,
        head_dim: 128,
        source: "meta-llama/Llama-3.1-70B config.json; docs/sources.md §5",
    },
    ModelSpec {
        key: "llama-3.1-405b",
        params_billion: 405.0,
        layers: 126,
        kv_heads: 8,
        head_dim: 128,
        source: "meta-llama/Llama-3.1-405B config.json",
    },
];

pub fn model(key: &str) -> Option<&'static ModelSpec> {
    MODELS
        .iter()
        .find(|m| m.key.eq_ignore_ascii_case(key.trim()))
}

/// KV-cache bytes per token: 2 x layers x kv_heads x head_dim x bytes per element.
pub fn kv_bytes_per_token(m: &ModelSpec, kv_bytes_per_element: u32) -> u64 {
    kv_bytes_per_token_of(m.layers, m.kv_heads, m.head_dim, kv_bytes_per_element)
}

/// The same from the raw shape (a demand file's model spec).
pub fn kv_bytes_per_token_of(
    layers: u32,
    kv_heads: u32,
    head_dim: u32,
    kv_bytes_per_element: u32,
) -> u64 {
    2 * layers as u64 * kv_heads as u64 * head_dim as u64 * kv_bytes_per_element as u64
}

/// KV-cache bytes of one sequence of `context_tokens`.
pub fn kv_bytes_per_sequence(m: &ModelSpec, kv_bytes_per_element: u32, context_tokens: u64) -> u64 {
    kv_bytes_per_token(m, kv_bytes_per_element) * context_tokens
}

/// Weight bytes: parameters x bytes per parameter (FP8 1, FP16 2).
pub fn weight_bytes(m: &ModelSpec, bytes_per_param: f64) -> f64 {
    m.params_billion * 1e9 * bytes_per_param
}

/// Memory-bound decode tokens/s of one replica on `gpus` GPUs of `hbm_tbps` each, at `batch`
/// concurrent sequences each holding `kv_bytes_per_seq`: every step reads the weights once
/// and every sequence's KV once.
pub fn decode_tokens_per_s(
    hbm_tbps: f64,
    gpus: u32,
    weight_bytes: f64,
    batch: u32,
    kv_bytes_per_seq: u64,
) -> f64 {
    let bytes_per_step = weight_bytes + batch as f64 * kv_bytes_per_seq as f64;
    if bytes_per_step <= 0.0 {
        return 0.0;
    }
    hbm_tbps * 1e12 * gpus as f64 / bytes_per_step * batch as f64
}

/// USD per million tokens at `usd_per_gpu_hour` for a replica of `gpus` making `tokens_per_s`.
pub fn usd_per_million_tokens(usd_per_gpu_hour: f64, gpus: u32, tokens_per_s: f64) -> Option<f64> {
    (tokens_per_s > 0.0).then(|| usd_per_gpu_hour * gpus as f64 / (tokens_per_s * 3600.0) * 1e6)
}

/// Bytes a replica's HBM must hold when `sequences` sequences of `kv_bytes_per_seq` each
/// stay resident with the weights, with `headroom` (0.1 = 10 %) for activations and the
/// runtime. The planner's replica sizing (`load::demand`) calls this, so sizing and the
/// context-tier table agree on what lives in HBM.
pub fn hbm_working_set_bytes(
    weight_bytes: f64,
    kv_bytes_per_seq: f64,
    sequences: f64,
    headroom: f64,
) -> f64 {
    (weight_bytes + kv_bytes_per_seq * sequences) * (1.0 + headroom)
}

/// One level of the context (KV-cache) hierarchy, per GPU. NVIDIA's names (Rubin ICMS
/// announcement, docs/sources.md): G1 GPU HBM (hot KV), G2 host DRAM, G3 local SSD, G3.5
/// pooled context storage (ICMS, shared across the pod), G4 shared storage. fabplan orders
/// the tiers by read bandwidth into a GPU (HBM, host DRAM, pooled, local NVMe): KV fills the
/// fastest tier first and spills down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextTier {
    /// `hbm`, `host-dram`, `pooled`, `nvme` (or a name given with --context-tier).
    pub name: String,
    /// Capacity per GPU, GB (10^9 bytes). HBM: what the weights leave (set per deployment).
    pub capacity_gb_per_gpu: f64,
    /// Read bandwidth into one GPU, GB/s.
    pub read_gb_per_s: f64,
    /// Price of holding a GB for an hour, USD (0 where it is part of the node's price).
    pub usd_per_gb_hour: f64,
    /// Reached over the network: its KV fetches are network transfer bytes.
    pub networked: bool,
    pub source: String,
}

/// Hours in a month, for $/GB-month prices (365 x 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The tiers below HBM, with their default capacity, bandwidth and price per GPU.
/// - host DRAM: 2 TB per 8-GPU DGX H100 = 250 GB per GPU; read at PCIe Gen5 x16, 64 GB/s per
///   direction (NVIDIA DGX H100 datasheet: 2 TB system memory, PCIe Gen5 host interface;
///   PCI-SIG Gen5 32 GT/s x 16 lanes); price 0: it is part of the node (docs/cost.md).
/// - pooled context storage (G3.5, NVIDIA Inference Context Memory Storage): reached over
///   the GPU's 400 Gb/s compute NIC = 50 GB/s; capacity 2,000 GB per GPU is an assumption
///   (NVIDIA publishes no per-GPU figure; override it); priced as networked SSD, $0.17 per
///   GB-month (Google Cloud disk pricing: a 200 GB SSD persistent disk costs $34 a month).
/// - local NVMe (G3): 8 x 3.84 TB U.2 per DGX H100 = 3,840 GB per GPU, one PCIe Gen4 x4
///   drive read at 7 GB/s (DGX H100 datasheet; Gen4 x4 NVMe sequential read ~7 GB/s);
///   price 0: part of the node.
pub fn default_context_tiers() -> Vec<ContextTier> {
    vec![
        ContextTier {
            name: "host-dram".into(),
            capacity_gb_per_gpu: 250.0,
            read_gb_per_s: 64.0,
            usd_per_gb_hour: 0.0,
            networked: false,
            source: "DGX H100 datasheet (2 TB per 8 GPUs); PCIe Gen5 x16 64 GB/s".into(),
        },
        ContextTier {
            name: "pooled".into(),
            capacity_gb_per_gpu: 2000.0,
            read_gb_per_s: 50.0,
            usd_per_gb_hour: 0.17 / HOURS_PER_MONTH,
            networked: true,
            source: "NVIDIA ICMS (G3.5) over a 400 Gb/s NIC; capacity assumed; $0.17/GB-month (GCP SSD persistent disk)".into(),
        },
        ContextTier {
            name: "nvme".into(),
            capacity_gb_per_gpu: 3840.0,
            read_gb_per_s: 7.0,
            usd_per_gb_hour: 0.0,
            networked: false,
            source: "DGX H100 datasheet (8 x 3.84 TB NVMe U.2); PCIe Gen4 x4 ~7 GB/s".into(),
        },
    ]
}

/// The HBM tier of a GPU: `kv_capacity_gb_per_gpu` is what the weights leave.
pub fn hbm_tier(kv_capacity_gb_per_gpu: f64, hbm_tbps: f64) -> ContextTier {
    ContextTier {
        name: "hbm".into(),
        capacity_gb_per_gpu: kv_capacity_gb_per_gpu.max(0.0),
        read_gb_per_s: hbm_tbps * 1000.0,
        usd_per_gb_hour: 0.0,
        networked: false,
        source: "GPU catalog (HBM capacity and bandwidth); its cost is the GPU's".into(),
    }
}

/// `NAME=CAPACITY_GB:READ_GB_PER_S[:USD_PER_GB_MONTH]`: replaces the default tier of that name,
/// or adds a tier (placed by bandwidth). A tier reached over the network is named `pooled`
/// or ends in `-net`.
pub fn parse_context_tier(s: &str) -> Result<ContextTier, String> {
    let (name, rest) = s
        .split_once('=')
        .filter(|(n, r)| !n.trim().is_empty() && !r.is_empty())
        .ok_or_else(|| format!("`{s}` is not NAME=CAPACITY_GB:READ_GB_PER_S[:USD_PER_GB_MONTH]"))?;
    let name = name.trim();
    if name == "hbm" {
        return Err("the HBM tier comes from the GPU catalog; it cannot be set".into());
    }
    let parts: Vec<&str> = rest.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(format!(
            "`{rest}` is not CAPACITY_GB:READ_GB_PER_S[:USD_PER_GB_MONTH]"
        ));
    }
    let num = |t: &str, what: &str| -> Result<f64, String> {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("{what} `{t}` is not a number of at least 0"))
    };
    let capacity = num(parts[0], "capacity")?;
    let bw = num(parts[1], "bandwidth")?;
    if bw <= 0.0 {
        return Err("bandwidth must be above 0".into());
    }
    let price = match parts.get(2) {
        Some(p) => num(p, "price")? / HOURS_PER_MONTH,
        None => default_context_tiers()
            .into_iter()
            .find(|t| t.name == name)
            .map(|t| t.usd_per_gb_hour)
            .unwrap_or(0.0),
    };
    Ok(ContextTier {
        name: name.to_string(),
        capacity_gb_per_gpu: capacity,
        read_gb_per_s: bw,
        usd_per_gb_hour: price,
        networked: name == "pooled" || name.ends_with("-net"),
        source: "--context-tier".into(),
    })
}

/// The default tiers with `overrides` applied (same name replaces, a new name is added),
/// ordered by read bandwidth, fastest first.
pub fn context_tiers_with(overrides: &[ContextTier]) -> Vec<ContextTier> {
    let mut tiers = default_context_tiers();
    for o in overrides {
        match tiers.iter_mut().find(|t| t.name == o.name) {
            Some(t) => *t = o.clone(),
            None => tiers.push(o.clone()),
        }
    }
    tiers.sort_by(|a, b| b.read_gb_per_s.total_cmp(&a.read_gb_per_s));
    tiers
}

/// How much of a working set each tier holds: fastest first, each up to its capacity x
/// `gpus`. The last entry (`None`) is what no tier holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    /// GB held per tier, in the order of the tiers given.
    pub held_gb: Vec<f64>,
    /// GB no tier holds (recomputed when needed).
    pub unplaced_gb: f64,
}

impl Placement {
    /// The fraction of the working set in tier `i`.
    pub fn fraction(&self, i: usize) -> f64 {
        let total: f64 = self.held_gb.iter().sum::<f64>() + self.unplaced_gb;
        if total <= 0.0 {
            0.0
        } else {
            self.held_gb[i] / total
        }
    }

    /// The name of the slowest tier that holds a part (where the working set reaches).
    pub fn deepest<'a>(&self, tiers: &'a [ContextTier]) -> Option<&'a str> {
        self.held_gb
            .iter()
            .rposition(|g| *g > 0.0)
            .map(|i| tiers[i].name.as_str())
    }
}

/// Places `working_set_gb` on `tiers` (fastest first) of `gpus` GPUs.
pub fn place(working_set_gb: f64, tiers: &[ContextTier], gpus: f64) -> Placement {
    let mut left = working_set_gb.max(0.0);
    let held_gb = tiers
        .iter()
        .map(|t| {
            let take = left.min(t.capacity_gb_per_gpu * gpus);
            left -= take;
            take
        })
        .collect();
    Placement {
        held_gb,
        unplaced_gb: left,
    }
}

/// GPU-seconds to prefill one token: ~2 x parameters FLOPs at `mfu` of the dense peak
/// (Kaplan et al. 2020). Independent of how many GPUs share it.
pub fn prefill_gpu_seconds_per_token(params_billion: f64, dense_tflops: f64, mfu: f64) -> f64 {
    2.0 * params_billion * 1e9 / (dense_tflops * 1e12 * mfu)
}

/// GPU-seconds to fetch one token's KV from a tier: each of a replica's g GPUs reads its
/// 1/g shard at the tier's per-GPU bandwidth, so the GPU-seconds are KV bytes / bandwidth
/// whatever g is. The GPU is counted busy while it waits (no overlap with compute assumed).
/// HBM needs no fetch.
pub fn fetch_gpu_seconds_per_token(kv_bytes_per_token: u64, tier: &ContextTier) -> f64 {
    if tier.name == "hbm" {
        0.0
    } else {
        kv_bytes_per_token as f64 / (tier.read_gb_per_s * 1e9)
    }
}

/// What a cached prompt token costs when its KV sits as `placement` says: per tier the
/// cheaper of fetching it and recomputing it; what no tier holds is recomputed. Returns
/// (GPU-seconds per cached token, network bytes per cached token).
pub fn cached_token_cost(
    placement: &Placement,
    tiers: &[ContextTier],
    kv_bytes_per_token: u64,
    prefill_s_per_token: f64,
) -> (f64, f64) {
    let total: f64 = placement.held_gb.iter().sum::<f64>() + placement.unplaced_gb;
    if total <= 0.0 {
        return (0.0, 0.0);
    }
    let mut secs = placement.unplaced_gb / total * prefill_s_per_token;
    let mut net = 0.0;
    for (i, t) in tiers.iter().enumerate() {
        let f = placement.fraction(i);
        let fetch = fetch_gpu_seconds_per_token(kv_bytes_per_token, t);
        if fetch <= prefill_s_per_token {
            secs += f * fetch;
            if t.networked {
                net += f * kv_bytes_per_token as f64;
            }
        } else {
            secs += f * prefill_s_per_token;
        }
    }
    (secs, net)
}

/// Decode tokens/s of a replica of `gpus` at `batch` sequences when the sequences' KV is
/// placed on `tiers` (HBM first): each step reads the weights and the HBM-resident KV at HBM
/// bandwidth and the spilled KV at its tier's bandwidth, one after the other (an upper
/// bound on speed; KV no tier holds makes the batch impossible: 0).
pub fn decode_tokens_per_s_tiered(
    hbm_tbps: f64,
    gpus: u32,
    weight_bytes: f64,
    batch: u32,
    kv_bytes_per_seq: u64,
    tiers: &[ContextTier],
) -> f64 {
    let kv_gb = batch as f64 * kv_bytes_per_seq as f64 / 1e9;
    let p = place(kv_gb, tiers, gpus as f64);
    if p.unplaced_gb > 0.0 || batch == 0 {
        return 0.0;
    }
    let g = gpus as f64;
    let mut step_s = weight_bytes / (hbm_tbps * 1e12 * g);
    for (t, held) in tiers.iter().zip(&p.held_gb) {
        step_s += held * 1e9 / (t.read_gb_per_s * 1e9 * g);
    }
    if step_s <= 0.0 {
        return 0.0;
    }
    batch as f64 / step_s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama_70b_fp16_kv_is_327680_bytes_per_token() {
        // 2 x 80 layers x 8 KV heads x 128 dims x 2 bytes, by hand.
        let m = model("llama-3.1-70b").unwrap();
        assert_eq!(kv_bytes_per_token(m, 2), 2 * 80 * 8 * 128 * 2);
        assert_eq!(kv_bytes_per_token(m, 2), 327_680);
        // 128K tokens: 42.9 GB (docs/sources.md §5).
        let seq = kv_bytes_per_sequence(m, 2, 131_072) as f64 / 1e9;
        assert!((seq - 42.95).abs() < 0.01, "{seq}");
    }

    #[test]
    fn decode_roofline_matches_the_reference_figures() {
        // Batch 1, 70B at FP8 = 70 GB, KV ignored: H100 ~48, H200 ~69, B200 ~114 tok/s.
        let m = model("llama-3.1-70b").unwrap();
        let w = weight_bytes(m, 1.0);
        for (tbps, expect) in [(3.35, 48.0), (4.8, 69.0), (8.0, 114.0)] {
            let t = decode_tokens_per_s(tbps, 1, w, 1, 0);
            assert!((t - expect).abs() < 1.0, "{tbps}: {t}");
        }
        // $3/GPU-h at 48 tok/s on one GPU: 3 / (48 x 3600) x 1e6 = $17.36 per Mtok.
        let usd = usd_per_million_tokens(3.0, 1, 48.0).unwrap();
        assert!((usd - 17.361).abs() < 0.001, "{usd}");
    }

    #[test]
    fn context_spills_fastest_first_and_fetch_beats_recompute_by_hand() {
        let mut tiers = vec![hbm_tier(10.0, 3.35)];
        tiers.extend(default_context_tiers());
        let names: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["hbm", "host-dram", "pooled", "nvme"]);
        // 300 GB on one GPU: 10 in HBM, 250 in host DRAM, the last 40 in pooled storage.
        let p = place(300.0, &tiers, 1.0);
        assert_eq!(p.held_gb, vec![10.0, 250.0, 40.0, 0.0]);
        assert_eq!(p.unplaced_gb, 0.0);
        assert_eq!(p.deepest(&tiers), Some("pooled"));
        // 70B at FP8 on H100 (1,979 dense TFLOPS), MFU 0.5: 2 x 70e9 / 989.5e12 s per token.
        let pre = prefill_gpu_seconds_per_token(70.0, 1979.0, 0.5);
        assert!((pre - 1.414856e-4).abs() < 1e-9, "{pre}");
        // Llama 70B KV 327,680 B: DRAM 327,680 / 64e9 = 5.12 us; pooled / 50e9 = 6.5536 us.
        assert!((fetch_gpu_seconds_per_token(327_680, &tiers[1]) - 5.12e-6).abs() < 1e-12);
        assert!((fetch_gpu_seconds_per_token(327_680, &tiers[2]) - 6.5536e-6).abs() < 1e-12);
        let (secs, net) = cached_token_cost(&p, &tiers, 327_680, pre);
        let expect = (250.0 * 5.12e-6 + 40.0 * 6.5536e-6) / 300.0;
        assert!((secs - expect).abs() < 1e-12, "{secs} vs {expect}");
        assert!((net - 40.0 / 300.0 * 327_680.0).abs() < 1e-6, "{net}");
        // A tier slower than recompute is not fetched from: recompute instead, no bytes.
        let slow = vec![ContextTier {
            name: "pooled".into(),
            capacity_gb_per_gpu: 100.0,
            read_gb_per_s: 0.001,
            usd_per_gb_hour: 0.0,
            networked: true,
            source: String::new(),
        }];
        let p = place(50.0, &slow, 1.0);
        assert_eq!(cached_token_cost(&p, &slow, 327_680, pre), (pre, 0.0));
        // Beyond every tier: recomputed.
        let p = place(150.0, &slow, 1.0);
        assert!((p.unplaced_gb - 50.0).abs() < 1e-9);
    }

    #[test]
    fn decode_with_spilled_kv_reads_it_at_the_tier_bandwidth() {
        // One H100 (3.35 TB/s), 70 GB of weights, one sequence of 10 GB KV, 5 GB of HBM left:
        // step = 70e9/3.35e12 + 5e9/3.35e12 + 5e9/64e9 = 0.100514 s -> 9.949 tok/s.
        let mut tiers = vec![hbm_tier(5.0, 3.35)];
        tiers.extend(default_context_tiers());
        let t = decode_tokens_per_s_tiered(3.35, 1, 70e9, 1, 10_000_000_000, &tiers);
        let step = 70e9 / 3.35e12 + 5e9 / 3.35e12 + 5e9 / 64e9;
        assert!((t - 1.0 / step).abs() < 1e-9, "{t}");
        assert!((t - 9.949).abs() < 0.001, "{t}");
        // All in HBM: the plain roofline.
        let all = decode_tokens_per_s_tiered(3.35, 1, 70e9, 1, 1_000_000_000, &tiers);
        assert!((all - decode_tokens_per_s(3.35, 1, 70e9, 1, 1_000_000_000)).abs() < 1e-9);
    }

    #[test]
    fn tier_overrides_parse_and_reorder() {
        let t = parse_context_tier("host-dram=512:450:0").unwrap();
        assert_eq!((t.capacity_gb_per_gpu, t.read_gb_per_s), (512.0, 450.0));
        let tiers = context_tiers_with(&[t, parse_context_tier("cxl=128:100").unwrap()]);
        let names: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["host-dram", "cxl", "pooled", "nvme"]);
        let p = parse_context_tier("pooled=100:25:1.46").unwrap();
        assert!((p.usd_per_gb_hour - 0.002).abs() < 1e-12 && p.networked);
        assert!(parse_context_tier("hbm=1:1").is_err());
        assert!(parse_context_tier("nvme=1").is_err());
        assert!(parse_context_tier("nvme=1:0").is_err());
        assert!(parse_context_tier("nvme=-1:3").is_err());
    }
}
