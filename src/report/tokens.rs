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
}
