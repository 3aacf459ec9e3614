//! CLI tests for `fabplan mig` and `fabplan import nvidia-smi`: they run the built binary and
//! snapshot exit code, stdout and stderr together (all snapshots in the top-level
//! `snapshots/`). Ground truth is in `tests/fixtures/` (copied from the project's shared
//! data; see its README).

mod common;

use common::{run_env, Run};

use fabplan::catalog::{parse_gpu_model_yaml, Catalog};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Runs fabplan from the crate root (so fixture paths in snapshots are relative).
fn run(args: &[&str]) -> Run {
    run_env(args, &[("COLUMNS", "100")])
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// Snapshots `fabplan ARGS` under `name` in the top-level `snapshots/`.
fn check(name: &str, args: &[&str]) -> Run {
    let r = run(args);
    let header = format!("fabplan {}", args.join(" "));
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        description => header,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, r.transcript());
    });
    r
}

// ---- help ------------------------------------------------------------------------------------

#[test]
fn help_of_every_subcommand() {
    for (name, args) in [
        ("help_mig", &["mig", "--help"][..]),
        ("help_mig_profiles", &["mig", "profiles", "--help"]),
        ("help_mig_layouts", &["mig", "layouts", "--help"]),
        ("help_mig_check", &["mig", "check", "--help"]),
        ("help_mig_fit", &["mig", "fit", "--help"]),
        ("help_mig_check_config", &["mig", "check-config", "--help"]),
        ("help_import", &["import", "--help"]),
        (
            "help_import_nvidia_smi",
            &["import", "nvidia-smi", "--help"],
        ),
    ] {
        let r = check(name, args);
        assert_eq!(r.code, 0, "{name}");
        assert!(r.stdout.contains("Examples:"), "{name} has no examples");
    }
}

// ---- profiles and layouts ----------------------------------------------------------------------

#[test]
fn profiles_human_and_json() {
    check("profiles_h100", &["mig", "profiles", "--gpu", "h100"]);
    let r = check(
        "profiles_rtx_json",
        &[
            "mig",
            "profiles",
            "--gpu",
            "RTX-PRO-6000",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.json()["mig"]["placement_units"], 12);
}

#[test]
fn layouts_of_the_a100_base_profiles_are_nvidias_19() {
    let args = [
        "mig",
        "layouts",
        "--gpu",
        "a100-40gb",
        "--maximal",
        "--profiles",
        "1g.5gb,2g.10gb,3g.20gb,4g.20gb,7g.40gb",
    ];
    let r = check("layouts_a100_base_maximal", &args);
    assert_eq!(r.code, 0);
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let layouts = run(&json_args).json();
    assert_eq!(layouts.as_array().unwrap().len(), 19);
    // The JSON shape: an array of layouts, each an array of {profile, start}.
    assert_eq!(
        layouts[0][0],
        serde_json::json!({"profile": "1g.5gb", "start": 0})
    );
}

#[test]
fn layouts_json_shape() {
    check(
        "layouts_h200_3g_4g_json",
        &[
            "mig",
            "layouts",
            "--gpu",
            "h200",
            "--profiles",
            "3g.71gb,4g.71gb",
            "--format",
            "json",
        ],
    );
}

#[test]
fn every_layout_count_is_stable() {
    // Counts of all and maximal layouts per catalog GPU (R1-R3), one line each.
    let mut s = String::new();
    for m in Catalog::builtin().gpus() {
        let all = run(&["mig", "layouts", "--gpu", &m.key, "--format", "json"]).json();
        let max = run(&[
            "mig",
            "layouts",
            "--gpu",
            &m.key,
            "--maximal",
            "--format",
            "json",
        ])
        .json();
        s += &format!(
            "{}: {} layouts, {} maximal\n",
            m.key,
            all.as_array().unwrap().len(),
            max.as_array().unwrap().len()
        );
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("layout_counts", s);
    });
}

// ---- check -------------------------------------------------------------------------------------

