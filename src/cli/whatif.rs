//! Flags of `fabplan what-if`.

use std::path::PathBuf;

use crate::cli::numbers;
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
#[command(
    about = "Fail switches, nodes, racks, NVLink trays or planes and re-plan the displaced work",
    long_about = "Takes down what each --fail names (a leaf takes its nodes' rail NIC and with it \
the node, a rack its nodes and switches, a plane its switches, an NVLink switch tray its rack's \
NVLink domain), re-plans the displaced work on the degraded fabric from the current plan \
(survivors stay where they are unless --allow-moves), verifies the re-plan, and reports which \
gangs break, which re-place and where, and what is evicted. Then an N-1 sweep per level (rack, \
leaf, spine, core, plane, NVLink tray, node) says how many spare GPUs each level needs to survive \
any single failure there. See docs/what-if.md.",
    after_help = "Examples:
  fabplan what-if DEMAND --current plan.json --fail switch:leaf3 --fail node:dgx017
  fabplan what-if DEMAND --current plan.json --fail rack:r2 --format json --write-plan replan.json
  fabplan what-if DEMAND --current plan.json          (the N-1 sweep alone)

Exit codes: 0 every displaced required workload re-places and the re-plan verifies; 1 required
work is lost (FP962) or the re-plan fails verification; 2 unreadable input, an unknown --fail
target (FP961) or bad usage."
)]
pub struct WhatIfArgs {
    /// The demand file (YAML).
    pub demand: PathBuf,
    /// Fabric to plan on; overrides the demand's `fabric:`.
    #[arg(long, value_name = "FILE")]
    pub fabric: Option<PathBuf>,
    /// The current plan (a plan document, JSON or YAML): where work runs before the failures.
    #[arg(long, value_name = "FILE")]
    pub current: PathBuf,
    /// What fails, `KIND:NAME`; repeat for N-k. Kinds: node, switch, rack, nvlink-tray
    /// (a rack-scale NVLink domain's switch tray, named by the domain), plane (a number).
    #[arg(long = "fail", value_name = "KIND:NAME")]
    pub fail: Vec<String>,
    /// Let surviving work move too (default: it stays where it runs; only displaced work is
    /// re-placed).
    #[arg(long)]
    pub allow_moves: bool,
    #[arg(long, value_enum, default_value = "highs")]
    pub solver: WhatIfSolver,
    /// Seconds the re-plan may spend.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = numbers::in_range::<f64>(numbers::TIME_LIMIT_S))]
    pub time_limit: f64,
    /// Relative MIP gap at which HiGHS stops.
    #[arg(long, value_name = "GAP", default_value_t = 0.01, value_parser = numbers::in_range::<f64>(numbers::MIP_GAP))]
    pub mip_gap: f64,
    #[arg(long, value_enum, default_value = "human")]
    pub format: WhatIfFormat,
    /// Write the report to FILE instead of stdout (atomically; never onto an input).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the re-plan as a plan document (JSON), for `fabplan verify` and
    /// `plan --current`; its GPU names are the full fabric's.
    #[arg(long, value_name = "FILE")]
    pub write_plan: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhatIfSolver {
    /// MILP through good_lp with HiGHS.
    Highs,
    /// Greedy best fit (the baseline).
    Greedy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhatIfFormat {
    Human,
    Json,
}
