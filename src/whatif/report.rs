//! The what-if report: typed (serde) so JSON and the human text come from one value.
//! Built from the impact, the displaced work, the re-plan's result on the degraded fabric and
//! its verification; it does not run the planner.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Degraded, Displaced, Failure, Impact, LevelSweep};
use crate::model::demand::{Demand, Unit, Workload};
use crate::model::plan::{Assignment, Hold};
use crate::model::{Fabric, GpuId, NodeId};
use crate::plan::PlanResult;
use crate::util::compress_hostlist;

#[derive(Debug, Clone, Serialize)]
pub struct WhatIfReport {
    pub fabric: String,
    /// The failures as given, `kind:name`.
    pub failures: Vec<String>,
    pub down: Down,
    /// Running workloads the failures displace, and what became of each.
    pub displaced: Vec<DisplacedReport>,
    /// Surviving workloads the re-plan moved or evicted (only with `--allow-moves`, or when
    /// the re-plan could not keep them).
    pub others: Vec<OtherChange>,
    /// Omitted when nothing fails (the sweep alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replan: Option<Replan>,
    pub findings: Vec<Finding>,
    pub sweep: Vec<LevelSweep>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Down {
    pub switches: Vec<DownThing>,
    pub nodes: Vec<DownThing>,
    pub nvlink_domains: Vec<DownThing>,
    pub gpus: usize,
    /// GPUs of the full fabric (GPU servers only).
    pub gpus_total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DownThing {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DisplacedReport {
    pub workload: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub required: bool,
    /// A training gang (all-or-nothing): losing any of its GPUs breaks all of it, and it is
    /// re-placed whole. Other work (replicas) keeps its surviving replicas where they are
    /// and re-places only the lost ones (`replicas`).
    pub gang: bool,
    /// Replica by replica, for work that is not a gang.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<ReplicaCounts>,
    pub gpus: usize,
    /// Nodes it ran on (a Slurm hostlist).
    pub was_on: String,
    /// The down nodes among them (or the broken NVLink domain it spanned).
    pub lost: String,
    /// `re-placed` (all of it runs again), `short` (admitted with fewer replicas than it ran:
    /// an elastic workload's `min_replicas` lets it), `evicted`, or `not-in-demand` (a
    /// running workload the demand no longer has).
    pub outcome: String,
    /// Where it runs now (hostlist), when re-placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now_gpus: Option<usize>,
    /// Why the planner could not re-place it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What became of a displaced workload's replicas.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaCounts {
    /// Replicas running before the failure.
    pub before: u32,
    /// Surviving replicas still on their GPUs in the re-plan.
    pub kept: u32,
    /// Replicas the failure took (on down nodes).
    pub lost: u32,
    /// Replicas placed anew in the re-plan, and where (hostlist).
    pub re_placed: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub re_placed_on: Option<String>,
    /// The re-placed GPUs (`node/index`, as plans name them), sorted.
    pub re_placed_gpus: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OtherChange {
    pub workload: String,
    /// `moved` or `evicted`.
    pub change: String,
    pub now_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Replan {
    pub solver: String,
    pub status: String,
    pub objective: f64,
    pub solve_seconds: f64,
    /// Survivors kept in place (`--freeze` semantics) unless `--allow-moves`.
    pub survivors_frozen: bool,
    pub gpus_on_degraded_fabric: usize,
    pub gpus_used: usize,
    /// `fabplan verify`'s checks on the degraded fabric: the codes found (empty: verified).
    pub verify_violations: Vec<String>,
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub help: String,
}

fn hostlist(f: &Fabric, nodes: impl IntoIterator<Item = NodeId>) -> String {
    let names: Vec<String> = nodes
        .into_iter()
        .map(|n| f.nodes[n.index()].name.clone())
        .collect();
    compress_hostlist(&names)
}

/// What the report needs from the command: the inputs and the re-plan.
pub struct Inputs<'a> {
    pub fabric: &'a Fabric,
    pub demand: &'a Demand,
    pub failures: &'a [Failure],
    pub impact: &'a Impact,
    pub degraded: &'a Degraded,
    pub displaced: &'a [Displaced],
    /// The workloads running before the failures that were not displaced (by name, with
    /// their GPUs on the degraded fabric).
    pub survivors: &'a [(String, Vec<GpuId>)],
    pub result: Option<&'a PlanResult>,
    pub survivors_frozen: bool,
    pub violations: Vec<String>,
    pub sweep: Vec<LevelSweep>,
}

pub fn build(i: Inputs) -> WhatIfReport {
    let f = i.fabric;
    let d = &i.degraded.fabric;
    let mut down = Down {
        gpus_total: f
            .nodes
            .iter()
            .enumerate()
            .map(|(n, _)| f.template_of(NodeId::from_index(n)).gpus as usize)
            .sum(),
        ..Default::default()
    };
    for (s, why) in &i.impact.down_switches {
        down.switches.push(DownThing {
            name: f.switches[s.index()].name.clone(),
            reason: why.clone(),
        });
    }
    for (n, why) in &i.impact.down_nodes {
        down.gpus += f.template_of(*n).gpus as usize;
        down.nodes.push(DownThing {
            name: f.nodes[n.index()].name.clone(),
            reason: why.clone(),
        });
    }
    for (dm, why) in &i.impact.broken_domains {
        down.nvlink_domains.push(DownThing {
            name: f.nvlink_domains[dm.index()].name.clone(),
            reason: why.clone(),
        });
    }
    let wix = |name: &str| i.demand.workloads.iter().position(|w| w.name == name);
    let now_nodes = |w: usize| -> Option<(String, usize)> {
        let r = i.result?;
        if !r.admitted[w] || r.assignments[w].is_empty() {
            return None;
        }
        let nodes: BTreeSet<NodeId> = r.assignments[w]
            .iter()
            .map(|a| d.gpus[a.gpu.index()].node)
            .collect();
        let gpus: BTreeSet<GpuId> = r.assignments[w].iter().map(|a| a.gpu).collect();
        Some((hostlist(d, nodes), gpus.len()))
    };
    let mut findings = Vec::new();
    let mut displaced = Vec::new();
    for x in i.displaced {
        let w = wix(&x.workload);
        let wl = w.map(|w| &i.demand.workloads[w]);
        let counts = match (w, wl) {
            (Some(w), Some(wl)) if !x.whole => Some(replica_counts(&i, w, wl, x)),
            _ => None,
        };
        let short = counts
            .as_ref()
            .is_some_and(|c| c.kept + c.re_placed < c.before);
        let (outcome, now_on, now_gpus, reason) = match (w, i.result) {
            (None, _) => ("not-in-demand".to_string(), None, None, None),
            (Some(w), Some(r)) => match now_nodes(w) {
                Some((on, g)) if short => {
                    ("short".to_string(), Some(on), Some(g), r.reasons[w].clone())
                }
                Some((on, g)) => ("re-placed".to_string(), Some(on), Some(g), None),
                None => (
                    "evicted".to_string(),
                    None,
                    None,
                    r.reasons[w].clone().or_else(|| Some("not admitted".into())),
                ),
            },
            (Some(_), None) => ("evicted".to_string(), None, None, None),
        };
        if outcome == "evicted" {
            let required = wl.is_some_and(|w| w.required);
            let why = reason.clone().unwrap_or_default();
            findings.push(if required {
                Finding {
                    code: "FP962",
                    severity: "error",
                    message: format!(
                        "required workload `{}` cannot be re-placed on the degraded fabric: {why}",
                        x.workload
                    ),
                    help: "add spare capacity at the failed level (see the N-1 sweep), or let surviving work move with --allow-moves".into(),
                }
            } else {
                Finding {
                    code: "FP963",
                    severity: "warning",
                    message: format!(
                        "workload `{}` is evicted: it cannot be re-placed on the degraded fabric: {why}",
                        x.workload
                    ),
                    help: "it waits for the repair, or frees room with --allow-moves; the sweep says how much spare each level needs".into(),
                }
            });
        }
        displaced.push(DisplacedReport {
            workload: x.workload.clone(),
            tenant: wl.map(|w| i.demand.tenant(w.tenant).name.clone()),
            required: wl.is_some_and(|w| w.required),
            gang: wl.is_some_and(|w| w.gang.is_some()),
            replicas: counts,
            gpus: x.gpus.len(),
            was_on: hostlist(f, x.nodes.iter().copied()),
            lost: if x.lost_on.is_empty() {
                let names: Vec<&str> = x
                    .broken_domains
                    .iter()
                    .map(|d| f.nvlink_domains[d.index()].name.as_str())
                    .collect();
                format!("NVLink domain {}", names.join(","))
            } else {
                hostlist(f, x.lost_on.iter().copied())
            },
            outcome,
            now_on,
            now_gpus,
            reason,
        });
    }
    let mut others = Vec::new();
    if let Some(r) = i.result {
        for (name, before) in i.survivors {
            let Some(w) = wix(name) else { continue };
            if !r.admitted[w] {
                others.push(OtherChange {
                    workload: name.clone(),
                    change: "evicted".into(),
                    now_on: None,
                    reason: r.reasons[w].clone(),
                });
                continue;
            }
            let mut now: Vec<GpuId> = r.assignments[w].iter().map(|a| a.gpu).collect();
            now.sort_unstable();
            now.dedup();
            if &now != before {
                others.push(OtherChange {
                    workload: name.clone(),
                    change: "moved".into(),
                    now_on: now_nodes(w).map(|(h, _)| h),
                    reason: None,
                });
            }
        }
    }
    let replan = i.result.map(|r| Replan {
        solver: r.solver.as_str().into(),
        status: r.status.as_str().into(),
        objective: r.objective,
        solve_seconds: r.solve_seconds,
        survivors_frozen: i.survivors_frozen,
        gpus_on_degraded_fabric: d.gpus.len(),
        gpus_used: r
            .gpus
            .iter()
            .filter(|u| **u != crate::plan::state::GpuUse::Free)
            .count(),
        verified: i.violations.is_empty(),
        verify_violations: i.violations.clone(),
    });
    for s in &i.sweep {
        if !s.short.is_empty() {
            findings.push(Finding {
                code: "FP964",
                severity: "warning",
                message: format!(
                    "{} of {} single {} failure(s) displace more GPUs than are left free ({}; up to {} displaced, as few as {} free)",
                    s.short.len(), s.elements, s.level, s.short.iter().take(3).map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
                        + if s.short.len() > 3 { ", ..." } else { "" },
                    s.spare_gpus_needed, s.spare_gpus_available
                ),
                help: format!("keep at least {} GPUs free outside any one {} to survive its failure (a count: re-plan the worst with `--fail`)", s.spare_gpus_needed, s.level),
            });
        }
    }
    WhatIfReport {
        fabric: f.name.clone(),
        failures: i.failures.iter().map(|x| x.spec(f)).collect(),
        down,
        displaced,
        others,
        replan,
        findings,
        sweep: i.sweep,
    }
}

/// Replicas of `wl` in `asg` (full fabric): one per MIG instance or share, one per `k` whole
/// GPUs of a `k`-GPU replica (as `plan::state::replicas_by_model` counts them).
fn replicas_in(f: &Fabric, wl: &Workload, asg: &[Assignment]) -> u32 {
    let mut whole: BTreeMap<&str, u32> = BTreeMap::new();
    let mut n = 0;
    for a in asg {
        let key = f.template_of(f.gpus[a.gpu.index()].node).gpu_model.as_str();
        match a.hold {
            Hold::Whole => *whole.entry(key).or_default() += 1,
            _ => n += 1,
        }
    }
    for (key, g) in whole {
        n += match wl.units.get(key) {
            Some(Unit::Gpus(k)) => g / (*k).max(1),
            _ => g,
        };
    }
    n
}

/// A displaced replica workload's counts: its survivors as carried over, what the re-plan
/// kept of them, and what it placed anew (and where).
fn replica_counts(i: &Inputs, w: usize, wl: &Workload, x: &Displaced) -> ReplicaCounts {
    let f = i.fabric;
    let d = &i.degraded.fabric;
    let survivors: BTreeSet<Assignment> = x
        .survivors
        .iter()
        .filter_map(|a| {
            i.degraded.gpu_map[a.gpu.index()].map(|g| Assignment {
                gpu: g,
                hold: a.hold,
            })
        })
        .collect();
    let now: Vec<Assignment> = i
        .result
        .filter(|r| r.admitted[w])
        .map(|r| r.assignments[w].clone())
        .unwrap_or_default();
    let (kept, new): (Vec<Assignment>, Vec<Assignment>) =
        now.into_iter().partition(|a| survivors.contains(a));
    let nodes: BTreeSet<NodeId> = new.iter().map(|a| d.gpus[a.gpu.index()].node).collect();
    let gpus: BTreeSet<String> = new
        .iter()
        .map(|a| {
            let g = &d.gpus[a.gpu.index()];
            format!("{}/{}", d.nodes[g.node.index()].name, g.index)
        })
        .collect();
    ReplicaCounts {
        before: replicas_in(f, wl, &x.lost) + replicas_in(f, wl, &x.survivors),
        kept: replicas_in(d, wl, &kept),
        lost: replicas_in(f, wl, &x.lost),
        re_placed: replicas_in(d, wl, &new),
        re_placed_on: (!nodes.is_empty()).then(|| hostlist(d, nodes)),
        re_placed_gpus: gpus.into_iter().collect(),
    }
}

/// The human rendering of a report.
pub fn human(r: &WhatIfReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if r.failures.is_empty() {
        let _ = writeln!(
            s,
            "what-if on `{}`: no failure given (N-1 sweep only)",
            r.fabric
        );
    } else {
        let _ = writeln!(
            s,
            "what-if on `{}`: fail {}",
            r.fabric,
            r.failures.join(", ")
        );
        let _ = writeln!(
            s,
            "down: {} switch(es), {} node(s) ({} of {} GPUs), {} NVLink domain(s) broken",
            r.down.switches.len(),
            r.down.nodes.len(),
            r.down.gpus,
            r.down.gpus_total,
            r.down.nvlink_domains.len()
        );
        for x in &r.down.switches {
            let _ = writeln!(s, "  switch {}: {}", x.name, x.reason);
        }
        // Nodes down for the same reason as one hostlist (a leaf takes a whole SU's nodes).
        let mut by_reason: Vec<(&str, Vec<String>)> = Vec::new();
        for x in &r.down.nodes {
            match by_reason.iter_mut().find(|(why, _)| *why == x.reason) {
                Some((_, names)) => names.push(x.name.clone()),
                None => by_reason.push((&x.reason, vec![x.name.clone()])),
            }
        }
        for (why, names) in by_reason {
            let _ = writeln!(
                s,
                "  node{} {}: {why}",
                if names.len() > 1 { "s" } else { "" },
                compress_hostlist(&names)
            );
        }
        for x in &r.down.nvlink_domains {
            let _ = writeln!(
                s,
                "  nvlink domain {}: {} (its nodes stay up, each on its own)",
                x.name, x.reason
            );
        }
        let _ = writeln!(s, "displaced: {} workload(s)", r.displaced.len());
        for x in &r.displaced {
            let what = if x.gang {
                "gang broken"
            } else {
                "replicas lost"
            };
            let tail = match (&x.replicas, &x.now_on, &x.reason) {
                (Some(c), _, _) if x.outcome != "evicted" => {
                    let mut t = format!(
                        "{} of {} replica(s) kept in place, {} lost, {} re-placed",
                        c.kept, c.before, c.lost, c.re_placed
                    );
                    if let Some(on) = &c.re_placed_on {
                        let _ = write!(t, " on {on} ({})", c.re_placed_gpus.join(", "));
                    }
                    if let Some(why) = &x.reason {
                        let _ = write!(t, "; {}: {why}", x.outcome);
                    }
                    t
                }
                (_, Some(on), _) => format!("re-placed on {on} ({} GPUs)", x.now_gpus.unwrap_or(0)),
                (_, None, Some(why)) => format!("{}: {why}", x.outcome),
                (_, None, None) => x.outcome.clone(),
            };
            let _ = writeln!(
                s,
                "  {}{} ({} GPUs on {}; {what} on {}): {tail}",
                x.workload,
                if x.required { " [required]" } else { "" },
                x.gpus,
                x.was_on,
                x.lost,
            );
        }
        for o in &r.others {
            match (&o.now_on, &o.reason) {
                (Some(on), _) => {
                    let _ = writeln!(s, "  {} {} to {on}", o.workload, o.change);
                }
                (None, why) => {
                    let _ = writeln!(
                        s,
                        "  {} {}{}",
                        o.workload,
                        o.change,
                        why.as_ref().map(|w| format!(": {w}")).unwrap_or_default()
                    );
                }
            }
        }
        if let Some(p) = &r.replan {
            let _ = writeln!(
                s,
                "re-plan: {} ({}), {} of {} GPUs used on the degraded fabric, survivors {}; verify: {}",
                p.status,
                p.solver,
                p.gpus_used,
                p.gpus_on_degraded_fabric,
                if p.survivors_frozen { "kept in place" } else { "allowed to move" },
                if p.verified {
                    "ok".to_string()
                } else {
                    format!("{} violation(s) ({})", p.verify_violations.len(), p.verify_violations.join(", "))
                }
            );
        }
    }
    let _ = writeln!(
        s,
        "N-1 sweep (spare GPUs to survive any single failure; a count, not a re-plan):"
    );
    let _ = writeln!(
        s,
        "  {:<12} {:>8} {:>12} {:>12}  worst",
        "level", "elements", "spare needed", "fewest free"
    );
    for l in &r.sweep {
        let worst = l
            .worst
            .as_ref()
            .filter(|w| w.gpus_displaced > 0)
            .map(|w| {
                format!(
                    "{} ({} GPUs of {} workload(s))",
                    w.fail, w.gpus_displaced, w.workloads_displaced
                )
            })
            .unwrap_or_else(|| "nothing displaced".into());
        let _ = writeln!(
            s,
            "  {:<12} {:>8} {:>12} {:>12}  {worst}{}",
            l.level,
            l.elements,
            l.spare_gpus_needed,
            l.spare_gpus_available,
            if l.short.is_empty() { "" } else { "  SHORT" }
        );
    }
    for x in &r.findings {
        let _ = writeln!(
            s,
            "{}[{}]: {}\n  help: {}",
            x.severity, x.code, x.message, x.help
        );
    }
    s
}
