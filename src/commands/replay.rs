//! `fabplan replay`: wiring from flags to `crate::replay`: read the cluster and the pod
//! lists (every problem of every file reported, file:line:col, before anything runs), run
//! the experiment or the timeline, write the outputs (nothing partial).

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cli::output;
use crate::cli::replay::{ReplayArgs, ReplayFormat, SamplingArg};
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::formats::openb;
use crate::replay::experiment::{self, Options, Sampling};
use crate::replay::frag::Workload;
use crate::replay::offline;
use crate::replay::output::{ClusterInfo, Document, ExperimentList, TimelineList};
use crate::replay::trace::{self, Trace};
use crate::replay::{timeline, Cluster, POLICY_NAMES};
use crate::source::SourceFile;

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn read(path: &Path) -> Result<SourceFile> {
    crate::source::read_input(path).map_err(|(file, d)| super::reject_input(&file, d))
}

fn print(diags: &[Diagnostic], file: &SourceFile) {
    eprint!(
        "{}",
        crate::cli::render::human(
            diags,
            file,
            &crate::source::Provenance::default(),
            output::stderr_color()
        )
    );
}

/// The cluster, its source's name, and the openb nodes when it is a node list.
fn load_cluster(args: &ReplayArgs) -> Result<(Cluster, String, Vec<openb::OpenbNode>)> {
    if let Some(path) = &args.fabric {
        let fabric = super::inputs::load_fabric(path)?;
        return Ok((
            trace::cluster_from_fabric(&fabric),
            file_name(path),
            Vec::new(),
        ));
    }
    let path = args
        .nodes
        .as_ref()
        .expect("clap requires --nodes or --fabric");
    let file = read(path)?;
    let (nodes, diags) = openb::parse_nodes(&file.text);
    if !diags.is_empty() {
        print(&diags, &file);
        return Err(Error::InputRejected { count: 1 });
    }
    Ok((trace::cluster_from_openb(&nodes), file_name(path), nodes))
}

