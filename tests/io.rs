//! Input and output safety (issue 10 §2 and §5): rendering never panics, whatever the line
//! length; `-o` never destroys a file: not an input, not a device, not a symlink's link.
//! Every case runs the binary in its own temporary directory (relative paths, so the
//! snapshots are stable) and snapshots exit code, stdout and stderr.

mod common;

use std::path::{Path, PathBuf};

use common::{run_in, snapshot, Run};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A fresh, empty directory for one case.
fn tmp(case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fabplan-io-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy(from: &str, dir: &Path, to: &str) {
    std::fs::copy(Path::new(ROOT).join(from), dir.join(to)).unwrap();
}

fn run(dir: &Path, args: &[&str]) -> Run {
    run_in(dir, args, &[("COLUMNS", "100")])
}

/// A directory with a fabric, a demand on it, a plan of that demand, captures and CSVs:
/// the inputs of every command that takes `-o`.
fn workspace(case: &str) -> PathBuf {
    let dir = tmp(case);
    copy("fabrics/lab-small.yaml", &dir, "fab.yaml");
    let demand =
        std::fs::read_to_string(Path::new(ROOT).join("tests/fixtures/plan/lab-one-chat.yaml"))
            .unwrap()
            .replace(
                "fabric: ../../../fabrics/lab-small.yaml",
                "fabric: fab.yaml",
            );
    assert!(demand.contains("fabric: fab.yaml"));
    std::fs::write(dir.join("demand.yaml"), demand).unwrap();
    let plan = run(
        &dir,
        &[
            "plan",
            "demand.yaml",
            "--solver",
            "greedy",
            "--format",
            "json",
            "-o",
            "plan.json",
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let slurm = run(
        &dir,
        &["export", "slurm", "fab.yaml", "-o", "topology.yaml"],
    );
    assert_eq!(slurm.code, 0, "{}", slurm.stderr);
    for f in ["mig-lgip.txt", "mig-lgipp.txt", "query.csv"] {
        copy(
            &format!("tests/fixtures/nvidia-smi/h100-80gb-hbm3/{f}"),
            &dir,
            f,
        );
    }
    copy("tests/fixtures/openb/nodes.csv", &dir, "nodes.csv");
    copy("tests/fixtures/openb/pods.csv", &dir, "pods.csv");
    dir
}

/// Every file of `dir` (recursively) with its bytes, to show nothing changed.
fn contents(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), Vec::new());
            }
        }
    }
    out
}

// ---- -o onto an input ----------------------------------------------------------------------

