//! Loading: text -> raw schema types -> validated model, collecting every problem found.
//!
//! A file that cannot be read as a fabric (syntax, wrong types, unknown keys or references,
//! duplicate ids, limits) yields load diagnostics (codes FP0xx) and no model: exit 2.
//! Design problems in a well-formed file are left to `checks` (FP1xx and up).

pub mod admission;
pub mod arrivals;
pub mod demand;
mod fabric;
mod intent;
pub mod state;
pub mod usage;

use std::path::{Path, PathBuf};

use crate::diag::{has_errors, Diagnostic};
use crate::model::Fabric;
use crate::schema::fabric::RawFabric;
use crate::source::{self, Provenance, SourceFile};

/// The result of loading one fabric file.
#[derive(Debug)]
pub struct LoadedFabric {
    pub file: SourceFile,
    pub provenance: Provenance,
    /// `None` when any load diagnostic is an error.
    pub fabric: Option<Fabric>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads and loads a fabric file.
pub fn load_fabric_file(path: &Path) -> LoadedFabric {
    match source::read_source(path) {
        Ok(file) => load_fabric_source(file, path.parent()),
        Err((file, diag)) => LoadedFabric {
            file,
            provenance: Provenance::default(),
            fabric: None,
            diagnostics: vec![diag],
        },
    }
}

/// Loads a fabric from text (tests, generated input).
pub fn load_fabric_str(name: &str, text: &str) -> LoadedFabric {
    load_fabric_source(SourceFile::new(name, text), None)
}

/// Loads a parsed source; `base_dir` resolves `gpu_models:` paths (the current directory when
/// `None`).
pub fn load_fabric_source(file: SourceFile, base_dir: Option<&Path>) -> LoadedFabric {
    let raw: RawFabric = match source::parse_yaml(&file) {
        Ok(raw) => raw,
        Err(diag) => {
            let names = probe_gpu_model_names(&file.text);
            record_gpu_model_files(base_dir, names.iter().map(String::as_str));
            return LoadedFabric {
                file,
                provenance: Provenance::default(),
                fabric: None,
                diagnostics: vec![diag],
            };
        }
    };
    record_gpu_model_files(base_dir, raw.gpu_models.iter().map(|f| f.value.as_str()));
    let mut builder = fabric::Builder::new(base_dir.map(Path::to_path_buf));
    builder.build(raw);
    let (fabric, provenance, diagnostics) = builder.finish();
    let fabric = if has_errors(&diagnostics) {
        None
    } else {
        Some(fabric)
    };
    LoadedFabric {
        file,
        provenance,
        fabric,
        diagnostics,
    }
}

/// The GPU model files the fabrics loaded in this process name under `gpu_models:`, resolved
/// against each fabric's directory as the loader resolves them, whether or not they loaded:
/// they are inputs of every command that reads the fabric, so `-o` refuses to write onto one
/// (`cli::output::refuse_input_as_output`). Recorded by the loader from the text it read, so
/// no input is read a second time to find them.
static GPU_MODEL_FILES: std::sync::Mutex<std::collections::BTreeSet<PathBuf>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// The GPU model files named by every fabric loaded so far (sorted).
pub fn gpu_model_files() -> Vec<PathBuf> {
    GPU_MODEL_FILES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect()
}

fn record_gpu_model_files<'a>(base_dir: Option<&Path>, names: impl Iterator<Item = &'a str>) {
    let mut set = GPU_MODEL_FILES.lock().unwrap_or_else(|e| e.into_inner());
    for name in names {
        set.insert(match base_dir {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        });
    }
}

/// The `gpu_models:` entries of a fabric text the typed parse refused (an unknown key, a
/// wrong type elsewhere): the files are still the user's, and a report of the failed load
/// must not be written onto one.
fn probe_gpu_model_names(text: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        gpu_models: Vec<String>,
    }
    if !text.contains("gpu_models") {
        return Vec::new();
    }
    serde_saphyr::from_str_with_options::<Probe>(text, source::parse_options())
        .map(|p| p.gpu_models)
        .unwrap_or_default()
}
