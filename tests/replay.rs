//! `fabplan replay`: the policies on small clusters where the right choice is worked out by
//! hand, FGD's fragmentation measure on a two-node case, the experiment and the timeline on
//! a ten-pod list, the same bytes for any thread count, the CLI's outputs snapshotted, and
//! bad trace input located with its code. The full-size runs are in benches/replay.rs.

mod common;

use fabplan::replay::experiment::{self, Options, Sampling};
use fabplan::replay::frag::{task_frag, TypicalPod, Workload};
use fabplan::replay::{
    policy, Cluster, NodeSpec, NodeState, Placement, PodSpec, Rng, State, MILLI, POLICY_NAMES,
};

const DIR: &str = "tests/fixtures/replay";

fn node(name: &str, model: u16, gpus: u32, cpu: u64) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        model,
        gpus,
        cpu_milli: cpu,
        memory_mib: 1 << 20,
    }
}

fn pod(num_gpu: u32, gpu_milli: u32, cpu: u64) -> PodSpec {
    PodSpec {
        name: "p".into(),
        tenant: 0,
        cpu_milli: cpu,
        memory_mib: 1024,
        num_gpu,
        gpu_milli,
        models: 0,
        arrival_s: None,
        duration_s: None,
    }
}

/// A state with the given free thousandths per GPU on each node.
fn state_with<'c>(cluster: &'c Cluster, left: &[&[u32]]) -> State<'c> {
    let mut s = State::new(cluster);
    for (n, l) in s.nodes.iter_mut().zip(left) {
        n.gpu_left = l.to_vec();
    }
    s
}

fn choose(name: &str, cluster: &Cluster, state: &State, w: &Workload, p: &PodSpec) -> Placement {
    let mut pol = policy(name, cluster, w).unwrap();
    // Policies that cache per-node values learn the hand-made state.
    for i in 0..state.nodes.len() {
        pol.changed(state, i as u32);
    }
    pol.place(state, p, &mut Rng::new(7)).expect("fits")
}

/// Two typical tasks, equally likely: a half-GPU share and one whole GPU.
fn half_and_whole() -> Workload {
    Workload::new(vec![
        TypicalPod {
            cpu_milli: 1000,
            num_gpu: 1,
            gpu_milli: 500,
            models: 0,
            weight: 0.5,
        },
        TypicalPod {
            cpu_milli: 1000,
            num_gpu: 1,
            gpu_milli: 1000,
            models: 0,
            weight: 0.5,
        },
    ])
}

#[test]
fn fgd_fragmentation_by_hand_on_two_nodes() {
    // Node X has GPUs with 1000 and 300 thousandths free, node Y 600 and 1000.
    // Share task (500): on X the GPU with 300 is a fragment (300); on Y nothing is (0).
    // Whole task (1000): on X the 300 is a fragment (300); on Y the 600 is (600).
    // F_X = 0.5 * 300 + 0.5 * 300 = 300; F_Y = 0.5 * 0 + 0.5 * 600 = 300.
    let w = half_and_whole();
    for (left, share, whole, total) in [
        (&[1000u32, 300][..], 300u64, 300u64, 300.0),
        (&[600, 1000][..], 0, 600, 300.0),
        // After a 500 share on X's free GPU: [500, 300]: share 300, whole 800 -> 550.
        (&[500, 300][..], 300, 800, 550.0),
        // After it on Y's GPU with 600: [100, 1000]: share 100, whole 100 -> 100.
        (&[100, 1000][..], 100, 100, 100.0),
    ] {
        assert_eq!(task_frag(&w.pods[0], 0, 32000, left), share, "{left:?}");
        assert_eq!(task_frag(&w.pods[1], 0, 32000, left), whole, "{left:?}");
        assert!(
            (w.node_frag(0, 32000, left) - total).abs() < 1e-9,
            "{left:?}"
        );
    }
    // With too little CPU for either task, every free thousandth is a fragment.
    assert!((w.node_frag(0, 500, &[600, 1000]) - 1600.0).abs() < 1e-9);
    // A node with nothing free has no fragments.
    assert_eq!(w.node_frag(0, 32000, &[0, 0]), 0.0);

    // FGD places a 500 share where fragmentation grows least: Y's GPU 0 (300 -> 100),
    // not X (300 -> 550) and not Y's GPU 1 (300 -> 550). Best fit picks X (800 left, not
    // 1100): the tightest node.
    let cluster = Cluster {
        models: vec!["G2".into()],
        nodes: vec![node("x", 0, 2, 32000), node("y", 0, 2, 32000)],
    };
    let state = state_with(&cluster, &[&[1000, 300], &[600, 1000]]);
    let share = pod(1, 500, 1000);
    for name in ["fgd", "fabplan"] {
        assert_eq!(
            choose(name, &cluster, &state, &w, &share),
            Placement {
                node: 1,
                gpus: vec![0]
            },
            "{name}"
        );
    }
    assert_eq!(
        choose("bestfit", &cluster, &state, &w, &share),
        Placement {
            node: 0,
            gpus: vec![0]
        }
    );
}

