//! `fabplan size` against NVIDIA's published DGX SuperPOD compute-fabric tables, run through
//! the binary with `--format json`, plus snapshots of the human output and of `--help`.

use std::process::{Command, Output};

use fabplan::fabric::sizing::{size_clos, SizeRequest};
use serde_json::Value;

/// One published row: the inputs are implied by the table (GPUs) and the RA's hardware
/// (radix, NIC speed, SU size, planes, cable rate, UFM links); the rest is what NVIDIA prints.
#[derive(Debug, Clone, Copy)]
struct Row {
    scalable_units: u64,
    nodes: u64,
    gpus: u64,
    leaf: u64,
    spine: u64,
    core: u64,
    node_leaf: u64,
    leaf_spine: u64,
    spine_core: u64,
}

const fn row(
    scalable_units: u64,
    nodes: u64,
    gpus: u64,
    switches: [u64; 3],
    cables: [u64; 3],
) -> Row {
    Row {
        scalable_units,
        nodes,
        gpus,
        leaf: switches[0],
        spine: switches[1],
        core: switches[2],
        node_leaf: cables[0],
        leaf_spine: cables[1],
        spine_core: cables[2],
    }
}

/// NVIDIA DGX SuperPOD with DGX B200, "DGX SuperPOD Architecture", compute fabric table
/// (QM9700, 64 x 400G NDR; 32-node SUs):
/// https://docs.nvidia.com/dgx-superpod/reference-architecture-scalable-infrastructure-b200/latest/dgx-superpod-architecture.html
const B200: [Row; 6] = [
    row(2, 64, 512, [16, 8, 0], [512, 512, 0]),
    row(4, 128, 1024, [32, 16, 0], [1024, 1024, 0]),
    row(8, 256, 2048, [64, 32, 0], [2048, 2048, 0]),
    row(16, 512, 4096, [128, 128, 64], [4096, 4096, 4096]),
    row(32, 1024, 8192, [256, 256, 128], [8192, 8192, 8192]),
    row(64, 2048, 16384, [512, 512, 256], [16384, 16384, 16384]),
];
const B200_ARGS: &[&str] = &["--radix", "64", "--nic-gbps", "400"];

/// NVIDIA DGX SuperPOD with DGX H100, "Network Fabrics", Table 4 "Compute fabric component
/// count" (QM9700; one DGX slot given up for UFM, whose 4 links are in "Compute and UFM"):
/// https://docs.nvidia.com/dgx-superpod/reference-architecture-scalable-infrastructure-h100/latest/network-fabrics.html
const H100: [Row; 4] = [
    row(1, 31, 248, [8, 4, 0], [252, 256, 0]),
    row(2, 63, 504, [16, 8, 0], [508, 512, 0]),
    row(3, 95, 760, [24, 16, 0], [764, 768, 0]),
    row(4, 127, 1016, [32, 16, 0], [1020, 1024, 0]),
];
const H100_ARGS: &[&str] = &["--radix", "64", "--nic-gbps", "400", "--ufm-links", "4"];

/// NVIDIA DGX SuperPOD with DGX B300, Quantum-X800 InfiniBand (XDR, 144 x 800G; 72-node SUs),
/// "DGX SuperPOD Architecture", Table 3. The 18-SU row prints 9216 GPUs, which contradicts its
/// own 1296 nodes x 8 and its 10368 node-leaf cables; we use 10368.
/// https://docs.nvidia.com/dgx-superpod/reference-architecture/scalable-infrastructure-b300-xdr/latest/dgx-superpod-architecture.html
const B300_XDR: [Row; 5] = [
    row(1, 72, 576, [8, 4, 0], [576, 576, 0]),
    row(2, 144, 1152, [16, 8, 0], [1152, 1152, 0]),
    row(4, 288, 2304, [32, 18, 0], [2304, 2304, 0]),
    row(8, 576, 4608, [64, 36, 0], [4608, 4608, 0]),
    row(18, 1296, 10368, [144, 72, 0], [10368, 10368, 0]),
];
const B300_XDR_ARGS: &[&str] = &["--radix", "144", "--nic-gbps", "800", "--su-nodes", "72"];

