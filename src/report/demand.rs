//! The part of a demand file (docs/demand-format.md) the report reads: inference workloads'
//! model specs, for token economics. Unknown keys are ignored here; `fabplan plan` validates
//! the whole file.

use serde::Deserialize;

use super::DemandModel;

#[derive(Debug, Deserialize)]
struct RawDemand {
    #[serde(default)]
    workloads: Vec<RawWorkload>,
}

#[derive(Debug, Deserialize)]
struct RawWorkload {
    name: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    gpu_models: Vec<String>,
    #[serde(default)]
    model: Option<RawModelSpec>,
}

#[derive(Debug, Deserialize)]
struct RawModelSpec {
    parameters_b: f64,
    layers: u32,
    kv_heads: u32,
    head_dim: u32,
    dtype: String,
    context_tokens: u64,
    concurrent_sequences: u32,
}

/// Bytes per weight of a dtype name.
pub fn dtype_bytes(dtype: &str) -> Option<f64> {
    Some(match dtype {
        "fp32" => 4.0,
        "bf16" | "fp16" => 2.0,
        "fp8" | "int8" => 1.0,
        "fp4" | "int4" => 0.5,
        _ => return None,
    })
}

/// Inference workloads with a `model:` spec, in file order. Errors are sentences for exit 2.
pub fn inference_models(text: &str) -> Result<Vec<DemandModel>, String> {
    let raw: RawDemand = serde_saphyr::from_str(text)
        .map_err(|e| format!("not a demand file: {}", e.without_snippet()))?;
    let mut out = Vec::new();
    for w in raw.workloads {
        let Some(m) = w.model else { continue };
        let bytes_per_param = dtype_bytes(&m.dtype).ok_or_else(|| {
            format!(
                "workload `{}`: unknown dtype `{}` (fp32, bf16, fp16, fp8, int8, fp4, int4)",
                w.name, m.dtype
            )
        })?;
        out.push(DemandModel {
            workload: w.name,
            tenant: w.tenant,
            gpu_models: w.gpu_models,
            parameters_b: m.parameters_b,
            layers: m.layers,
            kv_heads: m.kv_heads,
            head_dim: m.head_dim,
            bytes_per_param,
            context_tokens: m.context_tokens,
            concurrent_sequences: m.concurrent_sequences,
        });
    }
    Ok(out)
}
