//! End-to-end tests of `inspect`, `generate`, the top-level CLI, determinism and the README.

mod common;

use common::{run, run_env, snapshot};

#[test]
fn top_level_help_lists_subcommands_and_exit_codes() {
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    snapshot("help_top", &r.transcript());
}

#[test]
fn subcommand_help() {
    for cmd in ["inspect", "generate"] {
        let r = run(&[cmd, "--help"]);
        assert_eq!(r.code, 0, "{cmd} --help");
        snapshot(&format!("help_{cmd}"), &r.transcript());
    }
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(run(&["no-such-command"]).code, 2);
    assert_eq!(run(&["inspect"]).code, 2);
    assert_eq!(
        run(&["generate", "--gpus", "12"]).code,
        2,
        "12 GPUs is not whole 8-GPU nodes"
    );
    assert_eq!(run(&["generate", "--gpus", "64", "--gpu", "h999"]).code, 2);
}

#[test]
fn inspect_lab_small() {
    let r = run(&["inspect", "fabrics/lab-small.yaml", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    // Hand-counted: 4 HGX H100 x 8 GPUs; 8 rail leaves x 4 NIC links; each leaf 1 link to
    // each of 4 spines; racks 2 x (2 x 10.2 kW) + 12 switches x 0.9 kW.
    assert_eq!(v["gpus"], 32);
    assert_eq!(v["nodes"], 4);
    assert_eq!(v["switches"]["leaf"], 8);
    assert_eq!(v["switches"]["spine"], 4);
    assert_eq!(v["switches"]["core"], 0);
    assert_eq!(v["links"]["nic_leaf"], 32);
    assert_eq!(v["links"]["leaf_spine"], 32);
    assert_eq!(v["oversubscription"]["leaf"], 1.0);
    assert_eq!(v["bisection_gbps"], 32 * 400 / 2);
    assert_eq!(v["max_hops"], 3);
    let total = v["power_kw"]["total"].as_f64().unwrap();
    assert!((total - (4.0 * 10.2 + 12.0 * 0.9)).abs() < 1e-9, "{total}");
    snapshot("inspect_lab_small_json", &r.stdout);
    let human = run(&["inspect", "fabrics/lab-small.yaml"]);
    snapshot("inspect_lab_small_human", &human.transcript());
}

#[test]
fn inspect_unloadable_file_exits_2() {
    let r = run(&["inspect", "tests/no-such-file.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("FP008"), "{}", r.stderr);
}

#[test]
fn generated_fabrics_are_valid_and_deterministic() {
    let cases: &[&[&str]] = &[
        &["--gpus", "256"],
        &["--gpus", "4096"],
        &["--gpus", "576", "--style", "nvl72"],
        &["--gpus", "1024", "--transport", "infiniband"],
    ];
    let dir = std::env::temp_dir().join(format!("fabplan-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, args) in cases.iter().enumerate() {
        let mut a = vec!["generate"];
        a.extend_from_slice(args);
        let first = run(&a);
        assert_eq!(first.code, 0, "{args:?}: {}", first.stderr);
        assert_eq!(first.stdout, run(&a).stdout, "same input, same bytes");
        let path = dir.join(format!("g{i}.yaml"));
        std::fs::write(&path, &first.stdout).unwrap();
        let v = run(&["validate", path.to_str().unwrap(), "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&v.stdout).unwrap();
        assert_eq!(json["summary"]["errors"], 0, "{args:?}: {}", v.stdout);
        // InfiniBand without a UFM host is the one expected warning (FP206).
        let warnings: Vec<&str> = json["files"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        assert!(
            warnings.iter().all(|c| *c == "FP206"),
            "{args:?}: {warnings:?}"
        );
    }
    // The 16-SU B200 shape: the generator follows the sizing model.
    let g = run(&["generate", "--gpus", "4096"]);
    let path = dir.join("b200.yaml");
    std::fs::write(&path, &g.stdout).unwrap();
    let s: serde_json::Value =
        serde_json::from_str(&run(&["inspect", path.to_str().unwrap(), "--format", "json"]).stdout)
            .unwrap();
    assert_eq!(
        (
            s["switches"]["leaf"].as_u64(),
            s["switches"]["spine"].as_u64(),
            s["switches"]["core"].as_u64()
        ),
        (Some(128), Some(128), Some(64))
    );
    assert_eq!(s["max_hops"], 5);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let dir = std::env::temp_dir().join(format!("fabplan-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let g = run(&["generate", "--gpus", "2048"]);
    // Break it in several ways so many checks report.
    let broken = g
        .stdout
        .replace("kmax_bytes: 1500000", "kmax_bytes: 9000000")
        .replace("power_kw: 45", "power_kw: 20")
        .replace("length_m: 150", "length_m: 900");
    let path = dir.join("broken.yaml");
    std::fs::write(&path, broken).unwrap();
    let p = path.to_str().unwrap();
    for format in ["human", "json", "sarif"] {
        let one = run_env(
            &["validate", p, "--format", format],
            &[("RAYON_NUM_THREADS", "1")],
        );
        let two = run_env(
            &["validate", p, "--format", format],
            &[("RAYON_NUM_THREADS", "2")],
        );
        assert_eq!(one.code, 1);
        assert_eq!(
            one.stdout, two.stdout,
            "{format} output differs between 1 and 2 threads"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_file_is_written_atomically_and_failed_writes_leave_nothing() {
    let dir = std::env::temp_dir().join(format!("fabplan-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("report.json");
    let r = run(&[
        "inspect",
        "fabrics/lab-small.yaml",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty());
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("\"gpus\": 32"));
    let missing = dir.join("no-such-dir").join("x.json");
    let r = run(&[
        "inspect",
        "fabrics/lab-small.yaml",
        "-o",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(!missing.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "only report.json: {leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every `fabplan ...` line in the README's tour runs, in order, in a scratch copy of the
/// inputs (some lines write files that later lines read), and none fails with exit 2.
#[test]
fn readme_tour_commands_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = std::env::temp_dir().join(format!("fabplan-readme-{}", std::process::id()));
    for dir in ["fabrics", "examples", "tests/fixtures"] {
        common::copy_dir(&root.join(dir), &scratch.join(dir));
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut ran = 0;
    for line in readme.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("fabplan ") else {
            continue;
        };
        let cmd = rest.split(" #").next().unwrap().trim();
        let args: Vec<&str> = cmd.split_whitespace().collect();
        let r = common::run_in(&scratch, &args, &[]);
        assert!(
            r.code == 0 || r.code == 1,
            "README command `fabplan {cmd}` exited {}:\n{}",
            r.code,
            r.stderr
        );
        ran += 1;
    }
    assert!(
        ran >= 20,
        "the README tour should show the subcommands ({ran} commands found)"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

/// A fabric may define its own GPU models (the `import nvidia-smi` format); checks use them.
#[test]
fn fabric_defines_its_own_gpu_model() {
    let r = run(&["validate", "tests/fixtures/custom-gpu/fabric.yaml"]);
    assert_eq!(r.code, 0, "a warning only: {}", r.stdout);
    assert!(
        r.stdout.contains("FP504") && r.stdout.contains("12.0 kW"),
        "{}",
        r.stdout
    );
    snapshot("validate_custom_gpu_model", &r.transcript());
    let s = run(&[
        "inspect",
        "tests/fixtures/custom-gpu/fabric.yaml",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&s.stdout).unwrap();
    assert_eq!(v["gpus_by_model"]["h100-lab-sample"], 8);
}

/// A systematic mistake at scale: human output shows `--limit` reports per code and counts
/// the rest; JSON keeps every diagnostic.
#[test]
fn human_output_limits_repeats_per_code() {
    let dir = std::env::temp_dir().join(format!("fabplan-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let g = run(&["generate", "--gpus", "2048"]);
    let path = dir.join("long-cables.yaml");
    std::fs::write(&path, g.stdout.replace("length_m: 150", "length_m: 900")).unwrap();
    let p = path.to_str().unwrap();
    let limited = run(&["validate", p, "--limit", "3"]);
    assert_eq!(limited.code, 1);
    assert_eq!(
        limited.stdout.matches("\nFP305\n").count()
            + usize::from(limited.stdout.starts_with("FP305\n")),
        3
    );
    // 2048 GPUs at radix 64: 64 leaves x 32 uplinks = 2048 leaf-spine links, all too long.
    assert!(
        limited.stdout.contains("2045 more FP305 not shown"),
        "{}",
        limited.stdout
    );
    let all = run(&["validate", p, "--limit", "0", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
    let fp305 = v["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "FP305")
        .count();
    assert_eq!(fp305, 2048);
    let _ = std::fs::remove_dir_all(&dir);
}
