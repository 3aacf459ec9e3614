//! `fabplan what-if`: failures that re-plan (docs/what-if.md). A hand-checked case on a
//! two-SU lab (one leaf takes exactly its SU's nodes and their work), several failures on a
//! shipped example whose re-plan `fabplan verify` accepts, did-you-mean on a bad `--fail`.

mod common;

use std::collections::BTreeSet;

const LAB: &str = "tests/fixtures/whatif/lab-two-su-demand.yaml";
const LAB_CURRENT: &str = "tests/fixtures/whatif/lab-two-su-current.json";

fn json(r: &common::Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.transcript()))
}

fn nodes_of(doc: &serde_json::Value, workload: &str) -> BTreeSet<String> {
    doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["name"] == workload)
        .flat_map(|w| w["assignments"].as_array().unwrap().iter())
        .map(|a| {
            a["gpu"]
                .as_str()
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fabplan-whatif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Hand-checked: on lab-two-su, `leaf3` is rail 2 of su1 and serves lab1 and lab2 only. With
/// it down, GPU 2 of lab1 and lab2 has no NIC, so exactly those two nodes go down, and exactly
/// the workloads the current plan has on them are displaced (read from the current file
/// here, not from fabplan). Each re-places on su2 (lab3, lab4), nothing else moves, and the
/// written re-plan passes `fabplan verify`.
#[test]
fn one_leaf_displaces_exactly_its_nodes_work() {
    let cur: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(LAB_CURRENT).unwrap()).unwrap();
    let lost: BTreeSet<String> = ["lab1", "lab2"].map(String::from).into();
    let expected: BTreeSet<String> = cur["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap().to_string())
        .filter(|w| !nodes_of(&cur, w).is_disjoint(&lost))
        .collect();
    assert!(!expected.is_empty());
    let plan = tmp("lab-replan.json");
    let r = common::run(&[
        "what-if",
        LAB,
        "--current",
        LAB_CURRENT,
        "--fail",
        "switch:leaf3",
        "--solver",
        "greedy",
        "--format",
        "json",
        "--write-plan",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.transcript());
    let rep = json(&r);
    let down: BTreeSet<String> = rep["down"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(down, lost);
    assert_eq!(rep["down"]["switches"].as_array().unwrap().len(), 1);
    assert_eq!(rep["down"]["gpus"], 16);
    let displaced: BTreeSet<String> = rep["displaced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["workload"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(displaced, expected);
    for d in rep["displaced"].as_array().unwrap() {
        assert_eq!(d["outcome"], "re-placed", "{d}");
    }
    assert!(rep["others"].as_array().unwrap().is_empty());
    assert_eq!(rep["replan"]["verified"], true);
    let replan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    for w in &expected {
        let now = nodes_of(&replan, w);
        assert!(!now.is_empty() && now.is_disjoint(&lost), "{w} on {now:?}");
    }
    let v = common::run(&["verify", LAB, plan.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}", v.transcript());
    // HiGHS (the default solver) re-places the same work and verifies too.
    let r = common::run(&[
        "what-if",
        LAB,
        "--current",
        LAB_CURRENT,
        "--fail",
        "switch:leaf3",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.transcript());
    let rep = json(&r);
    assert_eq!(rep["replan"]["solver"], "highs");
    assert_eq!(rep["replan"]["verified"], true);
    for d in rep["displaced"].as_array().unwrap() {
        assert_eq!(d["outcome"], "re-placed", "{d}");
    }
    // The same run, as people read it.
    let r = common::run(&[
        "what-if",
        LAB,
        "--current",
        LAB_CURRENT,
        "--fail",
        "switch:leaf3",
        "--solver",
        "greedy",
    ]);
    common::snapshot("whatif-lab-leaf3", &r.transcript());
}

/// N-2 on the lab: leaf3 and lab4 leave only lab3, which cannot hold the 8-GPU gang: the
/// required workload is lost (FP962, exit 1), and verify on the re-plan says FP857.
#[test]
fn a_required_gang_with_no_room_is_reported_lost() {
    let r = common::run(&[
        "what-if",
        LAB,
        "--current",
        LAB_CURRENT,
        "--fail",
        "switch:leaf3",
        "--fail",
        "node:lab4",
        "--solver",
        "greedy",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.transcript());
    let rep = json(&r);
    let codes: Vec<&str> = rep["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"FP962"), "{codes:?}");
    let lost: Vec<&serde_json::Value> = rep["displaced"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["outcome"] == "evicted")
        .collect();
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0]["workload"], "pretrain");
    assert_eq!(lost[0]["gang"], true);
}

/// Several failures (two nodes and a rack) on the shipped mixed-tenants example: the current
/// plan is planned here, the what-if re-plans, and `fabplan verify` accepts the re-plan; no
/// re-placed work sits on a down node, and every workload that kept running did not move.
#[test]
fn several_failures_replan_and_verify_on_the_shipped_example() {
    let demand = "examples/mixed-tenants-h100.yaml";
    let cur = tmp("mixed-current.json");
    let p = common::run(&[
        "plan",
        demand,
        "--solver",
        "greedy",
        "--format",
        "json",
        "-o",
        cur.to_str().unwrap(),
    ]);
    assert_eq!(p.code, 0, "{}", p.transcript());
    let replan = tmp("mixed-replan.json");
    let r = common::run(&[
        "what-if",
        demand,
        "--current",
        cur.to_str().unwrap(),
        "--fail",
        "node:dgx05",
        "--fail",
        "node:dgx14",
        "--fail",
        "rack:su1-r8",
        "--solver",
        "greedy",
        "--format",
        "json",
        "--write-plan",
        replan.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.transcript());
    let rep = json(&r);
    // su1-r8 holds dgx29-dgx31.
    let down: BTreeSet<String> = rep["down"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect();
    let want: BTreeSet<String> = ["dgx05", "dgx14", "dgx29", "dgx30", "dgx31"]
        .map(String::from)
        .into();
    assert_eq!(down, want);
    assert_eq!(rep["replan"]["verified"], true);
    let v = common::run(&["verify", demand, replan.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}", v.transcript());
    let before: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cur).unwrap()).unwrap();
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&replan).unwrap()).unwrap();
    let displaced: BTreeSet<String> = rep["displaced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["workload"].as_str().unwrap().to_string())
        .collect();
    assert!(!displaced.is_empty());
    // The greedy current plan fills the SU: what does not fit again is evicted (FP963), and
    // nothing required is lost.
    let codes: BTreeSet<&str> = rep["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains("FP963") && !codes.contains("FP962"),
        "{codes:?}"
    );
    for d in rep["displaced"].as_array().unwrap() {
        assert!(d["outcome"] == "re-placed" || d["required"] == false, "{d}");
    }
    for w in after["workloads"].as_array().unwrap() {
        let name = w["name"].as_str().unwrap();
        let now = nodes_of(&after, name);
        assert!(
            now.is_disjoint(&want),
            "{name} placed on a down node: {now:?}"
        );
        if !displaced.contains(name) && !nodes_of(&before, name).is_empty() {
            let gpus = |doc: &serde_json::Value| -> BTreeSet<String> {
                doc["workloads"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|x| x["name"] == name)
                    .flat_map(|x| x["assignments"].as_array().unwrap().iter())
                    .map(|a| a.to_string())
                    .collect()
            };
            assert_eq!(gpus(&before), gpus(&after), "survivor {name} moved");
        }
    }
}

/// A `--fail` that names nothing is exit 2 with FP961 and a did-you-mean.
#[test]
fn unknown_targets_suggest_the_closest_name() {
    for (spec, name) in [
        ("switch:lef3", "whatif-bad-switch"),
        ("swich:leaf3", "whatif-bad-kind"),
        ("nvlink-tray:lab1", "whatif-tray-on-hgx"),
        ("leaf3", "whatif-no-kind"),
    ] {
        let r = common::run(&["what-if", LAB, "--current", LAB_CURRENT, "--fail", spec]);
        assert_eq!(r.code, 2, "{}", r.transcript());
        assert!(r.stderr.contains("FP961"), "{}", r.transcript());
        common::snapshot(name, &r.transcript());
    }
}

/// An NVLink switch tray breaks its NVL72 domain: the nodes stay up, and a gang spanning the
/// domain's trays is displaced. On the shipped example the rack-scale gang on `nvl1` is
/// required and every other NVL72 domain is busy, so it is lost (FP962, exit 1), with the
/// planner's reason.
#[test]
fn an_nvlink_tray_breaks_its_domain() {
    let demand = "examples/nvl72-training.yaml";
    let cur = tmp("nvl-current.json");
    let p = common::run(&[
        "plan",
        demand,
        "--solver",
        "greedy",
        "--format",
        "json",
        "-o",
        cur.to_str().unwrap(),
    ]);
    assert_eq!(p.code, 0, "{}", p.transcript());
    let before: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cur).unwrap()).unwrap();
    let on_nvl1: BTreeSet<String> = before["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap().to_string())
        .filter(|w| {
            let n = nodes_of(&before, w);
            n.len() > 1 && n.iter().any(|x| x.starts_with("nvl1-"))
        })
        .collect();
    assert!(!on_nvl1.is_empty());
    let r = common::run(&[
        "what-if",
        demand,
        "--current",
        cur.to_str().unwrap(),
        "--fail",
        "nvlink-tray:nvl1",
        "--solver",
        "greedy",
        "--format",
        "json",
    ]);
    let rep = json(&r);
    assert!(rep["down"]["nodes"].as_array().unwrap().is_empty());
    assert_eq!(rep["down"]["nvlink_domains"][0]["name"], "nvl1");
    let displaced: BTreeSet<String> = rep["displaced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["workload"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(displaced, on_nvl1);
    let d = &rep["displaced"][0];
    assert_eq!(d["workload"], "moe-rack-scale");
    assert_eq!(d["lost"], "NVLink domain nvl1");
    assert_eq!(d["outcome"], "evicted");
    assert!(
        d["reason"]
            .as_str()
            .unwrap()
            .contains("inside one NVLink domain"),
        "{d}"
    );
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert_eq!(rep["findings"][0]["code"], "FP962");
}

/// The rules through the library: one spine of four takes nothing down; all four cut every
/// leaf off (no uplink left), so every node goes down; a plane that does not exist and a
/// misspelt rack are refused with the closest name.
#[test]
fn spines_cut_leaves_off_only_when_every_uplink_is_gone() {
    use fabplan::whatif::{impact, parse_failure};
    let f = fabplan::load::load_fabric_file(std::path::Path::new(
        "tests/fixtures/whatif/lab-two-su.yaml",
    ))
    .fabric
    .expect("fabric");
    let one = [parse_failure("switch:spine1", &f).unwrap()];
    let im = impact(&f, &one);
    assert_eq!(im.down_switches.len(), 1);
    assert!(im.down_nodes.is_empty());
    let all: Vec<_> = (1..=4)
        .map(|i| parse_failure(&format!("switch:SPINE{i}"), &f).unwrap())
        .collect();
    let im = impact(&f, &all);
    assert_eq!(im.down_switches.len(), 4 + 16);
    assert_eq!(im.down_nodes.len(), 4);
    let leaf = f.switches.iter().position(|s| s.name == "leaf1").unwrap();
    assert!(
        im.down_switches[&fabplan::model::SwitchId::from_index(leaf)]
            .starts_with("every uplink lost")
    );
    let bad = parse_failure("plane:7", &f).unwrap_err();
    assert_eq!(bad.help, "the fabric's planes: 0");
    let bad = parse_failure("rack:lab-rl", &f).unwrap_err();
    assert!(bad.help.contains("`rack:lab-r1`"), "{}", bad.help);
}

/// Two planes: a GPU keeps its other plane's port, so one leaf or one plane takes no node
/// down; both planes take both nodes down. (tests/fixtures/checks/FP701.yaml: 1-GPU nodes
/// with one port per plane; its crossed cabling does not change the count.)
#[test]
fn a_second_plane_keeps_the_node_up() {
    use fabplan::whatif::{impact, parse_failure};
    let f =
        fabplan::load::load_fabric_file(std::path::Path::new("tests/fixtures/checks/FP701.yaml"))
            .fabric
            .expect("fabric");
    for one in ["switch:p0-leaf", "plane:0", "plane:1"] {
        let im = impact(&f, &[parse_failure(one, &f).unwrap()]);
        assert!(im.down_nodes.is_empty(), "{one}: {:?}", im.down_nodes);
    }
    let both = [
        parse_failure("plane:0", &f).unwrap(),
        parse_failure("plane:1", &f).unwrap(),
    ];
    let im = impact(&f, &both);
    let down: Vec<&str> = im
        .down_nodes
        .keys()
        .map(|n| f.nodes[n.index()].name.as_str())
        .collect();
    assert_eq!(down, ["n1", "n2"]);
    let levels: Vec<String> = fabplan::whatif::sweep(&f, None, &Default::default())
        .into_iter()
        .map(|l| l.level)
        .collect();
    assert!(levels.contains(&"plane".to_string()), "{levels:?}");
}

const REPLICAS: &str = "tests/fixtures/whatif/lab-replicas-demand.yaml";
const REPLICAS_CURRENT: &str = "tests/fixtures/whatif/lab-replicas-current.json";

/// The GPUs (`node/index`) a plan document gives a workload, sorted.
fn gpus_of(doc: &serde_json::Value, workload: &str) -> Vec<String> {
    let mut v: Vec<String> = doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["name"] == workload)
        .flat_map(|w| w["assignments"].as_array().unwrap().iter())
        .map(|a| a["gpu"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// Disruption-minimal, hand-checked (the fixture's header): with lab4 down, `serve` keeps
/// its five surviving replicas on exactly their GPUs and only the two lost ones move. Greedy
/// places those best fit, running work first: lab1 has 5 GPUs free, lab2 8, lab3 6 (train's
/// four freed), so both go to lab1, on its first free GPUs 3 and 4. `train` lost four ranks,
/// so it moves whole, to the one node left with 8 free GPUs (lab2). Both solvers keep the
/// survivors; `fabplan verify` accepts the written plan.
#[test]
fn only_the_lost_replicas_move_and_a_gang_moves_whole() {
    let cur: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(REPLICAS_CURRENT).unwrap()).unwrap();
    let before = gpus_of(&cur, "serve");
    let survivors: Vec<String> = before
        .iter()
        .filter(|g| !g.starts_with("lab4/"))
        .cloned()
        .collect();
    assert_eq!(
        survivors,
        ["lab1/0", "lab1/1", "lab1/2", "lab3/0", "lab3/1"]
    );
    for solver in ["greedy", "highs"] {
        let plan = tmp(&format!("replicas-{solver}.json"));
        let r = common::run(&[
            "what-if",
            REPLICAS,
            "--current",
            REPLICAS_CURRENT,
            "--fail",
            "node:lab4",
            "--solver",
            solver,
            "--format",
            "json",
            "--write-plan",
            plan.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.transcript());
        let rep = json(&r);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        let now = gpus_of(&doc, "serve");
        assert_eq!(now.len(), 7, "{solver}: {now:?}");
        // The survivors byte for byte; the rest is new, off the down node.
        for g in &survivors {
            assert!(now.contains(g), "{solver}: {g} moved: {now:?}");
        }
        let new: Vec<String> = now
            .iter()
            .filter(|g| !survivors.contains(g))
            .cloned()
            .collect();
        assert_eq!(new.len(), 2, "{solver}: {now:?}");
        assert!(new.iter().all(|g| !g.starts_with("lab4/")), "{new:?}");
        if solver == "greedy" {
            assert_eq!(new, ["lab1/3", "lab1/4"]);
            assert_eq!(
                gpus_of(&doc, "train"),
                (0..8).map(|i| format!("lab2/{i}")).collect::<Vec<_>>()
            );
        }
        let d = rep["displaced"].as_array().unwrap();
        let serve = d.iter().find(|x| x["workload"] == "serve").unwrap();
        assert_eq!(serve["gang"], false);
        assert_eq!(serve["outcome"], "re-placed");
        let c = &serve["replicas"];
        assert_eq!(
            (&c["before"], &c["kept"], &c["lost"], &c["re_placed"]),
            (&7.into(), &5.into(), &2.into(), &2.into()),
            "{serve}"
        );
        assert_eq!(c["re_placed_gpus"], serde_json::json!(new));
        // The gang lost ranks: displaced whole, on no GPU it had.
        let train = d.iter().find(|x| x["workload"] == "train").unwrap();
        assert_eq!(train["gang"], true);
        assert!(train.get("replicas").is_none());
        assert_eq!(train["outcome"], "re-placed");
        let was = gpus_of(&cur, "train");
        let is = gpus_of(&doc, "train");
        assert_eq!(is.len(), 8);
        assert!(is.iter().all(|g| !was.contains(g)), "{solver}: {is:?}");
        assert!(rep["others"].as_array().unwrap().is_empty());
        assert_eq!(rep["replan"]["verified"], true);
        let v = common::run(&["verify", REPLICAS, plan.to_str().unwrap()]);
        assert_eq!(v.code, 0, "{}", v.transcript());
    }
    let r = common::run(&[
        "what-if",
        REPLICAS,
        "--current",
        REPLICAS_CURRENT,
        "--fail",
        "node:lab4",
        "--solver",
        "greedy",
    ]);
    common::snapshot("whatif-replicas-lab4", &r.transcript());
}
