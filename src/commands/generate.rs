//! `fabplan generate`: synthetic fabrics.

use std::io::Write;

use crate::catalog::Catalog;
use crate::cli::generate::{GenerateArgs, StyleArg, TransportArg};
use crate::cli::output::emit;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::fabric::generate::{generate, GenerateRequest, Style};

pub fn run(args: &GenerateArgs, out: &mut dyn Write) -> Result<Outcome> {
    let model = Catalog::builtin().gpu(&args.gpu).ok_or_else(|| {
        let known: Vec<String> = Catalog::builtin().gpus().map(|g| g.key.clone()).collect();
        Error::usage(
            format!("unknown GPU model `{}`", args.gpu),
            Some(format!("known models: {}", known.join(", "))),
        )
    })?;
    let req = GenerateRequest {
        gpus: args.gpus,
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
    emit(out, args.output.as_deref(), yaml.as_bytes())?;
    Ok(Outcome::Clean)
}
