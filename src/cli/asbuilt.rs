use std::path::PathBuf;

/// Compare discovered cabling (ibnetdiscover, lldpd JSON) or topograph placements with a fabric design.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fabplan as-built fabrics/lldp-lab.yaml captures/*.json
  fabplan as-built design.yaml ibnetdiscover.out --map names.yaml --format sarif
  fabplan as-built --links ibnetdiscover.out     # the as-built link list only, no design

Each finding labels the designed cable in the design's YAML and the capture's line, and says
which cable to move where. docs/as-built.md describes the formats, the matching rules and the
mapping file.

Exit codes: 0 the cabling matches the design (warnings and notes allowed), 1 findings,
2 a design, capture or mapping file could not be read.")]
pub struct AsBuiltArgs {
    /// The design (fabric YAML), then the captures; with `--links`, captures only.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the as-built link list of the captures instead of a diff (no design).
    #[arg(long)]
    pub links: bool,
    /// Mapping file (YAML) from capture names or ids to design names.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Format of the captures (default: recognised from each file's text).
    #[arg(long, value_enum)]
    pub capture_format: Option<CaptureFormatArg>,
    /// Output format: human (rendered findings), json, or sarif (SARIF 2.1.0; not with `--links`).
    #[arg(long, value_enum, default_value = "human")]
    pub format: AsBuiltFormat,
    /// Human output shows at most N findings per code, then a count of the rest (0 shows all).
    #[arg(long, value_name = "N", default_value_t = 50)]
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
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AsBuiltFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CaptureFormatArg {
    /// `ibnetdiscover` text output.
    Ibnetdiscover,
    /// `lldpcli -f json show neighbors details` (or `-f json0`).
    LldpJson,
    /// NVIDIA topograph's Slurm `topology.conf` (tree and block lines).
    TopographSlurm,
    /// `kubectl get nodes -o json` with NVIDIA topograph's node labels.
    TopographK8s,
}