/// The fabric `fabplan import openb` makes of the node list, loaded as `fabplan plan` loads
/// it: the import's files are written to a fresh directory under the system's temporary
/// directory (the fabric names its GPU model files by path), loaded, and removed. Public
/// for `benches/replay.rs`, which measures the offline reference.
pub fn imported_fabric(nodes: &[openb::OpenbNode], source: &str) -> Result<crate::model::Fabric> {
    let dir = std::env::temp_dir().join(format!(
        "fabplan-replay-offline-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join("gpus"))?;
        let codes: std::collections::BTreeSet<&str> =
            nodes.iter().map(|n| n.model.as_str()).collect();
        for c in codes {
            std::fs::write(
                dir.join("gpus")
                    .join(format!("{}.yaml", openb::model_key(c))),
                openb::gpu_model_yaml(c),
            )?;
        }
        let header = format!("imported by `fabplan replay --offline` from {source}");
        std::fs::write(
            dir.join("fabric.yaml"),
            openb::fabric_yaml("openb", nodes, 1.0, &header),
        )
    };
    let written = write();
    let loaded = written
        .is_ok()
        .then(|| crate::load::load_fabric_file(&dir.join("fabric.yaml")));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = written {
        return Err(Error::usage(
            format!(
                "--offline: cannot write the imported fabric under `{}`: {e}",
                dir.display()
            ),
            Some("the offline plan loads the node list as `fabplan import openb` writes it; set TMPDIR to a writable directory".into()),
        ));
    }
    let loaded = loaded.expect("written");
    loaded.fabric.ok_or_else(|| {
        Error::usage(
            format!(
                "--offline: the node list `{source}` does not import as a fabric: {}",
                loaded
                    .diagnostics
                    .iter()
                    .map(|d| d.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            None,
        )
    })
}

/// FP983 for each pod without the times a replay with departures needs.
fn check_times(pods: &[openb::OpenbPod]) -> Vec<Diagnostic> {
    pods.iter()
        .filter(|p| p.creation_time.is_none() || p.deletion_time.is_none())
        .map(|p| {
            Diagnostic::error(
                "FP983",
                format!(
                    "pod `{}` has no {}",
                    p.name,
                    if p.creation_time.is_none() {
                        "`creation_time`"
                    } else {
                        "`deletion_time`"
                    }
                ),
            )
            .at(p.span, "this pod")
            .help("--departures replays the trace's times: give `creation_time` and `deletion_time` (seconds), or use --generate N")
        })
        .collect()
}

/// The policies to run, in the order given, each once (default: all).
fn policies(args: &ReplayArgs) -> Vec<String> {
    if args.policy.is_empty() {
        return POLICY_NAMES.iter().map(|s| s.to_string()).collect();
    }
    let mut v: Vec<String> = Vec::new();
    for p in &args.policy {
        if !v.contains(p) {
            v.push(p.clone());
        }
    }
    v
}

pub fn run(args: &ReplayArgs, out: &mut dyn Write) -> Result<Outcome> {
    let mut inputs: Vec<PathBuf> = args.pods.clone();
    inputs.extend(args.nodes.clone());
    inputs.extend(args.fabric.clone());
    let doc = match &args.demand {
        Some(path) => {
            inputs.push(path.clone());
            let (doc, fabric) = demand_doc(args, path)?;
            inputs.push(fabric);
            doc
        }
        None => trace_doc(args)?,
    };
    write_outputs(args, &doc, &inputs, out)
}

/// The replay of a demand file with arrivals (`--demand`): its fabric's GPU nodes, each
/// workload's replicas as pods at its `arrival`, running `duration`, over the timeline.
/// Returns the document and the fabric's path (an input).
fn demand_doc(args: &ReplayArgs, path: &Path) -> Result<(Document, PathBuf)> {
    let none = crate::source::Provenance::default();
    let file = crate::load::demand::read_demand(path);
    let Some(raw) = file.raw else {
        super::inputs::report(
            &file.diagnostics,
            &file.file,
            &none,
            super::inputs::DiagStyle::Human,
        );
        return Err(Error::InputRejected { count: 1 });
    };
    let Some(fabric_path) = crate::load::demand::fabric_path(path, &raw, args.fabric.as_deref())
    else {
        return Err(Error::usage(
            format!("`{}` names no fabric", path.display()),
            Some("add `fabric: <file>` to the demand, or pass --fabric".into()),
        ));
    };
    let fabric = super::inputs::load_fabric(&fabric_path)?;
    let cluster = trace::cluster_from_fabric(&fabric);
    let (timings, _) = crate::load::arrivals::timings(&raw);
    // FP989 for each workload without an arrival or a duration (names and spans before the
    // demand is validated, which consumes it).
    let mut diags: Vec<Diagnostic> = raw
        .workloads
        .iter()
        .zip(&timings)
        .filter(|(_, t)| t.arrival_s.is_none() || t.duration_s.is_none())
        .filter(|(w, _)| {
            // A value given but refused is FP987 already.
            w.arrival.is_none() || w.duration.is_none()
        })
        .map(|(w, _)| {
            Diagnostic::error(
                "FP989",
                format!(
                    "workload `{}` has no `{}`",
                    w.name.value,
                    if w.arrival.is_none() { "arrival" } else { "duration" }
                ),
            )
            .at_opt(crate::source::known_span_of(&w.name), "this workload")
            .help("replay puts each workload on the timeline at its `arrival` for its `duration` (docs/demand-format.md)")
        })
        .collect();
    let named: Vec<(
        String,
        Option<crate::diag::Span>,
        crate::load::arrivals::Timing,
    )> = raw
        .workloads
        .iter()
        .zip(&timings)
        .map(|(w, t)| {
            (
                w.name.value.clone(),
                crate::source::known_span_of(&w.name),
                *t,
            )
        })
        .collect();
    let (demand, more) = crate::load::demand::validate_demand(raw, &fabric);
    diags.extend(more);
    let mut trace = None;
    if let Some(d) = demand.filter(|_| !crate::diag::has_errors(&diags)) {
        let (t, more) = trace::pods_from_demand(&d, &named, &cluster);
        diags.extend(more);
        trace = Some(t);
    }
    if !diags.is_empty() {
        super::inputs::report(&diags, &file.file, &none, super::inputs::DiagStyle::Human);
    }
    if crate::diag::has_errors(&diags) {
        return Err(Error::InputRejected { count: 1 });
    }
    let mut trace = trace.expect("no errors");
    let listed = trace.pods.len();
    trace.pods.retain(|p| trace::ever_fits(&cluster, p));
    let policies = policies(args);
    let workload = Workload::typical(&trace.pods, args.popularity);
    let results = policies
        .par_iter()
        .map(|p| timeline::replay(&cluster, &workload, &trace, p, args.seed, 200))
        .collect();
    let doc = Document::Timeline {
        cluster: ClusterInfo {
            source: file_name(&fabric_path),
            nodes: cluster.nodes.len(),
            gpus: cluster.gpus(),
            models: cluster.models.clone(),
        },
        policies,
        seed: args.seed,
        lists: vec![TimelineList {
            pod_list: file_name(path),
            pods: listed,
            arrivals: "demand",
            results,
        }],
    };
    Ok((doc, fabric_path))
}

/// The replay of openb pod lists: the experiment, or the timeline (`--departures`,
/// `--generate`).
fn trace_doc(args: &ReplayArgs) -> Result<Document> {
    let (cluster, source, openb_nodes) = load_cluster(args)?;
    if cluster.nodes.is_empty() {
        return Err(Error::usage(
            format!("`{source}` has no node with GPUs"),
            Some("replay places pods on GPU nodes; pass the openb GPU node list".into()),
        ));
    }
    if cluster.models.len() > 64 {
        return Err(Error::usage(
            format!(
                "the cluster has {} GPU models; replay handles up to 64",
                cluster.models.len()
            ),
            None,
        ));
    }
    // Every pod list is read and checked before anything runs.
    let mut traces: Vec<(String, Trace, usize)> = Vec::new();
    let mut openb_lists: Vec<Vec<openb::OpenbPod>> = Vec::new();
    let mut rejected = 0;
    for path in &args.pods {
        let file = read(path)?;
        let (pods, mut diags) = openb::parse_pods(&file.text);
        let mut trace = None;
        if diags.is_empty() {
            if args.departures {
                diags.extend(check_times(&pods));
            }
            let (t, more) = trace::pods_from_openb(&pods, &cluster);
            diags.extend(more);
            trace = Some(t);
        }
        if !diags.is_empty() {
            print(&diags, &file);
        }
        if diags
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error)
        {
            rejected += 1;
            continue;
        }
        let t = trace.expect("no diagnostics");
        if t.pods.iter().all(|p| p.num_gpu == 0) && !args.departures && args.generate.is_none() {
            return Err(Error::usage(
                format!("`{}` has no pod with GPUs", path.display()),
                Some("the experiment samples GPU demand; pass an openb pod list".into()),
            ));
        }
        traces.push((file_name(path), t, pods.len()));
        openb_lists.push(pods);
    }
    if rejected > 0 {
        return Err(Error::InputRejected { count: rejected });
    }
    let policies = policies(args);
    let info = ClusterInfo {
        source,
        nodes: cluster.nodes.len(),
        gpus: cluster.gpus(),
        models: cluster.models.clone(),
    };
    let doc = if args.departures || args.generate.is_some() {
        timeline_doc(args, &cluster, info, &traces, policies)
    } else {
        let options = Options {
            policies,
            seeds: (0..args.seeds).map(|k| args.seed + k).collect(),
            max_pct: args.max_pct,
            step_pct: args.step_pct,
            sampling: match args.sampling {
                SamplingArg::Inflate => Sampling::Inflate,
                SamplingArg::Replacement => Sampling::Replacement,
            },
            popularity: args.popularity,
        };
        let fabric = if args.offline {
            Some(imported_fabric(&openb_nodes, &info.source)?)
        } else {
            None
        };
        let mut lists: Vec<ExperimentList> = traces
            .par_iter()
            .map(|(name, t, n)| ExperimentList {
                pod_list: name.clone(),
                pods: *n,
                result: experiment::run(&cluster, &t.pods, &options),
                offline: None,
            })
            .collect();
        // The offline plans one list after the other (`offline::run` says why).
        if let Some(fabric) = &fabric {
            for (list, ((_, t, _), openb_pods)) in
                lists.iter_mut().zip(traces.iter().zip(&openb_lists))
            {
                let src = offline::Source {
                    fabric,
                    openb_pods,
                    time_limit_s: args.offline_time_limit,
                };
                list.offline = Some(offline::run(&src, &cluster, &t.pods, &options));
            }
        }
        Document::Experiment {
            cluster: info,
            options,
            lists,
        }
    };
    Ok(doc)
}

/// Everything is rendered before anything is written; no output may be an input.
fn write_outputs(
    args: &ReplayArgs,
    doc: &Document,
    inputs: &[PathBuf],
    out: &mut dyn Write,
) -> Result<Outcome> {
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let files: Vec<(&PathBuf, Vec<u8>)> = [
        (
            args.json.as_ref(),
            crate::replay::output::json as fn(&Document) -> Vec<u8>,
        ),
        (args.csv.as_ref(), crate::replay::output::csv),
        (args.svg.as_ref(), crate::replay::output::svg),
    ]
    .into_iter()
    .filter_map(|(p, f)| p.map(|p| (p, f(doc))))
    .collect();
    for (p, _) in &files {
        output::refuse_input_as_output(p, &inputs)?;
    }
    let stdout = match args.format {
        ReplayFormat::Human => crate::replay::output::human(doc).into_bytes(),
        ReplayFormat::Json => crate::replay::output::json(doc),
        ReplayFormat::Csv => crate::replay::output::csv(doc),
    };
    for (p, bytes) in &files {
        output::emit(out, Some(p.as_path()), &inputs, bytes)?;
    }
    output::emit(out, None, &inputs, &stdout)?;
    Ok(Outcome::Clean)
}

fn timeline_doc(
    args: &ReplayArgs,
    cluster: &Cluster,
    info: ClusterInfo,
    traces: &[(String, Trace, usize)],
    policies: Vec<String>,
) -> Document {
    let lists: Vec<TimelineList> = traces
        .par_iter()
        .map(|(name, t, n)| {
            let (trace, arrivals) = match args.generate {
                Some(count) => (
                    trace::generated(
                        t,
                        count,
                        args.rate_per_hour,
                        args.mean_duration_s,
                        args.seed,
                    ),
                    "generated",
                ),
                None => (t.clone(), "trace"),
            };
            // A pod that fits no empty node would wait forever (FP980 said so).
            let mut trace = trace;
            trace.pods.retain(|p| trace::ever_fits(cluster, p));
            let workload = Workload::typical(&t.pods, args.popularity);
            let results = policies
                .par_iter()
                .map(|p| timeline::replay(cluster, &workload, &trace, p, args.seed, 200))
                .collect();
            TimelineList {
                pod_list: name.clone(),
                pods: if args.generate.is_some() {
                    trace.pods.len()
                } else {
                    *n
                },
                arrivals,
                results,
            }
        })
        .collect();
    Document::Timeline {
        cluster: info,
        policies,
        seed: args.seed,
        lists,
    }
}
