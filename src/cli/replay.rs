//! Flags of `fabplan replay`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cli::numbers;
use crate::limits::Range;

/// Percent of the cluster's GPUs the arrived demand stops at.
pub const MAX_PCT: Range = Range::closed(
    1.0,
    1000.0,
    "%",
    "arrived demand up to ten times the cluster's GPUs (the paper stops at 130%)",
);
pub const STEP_PCT: Range = Range::closed(1.0, 100.0, "%", "a step of 1 to 100 percent");
pub const SEEDS: Range = Range::closed(1.0, 1000.0, "", "1 to 1,000 seeds (the paper runs 10)");
pub const SEED: Range = Range::closed(0.0, 1.0e15, "", "a non-negative whole number");
pub const GENERATED_PODS: Range = Range::closed(1.0, 10_000_000.0, "pods", "1 to 10,000,000 pods");
pub const RATE_PER_HOUR: Range =
    Range::closed(1.0e-3, 1.0e9, "pods/hour", "a positive arrival rate");
pub const MEAN_DURATION_S: Range =
    Range::closed(1.0, 1.0e9, "s", "a positive mean run time in seconds");
pub const POPULARITY: Range = Range::closed(
    0.01,
    1.0,
    "",
    "a share of the pods, 0.01 to 1 (the paper uses 0.95)",
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    Human,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SamplingArg {
    /// The simulator's: every pod of the list in a random order, then copies drawn with
    /// replacement up to the target.
    Inflate,
    /// Pods drawn with replacement until the target is reached.
    Replacement,
}

#[derive(Debug, Args)]
#[command(
    about = "Replay a trace with online placement policies (the FGD paper's experiment, or arrivals and departures over time)",
    long_about = "Places pods one at a time, without moving any placed pod, by named policies: \
random, dotprod, clustering, packing, bestfit, fgd (Fragmentation Gradient Descent, Weng et al., \
USENIX ATC '23) and fabplan (fabplan's own rule). The cluster is an openb node list (--nodes) or \
a fabric (--fabric); the pods come from one or more openb pod lists.\n\n\
By default it runs the paper's experiment on each pod list: for every seed a sample of the list \
arrives until the GPUs it asks reach --max-pct of the cluster's; pods that fit nowhere fail; \
the GPU allocation ratio and the fragmentation are recorded every --step-pct, and the median \
and spread over the seeds are reported. With --departures, pods arrive at their \
`creation_time` and leave after `deletion_time - creation_time`; with --generate N, N pods of \
the list's shapes arrive as a seeded Poisson process; pods that fit nowhere wait in a queue. \
Then utilization over time, queueing delay and completion time per tenant are reported.\n\n\
The same flags and seed give the same bytes whatever RAYON_NUM_THREADS is.",
    after_help = "Examples:
  fabplan replay --nodes openb_node_list_gpu_node.csv openb_pod_list_default.csv
  fabplan replay --nodes nodes.csv pods.csv --policy bestfit,fgd --svg alloc.svg --csv alloc.csv
  fabplan replay --nodes nodes.csv pods.csv --departures --policy fgd,fabplan
  fabplan replay --nodes nodes.csv pods.csv --policy fgd,fabplan --seeds 3 --offline
  fabplan replay --demand arrivals.yaml --policy bestfit,fabplan

Exit codes:
  0  the replay ran
  2  error: unreadable or invalid input (file:line:col and a code), bad usage, a failed write"
)]
pub struct ReplayArgs {
    /// openb pod lists (`name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,qos,creation_time,deletion_time]`).
    #[arg(value_name = "PODS.csv", required_unless_present = "demand")]
    pub pods: Vec<PathBuf>,
    /// A demand file whose workloads have `arrival` and `duration` (docs/demand-format.md):
    /// replayed over time on its fabric (`fabric:` or --fabric), as --departures replays a pod list.
    #[arg(long, value_name = "DEMAND.yaml", conflicts_with_all = ["pods", "nodes", "departures", "generate", "offline"])]
    pub demand: Option<PathBuf>,
    /// openb node list: the cluster (`sn,cpu_milli,memory_mib,gpu,model`; nodes without GPUs are left out).
    #[arg(
        long,
        value_name = "NODES.csv",
        conflicts_with = "fabric",
        required_unless_present_any = ["fabric", "demand"]
    )]
    pub nodes: Option<PathBuf>,
    /// A fabric file: the cluster is its nodes with GPUs (template GPU model, CPU, memory).
    #[arg(long, value_name = "FABRIC.yaml")]
    pub fabric: Option<PathBuf>,
    /// Policies to run, comma-separated (default: all, in this order).
    #[arg(long, value_delimiter = ',', value_name = "NAMES",
          value_parser = clap::builder::PossibleValuesParser::new(crate::replay::POLICY_NAMES))]
    pub policy: Vec<String>,
    /// Number of seeds (samples) per pod list.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = numbers::in_range::<u64>(SEEDS))]
    pub seeds: u64,
    /// First seed; the seeds are SEED, SEED+1, ...
    #[arg(long, value_name = "SEED", default_value_t = 42, value_parser = numbers::in_range::<u64>(SEED))]
    pub seed: u64,
    /// Arrived demand to stop at, percent of the cluster's GPUs.
    #[arg(long, value_name = "PCT", default_value_t = 130, value_parser = numbers::in_range::<u32>(MAX_PCT))]
    pub max_pct: u32,
    /// Record a point every PCT of arrived demand.
    #[arg(long, value_name = "PCT", default_value_t = 5, value_parser = numbers::in_range::<u32>(STEP_PCT))]
    pub step_pct: u32,
    /// How samples are drawn from the pod list.
    #[arg(long, value_enum, default_value_t = SamplingArg::Inflate)]
    pub sampling: SamplingArg,
    /// Share of pods the target workload's typical shapes cover (fgd and fabplan).
    #[arg(long, value_name = "SHARE", default_value_t = 0.95, value_parser = numbers::in_range::<f64>(POPULARITY))]
    pub popularity: f64,
    /// Replay arrivals and departures at the trace's `creation_time` and `deletion_time`.
    #[arg(long, conflicts_with = "generate")]
    pub departures: bool,
    /// Replay N pods of the list's shapes arriving as a seeded Poisson process.
    #[arg(long, value_name = "N", value_parser = numbers::in_range::<usize>(GENERATED_PODS))]
    pub generate: Option<usize>,
    /// Arrival rate of --generate.
    #[arg(long, value_name = "PODS", default_value_t = 60.0, requires = "generate", value_parser = numbers::in_range::<f64>(RATE_PER_HOUR))]
    pub rate_per_hour: f64,
    /// Mean run time of --generate (exponential).
    #[arg(long, value_name = "S", default_value_t = 36000.0, requires = "generate", value_parser = numbers::in_range::<f64>(MEAN_DURATION_S))]
    pub mean_duration_s: f64,
    /// Also plan each seed's sample offline, all at once, with the planner (as `fabplan plan`
    /// plans an imported openb demand) at 100% and at the last step, and report its
    /// allocation, status, bound and gap beside the policies (the upper reference). Slow: one
    /// MILP per seed and step. Needs --nodes.
    #[arg(long, requires = "nodes", conflicts_with_all = ["departures", "generate"])]
    pub offline: bool,
    /// Wall-clock limit of each offline plan (`fabplan plan --time-limit`).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, requires = "offline", value_parser = numbers::in_range::<f64>(numbers::TIME_LIMIT_S))]
    pub offline_time_limit: f64,
    /// What stdout gets.
    #[arg(long, value_enum, default_value_t = ReplayFormat::Human)]
    pub format: ReplayFormat,
    /// Also write the JSON document to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the CSV series to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also write the chart (allocation against arrived demand per policy; with
    /// --departures or --generate, allocation over time) as SVG to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}
