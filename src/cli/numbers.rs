//! Value parsers for numeric flags: every subcommand's numbers are parsed here, so NaN,
//! infinities, negative and out-of-range values are refused the same way (clap prints
//! `invalid value 'nan' for '--pue <RATIO>': must be ...` and exits 2). The ranges are in
//! `crate::limits` with their reasons; `docs/limits.md` lists them.

use std::str::FromStr;

use crate::limits::{self, Num, Range};

/// A parser for a number in `range`. Floats and integers alike: an integer flag with a
/// fractional or negative value is refused by `T`'s own parser first.
pub fn in_range<T>(
    range: Range,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: Num + FromStr + Send + Sync + 'static,
{
    move |s: &str| {
        let v: T = s.trim().parse().map_err(|_| {
            // An integer flag (its type refuses `0.5`) says so.
            let kind = if "0.5".parse::<T>().is_err() {
                "a whole number "
            } else {
                "a number "
            };
            format!("must be {kind}{}, got `{s}`", range.describe())
        })?;
        if range.contains(v.as_f64()) {
            Ok(v)
        } else {
            Err(format!(
                "{} ({})",
                limits::out_of_range(v, &range),
                range.why
            ))
        }
    }
}

// Ranges of CLI flags (the fabric's own ranges are reused where a flag means the same thing).

/// Port speeds, planes and node power mean what they mean in a fabric file.
pub const NIC_GBPS: Range = limits::GBPS;
pub const PLANES: Range = limits::PLANES;
pub const NODE_POWER_KW: Range = limits::NODE_POWER_KW;

/// A GPU count to size or generate a fabric for.
pub const GPUS: Range = Range::closed(
    1.0,
    limits::MAX_GENERATE_GPUS as f64,
    "GPUs",
    "at least one GPU; a generated fabric past 2,097,152 GPUs would not load within fabplan's link budget (docs/limits.md)",
);
/// Switch radix (ports per switch at the NIC speed).
pub const RADIX: Range = Range::closed(
    2.0,
    4096.0,
    "ports",
    "a switch has at least 2 ports; the largest have 512, with breakouts a few thousand",
);
/// Small structural counts: GPUs per node, nodes per SU, planes, UFM links.
pub const GPUS_PER_NODE: Range = Range::closed(
    1.0,
    128.0,
    "",
    "servers hold 1-16 GPUs (DGX-2: 16; NVL72 trays: 4); 128 leaves room",
);
pub const SU_NODES: Range = Range::closed(
    1.0,
    65_536.0,
    "nodes",
    "a scalable unit is 32 (H100) to 72 (B300 XDR) nodes; 65,536 leaves room",
);
pub const UFM_LINKS: Range = Range::closed(
    0.0,
    4096.0,
    "links",
    "UFM needs a few leaf ports (the H100 RA cables 4)",
);
/// Watts of an optical module or a switch.
pub const WATTS: Range = Range::closed(
    0.0,
    100_000.0,
    "W",
    "power is not negative; an 800G module draws 14-16 W, a switch 1-3 kW",
);
/// Solver time limit.
pub const TIME_LIMIT_S: Range = Range::above(
    0.0,
    86_400.0,
    "s",
    "the solver needs some time; a day is past any interactive plan",
);
/// Relative MIP gap.
pub const MIP_GAP: Range = Range::closed(
    0.0,
    1.0,
    "",
    "a relative gap: 0 proves optimality, 0.01 is 1 %",
);
/// Candidate pools per workload in the MILP (0: all, or 16 on large models).
pub const CANDIDATES: Range = Range::closed(
    0.0,
    1_000_000.0,
    "",
    "0 means all pools; a fabric has fewer pools than nodes",
);
/// Power usage effectiveness.
pub const PUE: Range = Range::closed(
    1.0,
    5.0,
    "",
    "PUE is facility power over IT power, so at least 1 (The Green Grid); 1.1-1.6 is typical",
);
/// A price in USD (per kWh, per GPU, per GPU-hour).
pub const USD: Range = Range::closed(0.0, 1.0e9, "USD", "a price or cost is not negative");
/// Depreciation period.
pub const YEARS: Range = Range::above(
    0.0,
    100.0,
    "years",
    "hardware is depreciated over 3-6 years; it must be more than 0",
);
/// A share of cost (network share of capex).
pub const SHARE: Range = Range::closed(0.0, 1.0, "", "a share is a fraction from 0 to 1");
/// Utilization of owned GPUs.
pub const UTILIZATION: Range = Range::above(
    0.0,
    1.0,
    "",
    "a utilization is a fraction of the hours; 0 would make every hour free",
);
/// Context length of a model.
pub const CONTEXT_TOKENS: Range = Range::closed(
    1.0,
    100_000_000.0,
    "tokens",
    "models take 4k-1M tokens of context; at least 1",
);
/// Concurrent sequences.
pub const CONCURRENCY: Range = Range::closed(
    1.0,
    1_000_000.0,
    "sequences",
    "at least one sequence is decoded",
);
/// Workloads of a generated demand.
pub const WORKLOADS: Range = Range::closed(
    1.0,
    limits::MAX_GENERATE_WORKLOADS as f64,
    "workloads",
    "at least one; 100,000 is 20 x the largest planner benchmark (BENCHMARKS.md: 5,000 workloads)",
);
/// Pods read from a trace.
pub const PODS: Range = Range::closed(
    1.0,
    limits::MAX_NODES as f64,
    "pods",
    "at least one pod; the import is bounded by fabplan's node budget (docs/limits.md)",
);
/// Diagnostics shown per code.
pub const SHOWN: Range = Range::closed(0.0, 1_000_000.0, "", "0 shows every diagnostic");
/// A GPU index within a node.
pub const GPU_INDEX: Range = Range::closed(0.0, 127.0, "", "a GPU index within a node");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_nan_infinity_negative_and_out_of_range() {
        let pue = in_range::<f64>(PUE);
        assert_eq!(pue("1.3"), Ok(1.3));
        for bad in ["nan", "NaN", "inf", "-inf", "0.5", "-1", "1e309", "x"] {
            assert!(pue(bad).is_err(), "{bad} accepted");
        }
        assert!(pue("nan").unwrap_err().contains("got NaN"));
        let radix = in_range::<u32>(RADIX);
        assert_eq!(radix("64"), Ok(64));
        assert!(radix("0").is_err() && radix("-64").is_err() && radix("64.5").is_err());
        assert!(in_range::<u64>(GPUS)("1000000").is_ok());
        assert!(in_range::<u64>(GPUS)("1000000000")
            .unwrap_err()
            .contains("got 1000000000"));
    }
}
