//! `fabplan export slurm|kueue` and `fabplan import slurm`: snapshots of the exports on shipped
//! fabrics, and round trips (export, import, export again gives the same topology).

mod common;

use common::{run_env, run_stdin, Run};

fn run(args: &[&str]) -> Run {
    run_env(args, &[("COLUMNS", "100")])
}

fn run_with_stdin(args: &[&str], stdin: Option<&str>) -> Run {
    match stdin {
        Some(text) => run_stdin(args, &[("COLUMNS", "100")], text),
        None => run(args),
    }
}

fn check(name: &str, args: &[&str]) -> Run {
    let r = run(args);
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        description => format!("fabplan {}", args.join(" ")),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, r.transcript());
    });
    r
}

const FABRICS: &[(&str, &str, &str)] = &[
    // (snapshot stem, path, import flags for the round trip)
    ("lab_small", "fabrics/lab-small.yaml", "--gpu h100-80gb"),
    (
        "dgx_h100_su1_ib",
        "fabrics/dgx-h100-su1-ib.yaml",
        "--gpu h100-80gb",
    ),
    (
        "dgx_h100_4su_ib",
        "fabrics/dgx-h100-4su-ib.yaml",
        "--gpu h100-80gb",
    ),
    (
        "hgx_h200_roce_1k",
        "fabrics/hgx-h200-roce-1k.yaml",
        "--gpu h200-141gb --transport roce",
    ),
    (
        "dgx_b200_16su_ib_3tier",
        "fabrics/dgx-b200-16su-ib-3tier.yaml",
        "--gpu b200",
    ),
    (
        "gb200_nvl72_su",
        "fabrics/gb200-nvl72-su.yaml",
        "--gpu gb200 --gpus-per-node 4 --node-power-kw 7",
    ),
    (
        "nvl72_two_racks",
        "tests/fixtures/fabrics/nvl72-two-racks.yaml",
        "--gpu gb200 --gpus-per-node 4 --node-power-kw 7",
    ),
];

#[test]
fn exports_are_snapshotted() {
    for (stem, path, _) in FABRICS {
        for (suffix, args) in [
            ("slurm_yaml", vec!["export", "slurm", path]),
            (
                "slurm_conf",
                vec!["export", "slurm", path, "--format", "conf"],
            ),
            ("kueue", vec!["export", "kueue", path]),
        ] {
            if suffix == "kueue" {
                // One Node document per node: snapshot the head, count the rest.
                let r = run(&args);
                assert_eq!(r.code, 0, "{stem} {suffix}: {}", r.stderr);
                let docs: Vec<&str> = r.stdout.split("---\n").collect();
                let nodes = docs.iter().filter(|d| d.contains("kind: Node\n")).count();
                let head: Vec<&str> = docs
                    .iter()
                    .take_while(|d| !d.contains("kind: Node\n"))
                    .copied()
                    .collect();
                let first_nodes: Vec<&str> = docs
                    .iter()
                    .filter(|d| d.contains("kind: Node\n"))
                    .take(3)
                    .copied()
                    .collect();
                insta::with_settings!({
                    snapshot_path => "../snapshots",
                    prepend_module_to_snapshot => false,
                    description => format!("fabplan {} (head and first 3 Node documents)", args.join(" ")),
                    omit_expression => true,
                }, {
                    insta::assert_snapshot!(
                        format!("export_kueue_{stem}"),
                        format!("{}---\n{}... {nodes} Node documents in all\n", head.join("---\n"), first_nodes.join("---\n"))
                    );
                });
                continue;
            }
            let r = check(&format!("export_{suffix}_{stem}"), &args);
            assert_eq!(r.code, 0, "{stem} {suffix}: {}", r.stderr);
        }
    }
}