#[test]
fn the_fast_fragmentation_sum_is_the_definition() {
    // Many shapes, models and CPU thresholds: the class-grouped sum equals sum_m p_m F(m).
    let mut tasks = Vec::new();
    let mut rng = Rng::new(3);
    for _ in 0..40 {
        let whole = rng.below(3) == 0;
        tasks.push(TypicalPod {
            cpu_milli: 1000 * rng.below(20),
            num_gpu: if whole { 1 + rng.below(4) as u32 } else { 1 },
            gpu_milli: if whole {
                MILLI
            } else {
                50 * (1 + rng.below(19) as u32)
            },
            models: rng.below(4),
            weight: 1.0 / 40.0,
        });
    }
    let w = Workload::new(tasks.clone());
    for _ in 0..500 {
        let gpus = 1 + rng.below(8) as usize;
        let left: Vec<u32> = (0..gpus).map(|_| 50 * rng.below(21) as u32).collect();
        let cpu = 1000 * rng.below(24);
        let model = rng.below(2) as u16;
        let by_def: f64 = tasks
            .iter()
            .map(|t| t.weight * task_frag(t, model, cpu, &left) as f64)
            .sum();
        let fast = w.node_frag(model, cpu, &left);
        assert!(
            (fast - by_def).abs() < 1e-6,
            "{left:?} cpu {cpu}: {fast} vs {by_def}"
        );
    }
}

#[test]
fn ties_go_to_the_runs_node_order() {
    // Three identical empty nodes: a CPU-only pod changes no node's fragmentation against a
    // GPU workload with little CPU, so FGD scores 50 everywhere (and packing and clustering
    // 0, best fit the same). The authors' simulator gives such ties to the node of smallest
    // name, names prefixed by a per-seed random index: here the rank order n1, n2, n0.
    let cluster = Cluster {
        models: vec!["G2".into()],
        nodes: vec![
            node("n0", 0, 8, 64000),
            node("n1", 0, 8, 64000),
            node("n2", 0, 8, 64000),
        ],
    };
    let w = half_and_whole();
    let cpu_only = pod(0, 0, 8000);
    let mut state = State::new(&cluster);
    assert_eq!(state.tie_rank, vec![0, 1, 2]);
    state.tie_rank = vec![2, 0, 1];
    for name in ["fgd", "bestfit", "packing", "clustering", "dotprod"] {
        assert_eq!(
            choose(name, &cluster, &state, &w, &cpu_only).node,
            1,
            "{name}"
        );
    }
    // FGD keeps filling n1 while its CPU still leaves room for the typical tasks (1000
    // milli-CPU each); a random tie would have spread the pods over the three nodes.
    let mut pol = policy("fgd", &cluster, &w).unwrap();
    let mut rng = Rng::new(1);
    let mut went = Vec::new();
    for _ in 0..9 {
        let p = pol.place(&state, &cpu_only, &mut rng).expect("fits");
        state.place(&cpu_only, &p);
        pol.changed(&state, p.node);
        went.push(p.node);
    }
    // After 7 pods n1 has 8000 milli-CPU left; the 8th would leave none for any typical
    // task (n1's fragmentation 0 -> all 8000 free thousandths), so it goes to n2 (no change).
    assert_eq!(went, vec![1, 1, 1, 1, 1, 1, 1, 2, 2]);
    // A drawn order is a permutation, the same for the same seed.
    let a = State::new(&cluster).with_tie_order(42).tie_rank;
    let mut sorted = a.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![0, 1, 2]);
    assert_eq!(a, State::new(&cluster).with_tie_order(42).tie_rank);
}

