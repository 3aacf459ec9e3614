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

use std::path::Path;

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
            return LoadedFabric {
                file,
                provenance: Provenance::default(),
                fabric: None,
                diagnostics: vec![diag],
            }
        }
    };
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

/// The GPU model files a fabric file names under `gpu_models:`, resolved against its
/// directory as the loader resolves them: they are inputs of every command that reads the
/// fabric, so `-o` refuses to write onto one (`cli::output::refuse_input_as_output`). Empty
/// for a path that is not a regular file or not a fabric naming any.
pub fn gpu_model_files(path: &Path) -> Vec<std::path::PathBuf> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        gpu_models: Vec<String>,
    }
    // Never open a FIFO or device to look inside (it would block, or consume the input).
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    if !text.contains("gpu_models") {
        return Vec::new();
    }
    let Ok(probe) = serde_saphyr::from_str_with_options::<Probe>(&text, source::parse_options())
    else {
        return Vec::new();
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    probe.gpu_models.iter().map(|f| dir.join(f)).collect()
}
