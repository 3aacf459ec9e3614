//! End-to-end tests of `inspect`, `generate`, the top-level CLI, determinism and the README.

mod common;

use common::{run, run_env, run_stdin, snapshot};

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
        // `fabplan A | fabplan B -`: B reads A's output on stdin.
        let mut stages = cmd.split(" | fabplan ");
        let args: Vec<&str> = stages.next().unwrap().split_whitespace().collect();
        let mut r = common::run_in(&scratch, &args, &[]);
        for stage in stages {
            assert_eq!(r.code, 0, "README pipeline `fabplan {cmd}`: {}", r.stderr);
            let args: Vec<&str> = stage.split_whitespace().collect();
            r = common::run_in_stdin(&scratch, &args, &r.stdout);
        }
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

// ---- Conventions users know from other CLIs (issue 11 §5), one test each, as a user tries them.

/// `fabplan completions SHELL` prints a script for each shell clap_complete knows; bash's
/// parses (`bash -n`) and completes every subcommand.
#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("fabplan"), "{shell}");
        for sub in ["validate", "plan", "verify", "completions", "man"] {
            assert!(r.stdout.contains(sub), "{shell} completes `{sub}`");
        }
    }
    let bash = run(&["completions", "bash"]).stdout;
    assert!(bash.contains("complete -F _fabplan"), "{bash}");
    assert!(run(&["completions", "zsh"])
        .stdout
        .starts_with("#compdef fabplan"));
    let path = std::env::temp_dir().join(format!("fabplan-completion-{}.bash", std::process::id()));
    std::fs::write(&path, &bash).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output();
    if let Ok(out) = check {
        assert!(
            out.status.success(),
            "bash -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_file(&path);
    snapshot(
        "completions_unknown_shell",
        &run(&["completions", "tcsh"]).transcript(),
    );
}

/// `fabplan man` writes roff: fabplan(1) with every subcommand, and a page per subcommand.
#[test]
fn man_pages_are_roff() {
    let top = run(&["man"]);
    assert_eq!(top.code, 0, "{}", top.stderr);
    let th = top
        .stdout
        .lines()
        .find(|l| l.starts_with(".TH"))
        .expect(".TH");
    assert!(th.starts_with(".TH fabplan 1 "), "{th}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
        ".SH VERSION",
    ] {
        assert!(top.stdout.contains(section), "fabplan(1) lacks {section}");
    }
    for sub in [
        "validate",
        "inspect",
        "plan",
        "verify",
        "report",
        "export",
        "completions",
    ] {
        assert!(
            top.stdout.contains(&format!("fabplan\\-{sub}(1)")),
            "fabplan(1) lists {sub}"
        );
    }
    let plan = run(&["man", "plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains(".TH fabplan-plan 1 "),
        "{}",
        &plan.stdout[..200]
    );
    assert!(plan.stdout.contains("\\-\\-time\\-limit"));
    snapshot("man_unknown_command", &run(&["man", "plann"]).transcript());
}

/// `--color`: `auto` follows NO_COLOR and CLICOLOR_FORCE off a terminal; `always` and `never`
/// win over both. The test helper sets NO_COLOR=1, so an empty NO_COLOR lifts it.
#[test]
fn color_flag_and_environment() {
    let bad = ["validate", "tests/fixtures/broken/unknown-gpu-model.yaml"];
    let colored = |args: &[&str], env: &[(&str, &str)]| {
        let r = run_env(args, env);
        assert_eq!(r.code, 2, "{}", r.stderr);
        r.stdout.contains("\u{1b}[")
    };
    let with = |flag: &'static str| [&[flag][..], &bad[..]].concat();
    assert!(
        !colored(&bad, &[("NO_COLOR", "")]),
        "auto off a terminal: no colour"
    );
    assert!(colored(&bad, &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")]));
    assert!(!colored(&bad, &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "0")]));
    assert!(
        !colored(&bad, &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]),
        "NO_COLOR wins"
    );
    assert!(colored(&with("--color=always"), &[("NO_COLOR", "1")]));
    assert!(!colored(
        &with("--color=never"),
        &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")]
    ));
    // A fatal error on stderr follows the same flag.
    let r = run_env(&["--color", "always", "explain", "FP3O1"], &[]);
    assert!(r.stderr.contains("\u{1b}["), "{}", r.stderr);
    // The flag works after the subcommand too (it is global).
    assert!(colored(&[&bad[..], &["--color", "always"]].concat(), &[]));
}

/// `-v` prints HiGHS's log on stderr and leaves stdout a plan; `-q` and `-v` exclude each other.
#[test]
fn verbose_shows_the_solver_log_on_stderr() {
    let demand = "tests/fixtures/cli/knapsack.yaml";
    let quiet = run(&["plan", demand, "--format", "json"]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(quiet.stderr, "", "no -v: HiGHS says nothing");
    let loud = run(&["-v", "plan", demand, "--format", "json"]);
    assert_eq!(loud.code, 0, "{}", loud.stderr);
    assert!(loud.stderr.contains("Presolving model"), "{}", loud.stderr);
    let doc: serde_json::Value = serde_json::from_str(&loud.stdout).expect("stdout is the plan");
    assert_eq!(
        doc["bound_scope"],
        "full pooled model dual bound (valid for every plan)"
    );
    let both = run(&["-q", "-v", "plan", demand]);
    assert_eq!(both.code, 2);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}

/// The progress line needs a terminal: piped, a plan prints nothing on stderr, and `-q`
/// keeps it off a terminal too. On a pseudo-terminal (`script`), a plan that runs past 2 s
/// shows it (the openb case of BENCHMARKS.md is the long solve users meet; here a generated
/// one, kept to the 2 s threshold by its time limit).
#[test]
fn progress_line_only_on_a_terminal() {
    let dir = std::env::temp_dir().join(format!("fabplan-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fab = dir.join("fab.yaml");
    let dem = dir.join("demand.yaml");
    let (f, d) = (fab.to_str().unwrap(), dem.to_str().unwrap());
    assert_eq!(
        run(&["generate", "--gpus", "4096", "--radix", "128", "-o", f]).code,
        0
    );
    let g = run(&[
        "generate",
        "demand",
        "--fabric",
        f,
        "--workloads",
        "300",
        "--seed",
        "7",
        "--profile",
        "contended",
        "-o",
        d,
    ]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    let args = [
        "plan",
        d,
        "--mip-gap",
        "0",
        "--time-limit",
        "4",
        "--format",
        "json",
        "-o",
    ];
    let out = dir.join("plan.json");
    let piped = run(&[&args[..], &[out.to_str().unwrap()]].concat());
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stderr, "", "not a terminal: no progress line");
    // `script` gives fabplan a terminal; skip where it is missing.
    let bin = env!("CARGO_BIN_EXE_fabplan");
    let line = format!("{bin} {} {}", args.join(" "), out.display());
    let Ok(tty) = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
    else {
        return;
    };
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{shown}");
    assert!(
        shown.contains("planning"),
        "a terminal shows the line: {shown}"
    );
    assert!(
        shown.contains("incumbent") && shown.contains("bound"),
        "{shown}"
    );
    let quiet = format!("{bin} -q {} {}", args.join(" "), out.display());
    let tty = std::process::Command::new("script")
        .args(["-qec", &quiet, "/dev/null"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&tty.stdout).contains("planning"),
        "-q: no line"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `-` reads standard input for every input: a fabric, a demand, a plan, a mig-parted config,
/// a capture; the diagnostics name it `<stdin>`. A second `-` is FP020, not an empty file.
#[test]
fn stdin_for_every_input() {
    let text = |p: &str| std::fs::read_to_string(p).unwrap();
    let lab = text("fabrics/lab-small.yaml");
    let r = run_stdin(&["validate", "-"], &[], &lab);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "<stdin>: ok (0 errors, 0 warnings)\n")
    );
    let r = run_stdin(&["inspect", "-", "--format", "json"], &[], &lab);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["gpus"], 32);
    for args in [
        &["report", "-", "--format", "json"][..],
        &["export", "slurm", "-"],
        &["export", "kueue", "-"],
    ] {
        let from_file = run(&[args, &["fabrics/lab-small.yaml"]]
            .concat()
            .iter()
            .filter(|a| **a != "-")
            .copied()
            .collect::<Vec<_>>());
        let r = run_stdin(args, &[], &lab);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stdout, from_file.stdout,
            "{args:?}: stdin gives what the file gives"
        );
    }
    let broken = text("tests/fixtures/broken/unknown-gpu-model.yaml");
    snapshot(
        "stdin_broken_fabric",
        &run_stdin(&["validate", "-"], &[], &broken).transcript(),
    );
    // A demand from stdin resolves its `fabric:` from the working directory.
    let demand = text("examples/mixed-tenants-h100.yaml").replace("fabric: ../", "fabric: ");
    let plan = run_stdin(&["plan", "-", "--format", "json"], &[], &demand);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let verified = run_stdin(
        &["verify", "examples/mixed-tenants-h100.yaml", "-"],
        &[],
        &plan.stdout,
    );
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert_eq!(verified.stdout, "<stdin>: ok, no violations\n");
    let config = text("tests/fixtures/mig-parted/config-default.yaml");
    let r = run_stdin(&["mig", "check-config", "-", "--gpu", "h100"], &[], &config);
    assert_eq!(r.code, 0, "{}", r.stderr);
    snapshot(
        "stdin_given_twice",
        &run_stdin(&["verify", "-", "-"], &[], &demand).transcript(),
    );
}

/// `verify` and `mig` take `--format json` and `-o` like every other command.
#[test]
fn verify_and_mig_write_json_and_files() {
    let dir = std::env::temp_dir().join(format!("fabplan-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = dir.join("plan.json");
    let demand = "examples/mixed-tenants-h100.yaml";
    assert_eq!(
        run(&[
            "plan",
            demand,
            "--format",
            "json",
            "-o",
            plan.to_str().unwrap()
        ])
        .code,
        0
    );
    let r = run(&["verify", demand, plan.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["errors"], 0);
    assert_eq!(v["files"][0]["diagnostics"], serde_json::json!([]));
    // A damaged plan: the violation as JSON with its line.
    let text = std::fs::read_to_string(&plan).unwrap();
    let first_gpu = text.find("\"gpu\": \"").unwrap() + 8;
    let damaged = format!(
        "{}nosuchgpu{}",
        &text[..first_gpu],
        &text[first_gpu..]
            .split_once('"')
            .map(|(_, t)| format!("\"{t}"))
            .unwrap()
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, damaged).unwrap();
    let report = dir.join("verify.json");
    let r = run(&[
        "verify",
        demand,
        bad.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(v["summary"]["errors"].as_u64().unwrap() >= 1, "{v}");
    assert!(
        v["files"][0]["diagnostics"][0]["line"].as_u64().is_some(),
        "{v}"
    );
    // -o onto an input is refused before anything is read.
    let r = run(&[
        "verify",
        demand,
        bad.to_str().unwrap(),
        "-o",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    let layouts = dir.join("layouts.json");
    let r = run(&[
        "mig",
        "layouts",
        "--gpu",
        "h100",
        "--maximal",
        "--format",
        "json",
        "-o",
        layouts.to_str().unwrap(),
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&layouts).unwrap()).unwrap();
    assert!(v.as_array().is_some_and(|a| !a.is_empty()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Shared flags have one name and one default: `size` and `generate` both default to a
/// 64-port switch at 400G, so `size --gpus N` sizes what `generate --gpus N` builds.
#[test]
fn size_and_generate_share_radix_and_nic_defaults() {
    let bare = run(&["size", "--gpus", "1024", "--format", "json"]);
    let explicit = run(&[
        "size",
        "--gpus",
        "1024",
        "--radix",
        "64",
        "--nic-gbps",
        "400",
        "--format",
        "json",
    ]);
    assert_eq!(bare.code, 0, "{}", bare.stderr);
    assert_eq!(bare.stdout, explicit.stdout);
    for cmd in ["size", "generate"] {
        let help = run(&[cmd, "--help"]).stdout;
        for flag in ["--radix <K>", "--nic-gbps <GBPS>"] {
            let at = help
                .find(flag)
                .unwrap_or_else(|| panic!("{cmd} --help lacks {flag}"));
            let next = help[at..]
                .find("[default: ")
                .map(|i| &help[at + i..at + i + 14]);
            assert!(
                matches!(next, Some("[default: 64]\n" | "[default: 400]")),
                "{cmd} {flag}: {next:?}"
            );
        }
    }
}

/// Did-you-mean for codes, GPU models, keys and subcommands.
#[test]
fn did_you_mean() {
    for (name, args) in [
        ("dym_explain_code", &["explain", "FP3O1"][..]),
        ("dym_explain_name", &["explain", "rail-nic-to-rial"]),
        ("dym_gpu", &["mig", "profiles", "--gpu", "h100-80g"]),
        (
            "dym_generate_gpu",
            &["generate", "--gpus", "64", "--gpu", "h200-141g"],
        ),
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains("did you mean"), "{args:?}: {}", r.stderr);
        snapshot(name, &r.transcript());
    }
    // A misspelt key in a fabric (`powr_kw`).
    let fabric = std::fs::read_to_string("fabrics/lab-small.yaml")
        .unwrap()
        .replacen("power_kw", "powr_kw", 1);
    let r = run_stdin(&["validate", "-"], &[], &fabric);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains("did you mean `power_kw`?"),
        "{}",
        r.stdout
    );
}

/// No internal error names (`fabplan::usage`, `fabplan::io`) in anything a user sees: every
/// snapshot of a run is checked.
#[test]
fn no_internal_codes_in_any_snapshot() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let t = line.trim();
            assert!(
                !t.starts_with("fabplan::") || t.contains(' '),
                "{}: internal code `{t}` shown to the user",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 100, "{checked} snapshots");
    assert!(!run(&["mig", "profiles", "--gpu", "v100"])
        .stderr
        .contains("fabplan::"));
}

/// Sources a reader can open (issue 11 §6): every `.md` file and every `shared/` path that a
/// shipped text (docs, README, fabrics, examples, the sources and their string literals: rule
/// docs, report sources, catalog files) names exists in the repository, at the root or next
/// to the citing file. URLs and files of other projects (listed below) are not checked;
/// `tests/fixtures/` (copies, whose READMEs say where they came from) and snapshots are not
/// scanned.
#[test]
fn shipped_texts_cite_only_files_the_repository_has() {
    // Paths inside other projects' repositories, cited with their project.
    // NVIDIA/nccl-tests; NVIDIA/topograph (label scheme and Slurm engine).
    const ELSEWHERE: &[&str] = &[
        "doc/PERFORMANCE.md",
        "docs/reference/node-labels.md",
        "docs/engines/slurm.md",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![];
    let mut dirs: Vec<std::path::PathBuf> =
        ["docs", "src", "fabrics", "examples", "benches", "tests"]
            .iter()
            .map(|d| root.join(d))
            .collect();
    for f in [
        "README.md",
        "ARCHITECTURE.md",
        "BENCHMARKS.md",
        "Cargo.toml",
    ] {
        files.push(root.join(f));
    }
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.ends_with("tests/fixtures") {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .is_some_and(|e| ["rs", "md", "yaml", "toml"].contains(&e.to_str().unwrap()))
            {
                files.push(path);
            }
        }
    }
    let mut missing = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let here = file.parent().unwrap();
        for (n, line) in text.lines().enumerate() {
            let tokens = line.split(|c: char| !(c.is_ascii_alphanumeric() || "_./-".contains(c)));
            for token in tokens {
                let token = token.trim_end_matches('.');
                let cited = (token.ends_with(".md") && token.len() > 3)
                    || (token.starts_with("shared/") && token.len() > 7);
                // A URL without its scheme (`docs.nvidia.com/...`): a dot before the first slash.
                let url = token.split('/').next().is_some_and(|first| {
                    token.contains('/') && first.contains('.') && first != "." && first != ".."
                });
                if !cited
                    || url
                    // `https://host/x.md` splits at `:` into `//host/x.md`: a URL.
                    || token.starts_with("//")
                    || line.contains(&format!("://{token}"))
                    || ELSEWHERE.contains(&token)
                {
                    continue;
                }
                if !(root.join(token).exists() || here.join(token).exists()) {
                    missing.push(format!(
                        "{}:{}: `{token}`",
                        file.strip_prefix(root).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(files.len() > 100, "{} files scanned", files.len());
    assert!(
        missing.is_empty(),
        "cited paths the repository does not have:\n{}",
        missing.join("\n")
    );
}

/// docs/rules.md is `fabplan explain --list --format md`: the registry's docs, one anchor per
/// code (SARIF `helpUri` points there).
#[test]
fn docs_rules_md_is_the_registry() {
    let r = run(&["explain", "--list", "--format", "md"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let shipped = std::fs::read_to_string("docs/rules.md").unwrap();
    assert!(
        shipped == r.stdout,
        "docs/rules.md is stale: run `fabplan explain --list --format md -o docs/rules.md`"
    );
    for rule in fabplan::checks::RULES {
        let anchor = format!("<a id=\"{}\"></a>", rule.code.to_ascii_lowercase());
        assert!(shipped.contains(&anchor), "{anchor}");
    }
    let one = run(&["explain", "FP101", "--format", "md"]);
    assert!(
        one.stdout
            .starts_with("<a id=\"fp101\"></a>\n## FP101 rail-nic-to-rail"),
        "{}",
        one.stdout
    );
}

/// The `--format json` / `-o` rule of docs/exit-codes.md ("Conventions"): every reporting
/// command offers `json` and `-o`; every command that writes another tool's format has `-o`
/// and refuses `--format json` (exit 2, nothing on stdout, no file).
#[test]
fn writers_take_no_format_json_and_reporters_do() {
    let help_has_output = |cmd: &[&str]| {
        let mut args = cmd.to_vec();
        args.push("--help");
        let r = run(&args);
        assert_eq!(r.code, 0, "{cmd:?}: {}", r.stderr);
        r.stdout.contains("-o, --output")
    };
    let reporters: &[&[&str]] = &[
        &["validate"],
        &["inspect"],
        &["size"],
        &["explain"],
        &["mig", "profiles"],
        &["mig", "layouts"],
        &["mig", "check"],
        &["mig", "fit"],
        &["mig", "check-config"],
        &["plan"],
        &["verify"],
        &["report"],
        &["meter"],
        &["what-if"],
        &["as-built"],
    ];
    for cmd in reporters {
        assert!(help_has_output(cmd), "{cmd:?} has no -o");
        // clap lists the accepted values when one is wrong.
        let mut args = cmd.to_vec();
        args.extend(["--format", "no-such-format"]);
        let r = run(&args);
        assert_eq!(r.code, 2, "{cmd:?}");
        let values = r.stderr.split("possible values: ").nth(1).unwrap_or("");
        assert!(
            values
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|v| v == "json"),
            "{cmd:?} lacks --format json: {}",
            r.stderr
        );
    }
    let dir = std::env::temp_dir().join(format!("fabplan-writers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let at = |name: &str| dir.join(name).to_str().unwrap().to_string();
    // Inputs each writer accepts: a plan with MIG layouts, a Slurm topology.
    let plan = at("plan.json");
    std::fs::write(
        &plan,
        std::fs::read_to_string("tests/fixtures/export/bad-name-plan.json")
            .unwrap()
            .replace("lab: 4/0", "lab4/0"),
    )
    .unwrap();
    let topo = at("topology.yaml");
    let r = run(&["export", "slurm", "fabrics/lab-small.yaml", "-o", &topo]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let smi = "tests/fixtures/nvidia-smi/h100-80gb-hbm3";
    let (lgip, lgipp) = (
        format!("{smi}/mig-lgip.txt"),
        format!("{smi}/mig-lgipp.txt"),
    );
    let writers: Vec<(Vec<&str>, usize)> = vec![
        (vec!["generate", "--gpus", "64"], 1),
        (
            vec!["generate", "demand", "--fabric", "fabrics/lab-small.yaml"],
            2,
        ),
        (vec!["export", "mig-parted", &plan], 2),
        (vec!["export", "slurm", "fabrics/lab-small.yaml"], 2),
        (vec!["export", "kueue", "fabrics/lab-small.yaml"], 2),
        (vec!["import", "slurm", &topo], 2),
        (
            vec!["import", "nvidia-smi", "--lgip", &lgip, "--lgipp", &lgipp],
            2,
        ),
        (
            vec![
                "import",
                "openb",
                "tests/fixtures/openb/nodes.csv",
                "tests/fixtures/openb/pods.csv",
            ],
            2,
        ),
        (vec!["completions", "bash"], 1),
        (vec!["man"], 1),
    ];
    for (i, (cmd, words)) in writers.iter().enumerate() {
        assert!(help_has_output(&cmd[..*words]), "{cmd:?} has no -o");
        // The invocation writes with `-o` ...
        let out = at(&format!("out-{i}"));
        let mut args = cmd.clone();
        args.extend(["-o", &out]);
        let r = run(&args);
        assert_eq!(r.code, 0, "{cmd:?}: {}", r.stderr);
        assert!(std::path::Path::new(&out).exists(), "{cmd:?} wrote nothing");
        // ... and refuses `--format json` without writing.
        let out = at(&format!("json-{i}"));
        let mut args = cmd.clone();
        args.extend(["--format", "json", "-o", &out]);
        let r = run(&args);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (2, ""),
            "{cmd:?}: {}",
            r.stderr
        );
        assert!(!std::path::Path::new(&out).exists(), "{cmd:?} wrote {out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