#[test]
fn inflated_sample_is_the_list_shuffled_then_copies() {
    // The simulator's TunePodsByNodeTotalResource: every pod once in a random order, then
    // copies appended until the next one's per-GPU share would pass 130% of 10 GPUs.
    let pods = vec![pod(8, MILLI, 1000), pod(1, 500, 1000), pod(0, 0, 1000)];
    let opts = Options {
        policies: vec!["fgd".into()],
        seeds: vec![42],
        max_pct: 130,
        step_pct: 5,
        sampling: Sampling::Inflate,
        popularity: 0.95,
    };
    for seed in 42..52 {
        let order = experiment::sample(&pods, 10 * MILLI as u64, &opts, seed);
        let mut first: Vec<usize> = order[..3].to_vec();
        first.sort_unstable();
        assert_eq!(first, vec![0, 1, 2], "seed {seed}");
        let milli = |o: &[usize]| o.iter().map(|&k| pods[k].total_gpu_milli()).sum::<u64>();
        let total = milli(&order);
        let target = 13 * MILLI as u64;
        // The last copy passed the test on its per-GPU share (an 8-GPU copy may pass the
        // target by up to 7 GPUs), and the refused one would have passed it.
        if order.len() > 3 {
            let last = &pods[*order.last().unwrap()];
            assert!(total - last.total_gpu_milli() + last.gpu_milli as u64 <= target);
        }
        assert!(
            total + 500 > target || total + MILLI as u64 > target,
            "seed {seed}"
        );
        assert!(total > target - MILLI as u64, "seed {seed}: {total}");
    }
}

#[test]
fn bestfit_picks_the_tightest_node() {
    // One whole GPU: n0 is empty (8 free), n1 has 3 free, n2 has 1 free but too little CPU.
    let cluster = Cluster {
        models: vec!["G2".into()],
        nodes: vec![
            node("n0", 0, 8, 64000),
            node("n1", 0, 8, 64000),
            node("n2", 0, 8, 64000),
        ],
    };
    let mut state = state_with(
        &cluster,
        &[
            &[MILLI; 8],
            &[0, 0, 0, 0, 0, MILLI, MILLI, MILLI],
            &[0, 0, 0, 0, 0, 0, 0, MILLI],
        ],
    );
    state.nodes[2].cpu_left = 1000;
    let w = half_and_whole();
    let one = pod(1, MILLI, 4000);
    assert_eq!(
        choose("bestfit", &cluster, &state, &w, &one),
        Placement {
            node: 1,
            gpus: vec![5]
        }
    );
    // With CPU back on n2, it is the tightest.
    state.nodes[2].cpu_left = 64000;
    assert_eq!(
        choose("bestfit", &cluster, &state, &w, &one),
        Placement {
            node: 2,
            gpus: vec![7]
        }
    );
    // A share goes to the GPU with the least room that fits it.
    let mut state = state_with(&cluster, &[&[MILLI; 8], &[MILLI; 8], &[MILLI; 8]]);
    state.nodes[0].gpu_left = vec![900, 300, 400, MILLI, MILLI, MILLI, MILLI, MILLI];
    assert_eq!(
        choose("bestfit", &cluster, &state, &w, &pod(1, 350, 1000)),
        Placement {
            node: 0,
            gpus: vec![2]
        }
    );
}

