//! The replay document (one type, serialized as JSON), its CSV series and its human
//! summary. Renderers only format the document's fields, so the three cannot disagree.

use serde::Serialize;

use super::experiment::{self, Options};
use super::offline;
use super::timeline;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterInfo {
    /// The node list or fabric file name.
    pub source: String,
    pub nodes: usize,
    pub gpus: u64,
    pub models: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentList {
    pub pod_list: String,
    /// Pods in the list (CPU-only included).
    pub pods: usize,
    pub result: experiment::Result,
    /// The offline plans of the same samples (`--offline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline: Option<offline::Result>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineList {
    pub pod_list: String,
    pub pods: usize,
    /// `trace` (the list's creation and deletion times) or `generated`.
    pub arrivals: &'static str,
    pub results: Vec<timeline::Result>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Document {
    Experiment {
        cluster: ClusterInfo,
        options: Options,
        lists: Vec<ExperimentList>,
    },
    Timeline {
        cluster: ClusterInfo,
        policies: Vec<String>,
        seed: u64,
        lists: Vec<TimelineList>,
    },
}

pub fn json(doc: &Document) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(doc).expect("plain data serializes");
    v.push(b'\n');
    v
}

#[derive(Serialize)]
struct ExperimentCsvRow<'a> {
    pod_list: &'a str,
    policy: &'a str,
    seed: u64,
    step_pct: u32,
    arrived_pct: f64,
    allocation_pct: f64,
    frag_pct: f64,
    placed: u64,
    failed: u64,
}

#[derive(Serialize)]
struct TimelineCsvRow<'a> {
    pod_list: &'a str,
    policy: &'a str,
    time_s: u64,
    allocation_pct: f64,
    demand_pct: f64,
    running: u64,
    queued: u64,
}

/// The experiment's CSV with the offline plans (`--offline`): the same rows plus one per
/// seed and step of the offline plan (`policy` `offline`, no fragmentation), and the
/// offline plan's `status`, `bound_pct` and `gap_pct` (empty on the policies' rows).
#[derive(Serialize)]
struct OfflineCsvRow<'a> {
    pod_list: &'a str,
    policy: &'a str,
    seed: u64,
    step_pct: u32,
    arrived_pct: f64,
    allocation_pct: f64,
    frag_pct: Option<f64>,
    placed: u64,
    failed: u64,
    status: Option<&'a str>,
    bound_pct: Option<f64>,
    gap_pct: Option<f64>,
}

fn csv_with_offline(lists: &[ExperimentList]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for l in lists {
        let cap = l.result.gpu_milli.max(1) as f64;
        let pct = |m: u64| r4(100.0 * m as f64 / cap);
        for run in &l.result.runs {
            for p in &run.points {
                w.serialize(OfflineCsvRow {
                    pod_list: &l.pod_list,
                    policy: &run.policy,
                    seed: run.seed,
                    step_pct: p.step_pct,
                    arrived_pct: pct(p.arrived_milli),
                    allocation_pct: pct(p.allocated_milli),
                    frag_pct: Some(r4(100.0 * p.frag_milli / cap)),
                    placed: p.placed,
                    failed: p.failed,
                    status: None,
                    bound_pct: None,
                    gap_pct: None,
                })
                .expect("writing to memory");
            }
        }
        for r in l.offline.iter().flat_map(|o| &o.runs) {
            w.serialize(OfflineCsvRow {
                pod_list: &l.pod_list,
                policy: "offline",
                seed: r.seed,
                step_pct: r.step_pct,
                arrived_pct: pct(r.arrived_milli),
                allocation_pct: pct(r.allocated_milli),
                frag_pct: None,
                placed: r.placed,
                failed: r.failed,
                status: Some(r.status),
                bound_pct: r.bound_milli.map(pct),
                gap_pct: r.gap.map(|g| r4(100.0 * g)),
            })
            .expect("writing to memory");
        }
    }
    w.into_inner().expect("writing to memory")
}

