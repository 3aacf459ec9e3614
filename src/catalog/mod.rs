//! GPU models with their MIG profile tables: data and lookup.
//!
//! The built-in models live in `src/catalog/gpus/*.yaml`, one file per model, in the same
//! format that `fabplan import nvidia-smi` writes and that users pass with `--gpu-file`
//! (documented in `docs/mig.md`). They are parsed once, on first use.
//!
//! Sources: tests/fixtures/reference-mig/profiles-*.yaml and docs/mig-rules.md (MIG tables, each
//! profile marked captured or inferred), `docs/sources.md` sections 1 and 5 (HBM, TDP,
//! NVLink), `docs/sources.md` (PCI device ids). Each file's `sources` list says which.

pub mod switches;
mod yaml;

use std::sync::OnceLock;

use crate::mig::MigTable;

pub use yaml::{declared_gpu_names, load_gpu_model, parse_gpu_model_yaml, render_gpu_model_yaml};

/// One GPU model.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuModel {
    /// Stable catalog key, lowercase, e.g. `h100-80gb`.
    pub key: String,
    /// Product name as `nvidia-smi` prints it, e.g. `NVIDIA H100 80GB HBM3`.
    pub name: String,
    /// Other names that resolve to this model (case-insensitive).
    pub aliases: Vec<String>,
    /// PCI ids as `0xDDDDVVVV` (device in the high 16 bits, vendor 0x10DE in the low).
    pub pci_device_ids: Vec<u32>,
    /// Nominal memory capacity (the vendor's figure; the driver reports a little less).
    pub memory_gib: f64,
    /// Memory bandwidth in TB/s (HBM, or GDDR7 on RTX PRO 6000). 0 = not given.
    pub hbm_tbps: f64,
    /// Board power in W. 0 = not given.
    pub tdp_w: u32,
    /// NVLink generation; 0 = no NVLink or not given.
    pub nvlink_gen: u8,
    /// NVLink bandwidth per GPU in GB/s (both directions). 0 = none or not given.
    pub nvlink_gbytes_per_s: u32,
    /// Where the numbers come from.
    pub sources: Vec<String>,
    /// The MIG profile table, when the GPU supports MIG.
    pub mig: Option<MigTable>,
}

impl GpuModel {
    /// Whether `name` is this model's key, name or an alias (case-insensitive).
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        self.key.eq_ignore_ascii_case(name)
            || self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// The GPU catalog: models sorted by key.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    models: Vec<GpuModel>,
}

/// The built-in model files, embedded at compile time.
const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "src/catalog/gpus/a100-40gb.yaml",
        include_str!("gpus/a100-40gb.yaml"),
    ),
    (
        "src/catalog/gpus/a100-80gb.yaml",
        include_str!("gpus/a100-80gb.yaml"),
    ),
    ("src/catalog/gpus/b200.yaml", include_str!("gpus/b200.yaml")),
    (
        "src/catalog/gpus/gb200.yaml",
        include_str!("gpus/gb200.yaml"),
    ),
    (
        "src/catalog/gpus/h100-80gb.yaml",
        include_str!("gpus/h100-80gb.yaml"),
    ),
    (
        "src/catalog/gpus/h100-nvl-94gb.yaml",
        include_str!("gpus/h100-nvl-94gb.yaml"),
    ),
    (
        "src/catalog/gpus/h200-141gb.yaml",
        include_str!("gpus/h200-141gb.yaml"),
    ),
    (
        "src/catalog/gpus/rtx-pro-6000-blackwell.yaml",
        include_str!("gpus/rtx-pro-6000-blackwell.yaml"),
    ),
];

impl Catalog {
    /// The built-in catalog, parsed once. The files are checked by the test suite, so a
    /// parse failure here is a build defect, not a user error.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let models = BUILTIN_FILES
                .iter()
                .map(|(origin, text)| match parse_gpu_model_yaml(text, origin) {
                    Ok(model) => model,
                    Err(err) => panic!("built-in GPU file {origin} is invalid: {err}"),
                })
                .collect();
            Catalog::from_models(models)
        })
    }

    /// A catalog of exactly these models (a later model with the same key wins).
    pub fn from_models(models: Vec<GpuModel>) -> Catalog {
        let mut out: Vec<GpuModel> = Vec::new();
        for m in models {
            match out.iter_mut().find(|o| o.key == m.key) {
                Some(slot) => *slot = m,
                None => out.push(m),
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Catalog { models: out }
    }

    /// A model by key, then by name or alias; case-insensitive.
    pub fn gpu(&self, name: &str) -> Option<&GpuModel> {
        let name = name.trim();
        self.models
            .iter()
            .find(|m| m.key.eq_ignore_ascii_case(name))
            .or_else(|| self.models.iter().find(|m| m.answers_to(name)))
    }

    /// The help line for a GPU model name that is not in this catalog: the closest key or
    /// alias when one is close, then the known keys.
    pub fn unknown_gpu_help(&self, name: &str) -> String {
        let names = self
            .models
            .iter()
            .flat_map(|m| std::iter::once(&m.key).chain(&m.aliases))
            .map(String::as_str);
        let keys: Vec<&str> = self.models.iter().map(|m| m.key.as_str()).collect();
        match crate::util::did_you_mean(name.trim(), names) {
            Some(m) => format!("did you mean `{m}`? known models: {}", keys.join(", ")),
            None => format!("known models: {}", keys.join(", ")),
        }
    }

    /// Models sorted by key.
    pub fn gpus(&self) -> impl Iterator<Item = &GpuModel> {
        self.models.iter()
    }

    /// This catalog plus `extra`: a model with an existing key replaces it, others are added.
    pub fn with_models(&self, extra: Vec<GpuModel>) -> Catalog {
        let mut models = self.models.clone();
        models.extend(extra);
        Catalog::from_models(models)
    }

    /// Models whose PCI ids include `pci_id` (device in high 16 bits, vendor in low).
    pub fn by_pci_id(&self, pci_id: u32) -> impl Iterator<Item = &GpuModel> {
        self.models
            .iter()
            .filter(move |m| m.pci_device_ids.contains(&pci_id))
    }
}

/// `0x233010DE` for a PCI id.
pub fn pci_id_text(id: u32) -> String {
    format!("0x{id:08X}")
}

/// Parses `0x233010DE` (case-insensitive hex, `0x` required).
pub fn parse_pci_id(text: &str) -> Option<u32> {
    let t = text.trim();
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
    if hex.len() != 8 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests;