#[test]
fn packing_clustering_and_dotprod_follow_their_rules() {
    let cluster = Cluster {
        models: vec!["G2".into()],
        nodes: vec![
            node("idle", 0, 4, 64000),
            node("shared", 0, 4, 64000),
            node("whole", 0, 4, 64000),
        ],
    };
    let mut state = State::new(&cluster);
    let w = half_and_whole();
    // A share on `shared`, a whole GPU on `whole`.
    let share = pod(1, 500, 1000);
    state.place(
        &share,
        &Placement {
            node: 1,
            gpus: vec![0],
        },
    );
    let one = pod(1, MILLI, 1000);
    state.place(
        &one,
        &Placement {
            node: 2,
            gpus: vec![0],
        },
    );
    // Packing puts the next share on the GPU already shared; clustering on the node of
    // shares; both leave the idle node idle.
    for name in ["packing", "clustering"] {
        assert_eq!(
            choose(name, &cluster, &state, &w, &share),
            Placement {
                node: 1,
                gpus: vec![0]
            },
            "{name}"
        );
    }
    // Clustering puts a whole GPU with the whole GPUs.
    assert_eq!(choose("clustering", &cluster, &state, &w, &one).node, 2);
    // Dot product prefers the node whose free resources align least with the pod: the one
    // with the least free GPU (`shared` and `whole` tie on GPU; `whole` has one GPU fully
    // used, so with equal CPU both score alike and the idle node scores lowest).
    let d = choose("dotprod", &cluster, &state, &w, &one).node;
    assert_ne!(d, 0, "dotprod chose the idle node");
}

#[test]
fn every_policy_respects_capacity_models_cpu_and_memory() {
    // Random pods on a mixed cluster: no policy overbooks a GPU, CPU or memory, or uses a
    // model a pod may not run on; placing and removing everything restores the cluster.
    let cluster = Cluster {
        models: vec!["G2".into(), "T4".into()],
        nodes: vec![
            node("a", 0, 8, 32000),
            node("b", 1, 2, 16000),
            node("c", 0, 4, 8000),
            node("d", 1, 1, 64000),
        ],
    };
    let mut rng = Rng::new(11);
    let pods: Vec<PodSpec> = (0..200)
        .map(|_| {
            let k = rng.below(4);
            let mut p = match k {
                0 => pod(0, 0, 1000 * (1 + rng.below(4))),
                1 => pod(
                    1,
                    100 * (1 + rng.below(9) as u32),
                    1000 * (1 + rng.below(4)),
                ),
                2 => pod(1 + rng.below(4) as u32, MILLI, 1000 * (1 + rng.below(4))),
                _ => pod(1, MILLI, 1000),
            };
            p.memory_mib = 1024 * (1 + rng.below(64));
            if rng.below(4) == 0 {
                p.models = 1 << rng.below(2);
            }
            p
        })
        .collect();
    let w = Workload::typical(&pods, 0.95);
    for name in POLICY_NAMES {
        let mut pol = policy(name, &cluster, &w).unwrap();
        let mut state = State::new(&cluster);
        let mut rng = Rng::new(5);
        let mut placed = Vec::new();
        for p in &pods {
            let fits_somewhere = (0..cluster.nodes.len()).any(|i| state.fits(i, p));
            match pol.place(&state, p, &mut rng) {
                Some(pl) => {
                    assert!(
                        state.fits(pl.node as usize, p),
                        "{name}: placed where it does not fit"
                    );
                    let spec = &cluster.nodes[pl.node as usize];
                    assert!(
                        p.num_gpu == 0 || p.may_use(spec.model),
                        "{name}: wrong model"
                    );
                    assert_eq!(pl.gpus.len() as u32, p.num_gpu, "{name}");
                    for &g in &pl.gpus {
                        assert!(state.nodes[pl.node as usize].gpu_left[g as usize] >= p.gpu_milli);
                    }
                    state.place(p, &pl);
                    pol.changed(&state, pl.node);
                    placed.push((p, pl));
                }
                None => assert!(!fits_somewhere, "{name}: refused a pod that fits"),
            }
        }
        for n in &state.nodes {
            assert!(n.gpu_left.iter().all(|&g| g <= MILLI));
        }
        for (p, pl) in placed.iter().rev() {
            state.remove(p, pl);
        }
        let fresh = State::new(&cluster);
        assert_eq!(
            state
                .nodes
                .iter()
                .map(|n| (&n.gpu_left, n.cpu_left, n.mem_left))
                .collect::<Vec<_>>(),
            fresh
                .nodes
                .iter()
                .map(|n| (&n.gpu_left, n.cpu_left, n.mem_left))
                .collect::<Vec<_>>(),
            "{name}"
        );
        assert_eq!(state.allocated_milli, 0);
        let _: &NodeState = &state.nodes[0];
    }
}

