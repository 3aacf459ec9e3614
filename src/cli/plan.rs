//! Flags of `fabplan plan`.

use std::path::PathBuf;

use crate::cli::numbers;
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
#[command(
    about = "Plan GPU placement and MIG partitioning for a demand file (MILP with HiGHS, or greedy)",
    long_about = "Decides which workloads run, on which GPUs or MIG instances, and each GPU's MIG layout, \
under budgets, caps, rack power, topology levels and isolation policies. The MILP counts interchangeable \
capacity per pool (rack x template x leaf group x SU), is solved by HiGHS under --time-limit and \
--mip-gap, then named on concrete GPUs; the greedy best-fit plan is its warm start and fallback. \
Status, objective, bound, gap and solve time are always reported. See docs/demand-format.md.",
    after_help = "Examples:
  fabplan plan examples/mixed-tenants-h100.yaml
  fabplan plan examples/mig-inference-h200.yaml --format json -o plan.json
  fabplan plan DEMAND --current plan.json --freeze
  fabplan plan DEMAND --solver greedy

Exit codes: 0 a plan that admits every required workload; 1 required demand cannot be placed
(explained in words); 2 unreadable input or bad usage. Input diagnostics (FP0xx, FP8xx) go to
stderr with file, line and column; as JSON with --format json|yaml."
)]
pub struct PlanArgs {
    /// The demand file (YAML).
    pub demand: PathBuf,
    /// Fabric to plan on; overrides the demand's `fabric:`.
    #[arg(long, value_name = "FILE")]
    pub fabric: Option<PathBuf>,
    /// Current state (a previous plan, JSON or YAML): the plan then shows a diff.
    #[arg(long, value_name = "FILE")]
    pub current: Option<PathBuf>,
    /// Forbid moving workloads that run in the current state.
    #[arg(long, requires = "current")]
    pub freeze: bool,
    #[arg(long, value_enum, default_value = "highs")]
    pub solver: SolverArg,
    /// Seconds HiGHS may spend (fabplan enforces its own deadline too).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = numbers::in_range::<f64>(numbers::TIME_LIMIT_S))]
    pub time_limit: f64,
    /// Relative MIP gap at which HiGHS stops.
    #[arg(long, value_name = "GAP", default_value_t = 0.01, value_parser = numbers::in_range::<f64>(numbers::MIP_GAP))]
    pub mip_gap: f64,
    /// Candidate pools per workload in the MILP (0: all, or 16 on large models).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = numbers::in_range::<usize>(numbers::CANDIDATES))]
    pub candidates: usize,
    #[arg(long, value_enum, default_value = "human")]
    pub format: PlanFormat,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SolverArg {
    /// MILP through good_lp with HiGHS.
    Highs,
    /// Greedy best fit (the baseline).
    Greedy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Yaml,
}
