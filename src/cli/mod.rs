//! Command-line definitions and output plumbing: the only code that knows clap or a terminal.
//!
//! Each subcommand has its flags in `cli/<name>.rs` (a clap `Args` struct) and its wiring in
//! `commands/<name>.rs`. `main_entry` parses, dispatches and maps the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::error::Error;
use crate::exit::{self, Outcome};

pub mod admit;
pub mod asbuilt;
pub mod completions;
pub mod explain;
pub mod export;
pub mod generate;
pub mod import;
pub mod inspect;
pub mod meter;
pub mod mig;
pub mod numbers;
pub mod output;
pub mod plan;
pub mod progress;
pub mod render;
pub mod replay;
pub mod report;
pub mod size;
pub mod validate;
pub mod verify;
pub mod whatif;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success: the command ran and found nothing to report
  1  findings: design errors, unplaceable layouts or violations were found
  2  error: unreadable input, bad usage or a failed write (nothing partial is written)";

#[derive(Debug, Parser)]
#[command(
    name = "fabplan",
    version,
    about = "Plan GPU clusters offline: validate fabrics, size Clos networks, lay out MIG",
    long_about = "fabplan reads plain YAML descriptions of racks, nodes, GPUs, NVLink domains and \
lossless RoCE/InfiniBand fabrics, and checks, sizes and plans them offline.\n\n\
Start with `fabplan validate fabrics/lab-small.yaml` and `fabplan inspect fabrics/lab-small.yaml`.",
    after_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes, before or after its name.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// When to colour diagnostics and human output: auto (a terminal, unless NO_COLOR is set
    /// or CLICOLOR_FORCE forces it), always, never.
    #[arg(
        long,
        value_enum,
        global = true,
        default_value = "auto",
        value_name = "WHEN",
        help_heading = "Global options"
    )]
    pub color: output::ColorChoice,
    /// Print only results and errors: no progress line, no notes on stderr (such as
    /// `import openb`'s summary of what it wrote).
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,
    /// Say more on stderr: HiGHS's solver log (`plan`).
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Validate(validate::ValidateArgs),
    Inspect(inspect::InspectArgs),
    Explain(explain::ExplainArgs),
    Generate(generate::GenerateArgs),
    Size(size::SizeArgs),
    Mig(mig::MigArgs),
    Import(import::ImportArgs),
    Plan(plan::PlanArgs),
    Verify(verify::VerifyArgs),
    Report(report::ReportArgs),
    Export(export::ExportArgs),
    Replay(replay::ReplayArgs),
    #[command(name = "as-built")]
    AsBuilt(asbuilt::AsBuiltArgs),
    Completions(completions::CompletionsArgs),
    Man(completions::ManArgs),
    #[command(name = "what-if")]
    WhatIf(whatif::WhatIfArgs),
    Meter(meter::MeterArgs),
    Admit(admit::AdmitArgs),
}

/// Parses the process arguments, runs the subcommand and returns its exit code.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                exit::ERROR
            } else {
                exit::SUCCESS
            });
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = run(cli, &mut out);
    let _ = out.flush();
    match result {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(Error::InputRejected { .. }) => ExitCode::from(exit::ERROR),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(exit::SUCCESS),
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(exit::ERROR)
        }
    }
}

/// Runs one parsed command line, writing its primary output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome, Error> {
    output::configure(&cli.global);
    match cli.command {
        Command::Validate(args) => commands::validate::run(&args, out),
        Command::Inspect(args) => commands::inspect::run(&args, out),
        Command::Explain(args) => commands::explain::run(&args, out),
        Command::Generate(args) => commands::generate::run(&args, out),
        Command::Size(args) => crate::commands::size::run(&args, out),
        Command::Mig(args) => crate::commands::mig::run(args, out),
        Command::Import(args) => crate::commands::import::run(args, out),
        Command::Plan(args) => crate::commands::plan::run(&args, out),
        Command::Verify(args) => crate::commands::verify::run(&args, out),
        Command::Report(args) => crate::commands::report::run(&args, out),
        Command::Export(args) => crate::commands::export::run(args, out),
        Command::Replay(args) => crate::commands::replay::run(&args, out),
        Command::AsBuilt(args) => crate::commands::asbuilt::run(&args, out),
        Command::Completions(args) => crate::commands::completions::completions(&args, out),
        Command::Man(args) => crate::commands::completions::man(&args, out),
        Command::WhatIf(args) => crate::commands::whatif::run(&args, out),
        Command::Meter(args) => crate::commands::meter::run(&args, out),
        Command::Admit(args) => crate::commands::admit::run(&args, out),
    }
}

fn is_broken_pipe(err: &Error) -> bool {
    matches!(err, Error::Write { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}