#[test]
fn output_onto_an_input_is_refused_for_every_command() {
    let dir = workspace("onto-input");
    std::fs::hard_link(dir.join("fab.yaml"), dir.join("fab-hardlink.yaml")).unwrap();
    std::os::unix::fs::symlink("demand.yaml", dir.join("demand-link.yaml")).unwrap();
    std::fs::create_dir(dir.join("openb")).unwrap();
    std::fs::copy(dir.join("nodes.csv"), dir.join("openb/fabric.yaml")).unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("validate", &["validate", "fab.yaml", "-o", "fab.yaml"]),
        (
            "validate_dot_slash",
            &["validate", "fab.yaml", "-o", "./fab.yaml"],
        ),
        (
            "validate_hard_link",
            &["validate", "fab.yaml", "-o", "fab-hardlink.yaml"],
        ),
        (
            "validate_second_file",
            &[
                "validate",
                "fab.yaml",
                "fab-hardlink.yaml",
                "-o",
                "fab.yaml",
            ],
        ),
        ("inspect", &["inspect", "fab.yaml", "-o", "fab.yaml"]),
        (
            "export_slurm",
            &["export", "slurm", "fab.yaml", "-o", "fab.yaml"],
        ),
        (
            "export_kueue",
            &["export", "kueue", "fab.yaml", "-o", "fab.yaml"],
        ),
        (
            "export_mig_parted",
            &["export", "mig-parted", "plan.json", "-o", "plan.json"],
        ),
        (
            "generate_demand",
            &[
                "generate", "demand", "--fabric", "fab.yaml", "-o", "fab.yaml",
            ],
        ),
        (
            "import_nvidia_smi",
            &[
                "import",
                "nvidia-smi",
                "--lgip",
                "mig-lgip.txt",
                "--lgipp",
                "mig-lgipp.txt",
                "--query",
                "query.csv",
                "-o",
                "query.csv",
            ],
        ),
        (
            "import_slurm",
            &["import", "slurm", "topology.yaml", "-o", "topology.yaml"],
        ),
        (
            "import_openb",
            &[
                "import",
                "openb",
                "openb/fabric.yaml",
                "pods.csv",
                "-o",
                "openb",
            ],
        ),
        (
            "plan_demand",
            &[
                "plan",
                "demand.yaml",
                "--solver",
                "greedy",
                "-o",
                "demand.yaml",
            ],
        ),
        (
            "plan_demand_symlink",
            &[
                "plan",
                "demand-link.yaml",
                "--solver",
                "greedy",
                "-o",
                "demand.yaml",
            ],
        ),
        (
            "plan_output_symlink",
            &[
                "plan",
                "demand.yaml",
                "--solver",
                "greedy",
                "-o",
                "demand-link.yaml",
            ],
        ),
        (
            "plan_demands_fabric",
            &[
                "plan",
                "demand.yaml",
                "--solver",
                "greedy",
                "-o",
                "fab.yaml",
            ],
        ),
        (
            "plan_current",
            &[
                "plan",
                "demand.yaml",
                "--solver",
                "greedy",
                "--current",
                "plan.json",
                "-o",
                "plan.json",
            ],
        ),
        (
            "report_fabric",
            &["report", "fab.yaml", "-o", "fab-hardlink.yaml"],
        ),
        (
            "report_plan",
            &[
                "report",
                "fab.yaml",
                "--plan",
                "plan.json",
                "-o",
                "plan.json",
            ],
        ),
        (
            "report_demand",
            &[
                "report",
                "fab.yaml",
                "--demand",
                "demand.yaml",
                "-o",
                "demand.yaml",
            ],
        ),
    ];
    let before = contents(&dir);
    let mut all = String::new();
    for (name, args) in cases {
        let r = run(&dir, args);
        assert_eq!(r.code, 2, "{name}: {}", r.transcript());
        assert!(
            r.stderr.contains("refusing to write the output"),
            "{name}: {}",
            r.stderr
        );
        assert_eq!(contents(&dir), before, "{name} changed a file");
        all.push_str(&format!(
            "$ fabplan {}\n{}\n",
            args.join(" "),
            r.transcript()
        ));
    }
    snapshot("io_output_onto_input", &all);
}