/// Rounded to 4 decimals: enough for a chart, stable to read.
fn r4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// One row per run and step (experiment) or per series sample (timeline).
pub fn csv(doc: &Document) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    match doc {
        Document::Experiment { lists, .. } if lists.iter().any(|l| l.offline.is_some()) => {
            return csv_with_offline(lists);
        }
        Document::Experiment { lists, .. } => {
            for l in lists {
                let cap = l.result.gpu_milli.max(1) as f64;
                for run in &l.result.runs {
                    for p in &run.points {
                        w.serialize(ExperimentCsvRow {
                            pod_list: &l.pod_list,
                            policy: &run.policy,
                            seed: run.seed,
                            step_pct: p.step_pct,
                            arrived_pct: r4(100.0 * p.arrived_milli as f64 / cap),
                            allocation_pct: r4(100.0 * p.allocated_milli as f64 / cap),
                            frag_pct: r4(100.0 * p.frag_milli / cap),
                            placed: p.placed,
                            failed: p.failed,
                        })
                        .expect("writing to memory");
                    }
                }
            }
        }
        Document::Timeline { lists, .. } => {
            for l in lists {
                for r in &l.results {
                    for s in &r.series {
                        w.serialize(TimelineCsvRow {
                            pod_list: &l.pod_list,
                            policy: &r.policy,
                            time_s: s.time_s,
                            allocation_pct: r4(s.allocation_pct),
                            demand_pct: r4(s.demand_pct),
                            running: s.running,
                            queued: s.queued,
                        })
                        .expect("writing to memory");
                    }
                }
            }
        }
    }
    w.into_inner().expect("writing to memory")
}