/// NVIDIA DGX SuperPOD with DGX B300, Spectrum-4 Ethernet (twin-plane: each GPU 2 x 400G, one
/// port per plane; 64 x 800G switches = 128 x 400G; 64-node SUs; cables counted at 800G),
/// "DGX SuperPOD Architecture", Table 3 "Larger DGX SuperPOD component counts":
/// https://docs.nvidia.com/dgx-superpod/reference-architecture/scalable-infrastructure-b300/latest/dgx-superpod-architecture.html
const B300_ETHERNET: [Row; 5] = [
    row(1, 64, 512, [16, 8, 0], [512, 512, 0]),
    row(2, 128, 1024, [32, 16, 0], [1024, 1024, 0]),
    row(4, 256, 2048, [64, 32, 0], [2048, 2048, 0]),
    row(8, 512, 4096, [128, 64, 0], [4096, 4096, 0]),
    row(16, 1024, 8192, [256, 128, 0], [8192, 8192, 0]),
];
const B300_ETHERNET_ARGS: &[&str] = &[
    "--radix",
    "128",
    "--nic-gbps",
    "400",
    "--planes",
    "2",
    "--su-nodes",
    "64",
    "--cable-gbps",
    "800",
];

fn fabplan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fabplan"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .expect("run fabplan")
}

