//! NVIDIA topograph's outputs against the design (`fabplan as-built`, docs/as-built.md):
//! topograph's own expected tree for the shipped NDR capture (a real output, from its test
//! `TestGenerateTopologyConfigValid`), its CI's expected Slurm tree-and-block output (read
//! only: no design ships for it), and outputs built from the documented formats (Kubernetes
//! labels, NVL72 blocks) with known faults: each reports exactly its faults.

mod common;

use std::collections::BTreeMap;

use serde_json::Value;

const DIR: &str = "tests/fixtures/as-built/topograph";
const LAB: &str = "tests/fixtures/whatif/lab-two-su.yaml";

fn codes(stdout: &str) -> BTreeMap<String, usize> {
    let v: Value = serde_json::from_str(stdout).expect("json report");
    let mut m = BTreeMap::new();
    for f in v["findings"].as_array().expect("findings") {
        *m.entry(f["code"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    m
}

fn messages(stdout: &str, code: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(stdout).expect("json report");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

/// Topograph's tree for the shipped NDR capture, given a partial host list, with the GUIDs
/// mapped to the design's names (from the capture's own switch headers). It puts leaf
/// IBLEAF-04-04 above spine IBSPINE-07 (FP971: the inversion its README describes), and
/// leaves out 23 nodes of the two SUs whose leaves it shows: 16 of SU 01 (only c03 and c04
/// were in its host list) and 7 of SU 02 (c05, c06, c08, c09, c13, c15, c17: in its host
/// list, but five of their HCAs on that leaf carry the adapter-default description and
/// port 5 holds a host of SU 08, so topograph could not name them). Every node it does
/// list is on one of its designed leaves.
#[test]
fn topographs_own_tree_of_the_ndr_capture() {
    let design = "tests/fixtures/as-built/designs/topograph-ndr-2tier.yaml";
    let tree = format!("{DIR}/ndr-2tier-topology.conf");
    let map = format!("{DIR}/ndr-2tier-map.yaml");
    let r = common::run(&["as-built", design, &tree, "--map", &map, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert_eq!(
        codes(&r.stdout),
        BTreeMap::from([("FP967".to_string(), 23), ("FP971".to_string(), 1)])
    );
    let missing = messages(&r.stdout, "FP967");
    let su2: Vec<&String> = missing
        .iter()
        .filter(|m| m.contains("a06-p1-dgx-02"))
        .collect();
    assert_eq!(su2.len(), 7, "{su2:?}");
    for c in ["c05", "c06", "c08", "c09", "c13", "c15", "c17"] {
        assert!(
            su2.iter()
                .any(|m| m.contains(&format!("a06-p1-dgx-02-{c}`"))),
            "{c}"
        );
    }
    assert!(messages(&r.stdout, "FP971")[0].contains("the design cables them the other way up"));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["topograph_nodes"], 2 + 11 + 18);
    // Without the mapping, topograph's GUID names match nothing: FP970, nothing judged.
    let r = common::run(&["as-built", design, &tree, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert_eq!(codes(&r.stdout), BTreeMap::from([("FP970".to_string(), 5)]));
    let r = common::run(&["as-built", design, &tree, "--map", &map, "--limit", "1"]);
    common::snapshot("topograph-ndr-tree", &r.transcript());
}

/// Topograph's CI expected outputs: the OCI simulation's tree (12 leaves of 8 nodes under 6
/// spines and a core, with `# switch.1.1=leaf-1-1` aliases) and the DRA simulation's blocks
/// (12 blocks of 8, `# rack11=nvl-1-1` aliases, `BlockSizes=8,16,32`).
#[test]
fn reads_topographs_tree_and_block_output() {
    let text = std::fs::read_to_string(format!("{DIR}/oci-sim-tree.conf")).unwrap();
    let file = fabplan::source::SourceFile::new("oci-sim-tree.conf", &text);
    let p = fabplan::formats::topograph::parse_slurm(&file, 0);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(p.placements.len(), 96);
    let n = p.placements.iter().find(|p| p.node == "srv2203").unwrap();
    let tiers: Vec<(&str, Option<&str>)> = n
        .tiers
        .iter()
        .map(|t| (t.name.as_str(), t.alias.as_deref()))
        .collect();
    assert_eq!(
        tiers,
        [
            ("switch.1.4", Some("leaf-2-2")),
            ("switch.2.2", Some("spine-2")),
            ("switch.3.1", Some("core"))
        ]
    );
    assert!(n.block.is_none());
    let text = std::fs::read_to_string(format!("{DIR}/dra-block.conf")).unwrap();
    let file = fabplan::source::SourceFile::new("dra-block.conf", &text);
    let p = fabplan::formats::topograph::parse_slurm(&file, 0);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(p.placements.len(), 96);
    let n = p.placements.iter().find(|p| p.node == "srv2203").unwrap();
    assert!(n.tiers.is_empty());
    let b = n.block.as_ref().unwrap();
    assert_eq!(
        (b.name.as_str(), b.alias.as_deref()),
        ("rack22", Some("nvl-2-2"))
    );
}

/// Kubernetes labels built from topograph's documented keys for the two-SU lab: a correct
/// set reports nothing; a faulty one reports exactly its four faults.
#[test]
fn kubernetes_labels_correct_and_faulty() {
    let ok = format!("{DIR}/lab-two-su-labels-correct.json");
    let r = common::run(&["as-built", LAB, &ok]);
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert!(r.stdout.contains("matches the design"), "{}", r.stdout);
    let bad = format!("{DIR}/lab-two-su-labels-faulty.json");
    let r = common::run(&["as-built", LAB, &bad, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert_eq!(
        codes(&r.stdout),
        BTreeMap::from([
            ("FP966".to_string(), 1),
            ("FP967".to_string(), 1),
            ("FP968".to_string(), 1),
            ("FP970".to_string(), 1),
        ])
    );
    assert!(messages(&r.stdout, "FP966")[0].contains("`lab2` under `leaf10` (a leaf of SU `su2`"));
    assert!(messages(&r.stdout, "FP967")[0].contains("`lab4`"));
    assert!(messages(&r.stdout, "FP968")[0].contains("`lab5`"));
    assert!(messages(&r.stdout, "FP970")[0].contains("`x3e4f1a2b3c4d5e6f`"));
    // The capture's line and the design's span, as people read them.
    let r = common::run(&["as-built", LAB, &bad]);
    common::snapshot("topograph-labels-faulty", &r.transcript());
}

/// NVL72 blocks with three faults: a tray in its neighbour's block, two domains in one
/// block, a tray in no block.
#[test]
fn nvl72_blocks_follow_the_domains() {
    let blocks = format!("{DIR}/gb200-blocks-faulty.conf");
    let r = common::run(&[
        "as-built",
        "fabrics/gb200-nvl72-su.yaml",
        &blocks,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert_eq!(
        codes(&r.stdout),
        BTreeMap::from([("FP967".to_string(), 1), ("FP969".to_string(), 2)])
    );
    let wrong = messages(&r.stdout, "FP969");
    assert!(
        wrong
            .iter()
            .any(|m| m.contains("`nvl1-t18` in block `block002`")),
        "{wrong:?}"
    );
    assert!(
        wrong
            .iter()
            .any(|m| m.contains("joins NVLink domains `nvl3`, `nvl4`")),
        "{wrong:?}"
    );
    assert!(messages(&r.stdout, "FP967")[0].contains("`nvl8-t05`"));
}

/// Every FP965 fixture is refused with exit 2 and its problems located.
#[test]
fn unreadable_topograph_outputs_are_located() {
    for (name, snap) in [
        ("FP965-syntax.conf", "topograph-FP965-syntax"),
        ("FP965-k8s-shape.json", "topograph-FP965-k8s-shape"),
    ] {
        let path = format!("{DIR}/bad/{name}");
        let r = common::run(&["as-built", LAB, &path]);
        assert_eq!(r.code, 2, "{}", r.transcript());
        assert!(r.stdout.contains("FP965"), "{}", r.transcript());
        common::snapshot(snap, &r.transcript());
    }
}
