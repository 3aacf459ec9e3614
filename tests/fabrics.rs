//! The shipped reference fabrics: each validates clean with the built binary, and each
//! reproduces the counts its source publishes (NVIDIA SuperPOD RA tables, docs/sources.md (b)).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use fabplan::load::load_fabric_file;
use fabplan::model::{Endpoint, Fabric, Tier};
use serde_json::{json, Value};

fn fabrics_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fabrics")
}

fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fabrics_dir())
        .expect("fabrics/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_fabric_validates_clean() {
    let files = shipped();
    assert!(
        files.len() >= 6,
        "expected the reference designs in fabrics/, found {files:?}"
    );
    for file in files {
        let out = Command::new(env!("CARGO_BIN_EXE_fabplan"))
            .arg("validate")
            .arg(&file)
            .output()
            .expect("run fabplan");
        assert_eq!(
            out.status.code(),
            Some(0),
            "`fabplan validate {}` failed:\n{}{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The only warnings a shipped design may carry: each is true of the published design and
/// explained in a comment at the top of the file.
#[test]
fn shipped_fabrics_carry_only_their_documented_warnings() {
    let expected: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
        // The B200 RA's counts use every leaf, spine and core port: none is kept for UFM.
        ("dgx-b200-16su-ib-3tier.yaml", vec!["FP206"]),
        // Design D's 576 NIC-leaf links are the GPUs' NICs only.
        ("gb200-nvl72-su.yaml", vec!["FP206"]),
    ]);
    for file in shipped() {
        let out = Command::new(env!("CARGO_BIN_EXE_fabplan"))
            .args(["validate", "--format", "json"])
            .arg(&file)
            .output()
            .expect("run fabplan");
        let report: Value = serde_json::from_slice(&out.stdout).expect("validate prints JSON");
        let codes: Vec<&str> = report["files"][0]["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| d["code"].as_str().expect("code"))
            .collect();
        let name = file.file_name().unwrap().to_str().unwrap();
        let want = expected.get(name).cloned().unwrap_or_default();
        assert_eq!(codes, want, "{name}");
    }
}

/// `fabplan inspect FILE --format json`, parsed.
fn inspect(name: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_fabplan"))
        .args(["inspect", "--format", "json"])
        .arg(fabrics_dir().join(name))
        .output()
        .expect("run fabplan");
    assert_eq!(
        out.status.code(),
        Some(0),
        "`fabplan inspect {name}` failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("inspect prints JSON")
}

/// Asserts that every key of `expected` has that value in `actual` (objects recursively;
/// keys `expected` leaves out are not checked).
fn assert_subset(path: &str, actual: &Value, expected: &Value) {
    match expected {
        Value::Object(map) => {
            for (k, v) in map {
                let sub = format!("{path}.{k}");
                let got = actual
                    .get(k)
                    .unwrap_or_else(|| panic!("`{sub}` is missing from inspect's JSON"));
                assert_subset(&sub, got, v);
            }
        }
        Value::Number(n) if n.is_f64() => {
            let (want, got) = (n.as_f64().unwrap(), actual.as_f64().unwrap_or(f64::NAN));
            assert!(
                (want - got).abs() < 1e-6,
                "`{path}`: expected {want}, got {got}"
            );
        }
        _ => assert_eq!(actual, expected, "`{path}`"),
    }
}

/// Checks the published counts through `inspect --format json`, then loads the design
/// in-process for the structural assertions.
fn check(name: &str, published: Value) -> Fabric {
    assert_subset(name, &inspect(name), &published);
    let f = load(name);
    assert_connected(&f);
    f
}

fn load(name: &str) -> Fabric {
    let loaded = load_fabric_file(&fabrics_dir().join(name));
    loaded
        .fabric
        .unwrap_or_else(|| panic!("{name} does not load: {:?}", loaded.diagnostics))
}

/// Every switch reaches every other switch: no tier split into islands.
fn assert_connected(f: &Fabric) {
    let n = f.switches.len();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for l in &f.links {
        if let (Endpoint::Switch(a, _), Endpoint::Switch(b, _)) = (&l.a, &l.b) {
            adj[a.index()].push(b.index());
            adj[b.index()].push(a.index());
        }
    }
    let mut seen = vec![false; n];
    let mut stack = vec![0];
    seen[0] = true;
    while let Some(s) = stack.pop() {
        for &t in &adj[s] {
            if !seen[t] {
                seen[t] = true;
                stack.push(t);
            }
        }
    }
    let islands: Vec<&str> = (0..n)
        .filter(|&i| !seen[i])
        .map(|i| f.switches[i].name.as_str())
        .take(5)
        .collect();
    assert!(
        islands.is_empty(),
        "{}: switches cut off from the rest: {islands:?}",
        f.name
    );
}

/// Links per switch facing down and up, as (tier, down, up) -> number of switches.
fn port_profile(f: &Fabric) -> BTreeMap<(Tier, u32, u32), usize> {
    let mut down = vec![0u32; f.switches.len()];
    let mut up = vec![0u32; f.switches.len()];
    for l in &f.links {
        for (me, other) in [(&l.a, &l.b), (&l.b, &l.a)] {
            let Endpoint::Switch(s, _) = me else { continue };
            let mine = f.switches[s.index()].tier;
            match other {
                Endpoint::Nic(_) => down[s.index()] += 1,
                Endpoint::Switch(o, _) if f.switches[o.index()].tier < mine => down[s.index()] += 1,
                Endpoint::Switch(_, _) => up[s.index()] += 1,
            }
        }
    }
    let mut profile = BTreeMap::new();
    for (i, s) in f.switches.iter().enumerate() {
        *profile.entry((s.tier, down[i], up[i])).or_insert(0) += 1;
    }
    profile
}

#[test]
fn dgx_h100_su1_matches_the_h100_ra() {
    // H100 RA Table 4, 1 SU: 31 nodes, 248 GPUs, 8 leaf, 4 spine, 252 compute+UFM cables,
    // 256 spine-leaf cables. Bisection N x 400G / 2; power 31 DGX x 10.2 kW + 12 QM9700 x
    // 1.72 kW + 1 kW UFM.
    let f = check(
        "dgx-h100-su1-ib.yaml",
        json!({
            "gpus": 248, "nodes": 31, "management_nodes": 1, "racks": 9,
            "nvlink_domains": {"total": 31, "hgx8": 31, "largest_gpus": 8},
            "switches": {"leaf": 8, "spine": 4, "core": 0},
            "links": {"nic_leaf": 252, "leaf_spine": 256, "spine_core": 0, "other": 0, "total": 508},
            "oversubscription": {"leaf": 1.0},
            "bisection_gbps": 248 * 400 / 2,
            "power_kw": {"total": 31.0 * 10.2 + 12.0 * 1.72 + 1.0},
            "max_hops": 3,
        }),
    );
    assert!(
        f.links.iter().all(|l| l.gbps == 400),
        "every link is NDR 400G"
    );
    // Leaves 1-4 carry 31 DGX + UFM, leaves 5-8 keep the UFM slot empty; 32 up each.
    let p = port_profile(&f);
    assert_eq!(p.get(&(Tier::Leaf, 32, 32)), Some(&4));
    assert_eq!(p.get(&(Tier::Leaf, 31, 32)), Some(&4));
    assert_eq!(p.get(&(Tier::Spine, 64, 0)), Some(&4));
}

#[test]
fn dgx_h100_4su_matches_the_h100_ra() {
    // H100 RA Table 4, 4 SU: 127 nodes, 1016 GPUs, 32 leaf, 16 spine, 1020 + 1024 cables.
    let f = check(
        "dgx-h100-4su-ib.yaml",
        json!({
            "gpus": 1016, "nodes": 127, "management_nodes": 1, "scalable_units": 4,
            "switches": {"leaf": 32, "spine": 16, "core": 0},
            "links": {"nic_leaf": 1020, "leaf_spine": 1024, "spine_core": 0, "total": 2044},
            "oversubscription": {"leaf": 1.0},
            "bisection_gbps": 1016 * 400 / 2,
            "max_hops": 3,
        }),
    );
    let p = port_profile(&f);
    assert_eq!(p.get(&(Tier::Spine, 64, 0)), Some(&16));
}

#[test]
fn dgx_b200_16su_matches_the_b200_ra() {
    // B200 RA table, 16 SU: 512 nodes, 4096 GPUs, 128/128/64 switches, 4096/4096/4096 cables.
    let f = check(
        "dgx-b200-16su-ib-3tier.yaml",
        json!({
            "gpus": 4096, "nodes": 512, "scalable_units": 16, "tiers": 3,
            "switches": {"leaf": 128, "spine": 128, "core": 64},
            "links": {"nic_leaf": 4096, "leaf_spine": 4096, "spine_core": 4096, "total": 12288},
            "oversubscription": {"leaf": 1.0, "spine": 1.0},
            "bisection_gbps": 4096 * 400 / 2,
            "max_hops": 5,
        }),
    );
    // Non-blocking everywhere: leaves and spines 32 down / 32 up, cores 64 down.
    let p = port_profile(&f);
    assert_eq!(p.get(&(Tier::Leaf, 32, 32)), Some(&128));
    assert_eq!(p.get(&(Tier::Spine, 32, 32)), Some(&128));
    assert_eq!(p.get(&(Tier::Core, 64, 0)), Some(&64));
}

#[test]
fn hgx_h200_roce_1k_matches_design_c() {
    // docs/sources.md (b) C: 128 nodes, 1024 GPUs, 16 leaf + 8 spine SN5600,
    // 1024 x 400G NIC-leaf and 512 x 800G leaf-spine links, 1:1.
    let f = check(
        "hgx-h200-roce-1k.yaml",
        json!({
            "gpus": 1024, "nodes": 128, "transport": "roce",
            "switches": {"leaf": 16, "spine": 8, "core": 0},
            "links": {"nic_leaf": 1024, "leaf_spine": 512, "spine_core": 0},
            "oversubscription": {"leaf": 1.0},
            "bisection_gbps": 1024 * 400 / 2,
            "max_hops": 3,
        }),
    );
    // Each leaf: 64 x 400G down = 32 x 800G up (25.6 Tb/s each way).
    let p = port_profile(&f);
    assert_eq!(p.get(&(Tier::Leaf, 64, 32)), Some(&16));
    assert_eq!(p.get(&(Tier::Spine, 64, 0)), Some(&8));
    let l = f.lossless.as_ref().expect("full lossless settings");
    assert_eq!(l.switch.pfc_priorities, vec![3]);
    assert_eq!(l.switch.dscp_to_priority.get(&26), Some(&3));
    assert_eq!(l.switch.dscp_to_priority.get(&48), Some(&6));
    assert_eq!((l.switch.mtu, l.nic.mtu), (9216, 9000));
    let ecn = l.switch.ecn.expect("ECN on the RoCE queue");
    assert_eq!((ecn.kmin_bytes, ecn.kmax_bytes), (150_000, 1_500_000));
    assert!(l.switch.pfc_xoff_bytes.expect("xoff") > ecn.kmax_bytes);
}

#[test]
fn gb200_nvl72_su_matches_design_d() {
    // docs/sources.md (b) D: 8 NVL72 racks, 576 GPUs in 8 NVLink domains of 72 (144 trays),
    // 24 leaf + 12 spine, 576 NIC-leaf + 576 leaf-spine links.
    let f = check(
        "gb200-nvl72-su.yaml",
        json!({
            "gpus": 576, "nodes": 144,
            "nvlink_domains": {"total": 8, "nvl72": 8, "hgx8": 0, "largest_gpus": 72},
            "switches": {"leaf": 24, "spine": 12, "core": 0},
            "links": {"nic_leaf": 576, "leaf_spine": 576, "spine_core": 0},
            "oversubscription": {"leaf": 1.0},
            "bisection_gbps": 576 * 400 / 2,
            "max_hops": 3,
        }),
    );
    assert!(f
        .nvlink_domains
        .iter()
        .all(|d| d.gpus == 72 && d.nodes.len() == 18 && d.switch_trays == 9));
    let p = port_profile(&f);
    assert_eq!(p.get(&(Tier::Leaf, 24, 24)), Some(&24));
    assert_eq!(p.get(&(Tier::Spine, 48, 0)), Some(&12));
}

#[test]
fn lab_small_is_the_readme_tour_fabric() {
    check(
        "lab-small.yaml",
        json!({
            "gpus": 32, "nodes": 4,
            "switches": {"leaf": 8, "spine": 4, "core": 0},
            "links": {"nic_leaf": 32, "leaf_spine": 32},
        }),
    );
}