fn size_json(gpus: u64, args: &[&str]) -> Value {
    let gpus = gpus.to_string();
    let mut all = vec!["size", "--gpus", gpus.as_str(), "--format", "json"];
    all.extend_from_slice(args);
    let out = fabplan(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("size prints JSON")
}

/// Asserts every published column of every row, through the binary.
fn check_table(table: &[Row], args: &[&str]) {
    for r in table {
        let j = size_json(r.gpus, args);
        let got = |key: &str| j[key].as_u64().unwrap_or_else(|| panic!("{key} in {j}"));
        let cable = |key: &str| j["cables"][key].as_u64().expect("cable count");
        let want = [
            ("scalable_units", r.scalable_units, got("scalable_units")),
            ("nodes", r.nodes, got("nodes")),
            ("gpus", r.gpus, got("gpus")),
            ("leaf", r.leaf, got("leaf")),
            ("spine", r.spine, got("spine")),
            ("core", r.core, got("core")),
            ("cables.node_leaf", r.node_leaf, cable("node_leaf")),
            ("cables.leaf_spine", r.leaf_spine, cable("leaf_spine")),
            ("cables.spine_core", r.spine_core, cable("spine_core")),
            (
                "cables.total",
                r.node_leaf + r.leaf_spine + r.spine_core,
                cable("total"),
            ),
        ];
        for (what, expected, actual) in want {
            assert_eq!(
                actual, expected,
                "{what} for the {}-SU row",
                r.scalable_units
            );
        }
        let tiers = if r.core > 0 { 3 } else { 2 };
        assert_eq!(
            got("tiers"),
            tiers,
            "tiers for the {}-SU row",
            r.scalable_units
        );
    }
}

#[test]
fn reproduces_dgx_b200_superpod_table() {
    check_table(&B200, B200_ARGS);
}

#[test]
fn reproduces_dgx_h100_superpod_table() {
    check_table(&H100, H100_ARGS);
}

#[test]
fn reproduces_dgx_b300_xdr_superpod_table() {
    check_table(&B300_XDR, B300_XDR_ARGS);
}

#[test]
fn reproduces_dgx_b300_ethernet_superpod_table() {
    check_table(&B300_ETHERNET, B300_ETHERNET_ARGS);
}

#[test]
fn h100_without_ufm_counts_only_gpu_links() {
    // Without --ufm-links the same switches come out; node-leaf holds the 248 GPU links only.
    let j = size_json(248, &["--radix", "64", "--nic-gbps", "400"]);
    assert_eq!(
        (j["leaf"].as_u64(), j["spine"].as_u64()),
        (Some(8), Some(4))
    );
    assert_eq!(j["cables"]["node_leaf"].as_u64(), Some(248));
    assert_eq!(j["cables"]["leaf_spine"].as_u64(), Some(256));
}

#[test]
fn the_library_agrees_with_the_binary() {
    // The generator calls the library directly: same numbers without the CLI.
    for r in B200 {
        let s = size_clos(&SizeRequest::new(r.gpus, 64, 400)).expect("sizes");
        assert_eq!((s.leaf, s.spine, s.core), (r.leaf, r.spine, r.core));
        assert_eq!(
            (s.cables.node_leaf, s.cables.leaf_spine, s.cables.spine_core),
            (r.node_leaf, r.leaf_spine, r.spine_core)
        );
    }
}

#[test]
fn json_keys_come_in_a_fixed_order() {
    let out = fabplan(&[
        "size",
        "--gpus",
        "4096",
        "--radix",
        "64",
        "--nic-gbps",
        "400",
        "--format",
        "json",
    ]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let positions: Vec<usize> = ["\"leaf\"", "\"spine\"", "\"core\"", "\"cables\""]
        .iter()
        .map(|k| text.find(k).expect("key present"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    // Two runs, same bytes.
    let again = fabplan(&[
        "size",
        "--gpus",
        "4096",
        "--radix",
        "64",
        "--nic-gbps",
        "400",
        "--format",
        "json",
    ]);
    assert_eq!(text.as_bytes(), again.stdout.as_slice());
}

#[test]
fn bad_input_exits_2_with_a_message_and_no_panic() {
    let cases: &[&[&str]] = &[
        &["--gpus", "0", "--radix", "64", "--nic-gbps", "400"],
        &["--gpus", "256", "--radix", "63", "--nic-gbps", "400"],
        &["--gpus", "256", "--radix", "2", "--nic-gbps", "400"],
        &["--gpus", "12", "--radix", "64", "--nic-gbps", "400"],
        &["--gpus", "65792", "--radix", "64", "--nic-gbps", "400"],
        &[
            "--gpus",
            "18446744073709551608",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
        ],
        &[
            "--gpus",
            "256",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
            "--ufm-links",
            "4",
        ],
        &["--gpus", "256", "--radix", "64", "--nic-gbps", "0"],
        &[
            "--gpus",
            "256",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
            "--gpus-per-node",
            "0",
        ],
        &[
            "--gpus",
            "256",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
            "--cable-gbps",
            "600",
        ],
        &[
            "--gpus",
            "256",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
            "--module-watts",
            "-1",
        ],
        &[
            "--gpus",
            "256",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
            "--format",
            "sarif",
        ],
        &["--gpus", "-8", "--radix", "64", "--nic-gbps", "400"],
        &[
            "--gpus",
            "256",
            "--radix",
            "4294967294",
            "--nic-gbps",
            "400",
        ],
    ];
    for args in cases {
        let mut all = vec!["size"];
        all.extend_from_slice(args);
        let out = fabplan(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{all:?}: {stderr}");
        assert!(!stderr.trim().is_empty(), "{all:?} printed no message");
        assert!(out.stdout.is_empty(), "{all:?} printed to stdout");
    }
}

#[test]
fn output_file_gets_the_same_bytes() {
    let dir = std::env::temp_dir().join(format!("fabplan-size-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("size.json");
    let file_arg = file.to_string_lossy().into_owned();
    let base = [
        "size",
        "--gpus",
        "512",
        "--radix",
        "64",
        "--nic-gbps",
        "400",
        "--format",
        "json",
    ];
    let to_stdout = fabplan(&base);
    let mut with_file = base.to_vec();
    with_file.extend_from_slice(&["-o", &file_arg]);
    let to_file = fabplan(&with_file);
    assert_eq!(to_file.status.code(), Some(0));
    assert!(to_file.stdout.is_empty());
    assert_eq!(std::fs::read(&file).expect("written"), to_stdout.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

/// stdout, stderr and the exit code together, as the house style asks.
fn transcript(args: &[&str]) -> String {
    let out = fabplan(args);
    format!(
        "$ fabplan {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status
            .code()
            .map_or("signal".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn snapshot_help() {
    snapshot("size_help", &transcript(&["size", "--help"]));
}

#[test]
fn snapshot_human_b200_16_su() {
    snapshot(
        "size_human_b200_16su",
        &transcript(&[
            "size",
            "--gpus",
            "4096",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
        ]),
    );
}

#[test]
fn snapshot_human_h100_1_su_with_ufm() {
    snapshot(
        "size_human_h100_1su_ufm",
        &transcript(&[
            "size",
            "--gpus",
            "248",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
            "--ufm-links",
            "4",
        ]),
    );
}

#[test]
fn snapshot_human_b300_ethernet_two_planes() {
    let mut args = vec!["size", "--gpus", "512"];
    args.extend_from_slice(B300_ETHERNET_ARGS);
    snapshot("size_human_b300_ethernet_1su", &transcript(&args));
}

#[test]
fn snapshot_error_beyond_three_tiers() {
    snapshot(
        "size_error_beyond_three_tiers",
        &transcript(&[
            "size",
            "--gpus",
            "65792",
            "--radix",
            "64",
            "--nic-gbps",
            "400",
        ]),
    );
}

mod properties {
    use fabplan::fabric::sizing::{size_clos, SizeRequest};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any input gives a size or an error, never a panic; a size respects every port budget
        /// and is non-blocking.
        #[test]
        fn sizes_respect_port_budgets(
            half in 2u32..=80,
            gpus_per_node in 1u32..=16,
            su_nodes in 1u32..=160,
            nodes in 1u64..=4000,
            planes in 1u32..=4,
            ufm_links in 0u32..=8,
        ) {
            let radix = half * 2;
            let mut req = SizeRequest::new(nodes * u64::from(gpus_per_node), radix, 400);
            req.gpus_per_node = gpus_per_node;
            req.su_nodes = su_nodes;
            req.planes = planes;
            req.ufm_links = ufm_links;
            let Ok(s) = size_clos(&req) else { return Ok(()); };
            let k = u64::from(radix);
            let w = &s.wiring;
            prop_assert!(w.nodes_per_leaf + w.leaf_uplinks <= k);
            prop_assert!(w.nodes_per_leaf * w.leaves_per_rail_per_su >= w.nodes_per_su);
            prop_assert_eq!(w.leaf_uplinks % w.spine.spines_per_group, 0);
            prop_assert_eq!(
                w.spine.spines_per_group * w.spine.links_per_leaf_spine,
                w.leaf_uplinks
            );
            prop_assert!(w.spine.down_ports + w.spine.up_ports <= k);
            prop_assert!(s.node_slots >= s.nodes);
            prop_assert_eq!(s.leaf % u64::from(planes), 0);
            if let Some(core) = &w.core {
                prop_assert!(core.down_ports <= k);
                prop_assert_eq!(w.spine.spines_per_group % core.groups, 0);
                prop_assert_eq!(core.cores_per_group * core.links_per_spine_core, w.spine.up_ports);
                // Spine groups are built whole, like SUs: a rail's last group may have fewer
                // leaves, its spines still get their full uplinks.
                prop_assert!(s.links.spine_core >= s.links.leaf_spine);
                let leaves_per_rail = w.leaves_per_plane() / u64::from(w.rails);
                if leaves_per_rail % w.spine.leaves_per_group == 0 {
                    prop_assert_eq!(s.links.spine_core, s.links.leaf_spine);
                }
            } else {
                prop_assert_eq!(s.core, 0);
                prop_assert!(w.leaves_per_plane() <= k);
            }
            let ports = w.leaves_per_plane() * w.nodes_per_leaf;
            prop_assert_eq!(s.links.leaf_spine, ports * u64::from(planes));
            prop_assert!(ports >= s.gpus + u64::from(ufm_links));
        }
    }
}