/// A fabric's `gpu_models:` files are inputs of every command that reads the fabric (issue 10
/// §5): writing onto one is refused like writing onto the fabric, also through another path.
#[test]
fn output_onto_a_fabrics_gpu_model_file_is_refused() {
    let dir = tmp("onto-gpu-model");
    copy("tests/fixtures/custom-gpu/fabric.yaml", &dir, "fabric.yaml");
    copy(
        "tests/fixtures/custom-gpu/lab-sample-gpu.yaml",
        &dir,
        "lab-sample-gpu.yaml",
    );
    std::os::unix::fs::symlink("lab-sample-gpu.yaml", dir.join("gpu-link.yaml")).unwrap();
    let cases: &[&[&str]] = &[
        &["validate", "fabric.yaml", "-o", "lab-sample-gpu.yaml"],
        &["validate", "fabric.yaml", "-o", "./gpu-link.yaml"],
        &["inspect", "fabric.yaml", "-o", "lab-sample-gpu.yaml"],
        &[
            "export",
            "slurm",
            "fabric.yaml",
            "-o",
            "lab-sample-gpu.yaml",
        ],
        &["report", "fabric.yaml", "-o", "lab-sample-gpu.yaml"],
    ];
    let before = contents(&dir);
    let mut all = String::new();
    for args in cases {
        let r = run(&dir, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.transcript());
        assert!(
            r.stderr.contains("it is the input `lab-sample-gpu.yaml`"),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(contents(&dir), before, "{args:?} changed a file");
        all.push_str(&format!(
            "$ fabplan {}\n{}\n",
            args.join(" "),
            r.transcript()
        ));
    }
    // Another file is still written.
    let r = run(&dir, &["validate", "fabric.yaml", "-o", "report.txt"]);
    assert!(dir.join("report.txt").is_file(), "{}", r.transcript());
    snapshot("io_output_onto_gpu_model", &all);
}

/// `plan` learns its fabric (and so the fabric's `gpu_models:` files) from the demand; `-o`
/// onto such a model file is refused as soon as the fabric is loaded, before the plan is
/// solved, and the model file is left as it was.
#[test]
fn plan_refuses_a_gpu_model_file_of_the_demands_fabric_before_planning() {
    let dir = tmp("plan-onto-gpu-model");
    copy("tests/fixtures/custom-gpu/fabric.yaml", &dir, "fabric.yaml");
    copy(
        "tests/fixtures/custom-gpu/lab-sample-gpu.yaml",
        &dir,
        "lab-sample-gpu.yaml",
    );
    std::fs::write(
        dir.join("demand.yaml"),
        "fabric: fabric.yaml\ntenants:\n  - {name: a, isolation: shared}\nworkloads:\n  - {name: w, tenant: a, kind: inference, size: {gpus: 1}}\n",
    )
    .unwrap();
    let before = contents(&dir);
    // FABPLAN_TIMING makes the planner say on stderr what it solved: nothing, here.
    let r = run_in(
        &dir,
        &["plan", "demand.yaml", "-o", "lab-sample-gpu.yaml"],
        &[("COLUMNS", "100"), ("FABPLAN_TIMING", "1")],
    );
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr.contains("it is the input `lab-sample-gpu.yaml`"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("milp:"),
        "planned first: {}",
        r.transcript()
    );
    assert_eq!(contents(&dir), before);
    // The same demand plans when the output is another file.
    let ok = run_in(
        &dir,
        &["plan", "demand.yaml", "-o", "plan.json", "--format", "json"],
        &[("COLUMNS", "100"), ("FABPLAN_TIMING", "1")],
    );
    assert!(dir.join("plan.json").is_file(), "{}", ok.transcript());
    assert!(ok.stderr.contains("milp:"), "{}", ok.transcript());
}

/// The loader records a fabric's GPU model files from the text it read, and `-o` refuses them
/// from that record: no input is read a second time. So the refusal holds even when the
/// fabric is gone from disk after the load (the old probe re-read the fabric at the write,
/// found nothing and let the model file be replaced), and a fabric the typed parse refused
/// (an unknown key) still protects the model files it names.
#[test]
fn gpu_model_files_are_recorded_by_the_load_not_read_again() {
    use fabplan::cli::output::refuse_input_as_output;
    let dir = tmp("model-files-once");
    copy("tests/fixtures/custom-gpu/fabric.yaml", &dir, "fabric.yaml");
    copy(
        "tests/fixtures/custom-gpu/lab-sample-gpu.yaml",
        &dir,
        "lab-sample-gpu.yaml",
    );
    let fabric = dir.join("fabric.yaml");
    let loaded = fabplan::load::load_fabric_file(&fabric);
    assert!(loaded.fabric.is_some(), "{:?}", loaded.diagnostics);
    std::fs::remove_file(&fabric).unwrap();
    let refused = refuse_input_as_output(&dir.join("lab-sample-gpu.yaml"), &[&fabric]);
    assert!(
        refused.is_err_and(|e| e.to_string().contains("lab-sample-gpu.yaml")),
        "a model file the load read is an input"
    );
    assert!(refuse_input_as_output(&dir.join("other.yaml"), &[&fabric]).is_ok());

    // A fabric that does not parse as one still names its model files.
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "fabric: x\ngpu_models: [broken-gpu.yaml]\nnot_a_key: 1\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken-gpu.yaml"), "key: x\n").unwrap();
    let loaded = fabplan::load::load_fabric_file(&broken);
    assert!(loaded.fabric.is_none());
    assert!(refuse_input_as_output(&dir.join("broken-gpu.yaml"), &[&broken]).is_err());
}

// ---- what -o writes to -------------------------------------------------------------------