/// export slurm -> import slurm -> export slurm gives back the same text, in both formats.
#[test]
fn slurm_round_trip() {
    let dir = std::env::temp_dir().join(format!("fabplan-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (stem, path, flags) in FABRICS {
        let first = run(&["export", "slurm", path]);
        assert_eq!(first.code, 0, "{}", first.stderr);
        let mut import: Vec<&str> = vec!["import", "slurm", "-"];
        import.extend(flags.split_whitespace());
        let skeleton = run_with_stdin(&import, Some(&first.stdout));
        assert_eq!(skeleton.code, 0, "{stem}: {}", skeleton.stderr);
        let file = dir.join(format!("{stem}.yaml"));
        std::fs::write(&file, &skeleton.stdout).unwrap();
        let again = run(&["export", "slurm", file.to_str().unwrap()]);
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert_eq!(first.stdout, again.stdout, "{stem}: yaml round trip");
        // topology.conf: each plugin separately.
        for topo in ["tree", "block"] {
            let conf = run(&[
                "export",
                "slurm",
                path,
                "--format",
                "conf",
                "--topology",
                topo,
            ]);
            if conf.code != 0 {
                assert_eq!(topo, "block", "{}", conf.stderr);
                continue;
            }
            let conf_file = dir.join(format!("{stem}-{topo}.conf"));
            std::fs::write(&conf_file, &conf.stdout).unwrap();
            let mut import: Vec<&str> = vec!["import", "slurm", conf_file.to_str().unwrap()];
            import.extend(flags.split_whitespace());
            let sk = run(&import);
            assert_eq!(sk.code, 0, "{stem} {topo}: {}", sk.stderr);
            let sk_file = dir.join(format!("{stem}-{topo}.yaml"));
            std::fs::write(&sk_file, &sk.stdout).unwrap();
            let back = run(&[
                "export",
                "slurm",
                sk_file.to_str().unwrap(),
                "--format",
                "conf",
                "--topology",
                topo,
            ]);
            assert_eq!(back.code, 0, "{}", back.stderr);
            let strip = |s: &str| {
                s.lines()
                    .filter(|l| !l.starts_with('#'))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(
                strip(&conf.stdout),
                strip(&back.stdout),
                "{stem} {topo}: conf round trip"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn slurm_import_reads_the_reference_syntax() {
    // docs/sources.md, scheduler and cost formats: block and tree topology.conf lines.
    let conf =
        "BlockName=nvl-a Nodes=gb-a[01-18]\nBlockName=nvl-b Nodes=gb-b[01-18]\nBlockSizes=18,36\n";
    let r = run_with_stdin(
        &[
            "import",
            "slurm",
            "-",
            "--gpu",
            "gb200",
            "--gpus-per-node",
            "4",
            "--node-power-kw",
            "7",
        ],
        Some(conf),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("nvlink_domain: {kind: nvl72}"),
        "{}",
        r.stdout
    );
    let tree = "SwitchName=leaf3 Nodes=h[065-096]\nSwitchName=leaf4 Nodes=h[097-128]\nSwitchName=sp1 Switches=leaf[3-4]\n";
    let r = run_with_stdin(&["import", "slurm", "-"], Some(tree));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("{ids: sp1, tier: spine, model: slurm-switch}"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("{a: \"h128:nic0\", b: \"leaf4:32\""),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_input_and_flags_exit_2() {
    let cases: &[(&str, &[&str], Option<&str>)] = &[
        (
            "import_slurm_bad_line",
            &["import", "slurm", "-"],
            Some("SwitchName=s1 Nodes=a[1-2]\nFooName=x\n"),
        ),
        (
            "import_slurm_bad_block_sizes",
            &["import", "slurm", "-"],
            Some("BlockName=b1 Nodes=n[1-4]\nBlockSizes=4,12\n"),
        ),
        (
            "import_slurm_unknown_child",
            &["import", "slurm", "-"],
            Some("SwitchName=sp Switches=leaf9\n"),
        ),
        (
            "import_slurm_unknown_gpu",
            &["import", "slurm", "-", "--gpu", "h900"],
            Some("SwitchName=s1 Nodes=a1\n"),
        ),
        (
            "export_slurm_no_blocks",
            &[
                "export",
                "slurm",
                "fabrics/lab-small.yaml",
                "--format",
                "conf",
                "--topology",
                "block",
            ],
            None,
        ),
        (
            "export_missing_fabric",
            &["export", "kueue", "fabrics/nope.yaml"],
            None,
        ),
    ];
    for (name, args, stdin) in cases {
        let r = run_with_stdin(args, *stdin);
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            description => format!("fabplan {}", args.join(" ")),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(*name, r.transcript());
        });
        assert_eq!(r.code, 2, "{name}");
    }
}

#[test]
fn failed_write_leaves_no_file() {
    common::assert_failed_write(
        &["export", "slurm", "fabrics/lab-small.yaml"],
        "topology.yaml",
    );
}

// ---- import openb ----------------------------------------------------------------------------

fn import_openb(nodes: &str, pods: &str, dir: &std::path::Path) -> Run {
    run(&["import", "openb", nodes, pods, "-o", dir.to_str().unwrap()])
}

#[test]
fn openb_slice_imports_to_a_loadable_fabric_and_a_demand() {
    let dir = std::env::temp_dir()
        .join(format!("fabplan-openb-{}", std::process::id()))
        .join("openb-slice");
    let r = import_openb(
        "tests/fixtures/openb/nodes.csv",
        "tests/fixtures/openb/pods.csv",
        &dir,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for file in ["fabric.yaml", "demand.yaml"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            description => format!("fabplan import openb tests/fixtures/openb/nodes.csv tests/fixtures/openb/pods.csv -o DIR: DIR/{file}"),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("import_openb_slice_{}", file.replace(".yaml", "")), text);
        });
    }
    let inspect = run(&[
        "inspect",
        dir.join("fabric.yaml").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

/// The whole node list: the node and GPU counts of docs/sources.md.
#[test]
fn openb_full_trace_matches_the_published_counts() {
    let nodes = "tests/fixtures/openb/openb_node_list_gpu_node.csv".to_string();
    let pods = "tests/fixtures/openb/pods.csv".to_string();
    let dir = std::env::temp_dir().join(format!("fabplan-openb-full-{}", std::process::id()));
    let r = import_openb(&nodes, &pods, &dir);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inspect = run(&[
        "inspect",
        dir.join("fabric.yaml").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    let s: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(s["gpus"], 6212);
    assert_eq!(s["nodes"], 1213);
    for (model, gpus) in [
        ("openb-g2", 4392),
        ("openb-t4", 842),
        ("openb-p100", 265),
        ("openb-g3", 312),
        ("openb-v100m16", 195),
        ("openb-v100m32", 204),
        ("openb-a10", 2),
    ] {
        assert_eq!(s["gpus_by_model"][model], gpus, "{model}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openb_bad_csv_exits_2_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("fabplan-openb-bad-{}", std::process::id()));
    let r = import_openb(
        "tests/fixtures/openb/pods.csv",
        "tests/fixtures/openb/nodes.csv",
        &dir,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no `sn` column"), "{}", r.stderr);
    assert!(!dir.exists());
}