fn replay(args: &[&str], threads: &str) -> common::Run {
    let mut all = vec!["replay", "--nodes"];
    let nodes = format!("{DIR}/nodes.csv");
    all.push(&nodes);
    all.extend_from_slice(args);
    common::run_env(&all, &[("RAYON_NUM_THREADS", threads), ("COLUMNS", "100")])
}

#[test]
fn experiment_summary_json_and_csv() {
    let pods = format!("{DIR}/pods.csv");
    let human = replay(&[&pods, "--seeds", "3", "--step-pct", "10"], "2");
    assert_eq!(human.code, 0, "{}", human.transcript());
    common::snapshot("replay_experiment_human", &human.transcript());
    let csv = replay(
        &[
            &pods,
            "--seeds",
            "2",
            "--step-pct",
            "25",
            "--policy",
            "bestfit,fgd",
            "--format",
            "csv",
        ],
        "2",
    );
    assert_eq!(csv.code, 0, "{}", csv.transcript());
    common::snapshot("replay_experiment_csv", &csv.transcript());
    let json = replay(
        &[
            &pods,
            "--seeds",
            "2",
            "--step-pct",
            "50",
            "--policy",
            "fgd,fabplan",
            "--format",
            "json",
        ],
        "2",
    );
    assert_eq!(json.code, 0, "{}", json.transcript());
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["mode"], "experiment");
    // Allocation never exceeds arrived demand or the cluster.
    for run in v["lists"][0]["result"]["runs"].as_array().unwrap() {
        for p in run["points"].as_array().unwrap() {
            let (a, d) = (
                p["allocated_milli"].as_u64().unwrap(),
                p["arrived_milli"].as_u64().unwrap(),
            );
            assert!(a <= d && a <= 12_000, "{p}");
        }
    }
    common::snapshot("replay_experiment_json", &json.transcript());
}

