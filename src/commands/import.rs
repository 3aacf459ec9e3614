//! `fabplan import <FORMAT>`: wiring from flags to the format adapters.

use std::io::Write;
use std::path::Path;

use crate::catalog::{parse_gpu_model_yaml, render_gpu_model_yaml, Catalog};
use crate::cli::import::{ImportArgs, ImportFormat, NvidiaSmiArgs};
use crate::cli::output;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::formats::nvidia_smi::{self, Capture, ImportOptions};

pub fn run(args: ImportArgs, out: &mut dyn Write) -> Result<Outcome> {
    match args.format {
        ImportFormat::NvidiaSmi(a) => import_nvidia_smi(a, out),
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The file name without directories: imports must not depend on where the capture sits.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn import_nvidia_smi(a: NvidiaSmiArgs, out: &mut dyn Write) -> Result<Outcome> {
    let lgip_text = read(&a.lgip)?;
    let lgipp_text = read(&a.lgipp)?;
    let query_text = match &a.query {
        Some(p) => Some(read(p)?),
        None => None,
    };
    let (lgip_name, lgipp_name) = (a.lgip.display().to_string(), a.lgipp.display().to_string());
    let query_name = a.query.as_ref().map(|p| p.display().to_string());
    let lgip = Capture {
        origin: &lgip_name,
        text: &lgip_text,
    };
    let lgipp = Capture {
        origin: &lgipp_name,
        text: &lgipp_text,
    };
    let query = match (&query_name, &query_text) {
        (Some(origin), Some(text)) => Some(Capture { origin, text }),
        _ => None,
    };
    let options = ImportOptions {
        gpu_index: a.gpu_index,
        key: a.key.clone(),
    };
    let model = nvidia_smi::import(&lgip, &lgipp, query.as_ref(), Catalog::builtin(), &options)?;
    let header = vec![format!(
        "imported by `fabplan import nvidia-smi` from {}",
        [
            Some(a.lgip.as_path()),
            Some(a.lgipp.as_path()),
            a.query.as_deref()
        ]
        .into_iter()
        .flatten()
        .map(file_name)
        .collect::<Vec<_>>()
        .join(", ")
    )];
    let yaml = render_gpu_model_yaml(&model, &header);
    // What we write must load back: check before writing anything.
    if let Err(e) = parse_gpu_model_yaml(&yaml, "<import output>") {
        return Err(Error::usage(
            format!("the imported model is not loadable: {}", e.message),
            Some("pass a valid --key (lowercase letters, digits, `-`)".to_string()),
        ));
    }
    output::emit(out, a.output.as_deref(), yaml.as_bytes())?;
    Ok(Outcome::Clean)
}
