//! The GPU model YAML format: raw serde types with spans, validation into [`GpuModel`], and
//! the renderer that `fabplan import nvidia-smi` uses. One format for built-in models, user
//! definitions (`--gpu-file`) and imports; `docs/mig.md` documents it.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_saphyr::{DoubleQuoted, FlowMap, FlowSeq, Location, Spanned};

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

// The writer side of the format: borrowed views of a model in the canonical key order,
// serialized by serde-saphyr (never by string building, docs/conventions: issue 11 section 4).
// Strings are double-quoted (a name with `:`, `#` or quotes stays one scalar; PCI ids are not
// read as hex integers); short lists and engine counts are flow style, one line each.

#[derive(Serialize)]
struct OutModel<'a> {
    key: DoubleQuoted<&'a str>,
    name: DoubleQuoted<&'a str>,
    aliases: FlowSeq<Vec<DoubleQuoted<&'a str>>>,
    pci_device_ids: FlowSeq<Vec<DoubleQuoted<String>>>,
    memory_gib: f64,
    hbm_tbps: f64,
    tdp_w: u32,
    nvlink_gen: u8,
    nvlink_gbytes_per_s: u32,
    sources: Vec<DoubleQuoted<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mig: Option<OutMig<'a>>,
}

#[derive(Serialize)]
struct OutMig<'a> {
    placement_units: u8,
    compute_slices: u8,
    memory_slices: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    engine_totals: Option<FlowMap<&'a Engines>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<DoubleQuoted<&'a str>>,
    profiles: Vec<OutProfile<'a>>,
}

#[derive(Serialize)]
struct OutProfile<'a> {
    name: DoubleQuoted<&'a str>,
    id: u32,
    compute_slices: u8,
    memory_slices: u8,
    size: u8,
    starts: FlowSeq<&'a [u8]>,
    max_instances: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_gib: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    copy_engines: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    engines: Option<FlowMap<&'a Engines>>,
    provenance: Provenance,
    source: DoubleQuoted<&'a str>,
}

fn quoted(items: &[String]) -> Vec<DoubleQuoted<&str>> {
    items.iter().map(|s| DoubleQuoted(s.as_str())).collect()
}

/// Renders a model in the canonical layout (the built-in files are in exactly this form, which
/// a test checks). `header` lines are written as `#` comments after the first line (a line
/// break inside a header entry starts a new comment line, so a header cannot leak into the
/// document).
pub fn render_gpu_model_yaml(model: &GpuModel, header: &[String]) -> String {
    let out = OutModel {
        key: DoubleQuoted(&model.key),
        name: DoubleQuoted(&model.name),
        aliases: FlowSeq(quoted(&model.aliases)),
        pci_device_ids: FlowSeq(
            model
                .pci_device_ids
                .iter()
                .map(|&id| DoubleQuoted(pci_id_text(id)))
                .collect(),
        ),
        memory_gib: model.memory_gib,
        hbm_tbps: model.hbm_tbps,
        tdp_w: model.tdp_w,
        nvlink_gen: model.nvlink_gen,
        nvlink_gbytes_per_s: model.nvlink_gbytes_per_s,
        sources: quoted(&model.sources),
        mig: model.mig.as_ref().map(|mig| OutMig {
            placement_units: mig.placement_units,
            compute_slices: mig.compute_slices,
            memory_slices: mig.memory_slices,
            engine_totals: mig.engine_totals.as_ref().map(FlowMap),
            notes: quoted(&mig.notes),
            profiles: mig
                .profiles
                .iter()
                .map(|p| OutProfile {
                    name: DoubleQuoted(&p.name),
                    id: p.id,
                    compute_slices: p.compute_slices,
                    memory_slices: p.memory_slices,
                    size: p.size,
                    starts: FlowSeq(&p.starts),
                    max_instances: p.max_instances,
                    memory_gib: p.memory_gib,
                    sms: p.sms,
                    copy_engines: p.copy_engines,
                    engines: p.engines.as_ref().map(FlowMap),
                    provenance: p.provenance,
                    source: DoubleQuoted(&p.source),
                })
                .collect(),
        }),
    };
    let mut s = String::from("# fabplan GPU model definition (format: docs/mig.md)\n");
    for line in header.iter().flat_map(|h| h.lines()) {
        s.push_str("# ");
        s.push_str(line);
        s.push('\n');
    }
    // As `util::to_yaml`, with list items indented under their key (the layout the built-in
    // files have had since they were written by hand).
    let opts =
        serde_saphyr::ser_options! { prefer_block_scalars: false, compact_list_indent: false };
    s.push_str(&serde_saphyr::to_string_with_options(&out, opts).expect("plain data serializes"));
    s
}
