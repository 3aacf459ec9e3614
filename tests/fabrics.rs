//! The shipped reference fabrics: each validates clean with the built binary, and each
//! reproduces the counts its source publishes (NVIDIA SuperPOD RA tables, fabric.md (b)).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use fabplan::load::load_fabric_file;
use fabplan::model::{Endpoint, Fabric, NodeRole, Tier};

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

/// What a published table states about a design.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    /// GPU servers or compute trays (management hosts such as UFM excluded).
    compute_nodes: usize,
    gpus: usize,
    nvlink_domains: usize,
    leaf: usize,
    spine: usize,
    core: usize,
    /// Every node-to-leaf cable, compute and management (the H100 RA's "Compute and UFM").
    node_leaf: usize,
    leaf_spine: usize,
    spine_core: usize,
}

fn counts(f: &Fabric) -> Counts {
    let tier = |e: &Endpoint| match e {
        Endpoint::Switch(s, _) => Some(f.switches[s.index()].tier),
        Endpoint::Nic(_) => None,
    };
    let mut c = Counts {
        compute_nodes: (0..f.nodes.len())
            .filter(|&i| {
                f.template_of(fabplan::model::NodeId::from_index(i)).role == NodeRole::Compute
            })
            .count(),
        gpus: f.gpus.len(),
        nvlink_domains: f.nvlink_domains.len(),
        ..Counts::default()
    };
    for s in &f.switches {
        match s.tier {
            Tier::Leaf => c.leaf += 1,
            Tier::Spine => c.spine += 1,
            Tier::Core => c.core += 1,
        }
    }
    for l in &f.links {
        let mut ends = [tier(&l.a), tier(&l.b)];
        ends.sort();
        match ends {
            [None, Some(Tier::Leaf)] => c.node_leaf += 1,
            [Some(Tier::Leaf), Some(Tier::Spine)] => c.leaf_spine += 1,
            [Some(Tier::Spine), Some(Tier::Core)] => c.spine_core += 1,
            other => panic!("{}: unexpected link between {other:?}", f.name),
        }
    }
    c
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

fn check(name: &str, expected: Counts) -> Fabric {
    let f = load(name);
    assert_eq!(counts(&f), expected, "{name}");
    assert_connected(&f);
    f
}

#[test]
fn dgx_h100_su1_matches_the_h100_ra() {
    // H100 RA Table 4, 1 SU: 31 nodes, 248 GPUs, 8 leaf, 4 spine, 252 compute+UFM, 256 spine-leaf.
    let f = check(
        "dgx-h100-su1-ib.yaml",
        Counts {
            compute_nodes: 31,
            gpus: 248,
            nvlink_domains: 31,
            leaf: 8,
            spine: 4,
            core: 0,
            node_leaf: 252,
            leaf_spine: 256,
            spine_core: 0,
        },
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
    check(
        "dgx-h100-4su-ib.yaml",
        Counts {
            compute_nodes: 127,
            gpus: 1016,
            nvlink_domains: 127,
            leaf: 32,
            spine: 16,
            core: 0,
            node_leaf: 1020,
            leaf_spine: 1024,
            spine_core: 0,
        },
    );
}

#[test]
fn dgx_b200_16su_matches_the_b200_ra() {
    // B200 RA table, 16 SU: 512 nodes, 4096 GPUs, 128/128/64 switches, 4096/4096/4096 cables.
    let f = check(
        "dgx-b200-16su-ib-3tier.yaml",
        Counts {
            compute_nodes: 512,
            gpus: 4096,
            nvlink_domains: 512,
            leaf: 128,
            spine: 128,
            core: 64,
            node_leaf: 4096,
            leaf_spine: 4096,
            spine_core: 4096,
        },
    );
    // Non-blocking everywhere: leaves and spines 32 down / 32 up, cores 64 down.
    let p = port_profile(&f);
    assert_eq!(p.get(&(Tier::Leaf, 32, 32)), Some(&128));
    assert_eq!(p.get(&(Tier::Spine, 32, 32)), Some(&128));
    assert_eq!(p.get(&(Tier::Core, 64, 0)), Some(&64));
}

#[test]
fn hgx_h200_roce_1k_matches_design_c() {
    // fabric.md (b) C: 128 nodes, 1024 GPUs, 16 leaf + 8 spine SN5600,
    // 1024 x 400G NIC-leaf and 512 x 800G leaf-spine links.
    let f = check(
        "hgx-h200-roce-1k.yaml",
        Counts {
            compute_nodes: 128,
            gpus: 1024,
            nvlink_domains: 128,
            leaf: 16,
            spine: 8,
            core: 0,
            node_leaf: 1024,
            leaf_spine: 512,
            spine_core: 0,
        },
    );
    // Each leaf: 64 x 400G down = 32 x 800G up (25.6 Tb/s each way).
    let p = port_profile(&f);
    assert_eq!(p.get(&(Tier::Leaf, 64, 32)), Some(&16));
    assert_eq!(p.get(&(Tier::Spine, 64, 0)), Some(&8));
    let lossless = f.lossless.as_ref().expect("full lossless settings");
    assert_eq!(lossless.switch.pfc_priorities, vec![3]);
    assert_eq!(lossless.switch.dscp_to_priority.get(&26), Some(&3));
    assert_eq!(lossless.switch.dscp_to_priority.get(&48), Some(&6));
}

#[test]
fn gb200_nvl72_su_matches_design_d() {
    // fabric.md (b) D: 8 NVL72 racks, 576 GPUs in 8 NVLink domains of 72, 24 leaf + 12 spine,
    // 576 NIC-leaf + 576 leaf-spine links.
    let f = check(
        "gb200-nvl72-su.yaml",
        Counts {
            compute_nodes: 144,
            gpus: 576,
            nvlink_domains: 8,
            leaf: 24,
            spine: 12,
            core: 0,
            node_leaf: 576,
            leaf_spine: 576,
            spine_core: 0,
        },
    );
    assert!(f
        .nvlink_domains
        .iter()
        .all(|d| d.gpus == 72 && d.nodes.len() == 18));
    let p = port_profile(&f);
    assert_eq!(p.get(&(Tier::Leaf, 24, 24)), Some(&24));
    assert_eq!(p.get(&(Tier::Spine, 48, 0)), Some(&12));
}

#[test]
fn lab_small_is_the_readme_tour_fabric() {
    check(
        "lab-small.yaml",
        Counts {
            compute_nodes: 4,
            gpus: 32,
            nvlink_domains: 4,
            leaf: 8,
            spine: 4,
            core: 0,
            node_leaf: 32,
            leaf_spine: 32,
            spine_core: 0,
        },
    );
}
