//! `fabplan replay` at full size on the openb trace (`../shared/data/alibaba-openb`, beside
//! the repository): the FGD paper's experiment (10 seeds, arrived demand up to 130%) per policy and pod list, the
//! paper's figures beside ours, and the speed of one policy over one sample. Run:
//! `cargo bench --bench replay` (all lists), `cargo bench --bench replay -- default` (one
//! list), `-- --seeds 3` (fewer seeds), `-- --policies fgd,fabplan`, `-- --no-speed` (skip
//! the one-sample timings), `-- --offline 3` (the offline reference with its bound on the
//! first 3 seeds, `replay --offline`; slow). Figures go to BENCHMARKS.md.

use std::time::Instant;

use fabplan::formats::openb;
use fabplan::replay::experiment::{self, Options, Sampling};
use fabplan::replay::frag::Workload;
use fabplan::replay::offline;
use fabplan::replay::trace;
use fabplan::replay::POLICY_NAMES;

/// The paper's allocation at 130% arrived demand on the default list (Weng et al., USENIX
/// ATC '23, Fig. 7(b) and section 6.2: FGD 95.4%, BestFit 93.1%; read from the text).
const PAPER_130: &[(&str, f64)] = &[("bestfit", 93.1), ("fgd", 95.4)];

fn data_dir() -> std::path::PathBuf {
    for d in [
        "../shared/data/alibaba-openb",
        "/work/shared/data/alibaba-openb",
    ] {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(d);
        if p.join("openb_node_list_gpu_node.csv").exists() {
            return p;
        }
    }
    panic!("the openb trace is not in ../shared/data/alibaba-openb");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seeds = 10u64;
    let mut policies: Vec<String> = POLICY_NAMES.iter().map(|s| s.to_string()).collect();
    let mut speed = true;
    let mut offline_seeds = 0u64;
    let mut filter = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--seeds" {
            seeds = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(10);
            i += 1;
        } else if args[i] == "--policies" {
            if let Some(p) = args.get(i + 1) {
                policies = p.split(',').map(str::to_string).collect();
            }
            i += 1;
        } else if args[i] == "--offline" {
            // The offline reference on the first N seeds (`replay --offline`).
            offline_seeds = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(3);
            i += 1;
        } else if args[i] == "--no-speed" {
            speed = false;
        } else if !args[i].starts_with('-') {
            filter.push(args[i].clone());
        }
        i += 1;
    }
    let dir = data_dir();
    let nodes_text = std::fs::read_to_string(dir.join("openb_node_list_gpu_node.csv")).unwrap();
    let (nodes, d) = openb::parse_nodes(&nodes_text);
    assert!(d.is_empty());
    let cluster = trace::cluster_from_openb(&nodes);
    let mut lists: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().to_string_lossy().into_owned();
            n.strip_prefix("openb_pod_list_")?
                .strip_suffix(".csv")
                .map(str::to_string)
        })
        .filter(|n| filter.is_empty() || filter.iter().any(|f| n.contains(f.as_str())))
        .collect();
    lists.sort_by_key(|n| (n != "default", n.clone()));
    let opts = Options {
        policies: policies.clone(),
        seeds: (42..42 + seeds).collect(),
        max_pct: 130,
        step_pct: 5,
        sampling: Sampling::Inflate,
        popularity: 0.95,
    };
    println!(
        "cluster: {} nodes, {} GPUs; {} seeds; threads: {}",
        cluster.nodes.len(),
        cluster.gpus(),
        seeds,
        rayon::current_num_threads()
    );

    // Speed: one policy over one sample, single-threaded.
    let default_text = std::fs::read_to_string(dir.join("openb_pod_list_default.csv")).unwrap();
    let (pods, d) = openb::parse_pods(&default_text);
    assert!(d.is_empty());
    let (t, d) = trace::pods_from_openb(&pods, &cluster);
    assert!(d.is_empty(), "{d:?}");
    let workload = Workload::typical(&t.pods, 0.95);
    let order = experiment::sample(&t.pods, cluster.gpu_milli(), &opts, 42);
    println!("\n| policy | pods in one sample | seconds (one thread) |");
    println!("| --- | ---: | ---: |");
    for (k, p) in POLICY_NAMES.iter().enumerate().filter(|_| speed) {
        let start = Instant::now();
        let run = experiment::run_one(&cluster, &workload, &t.pods, &order, p, k, 42, &opts);
        println!(
            "| {p} | {} | {:.2} |",
            run.pods,
            start.elapsed().as_secs_f64()
        );
    }

    let fabric = (offline_seeds > 0).then(|| {
        fabplan::commands::replay::imported_fabric(&nodes, "openb_node_list_gpu_node.csv")
            .expect("the node list imports")
    });
    let mut offline_rows = Vec::new();

    let all = Instant::now();
    println!("\n| pod list | policy | alloc. at 100% (median [min, max]) | alloc. at 130% | frag. at 130% | paper at 130% |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for name in &lists {
        let text = std::fs::read_to_string(dir.join(format!("openb_pod_list_{name}.csv"))).unwrap();
        let (pods, d) = openb::parse_pods(&text);
        assert!(d.is_empty());
        let (t, d) = trace::pods_from_openb(&pods, &cluster);
        // FP980 warnings only: pods that fit no node stay in and fail, as in the simulator.
        assert!(d.iter().all(|d| d.code == "FP980"), "{name}: {d:?}");
        if !d.is_empty() {
            println!(
                "| {name} | ({} pods fit no node: they fail under every policy) | | | | |",
                d.len()
            );
        }
        let start = Instant::now();
        let r = experiment::run(&cluster, &t.pods, &opts);
        let secs = start.elapsed().as_secs_f64();
        let at = |p: &str, step: u32| {
            r.summary
                .iter()
                .find(|s| s.policy == p && s.step_pct == step)
                .expect("step")
        };
        for p in &policies {
            let p = p.as_str();
            let (a, b) = (at(p, 100), at(p, 130));
            let paper = PAPER_130
                .iter()
                .find(|(n, _)| name == "default" && *n == p)
                .map(|(_, v)| format!("{v:.1}"))
                .unwrap_or_default();
            println!(
                "| {name} | {p} | {:.2} [{:.2}, {:.2}] | {:.2} [{:.2}, {:.2}] | {:.2} | {paper} |",
                a.allocation_pct.median,
                a.allocation_pct.min,
                a.allocation_pct.max,
                b.allocation_pct.median,
                b.allocation_pct.min,
                b.allocation_pct.max,
                b.frag_pct.median,
            );
        }
        if let Some(fabric) = &fabric {
            let src = offline::Source {
                fabric,
                openb_pods: &pods,
                time_limit_s: 30.0,
            };
            let o = Options {
                seeds: (42..42 + offline_seeds.min(seeds)).collect(),
                ..opts.clone()
            };
            let start = Instant::now();
            let off = offline::run(&src, &cluster, &t.pods, &o);
            let secs = start.elapsed().as_secs_f64();
            // The policies on the same seeds, for the comparison beside it.
            let mine = |p: &str, step: u32| {
                let v: Vec<f64> = r
                    .runs
                    .iter()
                    .filter(|x| x.policy == p && o.seeds.contains(&x.seed))
                    .map(|x| {
                        let pt = x.points.iter().find(|q| q.step_pct == step).expect("step");
                        100.0 * pt.allocated_milli as f64 / r.gpu_milli as f64
                    })
                    .collect();
                let mut v = v;
                v.sort_by(f64::total_cmp);
                let n = v.len();
                // The median as the experiment takes it (the mean of the middle two).
                (n > 0).then(|| (v[(n - 1) / 2] + v[n / 2]) / 2.0)
            };
            for row in &off.summary {
                let s = row.step_pct;
                let cell = |st: &experiment::Stat| {
                    format!("{:.2} [{:.2}, {:.2}]", st.median, st.min, st.max)
                };
                offline_rows.push(format!(
                    "| {name} | {s}% | {} | {} | {} | {} | {} | {} |",
                    mine("fgd", s)
                        .map(|v| format!("{v:.2}"))
                        .unwrap_or_default(),
                    mine("fabplan", s)
                        .map(|v| format!("{v:.2}"))
                        .unwrap_or_default(),
                    cell(&row.allocation_pct),
                    row.bound_pct
                        .as_ref()
                        .map(cell)
                        .unwrap_or_else(|| "none".into()),
                    row.statuses
                        .iter()
                        .map(|(k, n)| format!("{n} {k}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if s == 100 {
                        format!("{secs:.0} s")
                    } else {
                        String::new()
                    },
                ));
            }
        }
        let f = |p: &str, s: u32| at(p, s).allocation_pct.median;
        if !(policies.iter().any(|p| p == "fgd") && policies.iter().any(|p| p == "fabplan")) {
            continue;
        }
        println!(
            "| {name} | fabplan - fgd | {:+.2} | {:+.2} |  | ({secs:.1} s for the list) |",
            f("fabplan", 100) - f("fgd", 100),
            f("fabplan", 130) - f("fgd", 130)
        );
    }
    if !offline_rows.is_empty() {
        println!(
            "\noffline reference, the first {} seed(s) (median [min, max] over them; fgd and fabplan medians on the same seeds):\n",
            offline_seeds.min(seeds)
        );
        println!("| pod list | step | fgd | fabplan | offline | offline bound | statuses | time (both steps) |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
        for r in &offline_rows {
            println!("{r}");
        }
    }
    println!(
        "\nall policies x {seeds} seeds x {} lists: {:.1} s",
        lists.len(),
        all.elapsed().as_secs_f64()
    );
}