#[test]
fn check_placeable_and_unplaceable() {
    assert_eq!(
        check(
            "check_4g_3g",
            &["mig", "check", "--gpu", "h100", "4g.40gb", "3g.40gb"]
        )
        .code,
        0
    );
    // docs/mig-rules.md section 4: 3g + 3g + 1g is never placeable.
    assert_eq!(
        check(
            "check_3g_3g_1g",
            &["mig", "check", "--gpu", "h100", "3g.40gb=2", "1g.10gb"]
        )
        .code,
        1
    );
    // +me is one per GPU.
    let r = check(
        "check_two_me_json",
        &[
            "mig",
            "check",
            "--gpu",
            "h200",
            "1g.18gb+me",
            "1g.18gb+me",
            "--format",
            "json",
        ],
    );
    assert_eq!((r.code, r.json()["rule"].as_str()), (1, Some("R3")));
    // Pre-R510 A100.
    assert_eq!(
        check(
            "check_pre_r510",
            &[
                "mig",
                "check",
                "--gpu",
                "a100",
                "4g.20gb",
                "3g.20gb",
                "--pre-r510"
            ]
        )
        .code,
        1
    );
    // Overlap with starts: 3g + 2g + 2g + 1g.20gb needs 8 units but no arrangement exists.
    let r = run(&[
        "mig",
        "check",
        "--gpu",
        "h100",
        "3g.40gb",
        "2g.20gb=2",
        "1g.20gb",
        "--format",
        "json",
    ]);
    assert_eq!((r.code, r.json()["rule"].as_str()), (1, Some("R2")));
}

#[test]
fn check_bad_input_is_exit_2() {
    assert_eq!(
        check(
            "check_unknown_gpu",
            &["mig", "check", "--gpu", "v100", "1g.5gb"]
        )
        .code,
        2
    );
    assert_eq!(
        check(
            "check_unknown_profile",
            &["mig", "check", "--gpu", "h100", "1g.5gb"]
        )
        .code,
        2
    );
    assert_eq!(
        check(
            "check_bad_count",
            &["mig", "check", "--gpu", "h100", "1g.10gb=many"]
        )
        .code,
        2
    );
}

// ---- fit ---------------------------------------------------------------------------------------