#[test]
fn output_through_a_symlink_replaces_the_target_and_keeps_the_link() {
    let dir = workspace("symlink");
    std::fs::create_dir(dir.join("reports")).unwrap();
    std::fs::write(dir.join("reports/today.txt"), "old report\n").unwrap();
    std::os::unix::fs::symlink("reports/today.txt", dir.join("latest.txt")).unwrap();
    let r = run(&dir, &["validate", "fab.yaml", "-o", "latest.txt"]);
    assert!(std::fs::symlink_metadata(dir.join("latest.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_link(dir.join("latest.txt")).unwrap(),
        Path::new("reports/today.txt")
    );
    let written = std::fs::read_to_string(dir.join("reports/today.txt")).unwrap();
    assert_eq!(written, "fab.yaml: ok (0 errors, 0 warnings)\n");
    // A dangling link: the file is created where it points.
    std::os::unix::fs::symlink("reports/new.txt", dir.join("dangling.txt")).unwrap();
    let r2 = run(&dir, &["validate", "fab.yaml", "-o", "dangling.txt"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("reports/new.txt")).unwrap(),
        written
    );
    assert!(std::fs::symlink_metadata(dir.join("dangling.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
    snapshot(
        "io_output_symlink",
        &format!("{}\n{}", r.transcript(), r2.transcript()),
    );
}

#[test]
fn output_to_a_fifo_is_written_into_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = workspace("fifo");
    let fifo = dir.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let r = run(&dir, &["validate", "fab.yaml", "-o", "pipe"]);
    let read = reader.join().unwrap();
    assert_eq!(read, "fab.yaml: ok (0 errors, 0 warnings)\n");
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    snapshot("io_output_fifo", &r.transcript());
}

#[test]
fn output_to_dev_null_leaves_the_device() {
    use std::os::unix::fs::FileTypeExt;
    let dir = workspace("dev-null");
    let r = run(&dir, &["validate", "fab.yaml", "-o", "/dev/null"]);
    let m = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(
        m.file_type().is_char_device(),
        "/dev/null is no longer a device"
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    snapshot("io_output_dev_null", &r.transcript());
}

#[test]
fn a_replaced_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = workspace("permissions");
    std::fs::write(dir.join("report.txt"), "old\n").unwrap();
    std::fs::set_permissions(
        dir.join("report.txt"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let r = run(&dir, &["validate", "fab.yaml", "-o", "report.txt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = std::fs::metadata(dir.join("report.txt")).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o640);
    assert_eq!(
        std::fs::read_to_string(dir.join("report.txt")).unwrap(),
        "fab.yaml: ok (0 errors, 0 warnings)\n"
    );
}

#[test]
fn output_to_a_directory_or_an_unwritable_place_fails_and_leaves_nothing() {
    let dir = workspace("unwritable");
    // root writes into a mode 555 directory, so the unwritable place is /proc's root (a
    // read-only place for everyone) when the tests run as root.
    let ro = dir.join("read-only");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = ro.join(".probe");
    let root = std::fs::write(&probe, "").is_ok();
    let _ = std::fs::remove_file(&probe);
    let target = if root {
        "/proc/fabplan-io-test.txt"
    } else {
        "read-only/report.txt"
    };
    let before = contents(&dir);
    let r = run(&dir, &["validate", "fab.yaml", "-o", target]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!Path::new(target).exists() && !ro.join("report.txt").exists());
    let d = run(&dir, &["validate", "fab.yaml", "-o", "read-only"]);
    assert_eq!(d.code, 2, "{}", d.stderr);
    assert_eq!(contents(&dir), before);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The OS error differs between root (no such file under /proc) and other users
    // (permission denied); the rest of the report does not.
    let shown = r
        .transcript()
        .replace(target, "UNWRITABLE")
        .lines()
        .map(|l| {
            if l.contains("╰─▶") {
                "  ╰─▶ (the OS error)"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    snapshot(
        "io_output_unwritable",
        &format!("{shown}\n{}", d.transcript()),
    );
}

#[test]
fn openb_import_that_fails_leaves_nothing_behind() {
    let dir = workspace("openb-bad");
    let nodes = "sn,cpu_milli,memory_mib,gpu,model\nn1,96000,786432,8,V 100\n";
    std::fs::write(dir.join("bad-nodes.csv"), nodes).unwrap();
    let before = contents(&dir);
    let r = run(
        &dir,
        &["import", "openb", "bad-nodes.csv", "pods.csv", "-o", "out"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(contents(&dir), before, "a failed import left files");
    assert!(!dir.join("out").exists());
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("fabplan"))
        .collect();
    assert!(names.is_empty(), "staging left behind: {names:?}");
    snapshot("io_openb_bad_model_leaves_nothing", &r.transcript());
}

// ---- long lines --------------------------------------------------------------------------

/// Past column 65,535 miette's underline padding panicked ("Formatting argument out of
/// range"). One case per input kind, each a minified one-line JSON document.
#[test]
fn diagnostics_far_to_the_right_of_a_long_line_render() {
    let dir = workspace("long-lines");
    let pad = "x".repeat(70_000);
    let wide = "日本語é".repeat(20_000);
    let files = [
        (
            "fab.json",
            format!(r#"{{"fabric":"f","description":"{pad}","bogus":1}}"#),
        ),
        (
            "fab-utf8.json",
            format!(r#"{{"fabric":"f","description":"{wide}","bogus":1}}"#),
        ),
        (
            "demand.json",
            format!(r#"{{"tenants":[{{"name":"{pad}","isolaton":"mig"}}]}}"#),
        ),
        (
            "state.json",
            format!(r#"{{"workloads":[{{"name":"{pad}","admitted":"maybe"}}]}}"#),
        ),
        ("gpu.json", format!(r#"{{"key":"{pad}","bogus":1}}"#)),
        (
            "bad-key.json",
            format!(r#"{{"fabric":"f","{}":1}}"#, "k".repeat(100_000)),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let cases: &[(&str, &[&str])] = &[
        ("fabric", &["validate", "fab.json"]),
        ("fabric_multibyte", &["validate", "fab-utf8.json"]),
        ("fabric_long_key", &["validate", "bad-key.json"]),
        ("demand", &["plan", "demand.json"]),
        (
            "current_state",
            &[
                "plan",
                "demand.yaml",
                "--solver",
                "greedy",
                "--current",
                "state.json",
            ],
        ),
        ("plan_verify", &["verify", "demand.yaml", "state.json"]),
        ("plan_export", &["export", "mig-parted", "state.json"]),
        (
            "gpu_file",
            &["mig", "profiles", "--gpu", "h100", "--gpu-file", "gpu.json"],
        ),
    ];
    for (name, args) in cases {
        let r = run(&dir, args);
        assert_eq!(r.code, 2, "{name}: {}", r.transcript());
        // No shown line is anywhere near the input's length; the cut is marked.
        let shown = format!("{}{}", r.stdout, r.stderr);
        assert!(
            shown.lines().all(|l| l.chars().count() < 2_500),
            "{name}: a long line was shown whole"
        );
        assert!(shown.contains('…'), "{name}: {shown}");
        snapshot(
            &format!("io_long_line_{name}"),
            &format!("$ fabplan {}\n{}", args.join(" "), r.transcript()),
        );
    }
}

// ---- rendering never panics ----------------------------------------------------------------

mod render_property {
    use fabplan::cli::render::human;
    use fabplan::diag::{Diagnostic, Span};
    use fabplan::source::{Provenance, SourceFile};
    use proptest::prelude::*;

    /// Text made of pieces that matter to the excerpt: long runs, newlines, CRLF, tabs and
    /// multibyte characters near any cut.
    fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-z ]{0,20}",
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("\t".to_string()),
            "[é日本🚀]{1,8}",
            (1usize..80_000).prop_map(|n| "y".repeat(n)),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]
        #[test]
        fn rendering_any_diagnostic_on_any_text_does_not_panic(
            text in text(),
            labels in proptest::collection::vec((0usize..200_000, 0usize..100_000, any::<bool>(), 0usize..300), 0..4),
            message_len in 0usize..5_000,
        ) {
            let file = SourceFile::new("f.json", text);
            let mut d = Diagnostic::error("FP002", "m".repeat(message_len)).help("h".repeat(message_len));
            for (start, len, primary, label_len) in labels {
                let span = Span { start, len };
                let label = "l".repeat(label_len);
                d = if primary { d.at(span, label) } else { d.also_at(span, label) };
            }
            let out = human(&[d], &file, &Provenance::default(), false);
            prop_assert!(out.contains("FP002"));
        }
    }
}
