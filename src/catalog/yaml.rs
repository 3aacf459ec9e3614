//! The GPU model YAML format: raw serde types with spans, validation into [`GpuModel`], and
//! the renderer that `fabplan import nvidia-smi` uses. One format for built-in models, user
//! definitions (`--gpu-file`) and imports; `docs/mig.md` documents it.

use std::ops::Range;

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::{parse_pci_id, pci_id_text, GpuModel};
use crate::error::InputError;
use crate::limits;
use crate::mig::{Engines, MigProfile, MigTable, Provenance};

const CODE: &str = "fabplan::gpu_model";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    key: Spanned<String>,
    name: Spanned<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    pci_device_ids: Vec<Spanned<String>>,
    #[serde(default)]
    memory_gib: Option<Spanned<f64>>,
    #[serde(default)]
    hbm_tbps: Option<Spanned<f64>>,
    #[serde(default)]
    tdp_w: Option<Spanned<u32>>,
    #[serde(default)]
    nvlink_gen: Option<Spanned<u8>>,
    #[serde(default)]
    nvlink_gbytes_per_s: Option<Spanned<u32>>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    mig: Option<Spanned<RawMig>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMig {
    placement_units: Spanned<u8>,
    compute_slices: u8,
    memory_slices: u8,
    #[serde(default)]
    engine_totals: Option<RawEngines>,
    #[serde(default)]
    notes: Vec<String>,
    profiles: Vec<Spanned<RawProfile>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawEngines {
    nvdec: u16,
    nvenc: u16,
    jpeg: u16,
    ofa: u16,
}

impl From<RawEngines> for Engines {
    fn from(r: RawEngines) -> Engines {
        Engines {
            nvdec: r.nvdec,
            nvenc: r.nvenc,
            jpeg: r.jpeg,
            ofa: r.ofa,
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawProvenance {
    Captured,
    Inferred,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    id: u32,
    compute_slices: u8,
    memory_slices: u8,
    size: u8,
    starts: Vec<u8>,
    max_instances: u8,
    #[serde(default)]
    memory_gib: Option<Spanned<f64>>,
    #[serde(default)]
    sms: Option<u32>,
    #[serde(default)]
    copy_engines: Option<u32>,
    #[serde(default)]
    engines: Option<RawEngines>,
    provenance: RawProvenance,
    #[serde(default)]
    source: String,
}

/// A spanned integer as a spanned `f64`, for range checks.
fn as_f64<T: limits::Num>(v: &Option<Spanned<T>>) -> Option<Spanned<f64>> {
    v.as_ref()
        .map(|v| Spanned::new(v.value.as_f64(), v.referenced, v.defined))
}

/// Byte range of a location in string input (the one place a saphyr location becomes a
/// byte range; `InputError::at` turns it into a miette span).
fn byte_range(loc: &Location) -> Option<Range<usize>> {
    let span = loc.span();
    let start = span.byte_offset()? as usize;
    let len = span.byte_len().unwrap_or(0) as usize;
    Some(start..start + len.max(1))
}

/// Parses and validates one GPU model definition. `origin` names the file in diagnostics.
// The error carries the file text for miette; it is built only on the failure path.
#[allow(clippy::result_large_err)]
pub fn parse_gpu_model_yaml(text: &str, origin: &str) -> Result<GpuModel, InputError> {
    // The same parse budgets as every other input (alias expansion, depth, size).
    let raw: RawModel = serde_saphyr::from_str_with_options(text, crate::source::parse_options())
        .map_err(|e| {
        let span = e.location().as_ref().and_then(byte_range);
        InputError::at(CODE, origin, text, span, format!("invalid GPU model: {}", e.without_snippet()))
            .with_help("see docs/mig.md for the GPU model format, or `fabplan import nvidia-smi` to generate one")
    })?;
    let fail = |loc: &Location, message: String, help: &str| {
        InputError::at(CODE, origin, text, byte_range(loc), message).with_help(help.to_string())
    };

    let key = raw.key.value.trim().to_string();
    if key.is_empty()
        || !key.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == '_'
        })
    {
        return Err(fail(
            &raw.key.referenced,
            format!("GPU key `{key}` must be lowercase letters, digits, `-`, `.` or `_`"),
            "for example `key: h100-80gb`",
        ));
    }
    if raw.name.value.trim().is_empty() {
        return Err(fail(
            &raw.name.referenced,
            "GPU `name` is empty".into(),
            "use the name nvidia-smi prints",
        ));
    }
    // Every number against its range (crate::limits, docs/limits.md).
    let check = |v: Option<Spanned<f64>>, key: &str, r: &limits::Range| match v {
        Some(v) if !r.contains(v.value) => Err(fail(
            &v.referenced,
            format!("`{key}` {}", limits::out_of_range(v.value, r)),
            &format!("valid range for `{key}`: {} ({})", r.describe(), r.why),
        )),
        Some(v) => Ok(v.value),
        None => Ok(0.0),
    };
    let memory_gib = check(raw.memory_gib, "memory_gib", &limits::GPU_MEMORY_GIB)?;
    let hbm_tbps = check(raw.hbm_tbps, "hbm_tbps", &limits::HBM_TBPS)?;
    let tdp_w = check(as_f64(&raw.tdp_w), "tdp_w", &limits::TDP_W)? as u32;
    let nvlink_gen = check(as_f64(&raw.nvlink_gen), "nvlink_gen", &limits::NVLINK_GEN)? as u8;
    let nvlink_gbytes_per_s = check(
        as_f64(&raw.nvlink_gbytes_per_s),
        "nvlink_gbytes_per_s",
        &limits::NVLINK_GBYTES_PER_S,
    )? as u32;
    let mut pci_device_ids = Vec::new();
    for id in &raw.pci_device_ids {
        match parse_pci_id(&id.value) {
            Some(v) => pci_device_ids.push(v),
            None => {
                return Err(fail(
                    &id.referenced,
                    format!("`{}` is not a PCI id", id.value),
                    "write 8 hex digits after 0x, device then vendor, e.g. \"0x233010DE\"",
                ))
            }
        }
    }
    let mig = match raw.mig {
        None => None,
        Some(mig) => {
            let mig_loc = mig.referenced;
            let mig = mig.value;
            let mut profiles = Vec::new();
            let mut locations = Vec::new();
            for p in mig.profiles {
                locations.push(p.referenced);
                let p = p.value;
                let memory_gib = match p.memory_gib {
                    Some(m) => Some(check(Some(m), "memory_gib", &limits::MIG_MEMORY_GIB)?),
                    None => None,
                };
                profiles.push(MigProfile {
                    name: p.name,
                    id: p.id,
                    compute_slices: p.compute_slices,
                    memory_slices: p.memory_slices,
                    size: p.size,
                    starts: p.starts,
                    max_instances: p.max_instances,
                    memory_gib,
                    sms: p.sms,
                    copy_engines: p.copy_engines,
                    engines: p.engines.map(Engines::from),
                    provenance: match p.provenance {
                        RawProvenance::Captured => Provenance::Captured,
                        RawProvenance::Inferred => Provenance::Inferred,
                    },
                    source: p.source,
                });
            }
            let table = MigTable::new(
                mig.placement_units.value,
                mig.compute_slices,
                mig.memory_slices,
                mig.engine_totals.map(Engines::from),
                mig.notes,
                profiles,
            )
            .map_err(|e| {
                let loc = match e.profile {
                    Some(i) => locations[i],
                    None if e.message.contains("placement_units") => mig.placement_units.referenced,
                    None => mig_loc,
                };
                fail(
                    &loc,
                    format!("invalid MIG table: {}", e.message),
                    "copy widths and starts from `nvidia-smi mig -lgipp` ({starts}:width) and caps from `-lgip` Total",
                )
            })?;
            Some(table)
        }
    };
    Ok(GpuModel {
        key,
        name: raw.name.value.trim().to_string(),
        aliases: raw.aliases,
        pci_device_ids,
        memory_gib,
        hbm_tbps,
        tdp_w,
        nvlink_gen,
        nvlink_gbytes_per_s,
        sources: raw.sources,
        mig,
    })
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialize")
}

fn engines_text(e: &Engines) -> String {
    format!(
        "{{nvdec: {}, nvenc: {}, jpeg: {}, ofa: {}}}",
        e.nvdec, e.nvenc, e.jpeg, e.ofa
    )
}

fn list_inline(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

/// Renders a model in the canonical layout (the built-in files are in exactly this form, which
/// a test checks). `header` lines are written as `#` comments after the first line.
pub fn render_gpu_model_yaml(model: &GpuModel, header: &[String]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    s.push_str("# fabplan GPU model definition (format: docs/mig.md)\n");
    for h in header {
        let _ = writeln!(s, "# {h}");
    }
    let _ = writeln!(s, "key: {}", quote(&model.key));
    let _ = writeln!(s, "name: {}", quote(&model.name));
    let _ = writeln!(
        s,
        "aliases: {}",
        list_inline(model.aliases.iter().map(|a| quote(a)))
    );
    let _ = writeln!(
        s,
        "pci_device_ids: {}",
        list_inline(
            model
                .pci_device_ids
                .iter()
                .map(|&id| quote(&pci_id_text(id)))
        )
    );
    let _ = writeln!(s, "memory_gib: {}", model.memory_gib);
    let _ = writeln!(s, "hbm_tbps: {}", model.hbm_tbps);
    let _ = writeln!(s, "tdp_w: {}", model.tdp_w);
    let _ = writeln!(s, "nvlink_gen: {}", model.nvlink_gen);
    let _ = writeln!(s, "nvlink_gbytes_per_s: {}", model.nvlink_gbytes_per_s);
    if model.sources.is_empty() {
        s.push_str("sources: []\n");
    } else {
        s.push_str("sources:\n");
        for src in &model.sources {
            let _ = writeln!(s, "  - {}", quote(src));
        }
    }
    if let Some(mig) = &model.mig {
        s.push_str("mig:\n");
        let _ = writeln!(s, "  placement_units: {}", mig.placement_units);
        let _ = writeln!(s, "  compute_slices: {}", mig.compute_slices);
        let _ = writeln!(s, "  memory_slices: {}", mig.memory_slices);
        if let Some(e) = &mig.engine_totals {
            let _ = writeln!(s, "  engine_totals: {}", engines_text(e));
        }
        if !mig.notes.is_empty() {
            s.push_str("  notes:\n");
            for n in &mig.notes {
                let _ = writeln!(s, "    - {}", quote(n));
            }
        }
        s.push_str("  profiles:\n");
        for p in &mig.profiles {
            let _ = writeln!(s, "    - name: {}", quote(&p.name));
            let _ = writeln!(s, "      id: {}", p.id);
            let _ = writeln!(s, "      compute_slices: {}", p.compute_slices);
            let _ = writeln!(s, "      memory_slices: {}", p.memory_slices);
            let _ = writeln!(s, "      size: {}", p.size);
            let _ = writeln!(
                s,
                "      starts: {}",
                list_inline(p.starts.iter().map(|x| x.to_string()))
            );
            let _ = writeln!(s, "      max_instances: {}", p.max_instances);
            if let Some(m) = p.memory_gib {
                let _ = writeln!(s, "      memory_gib: {m}");
            }
            if let Some(v) = p.sms {
                let _ = writeln!(s, "      sms: {v}");
            }
            if let Some(v) = p.copy_engines {
                let _ = writeln!(s, "      copy_engines: {v}");
            }
            if let Some(e) = &p.engines {
                let _ = writeln!(s, "      engines: {}", engines_text(e));
            }
            let _ = writeln!(s, "      provenance: {}", p.provenance.as_str());
            let _ = writeln!(s, "      source: {}", quote(&p.source));
        }
    }
    s
}
