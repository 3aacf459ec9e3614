//! Loading: text -> raw schema types -> validated model, collecting every problem found.
//!
//! A file that cannot be read as a fabric (syntax, wrong types, unknown keys or references,
//! duplicate ids, limits) yields load diagnostics (codes FP0xx) and no model: exit 2.
//! Design problems in a well-formed file are left to `checks` (FP1xx and up).

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
