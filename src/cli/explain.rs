use std::path::PathBuf;

/// Explain a diagnostic code: what it checks, why it matters, an example and its source.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fabplan explain FP608
  fabplan explain ecn-before-pfc
  fabplan explain --list")]
pub struct ExplainArgs {
    /// A code (`FP101`) or rule name (`rail-nic-to-rail`).
    #[arg(required_unless_present = "list", value_name = "CODE")]
    pub code: Option<String>,
    /// List every code with its severity and summary.
    #[arg(long, conflicts_with = "code")]
    pub list: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ExplainFormat,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Human,
    Json,
    /// Markdown with an anchor per code; `--list --format md` is docs/rules.md.
    Md,
}