#[test]
fn fit_human_and_json() {
    let r = check(
        "fit_h100",
        &[
            "mig",
            "fit",
            "--gpu",
            "h100",
            "--need",
            "1g.10gb=14,3g.40gb=3",
        ],
    );
    assert_eq!(r.code, 0);
    let r = check(
        "fit_b200_json",
        &[
            "mig",
            "fit",
            "--gpu",
            "b200",
            "--need",
            "1g.23gb=500,2g.45gb=300,3g.90gb=200",
            "--format",
            "json",
        ],
    );
    let j = r.json();
    let gpus: u64 = j["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["gpus"].as_u64().unwrap())
        .sum();
    assert_eq!(gpus, j["gpus"].as_u64().unwrap());
    assert!(j["gpus"].as_u64() >= j["lower_bound"].as_u64());
    assert_eq!(
        check(
            "fit_bad_need",
            &["mig", "fit", "--gpu", "h100", "--need", "1g.10gb"]
        )
        .code,
        2
    );
}

// ---- check-config ------------------------------------------------------------------------------

#[test]
fn nvidias_default_mig_parted_config_is_placeable_everywhere() {
    let path = "tests/fixtures/mig-parted/config-default.yaml";
    let r = check("check_config_default", &["mig", "check-config", path]);
    assert_eq!(r.code, 0);
    let j = run(&["mig", "check-config", path, "--format", "json"]).json();
    assert_eq!(j["configs"], 81);
    assert_eq!(j["summary"]["unplaceable"], 0);
    assert_eq!(j["summary"]["unknown_profile"], 0);
    // docs/sources.md: 68 (config, GPU) pairs with instances target GPUs we hold tables for.
    let with_instances = j["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "placeable" && !r["placements"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(with_instances, 68);
    // Unknown device ids (A30, B300, GB300, GH200, ...) are reported, not guessed.
    assert!(j["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["status"] == "unknown-device" && r["gpu"] == "0x20B710DE"));
}

#[test]
fn check_config_findings_and_bad_files() {
    let dir = tempdir("check-config");
    let bad_layout = dir.join("bad.yaml");
    std::fs::write(
        &bad_layout,
        "version: v1\nmig-configs:\n  too-many:\n    - device-filter: \"0x233010DE\"\n      devices: all\n      mig-enabled: true\n      mig-devices:\n        \"3g.40gb\": 2\n        \"1g.10gb\": 1\n  wrong-name:\n    - device-filter: [\"0x233510DE\"]\n      devices: [0, 1]\n      mig-enabled: true\n      mig-devices:\n        \"1g.10gb\": 1\n",
    )
    .unwrap();
    let r = run(&[
        "mig",
        "check-config",
        bad_layout.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.transcript());
    let j = r.json();
    assert_eq!(j["summary"]["unplaceable"], 1);
    assert_eq!(j["summary"]["unknown_profile"], 1);

    let unknown_key = dir.join("unknown-key.yaml");
    std::fs::write(&unknown_key, "version: v1\nmig-configs:\n  x:\n    - devices: all\n      mig-enabled: true\n      mig-devicez: {}\n").unwrap();
    let r = run(&["mig", "check-config", unknown_key.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("mig-devicez") && r.stderr.contains(":6:"),
        "{}",
        r.stderr
    );

    let on_without = dir.join("on-without.yaml");
    std::fs::write(
        &on_without,
        "version: v1\nmig-configs:\n  x:\n    - devices: all\n      mig-enabled: true\n",
    )
    .unwrap();
    let r = run(&["mig", "check-config", on_without.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("needs `mig-devices`") && r.stderr.contains(":4:"),
        "{}",
        r.stderr
    );

    let missing = run(&["mig", "check-config", "no/such/file.yaml"]);
    assert_eq!(missing.code, 2);
}

#[test]
fn check_config_bad_filter_snapshot() {
    check(
        "check_config_bad_filter",
        &[
            "mig",
            "check-config",
            "tests/fixtures/bad/mig-parted-bad-filter.yaml",
        ],
    );
}

// ---- import nvidia-smi -------------------------------------------------------------------------

fn import(dir: &str, query: &str) -> Run {
    let lgip = format!("{FIXTURES}/nvidia-smi/{dir}/mig-lgip.txt");
    let lgipp = format!("{FIXTURES}/nvidia-smi/{dir}/mig-lgipp.txt");
    let query = format!("{FIXTURES}/nvidia-smi/{dir}/{query}");
    run(&[
        "import",
        "nvidia-smi",
        "--lgip",
        &lgip,
        "--lgipp",
        &lgipp,
        "--query",
        &query,
    ])
}

#[test]
fn importing_each_real_capture_reproduces_the_catalog_table() {
    for (dir, query, key) in [
        ("h100-80gb-hbm3", "query.csv", "h100-80gb"),
        ("h200-141gb", "summary.txt", "h200-141gb"),
    ] {
        let r = import(dir, query);
        assert_eq!(r.code, 0, "{}", r.transcript());
        let imported = parse_gpu_model_yaml(&r.stdout, "import").unwrap();
        assert_eq!(imported.key, key);
        let got = imported.mig.unwrap();
        let want = Catalog::builtin().gpu(key).unwrap().mig.as_ref().unwrap();
        assert_eq!(
            (got.placement_units, got.compute_slices, got.memory_slices),
            (
                want.placement_units,
                want.compute_slices,
                want.memory_slices
            )
        );
        assert_eq!(got.engine_totals, want.engine_totals, "{key}");
        assert_eq!(got.profiles.len(), want.profiles.len());
        for w in &want.profiles {
            let g = got
                .profiles
                .iter()
                .find(|g| g.id == w.id)
                .unwrap_or_else(|| panic!("{key}: id {} missing", w.id));
            assert_eq!(
                (
                    &g.name,
                    g.size,
                    &g.starts,
                    g.max_instances,
                    g.memory_gib,
                    g.compute_slices,
                    g.memory_slices,
                    g.sms,
                    g.engines,
                    g.copy_engines
                ),
                (
                    &w.name,
                    w.size,
                    &w.starts,
                    w.max_instances,
                    w.memory_gib,
                    w.compute_slices,
                    w.memory_slices,
                    w.sms,
                    w.engines,
                    w.copy_engines
                ),
                "{key} {}",
                w.name
            );
        }
    }
}

#[test]
fn import_output_snapshot_and_atomic_file() {
    let r = check(
        "import_h100",
        &[
            "import",
            "nvidia-smi",
            "--lgip",
            "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgip.txt",
            "--lgipp",
            "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgipp.txt",
            "--query",
            "tests/fixtures/nvidia-smi/h100-80gb-hbm3/query.csv",
        ],
    );
    let dir = tempdir("import");
    let out = dir.join("h100.yaml");
    let r2 = run(&[
        "import",
        "nvidia-smi",
        "--lgip",
        "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgip.txt",
        "--lgipp",
        "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgipp.txt",
        "--query",
        "tests/fixtures/nvidia-smi/h100-80gb-hbm3/query.csv",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r2.code, 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), r.stdout);
    // The written file is a --gpu-file: a renamed copy loads as a new model.
    let custom = dir.join("custom.yaml");
    std::fs::write(
        &custom,
        r.stdout
            .replace("key: \"h100-80gb\"", "key: \"lab-h100\"")
            .replace("aliases: [", "aliases: [\"labgpu\", "),
    )
    .unwrap();
    let r3 = run(&[
        "mig",
        "check",
        "--gpu",
        "labgpu",
        "--gpu-file",
        custom.to_str().unwrap(),
        "7g.80gb",
    ]);
    assert_eq!(r3.code, 0, "{}", r3.transcript());
    // A failed import leaves no file behind.
    let never = dir.join("never.yaml");
    let r4 = run(&[
        "import",
        "nvidia-smi",
        "--lgip",
        "tests/fixtures/bad/lgip-bad-row.txt",
        "--lgipp",
        "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgipp.txt",
        "-o",
        never.to_str().unwrap(),
    ]);
    assert_eq!(r4.code, 2);
    assert!(!never.exists());
}

#[test]
fn import_with_ansi_codes_and_without_query() {
    let dir = tempdir("ansi");
    let text =
        std::fs::read_to_string(format!("{FIXTURES}/nvidia-smi/h200-141gb/mig-lgip.txt")).unwrap();
    // nvidia-smi underlines headers on terminals (see the H100 topo-m capture).
    let ansi = text
        .replace(
            "GPU instance profiles:",
            "\u{1b}[4mGPU instance profiles:\u{1b}[0m",
        )
        .replace("MIG 3g.71gb", "MIG \u{1b}[1m3g.71gb\u{1b}[0m");
    let lgip = dir.join("lgip.txt");
    std::fs::write(&lgip, ansi).unwrap();
    let lgipp = format!("{FIXTURES}/nvidia-smi/h200-141gb/mig-lgipp.txt");
    let r = run(&[
        "import",
        "nvidia-smi",
        "--lgip",
        lgip.to_str().unwrap(),
        "--lgipp",
        &lgipp,
    ]);
    assert_eq!(r.code, 0, "{}", r.transcript());
    let m = parse_gpu_model_yaml(&r.stdout, "import").unwrap();
    // Without --query the table itself identifies the H200.
    assert_eq!(m.key, "h200-141gb");
    assert!(m.mig.unwrap().profiles.iter().any(|p| p.name == "3g.71gb"));
}

#[test]
fn malformed_captures_are_exit_2_with_file_and_line() {
    check(
        "import_bad_row",
        &[
            "import",
            "nvidia-smi",
            "--lgip",
            "tests/fixtures/bad/lgip-bad-row.txt",
            "--lgipp",
            "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgipp.txt",
        ],
    );
    check(
        "import_bad_lgipp",
        &[
            "import",
            "nvidia-smi",
            "--lgip",
            "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgip.txt",
            "--lgipp",
            "tests/fixtures/bad/lgipp-bad-width.txt",
        ],
    );
    check(
        "import_swapped",
        &[
            "import",
            "nvidia-smi",
            "--lgip",
            "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgipp.txt",
            "--lgipp",
            "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgip.txt",
        ],
    );
}

#[test]
fn bad_gpu_file_is_exit_2_with_line() {
    let r = check(
        "gpu_file_bad",
        &[
            "mig",
            "profiles",
            "--gpu",
            "x",
            "--gpu-file",
            "tests/fixtures/bad/gpu-start-past-grid.yaml",
        ],
    );
    assert_eq!(r.code, 2);
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fabplan-mig-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
