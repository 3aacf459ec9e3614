use crate::cli::numbers;
use std::path::PathBuf;

/// Check fabric designs: report every problem at once, each with a code, a location and a hint.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fabplan validate fabrics/*.yaml
  fabplan validate --format sarif fabrics/lab-small.yaml > fabplan.sarif
  fabplan explain FP101          # what a code means and why it matters

Exit codes: 0 no errors, 1 design errors found (or warnings with --deny-warnings),
2 a file could not be read as a fabric.")]
pub struct ValidateArgs {
    /// Fabric files (YAML).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format: human (rendered diagnostics), json, or sarif (SARIF 2.1.0 for code scanning).
    #[arg(long, value_enum, default_value = "human")]
    pub format: ValidateFormat,
    /// Human output shows at most N diagnostics per code and file, then a count of the rest
    /// (0 shows all). JSON and SARIF always list every diagnostic.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = numbers::in_range::<usize>(numbers::SHOWN))]
    pub limit: usize,
    /// Treat warnings as errors (exit 1).
    #[arg(long)]
    pub deny_warnings: bool,
    /// With `--format sarif`: where the rule documentation is published, an absolute URI;
    /// each rule gets `helpUri` = URL/CODE, or URL + the lowercase code (the docs/rules.md
    /// anchor) when URL ends with `#`. Default: $FABPLAN_HELP_URI_BASE; without either, rules
    /// carry their documentation inline only (fabplan has no public URL of its own).
    #[arg(long, value_name = "URL", value_parser = crate::formats::sarif::HelpUriBase::parse)]
    pub help_uri_base: Option<crate::formats::sarif::HelpUriBase>,
    /// Write the report to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    Human,
    Json,
    Sarif,
}
