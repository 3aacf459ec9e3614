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
    // Parsed back: the link from h128's NIC to leaf4 (the serializer quotes only as needed).
    let doc: serde_json::Value = serde_saphyr::from_str(&r.stdout).unwrap();
    assert!(
        doc["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["a"] == "h128:nic0" && l["b"] == "leaf4:32"),
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

// ---- Kueue against its CRDs, topograph labels, names --------------------------------------

/// Label keys: an optional DNS-subdomain prefix and a name of at most 63 characters; values
/// at most 63, alphanumeric at both ends (Kubernetes, Labels and Selectors).
fn valid_label(key: &str, value: &str) -> bool {
    let name = regex::Regex::new(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$").unwrap();
    let (prefix, k) = key.rsplit_once('/').unwrap_or(("", key));
    let prefix_ok = prefix.is_empty()
        || (prefix.len() <= 253
            && regex::Regex::new(
                r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
            )
            .unwrap()
            .is_match(prefix));
    prefix_ok
        && !k.is_empty()
        && k.len() <= 63
        && name.is_match(k)
        && value.len() <= 63
        && name.is_match(value)
}

fn dns1123(s: &str) -> bool {
    s.len() <= 253
        && regex::Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
            .unwrap()
            .is_match(s)
}

/// Every document of `fabplan export kueue`, parsed back, validates against the CRD's
/// openAPI schema of the version it names (v1beta2 by default, v1beta1 by flag) and the CRD's
/// CEL rules (hostname last, unique levels); Node labels and names follow Kubernetes syntax;
/// no level has one value across the cluster.
#[test]
fn kueue_export_validates_against_the_crds() {
    use common::openapi::{crd_schema, validate};
    let topo_crd =
        std::fs::read_to_string("tests/fixtures/schemas/kueue.x-k8s.io_topologies.yaml").unwrap();
    let flavor_crd =
        std::fs::read_to_string("tests/fixtures/schemas/kueue.x-k8s.io_resourceflavors.yaml")
            .unwrap();
    for (stem, path, _) in FABRICS {
        for (api, flags) in [
            ("v1beta2", vec![]),
            (
                "v1beta1",
                vec!["--api", "v1beta1", "--labels", "nvidia-network"],
            ),
        ] {
            let mut args = vec!["export", "kueue", path];
            args.extend(flags.iter().copied());
            let r = run(&args);
            assert_eq!(r.code, 0, "{stem}: {}", r.stderr);
            let mut levels: Vec<String> = Vec::new();
            let mut values: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
                Default::default();
            for doc in r.stdout.split("---\n") {
                let v: serde_json::Value = serde_saphyr::from_str(doc)
                    .unwrap_or_else(|e| panic!("{stem}: document does not parse: {e}\n{doc}"));
                let kind = v["kind"].as_str().unwrap().to_string();
                let name = v["metadata"]["name"].as_str().unwrap();
                assert!(dns1123(name), "{stem}: object name `{name}`");
                match kind.as_str() {
                    "Topology" | "ResourceFlavor" => {
                        assert_eq!(v["apiVersion"], format!("kueue.x-k8s.io/{api}"));
                        let crd = if kind == "Topology" {
                            &topo_crd
                        } else {
                            &flavor_crd
                        };
                        let errs = validate(&crd_schema(crd, api), &v);
                        assert!(errs.is_empty(), "{stem} {kind}: {errs:?}");
                        if kind == "Topology" {
                            levels = v["spec"]["levels"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|l| l["nodeLabel"].as_str().unwrap().to_string())
                                .collect();
                            assert_eq!(levels.last().unwrap(), "kubernetes.io/hostname");
                            let unique: std::collections::BTreeSet<_> = levels.iter().collect();
                            assert_eq!(unique.len(), levels.len(), "{stem}: levels repeat");
                            for l in &levels[..levels.len() - 1] {
                                let want = if api == "v1beta2" {
                                    l.starts_with("fabric.topograph.run/tier-")
                                        || l == "accelerator.topograph.run/domain"
                                } else {
                                    l.starts_with("network.topology.nvidia.com/")
                                };
                                assert!(want, "{stem} {api}: level `{l}`");
                            }
                        }
                    }
                    "Node" => {
                        assert!(
                            valid_label("kubernetes.io/hostname", name),
                            "{stem}: {name}"
                        );
                        for (k, val) in v["metadata"]["labels"].as_object().unwrap() {
                            let val = val.as_str().unwrap();
                            assert!(valid_label(k, val), "{stem}: label {k}={val}");
                            values.entry(k.clone()).or_default().insert(val.to_string());
                        }
                    }
                    other => panic!("{stem}: unexpected kind {other}"),
                }
            }
            for l in &levels[..levels.len() - 1] {
                let n = values.get(l).map(|s| s.len()).unwrap_or(0);
                assert!(n > 1, "{stem}: level `{l}` has {n} values");
            }
        }
    }
}

/// The CRD check can fail: a level list without the hostname, a bad label and an unknown
/// field are caught.
#[test]
fn the_crd_check_rejects_bad_documents() {
    use common::openapi::{crd_schema, validate};
    let crd =
        std::fs::read_to_string("tests/fixtures/schemas/kueue.x-k8s.io_topologies.yaml").unwrap();
    let schema = crd_schema(&crd, "v1beta2");
    let bad: serde_json::Value = serde_json::json!({
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": "Topology",
        "metadata": {"name": "x"},
        "spec": {"levels": [{"nodeLabel": "lab: 4"}], "extra": 1}
    });
    let errs = validate(&schema, &bad);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(!valid_label("fabric.topograph.run/tier-0", "lab: 4"));
}

/// A node named `lab: 4` or `lab#4` is an error on its declaration (FP926 for Kueue, FP928
/// for Slurm), exit 2, and nothing is written.
#[test]
fn names_a_target_cannot_take_are_errors() {
    let dir = std::env::temp_dir().join(format!("fabplan-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = "tests/fixtures/export/bad-names.yaml";
    let validate = run(&["validate", f]);
    assert_eq!(
        validate.code, 0,
        "the fabric itself is fine: {}",
        validate.stderr
    );
    for (name, target) in [
        ("export_kueue_bad_names", "kueue"),
        ("export_slurm_bad_names", "slurm"),
    ] {
        let out = dir.join(format!("{target}.yaml"));
        let r = run(&["export", target, f, "-o", out.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{target}: {}", r.stderr);
        assert!(!out.exists(), "{target}: nothing is written");
        let code = if target == "kueue" { "FP926" } else { "FP928" };
        assert!(r.stderr.contains(code), "{target}: {}", r.stderr);
        let transcript = r.transcript().replace(out.to_str().unwrap(), "OUT");
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            description => format!("fabplan export {target} {f} -o OUT (nodes `lab: 4`, `lab#4`)"),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, transcript);
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// topology.yaml parses back, and with NVLink domains spanning nodes the block topology is
/// the one cluster default.
#[test]
fn slurm_yaml_defaults_to_blocks_where_nvlink_spans_nodes() {
    for (stem, path, _) in FABRICS {
        let r = run(&["export", "slurm", path]);
        assert_eq!(r.code, 0, "{stem}: {}", r.stderr);
        let doc: serde_json::Value = serde_saphyr::from_str(&r.stdout).unwrap();
        let tops = doc.as_array().unwrap();
        let defaults: Vec<&serde_json::Value> = tops
            .iter()
            .filter(|t| t["cluster_default"] == true)
            .collect();
        assert_eq!(defaults.len(), 1, "{stem}: one cluster default");
        if tops.iter().any(|t| t.get("block").is_some()) {
            assert!(
                defaults[0].get("block").is_some(),
                "{stem}: block is the default"
            );
        }
    }
}

/// A plan whose node is `lab: 4` cannot name a mig-parted config that is also the
/// `nvidia.com/mig.config` label value: FP927 on the plan's GPU entry, exit 2, nothing
/// written. A valid plan's config parses back as mig-parted.
#[test]
fn mig_parted_config_names_are_label_values() {
    let dir = std::env::temp_dir().join(format!("fabplan-migname-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("mig.yaml");
    let plan = "tests/fixtures/export/bad-name-plan.json";
    let r = run(&["export", "mig-parted", plan, "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!out.exists());
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        description => format!("fabplan export mig-parted {plan} -o OUT"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!("export_mig_parted_bad_name", r.transcript().replace(out.to_str().unwrap(), "OUT"));
    });
    let good = dir.join("good-plan.json");
    std::fs::write(
        &good,
        std::fs::read_to_string(plan)
            .unwrap()
            .replace("lab: 4/0", "lab4/0"),
    )
    .unwrap();
    let r = run(&[
        "export",
        "mig-parted",
        good.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    let (cfg, diags) =
        fabplan::formats::mig_parted::parse(&fabplan::source::SourceFile::new("export", text));
    let cfg = cfg.unwrap_or_else(|| panic!("valid mig-parted: {diags:?}"));
    assert_eq!(cfg.configs.len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
