//! The GPU model YAML format: raw serde types with spans, validation into [`GpuModel`], and
//! the renderer that `fabplan import nvidia-smi` uses. One format for built-in models, user
//! definitions (`--gpu-file`) and imports; `docs/mig.md` documents it.

use serde::{Deserialize, Serialize};
use serde_saphyr::{DoubleQuoted, FlowMap, FlowSeq, Location, Spanned};

use super::{parse_pci_id, pci_id_text, GpuModel};
use crate::diag::{Diagnostic, Severity, Target};
use crate::error::InputError;
use crate::limits;
use crate::mig::{Engines, MigProfile, MigTable, Provenance};
use crate::source::{location_span, SourceFile};

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
    // Whole numbers, read as numbers so a negative or fractional value gets its range
    // (FP009) rather than a type error.
    #[serde(default)]
    tdp_w: Option<Spanned<f64>>,
    #[serde(default)]
    nvlink_gen: Option<Spanned<f64>>,
    #[serde(default)]
    nvlink_gbytes_per_s: Option<Spanned<f64>>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    mig: Option<Spanned<RawMig>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMig {
    placement_units: Spanned<u8>,
    compute_slices: Spanned<u8>,
    memory_slices: Spanned<u8>,
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

/// The span of a location, at least one byte wide (a mapping's start has no width).
fn label_span(loc: &Location) -> crate::diag::Span {
    let s = location_span(loc);
    crate::diag::Span {
        start: s.start,
        len: s.len.max(1),
    }
}

/// How to write a GPU model file (the help of a problem that has no more specific one).
const FORMAT_HELP: &str =
    "see docs/mig.md for the GPU model format, or `fabplan import nvidia-smi` to generate one";

/// Parses and validates one GPU model definition, first error only, as an `InputError`
/// (the built-in catalog, and checks of generated files). `origin` names the file.
// The error carries the file text for miette; it is built only on the failure path.
#[allow(clippy::result_large_err)]
pub fn parse_gpu_model_yaml(text: &str, origin: &str) -> Result<GpuModel, InputError> {
    let file = SourceFile::new(origin, text);
    let (model, diags) = load_gpu_model(&file);
    match (
        model,
        diags.into_iter().find(|d| d.severity == Severity::Error),
    ) {
        (Some(m), None) => Ok(m),
        (_, first) => {
            let d = first.unwrap_or_else(|| Diagnostic::error("FP002", "invalid GPU model"));
            let span = d.labels.first().and_then(|l| match l.target {
                Target::Span(s) => Some(s.start..s.start + s.len.max(1)),
                Target::Entity(..) => None,
            });
            let mut e = InputError::at(d.code, origin, text, span, d.message);
            if let Some(l) = d.labels.first() {
                e = e.with_label(l.text.clone());
            }
            Err(e.with_help(d.help.unwrap_or_else(|| FORMAT_HELP.to_string())))
        }
    }
}

/// Loads one GPU model file, reporting every problem of it, each at its span in the file:
/// the syntax and schema error of the parse (FP001-FP007), then every key, name, PCI id and
/// number out of its range (FP009, `crate::limits`, docs/limits.md) and every problem of the
/// MIG table (FP010). The model only when there is no error.
pub fn load_gpu_model(file: &SourceFile) -> (Option<GpuModel>, Vec<Diagnostic>) {
    // The same parse budgets as every other input (alias expansion, depth, size).
    let raw: RawModel = match crate::source::parse_yaml_as(file, crate::source::GPU_MODEL_DOC) {
        Ok(raw) => raw,
        Err(d) => return (None, vec![d]),
    };
    let mut diags = Vec::new();
    let mut fail =
        |loc: &Location, code: &'static str, message: String, label: &str, help: &str| {
            diags.push(
                Diagnostic::error(code, message)
                    .at(label_span(loc), label)
                    .help(help),
            );
        };

    let key = raw.key.value.trim().to_string();
    if key.is_empty()
        || !key.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == '_'
        })
    {
        fail(
            &raw.key.referenced,
            "FP009",
            format!("GPU key `{key}` must be lowercase letters, digits, `-`, `.` or `_`"),
            "not a GPU key",
            "for example `key: h100-80gb`",
        );
    }
    if raw.name.value.trim().is_empty() {
        fail(
            &raw.name.referenced,
            "FP009",
            "GPU `name` is empty".into(),
            "empty",
            "use the name nvidia-smi prints",
        );
    }
    // Every number against its range (crate::limits, docs/limits.md); a value out of range
    // is reported and read as 0 so the other checks still run.
    let mut number = |v: Option<Spanned<f64>>, key: &str, r: &limits::Range, whole: bool| match v {
        Some(v) if whole && r.contains(v.value) && v.value.fract() != 0.0 => {
            fail(
                &v.referenced,
                "FP009",
                format!("`{key}` must be a whole number, got {}", v.value),
                "not a whole number",
                &format!("valid range for `{key}`: whole numbers, {}", r.describe()),
            );
            None
        }
        Some(v) if !r.contains(v.value) => {
            fail(
                &v.referenced,
                "FP009",
                format!("`{key}` {}", limits::out_of_range(v.value, r)),
                "out of range",
                &format!("valid range for `{key}`: {} ({})", r.describe(), r.why),
            );
            None
        }
        Some(v) => Some(v.value),
        None => Some(0.0),
    };
    let memory_gib = number(raw.memory_gib, "memory_gib", &limits::GPU_MEMORY_GIB, false);
    let hbm_tbps = number(raw.hbm_tbps, "hbm_tbps", &limits::HBM_TBPS, false);
    let tdp_w = number(raw.tdp_w, "tdp_w", &limits::TDP_W, true);
    let nvlink_gen = number(raw.nvlink_gen, "nvlink_gen", &limits::NVLINK_GEN, true);
    let nvlink_gbytes_per_s = number(
        raw.nvlink_gbytes_per_s,
        "nvlink_gbytes_per_s",
        &limits::NVLINK_GBYTES_PER_S,
        true,
    );
    let mut profile_memory = Vec::new();
    if let Some(mig) = &raw.mig {
        for p in &mig.value.profiles {
            profile_memory.push(match &p.value.memory_gib {
                Some(m) => number(
                    Some(Spanned::new(m.value, m.referenced, m.defined)),
                    "memory_gib",
                    &limits::MIG_MEMORY_GIB,
                    false,
                )
                .map(Some),
                None => Some(None),
            });
        }
    }
    let mut pci_device_ids = Vec::new();
    for id in &raw.pci_device_ids {
        match parse_pci_id(&id.value) {
            Some(v) => pci_device_ids.push(v),
            None => fail(
                &id.referenced,
                "FP009",
                format!("`{}` is not a PCI id", id.value),
                "not a PCI id",
                "write 8 hex digits after 0x, device then vendor, e.g. \"0x233010DE\"",
            ),
        }
    }
    let mig = raw
        .mig
        .map(|mig| mig_table(mig, profile_memory, &mut diags))
        .unwrap_or(Ok(None));
    // In file order (numbers are checked before the PCI ids and the MIG table).
    diags.sort_by_key(|d| match d.labels.first().map(|l| &l.target) {
        Some(Target::Span(s)) => s.start,
        _ => usize::MAX,
    });
    if crate::diag::has_errors(&diags) {
        return (None, diags);
    }
    let (
        Ok(mig),
        Some(memory_gib),
        Some(hbm_tbps),
        Some(tdp_w),
        Some(nvlink_gen),
        Some(nvlink_gbytes_per_s),
    ) = (
        mig,
        memory_gib,
        hbm_tbps,
        tdp_w,
        nvlink_gen,
        nvlink_gbytes_per_s,
    )
    else {
        return (None, diags);
    };
    let model = GpuModel {
        key,
        name: raw.name.value.trim().to_string(),
        aliases: raw.aliases,
        pci_device_ids,
        memory_gib,
        hbm_tbps,
        tdp_w: tdp_w as u32,
        nvlink_gen: nvlink_gen as u8,
        nvlink_gbytes_per_s: nvlink_gbytes_per_s as u32,
        sources: raw.sources,
        mig,
    };
    (Some(model), diags)
}