/// The chart of the document.
pub fn svg(doc: &Document) -> Vec<u8> {
    use super::chart::{experiment_panel, svg, Panel, Series};
    let panels: Vec<Panel> = match doc {
        Document::Experiment { options, lists, .. } => lists
            .iter()
            .map(|l| {
                let mut panel = experiment_panel(&l.pod_list, &l.result.summary, options.max_pct);
                if let Some(off) = &l.offline {
                    panel
                        .series
                        .extend(super::chart::offline_series(&off.summary));
                }
                panel
            })
            .collect(),
        Document::Timeline { lists, .. } => lists
            .iter()
            .map(|l| {
                let start = l.results.first().map(|r| r.start_s).unwrap_or(0);
                let end = l.results.iter().map(|r| r.end_s).max().unwrap_or(start);
                let hours = |t: u64| (t - start) as f64 / 3600.0;
                Panel {
                    title: format!("{} ({} arrivals)", l.pod_list, l.arrivals),
                    x_label: "hours since the first arrival".into(),
                    y_label: "GPUs allocated, %".into(),
                    x_max: hours(end).max(1e-3),
                    ideal: false,
                    series: l
                        .results
                        .iter()
                        .map(|r| Series {
                            name: r.policy.clone(),
                            points: r
                                .series
                                .iter()
                                .map(|s| {
                                    let h = hours(s.time_s);
                                    (h, s.allocation_pct, s.allocation_pct, s.allocation_pct)
                                })
                                .collect(),
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    svg(&panels)
}

/// The human summary: per pod list, each policy's median allocation (min-max over seeds)
/// at a few steps, and its fragmentation at the last one.
pub fn human(doc: &Document) -> String {
    let mut s = String::new();
    match doc {
        Document::Experiment {
            cluster,
            options,
            lists,
        } => {
            s += &format!(
                "cluster {}: {} nodes, {} GPUs ({})\n",
                cluster.source,
                cluster.nodes,
                cluster.gpus,
                cluster.models.join(", ")
            );
            s += &format!(
                "experiment: {} seed(s) from {}, samples ({}) up to {}% of the GPUs, a point every {}%\n",
                options.seeds.len(),
                options.seeds.first().copied().unwrap_or(0),
                match options.sampling {
                    experiment::Sampling::Inflate => "the list shuffled, then copies drawn with replacement",
                    experiment::Sampling::Replacement => "drawn with replacement",
                },
                options.max_pct,
                options.step_pct
            );
            for l in lists {
                let steps: Vec<u32> = shown_steps(&l.result.summary);
                s += &format!(
                    "\n{}: {} pods, {} typical shapes; GPUs allocated, % (median over seeds, [min, max])\n",
                    l.pod_list, l.pods, l.result.typical_shapes
                );
                s += &format!("  {:<11}", "policy");
                for st in &steps {
                    s += &format!(" {:>18}", format!("at {st}%"));
                }
                s += &format!(" {:>10}\n", "frag last");
                for p in &options.policies {
                    s += &format!("  {p:<11}");
                    for st in &steps {
                        let row = l
                            .result
                            .summary
                            .iter()
                            .find(|r| &r.policy == p && r.step_pct == *st)
                            .expect("every policy has every step");
                        s += &format!(
                            " {:>18}",
                            format!(
                                "{:.1} [{:.1}, {:.1}]",
                                row.allocation_pct.median,
                                row.allocation_pct.min,
                                row.allocation_pct.max
                            )
                        );
                    }
                    let last = l
                        .result
                        .summary
                        .iter()
                        .rfind(|r| &r.policy == p)
                        .expect("rows");
                    s += &format!(" {:>9.1}%\n", last.frag_pct.median);
                }
                if let Some(off) = &l.offline {
                    s += &offline_rows(off, &steps);
                }
            }
        }
        Document::Timeline {
            cluster,
            lists,
            seed,
            ..
        } => {
            s += &format!(
                "cluster {}: {} nodes, {} GPUs ({})\n",
                cluster.source,
                cluster.nodes,
                cluster.gpus,
                cluster.models.join(", ")
            );
            s += &format!(
                "arrivals and departures, seed {seed}; pods that fit nowhere wait in a queue\n"
            );
            for l in lists {
                s += &format!(
                    "\n{}: {} pods ({} arrivals)\n",
                    l.pod_list, l.pods, l.arrivals
                );
                for r in &l.results {
                    s += &format!(
                        "  {:<11} mean allocation {:.1}%, peak {:.1}%, at most {} waiting; {:.1} h from first arrival to last departure\n",
                        r.policy,
                        r.mean_allocation_pct,
                        r.peak_allocation_pct,
                        r.max_queued,
                        (r.end_s - r.start_s) as f64 / 3600.0
                    );
                    for t in &r.tenants {
                        s += &format!(
                            "    tenant {:<11} {:>6} pods, {:>6} waited; delay mean {:.0} s, p95 {} s, max {} s; completion mean {:.0} s, p95 {} s\n",
                            t.tenant,
                            t.pods,
                            t.delayed,
                            t.queueing_delay_s.mean,
                            t.queueing_delay_s.p95,
                            t.queueing_delay_s.max,
                            t.completion_time_s.mean,
                            t.completion_time_s.p95
                        );
                    }
                }
            }
        }
    }
    s
}

/// The offline plan's rows of the human table (its allocation and its bound, `-` at steps
/// it was not run at) and a line of statuses per step.
fn offline_rows(off: &offline::Result, steps: &[u32]) -> String {
    let mut s = String::new();
    let cell = |st: &experiment::Stat| format!("{:.1} [{:.1}, {:.1}]", st.median, st.min, st.max);
    for (label, pick) in [
        (
            "offline",
            &(|r: &offline::OfflineRow| Some(r.allocation_pct.clone()))
                as &dyn Fn(&offline::OfflineRow) -> Option<experiment::Stat>,
        ),
        ("bound", &|r: &offline::OfflineRow| r.bound_pct.clone()),
    ] {
        s += &format!("  {label:<11}");
        for st in steps {
            let c = off
                .summary
                .iter()
                .find(|r| r.step_pct == *st)
                .and_then(pick)
                .map(|v| cell(&v))
                .unwrap_or_else(|| "-".into());
            s += &format!(" {c:>18}");
        }
        s += "\n";
    }
    let statuses: Vec<String> = off
        .summary
        .iter()
        .map(|r| {
            format!(
                "at {}%: {}",
                r.step_pct,
                r.statuses
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let scopes: std::collections::BTreeSet<&str> = off.runs.iter().map(|r| r.bound_scope).collect();
    s += &format!(
        "  offline: the planner (HiGHS, {} s limit per plan) on each sample at once, objective the GPUs allocated; {}; bound: {}\n",
        off.time_limit_s,
        statuses.join("; "),
        scopes.into_iter().collect::<Vec<_>>().join(", ")
    );
    s
}

/// The steps the human table shows: 50%, 100% and the last, when recorded.
fn shown_steps(rows: &[experiment::SummaryRow]) -> Vec<u32> {
    let mut have: Vec<u32> = rows.iter().map(|r| r.step_pct).collect();
    have.sort_unstable();
    have.dedup();
    let mut out: Vec<u32> = [50, 80, 100]
        .into_iter()
        .filter(|s| have.contains(s))
        .collect();
    if let Some(&last) = have.last() {
        if !out.contains(&last) {
            out.push(last);
        }
    }
    if out.is_empty() {
        out = have.into_iter().rev().take(1).collect();
    }
    out
}