#[test]
fn same_bytes_for_any_thread_count() {
    let pods = format!("{DIR}/pods.csv");
    let dir = std::env::temp_dir().join(format!("fabplan-replay-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "2", "4"] {
        let svg = dir.join(format!("t{threads}.svg"));
        let r = replay(
            &[
                &pods,
                &pods,
                "--seeds",
                "4",
                "--format",
                "json",
                "--svg",
                svg.to_str().unwrap(),
            ],
            threads,
        );
        assert_eq!(r.code, 0, "{}", r.transcript());
        outs.push((r.stdout, std::fs::read(&svg).unwrap()));
    }
    assert!(
        outs.windows(2).all(|w| w[0] == w[1]),
        "output depends on the thread count"
    );
    let svg = String::from_utf8(outs[0].1.clone()).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline") && svg.contains("fgd"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn departures_queue_and_completion_by_hand() {
    // One node with one GPU: `a` runs 0-100 s; `b` arrives at 10 s and waits until 100 s
    // (delay 90 s, completion 90 + 50 = 140 s); `c` (a share) arrives at 20 s and waits
    // behind nothing but the GPU: it starts at 150 s when `b` leaves (delay 130 s).
    let dir = std::env::temp_dir().join(format!("fabplan-replay-dep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let nodes = dir.join("nodes.csv");
    let pods = dir.join("pods.csv");
    std::fs::write(
        &nodes,
        "sn,cpu_milli,memory_mib,gpu,model\nn1,8000,8192,1,T4\n",
    )
    .unwrap();
    std::fs::write(
        &pods,
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time\n\
         a,1000,1024,1,1000,,LS,0,100\nb,1000,1024,1,1000,,LS,10,60\nc,1000,1024,1,500,,BE,20,40\n",
    )
    .unwrap();
    let r = common::run(&[
        "replay",
        "--nodes",
        nodes.to_str().unwrap(),
        pods.to_str().unwrap(),
        "--departures",
        "--policy",
        "bestfit",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.transcript());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let res = &v["lists"][0]["results"][0];
    assert_eq!(res["end_s"], 170);
    let tenants = res["tenants"].as_array().unwrap();
    let be = tenants.iter().find(|t| t["tenant"] == "BE").unwrap();
    let ls = tenants.iter().find(|t| t["tenant"] == "LS").unwrap();
    assert_eq!(be["queueing_delay_s"]["max"], 130);
    assert_eq!(be["completion_time_s"]["max"], 150);
    assert_eq!(ls["queueing_delay_s"]["max"], 90);
    assert_eq!(ls["completion_time_s"]["max"], 140);
    assert_eq!(ls["delayed"], 1);
    assert_eq!(res["max_queued"], 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn departures_and_generated_arrivals_summaries() {
    let pods = format!("{DIR}/pods.csv");
    let dep = replay(&[&pods, "--departures", "--policy", "fgd,fabplan"], "2");
    assert_eq!(dep.code, 0, "{}", dep.transcript());
    common::snapshot("replay_departures_human", &dep.transcript());
    let generated = replay(
        &[
            &pods,
            "--generate",
            "200",
            "--rate-per-hour",
            "40",
            "--mean-duration-s",
            "3600",
            "--policy",
            "bestfit,fgd",
        ],
        "2",
    );
    assert_eq!(generated.code, 0, "{}", generated.transcript());
    common::snapshot("replay_generated_human", &generated.transcript());
}

#[test]
fn bad_trace_input_is_located_with_its_code() {
    // FP980 is a warning: the pods that fit nowhere stay in the experiment and fail.
    let never = format!("{DIR}/bad/FP980-never-fits.csv");
    let r = replay(&[&never, "--seeds", "1", "--policy", "bestfit"], "1");
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert!(
        r.stderr.contains("FP980") && r.stderr.contains("FP980-never-fits.csv:3:1"),
        "{}",
        r.stderr
    );
    common::snapshot("replay_bad_FP980-never-fits", &r.transcript());
    for (name, extra) in [
        ("FP981-deleted-before-created", None),
        ("FP982-multi-gpu-share", None),
        ("FP983-missing-times", Some("--departures")),
        ("FP832-bad-time", None),
    ] {
        let file = format!("{DIR}/bad/{name}.csv");
        let mut args = vec![file.as_str()];
        args.extend(extra);
        let r = replay(&args, "1");
        assert_eq!(r.code, 2, "{name}: {}", r.transcript());
        assert!(r.stderr.contains(&name[..5]), "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{name}.csv:")),
            "{name}: no file:line: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{name}: printed a result");
        common::snapshot(&format!("replay_bad_{name}"), &r.transcript());
    }
}

#[test]
fn replay_help() {
    let r = common::run_env(&["replay", "--help"], &[("COLUMNS", "100")]);
    assert_eq!(r.code, 0);
    common::snapshot("replay_help", &r.transcript());
}

/// The offline reference on the hand-made case of `tests/fixtures/replay/offline/README.md`:
/// 700, 700, 300 and 300 thousandths on two GPUs. The offline plan places all four (100%,
/// optimal, bound 100%) on every seed; best fit loses a 700 when both 300s arrive first
/// (65%), which seed 6 draws.
#[test]
fn offline_reference_beside_the_policies() {
    let dir = format!("{DIR}/offline");
    let run = |args: &[&str]| {
        let mut all = vec!["replay", "--nodes"];
        let nodes = format!("{dir}/nodes.csv");
        let pods = format!("{dir}/pods.csv");
        all.push(&nodes);
        all.push(&pods);
        all.extend_from_slice(args);
        common::run_env(&all, &[("RAYON_NUM_THREADS", "2"), ("COLUMNS", "100")])
    };
    let json = run(&[
        "--max-pct",
        "100",
        "--step-pct",
        "50",
        "--seeds",
        "8",
        "--seed",
        "0",
        "--policy",
        "bestfit,fabplan",
        "--offline",
        "--format",
        "json",
    ]);
    assert_eq!(json.code, 0, "{}", json.transcript());
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let list = &v["lists"][0];
    let off = list["offline"]["runs"].as_array().unwrap();
    assert_eq!(off.len(), 8, "one plan per seed at 100%");
    for r in off {
        assert_eq!(r["step_pct"], 100, "{r}");
        assert_eq!(r["arrived_milli"], 2000, "{r}");
        assert_eq!(r["allocated_milli"], 2000, "{r}");
        assert_eq!(r["placed"], 4, "{r}");
        assert_eq!(r["status"], "optimal", "{r}");
        assert_eq!(r["bound_milli"], 2000, "{r}");
    }
    let bestfit_at_100 = |seed: u64| {
        list["result"]["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["policy"] == "bestfit" && r["seed"] == seed)
            .unwrap()["points"][1]["allocated_milli"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(bestfit_at_100(6), 1300, "both 300s on one GPU");
    // Every online run stays at or below the offline bound (valid for every plan).
    for r in list["result"]["runs"].as_array().unwrap() {
        assert!(r["points"][1]["allocated_milli"].as_u64().unwrap() <= 2000);
    }
    let human = run(&[
        "--max-pct",
        "100",
        "--step-pct",
        "50",
        "--seeds",
        "3",
        "--seed",
        "5",
        "--policy",
        "bestfit,fabplan",
        "--offline",
    ]);
    assert_eq!(human.code, 0, "{}", human.transcript());
    common::snapshot("replay_offline_human", &human.transcript());
    let csv = run(&[
        "--max-pct",
        "100",
        "--step-pct",
        "50",
        "--seeds",
        "2",
        "--seed",
        "6",
        "--policy",
        "bestfit",
        "--offline",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.code, 0, "{}", csv.transcript());
    common::snapshot("replay_offline_csv", &csv.transcript());
    // The chart draws the offline plan and its bound.
    let out =
        std::env::temp_dir().join(format!("fabplan-replay-offline-{}.svg", std::process::id()));
    let svg = run(&[
        "--max-pct",
        "100",
        "--step-pct",
        "50",
        "--seeds",
        "2",
        "--policy",
        "bestfit",
        "--offline",
        "--svg",
        out.to_str().unwrap(),
    ]);
    assert_eq!(svg.code, 0, "{}", svg.transcript());
    let text = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert!(
        text.contains(">offline<") && text.contains(">offline bound<"),
        "{text}"
    );
    // --offline needs the node list and the experiment.
    let r = common::run(&[
        "replay",
        "--fabric",
        "fabrics/dgx-h100-su1-ib.yaml",
        "x.csv",
        "--offline",
    ]);
    assert_eq!(r.code, 2, "{}", r.transcript());
}

/// A demand with arrivals, worked by hand in `tests/fixtures/replay/demand/arrivals.yaml`:
/// queueing delay and completion time per tenant, the same with RFC 3339 times.
#[test]
fn demand_with_arrivals_on_the_timeline() {
    let dir = format!("{DIR}/demand");
    let run = |file: &str, extra: &[&str]| {
        let path = format!("{dir}/{file}");
        let mut all = vec![
            "replay",
            "--demand",
            path.as_str(),
            "--policy",
            "bestfit,fabplan",
        ];
        all.extend_from_slice(extra);
        common::run_env(&all, &[("RAYON_NUM_THREADS", "2"), ("COLUMNS", "100")])
    };
    let json = run("arrivals.yaml", &["--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.transcript());
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["mode"], "timeline");
    let list = &v["lists"][0];
    assert_eq!(list["arrivals"], "demand");
    assert_eq!(list["pods"], 4);
    for r in list["results"].as_array().unwrap() {
        let t = r["tenants"].as_array().unwrap();
        assert_eq!(t[0]["tenant"], "t1");
        assert_eq!(t[0]["delayed"], 0);
        assert_eq!(t[0]["completion_time_s"]["mean"], 55.0);
        assert_eq!(t[1]["tenant"], "t2");
        assert_eq!(t[1]["delayed"], 2);
        assert_eq!(t[1]["queueing_delay_s"]["mean"], 85.0);
        assert_eq!(t[1]["queueing_delay_s"]["max"], 90);
        assert_eq!(t[1]["completion_time_s"]["mean"], 125.0);
        assert_eq!(
            r["end_s"].as_u64().unwrap() - r["start_s"].as_u64().unwrap(),
            150
        );
        // 100 s at 2 GPUs, 30 s at 1.5, 20 s at 1: 88.33% over 150 s.
        let mean = r["mean_allocation_pct"].as_f64().unwrap();
        assert!((mean - 88.333).abs() < 0.01, "{mean}");
    }
    let rfc = run("arrivals-rfc3339.yaml", &["--format", "json"]);
    assert_eq!(rfc.code, 0, "{}", rfc.transcript());
    let w: serde_json::Value = serde_json::from_str(&rfc.stdout).unwrap();
    assert_eq!(
        w["lists"][0]["results"][0]["tenants"], list["results"][0]["tenants"],
        "RFC 3339 times replay as the seconds do"
    );
    let human = run("arrivals.yaml", &[]);
    assert_eq!(human.code, 0, "{}", human.transcript());
    common::snapshot("replay_demand_human", &human.transcript());
    // `plan` reads the same file (the fields are checked, and otherwise ignored).
    let plan = common::run(&["plan", &format!("{dir}/arrivals.yaml"), "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    for (name, code) in [
        ("FP987-bad-time", "FP987"),
        ("FP988-mixed-forms", "FP988"),
        ("FP989-missing-duration", "FP989"),
    ] {
        let r = run(&format!("bad/{name}.yaml"), &[]);
        assert_eq!(r.code, 2, "{name}: {}", r.transcript());
        assert!(r.stderr.contains(code), "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{name}.yaml:")),
            "{name}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{name}");
        common::snapshot(&format!("replay_bad_{name}"), &r.transcript());
    }
    // The load checks run for `plan` too; FP989 is replay's only.
    let r = common::run(&["plan", &format!("{dir}/bad/FP988-mixed-forms.yaml")]);
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(r.stderr.contains("FP988"), "{}", r.stderr);
    let r = common::run(&["plan", &format!("{dir}/bad/FP989-missing-duration.yaml")]);
    assert_eq!(r.code, 0, "{}", r.transcript());
}