/// The names a GPU model file declares (key, name, aliases), read loosely from a file that
/// did not load: references to them are not reported again as unknown models.
pub fn declared_gpu_names(file: &SourceFile) -> Vec<String> {
    #[derive(Deserialize)]
    struct Names {
        #[serde(default)]
        key: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    }
    let opts = crate::source::parse_options;
    // The strict parse when the file has the format's shape (its values were refused), else
    // a loose one (an unknown key elsewhere in the file).
    let names: Names = match serde_saphyr::from_str_with_options::<RawModel>(&file.text, opts()) {
        Ok(raw) => Names {
            key: Some(raw.key.value),
            name: Some(raw.name.value),
            aliases: raw.aliases,
        },
        Err(_) => match serde_saphyr::from_str_with_options(&file.text, opts()) {
            Ok(n) => n,
            Err(_) => return Vec::new(),
        },
    };
    names
        .key
        .into_iter()
        .chain(names.name)
        .chain(names.aliases)
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The MIG table of a model, every problem of it reported (FP010, at the profile or key it
/// is about). `memory` is each profile's checked `memory_gib` (`None`: out of range, already
/// reported). `Err` when any problem was found.
fn mig_table(
    mig: Spanned<RawMig>,
    memory: Vec<Option<Option<f64>>>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Option<MigTable>, ()> {
    const HELP: &str = "copy widths and starts from `nvidia-smi mig -lgipp` ({starts}:width) and caps from `-lgip` Total";
    let mig_loc = mig.referenced;
    let mig = mig.value;
    let mut bad = false;
    let mut report = |loc: &Location, message: String, label: &str| {
        diags.push(
            Diagnostic::error("FP010", format!("invalid MIG table: {message}"))
                .at(label_span(loc), label)
                .help(HELP),
        );
    };
    // Slice counts of the GPU: every profile's slices are a share of them (the MIG user
    // guide's profile names, `<compute>g.<memory>gb`, count slices of these totals).
    for (key, v) in [
        ("compute_slices", &mig.compute_slices),
        ("memory_slices", &mig.memory_slices),
    ] {
        if v.value == 0 {
            report(&v.referenced, format!("`{key}` is 0"), "no slices");
            bad = true;
        }
    }
    let mut profiles = Vec::new();
    let mut locations = Vec::new();
    for (p, memory_gib) in mig.profiles.into_iter().zip(memory) {
        locations.push(p.referenced);
        let p = p.value;
        for (key, have, total) in [
            ("compute_slices", p.compute_slices, mig.compute_slices.value),
            ("memory_slices", p.memory_slices, mig.memory_slices.value),
        ] {
            if total > 0 && have > total {
                report(
                    &locations[locations.len() - 1],
                    format!(
                        "profile `{}` has {have} {key} but the GPU has {total}",
                        p.name
                    ),
                    "more slices than the GPU",
                );
                bad = true;
            }
        }
        profiles.push(MigProfile {
            name: p.name,
            id: p.id,
            compute_slices: p.compute_slices,
            memory_slices: p.memory_slices,
            size: p.size,
            starts: p.starts,
            max_instances: p.max_instances,
            memory_gib: memory_gib.unwrap_or(None),
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
    match MigTable::check(
        mig.placement_units.value,
        mig.compute_slices.value,
        mig.memory_slices.value,
        mig.engine_totals.map(Engines::from),
        mig.notes,
        profiles,
    ) {
        Ok(table) if !bad => Ok(Some(table)),
        Ok(_) => Err(()),
        Err(errors) => {
            for e in errors {
                let (loc, label) = match e.profile {
                    Some(i) => (locations[i], "this profile"),
                    None if e.message.contains("placement_units") => {
                        (mig.placement_units.referenced, "out of range")
                    }
                    None => (mig_loc, "this table"),
                };
                report(&loc, e.message, label);
            }
            Err(())
        }
    }
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
