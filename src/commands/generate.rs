//! `fabplan generate`: synthetic fabrics.

use std::io::Write;

use crate::catalog::Catalog;
use crate::cli::generate::{GenerateArgs, StyleArg, TransportArg};
use crate::cli::output::emit;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::fabric::generate::{generate, GenerateRequest, Style};

pub fn run(args: &GenerateArgs, out: &mut dyn Write) -> Result<Outcome> {
    if let Some(crate::cli::generate::GenerateWhat::Demand(d)) = &args.what {
        return demand(d, out);
    }
    let model = Catalog::builtin().gpu(&args.gpu).ok_or_else(|| {
        Error::usage(
            format!("unknown GPU model `{}`", args.gpu),
            Some(Catalog::builtin().unknown_gpu_help(&args.gpu)),
        )
    })?;
    let req = GenerateRequest {
        gpus: args.gpus.unwrap_or(0),
        style: match args.style {
            StyleArg::RailOptimized => Style::RailOptimized,
            StyleArg::Nvl72 => Style::Nvl72,
        },
        radix: args.radix,
        nic_gbps: args.nic_gbps,
        gpu_model: model.key.clone(),
        roce: args.transport == TransportArg::Roce,
    };
    let yaml = generate(&req).map_err(|e| Error::usage(e.to_string(), Some(e.help())))?;
    emit(out, args.output.as_deref(), &[], yaml.as_bytes())?;
    Ok(Outcome::Clean)
}

/// `generate demand`: contended synthetic demand for a fabric.
fn demand(args: &crate::cli::generate::GenerateDemandArgs, out: &mut dyn Write) -> Result<Outcome> {
    let loaded = crate::load::load_fabric_file(&args.fabric);
    let Some(fabric) = loaded.fabric else {
        let color = crate::cli::output::stderr_color();
        eprint!(
            "{}",
            crate::cli::render::human(&loaded.diagnostics, &loaded.file, &loaded.provenance, color)
        );
        return Err(Error::InputRejected { count: 1 });
    };
    // The demand's `fabric:` is relative to where the demand is written.
    let fabric_ref = match &args.output {
        Some(o) => relative_to(&args.fabric, o.parent().unwrap_or(std::path::Path::new(""))),
        None => args.fabric.display().to_string(),
    };
    let yaml = crate::plan::gen::generate_demand(
        &fabric,
        Some(&fabric_ref),
        args.workloads,
        args.seed,
        args.profile.into(),
    );
    emit(
        out,
        args.output.as_deref(),
        &[&args.fabric],
        yaml.as_bytes(),
    )?;
    Ok(Outcome::Clean)
}

fn relative_to(target: &std::path::Path, base: &std::path::Path) -> String {
    let abs = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (t, b) = (
        abs(target),
        abs(if base.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            base
        }),
    );
    let tc: Vec<_> = t.components().collect();
    let bc: Vec<_> = b.components().collect();
    let common = tc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut rel = std::path::PathBuf::new();
    for _ in common..bc.len() {
        rel.push("..");
    }
    for c in &tc[common..] {
        rel.push(c);
    }
    rel.display().to_string()
}
