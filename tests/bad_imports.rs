//! The broken-input corpus of the import parsers (issue 10 §6): every file under
//! `tests/fixtures/bad-imports/` is run through its command, and exit code, stdout and stderr
//! (code, file:line:col, span, help) are snapshotted together. Names start with the code the
//! file is for; `many-problems*` files check that every problem is reported, not the first.

mod common;

use common::{run, snapshot};

const DIR: &str = "tests/fixtures/bad-imports";
const LGIP: &str = "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgip.txt";
const LGIPP: &str = "tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgipp.txt";

fn cases(sub: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("{DIR}/{sub}"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Exit 2, nothing on stdout, and the code the file name promises (or any registry code for
/// the `many-problems` and format files) with a located label.
fn check(sub: &str, name: &str, args: &[&str]) {
    let r = run(args);
    let stem = name.split('.').next().unwrap();
    snapshot(&format!("bad_import_{sub}_{stem}"), &r.transcript());
    assert_eq!(r.code, 2, "{sub}/{name}: {}", r.stderr);
    assert!(r.stdout.is_empty(), "{sub}/{name} wrote output");
    if let Some(code) = stem.split('-').next().filter(|c| c.starts_with("FP")) {
        assert!(
            r.stderr.contains(code),
            "{sub}/{name}: expected {code} in\n{}",
            r.stderr
        );
        assert!(
            fabplan::checks::rule(code).is_some(),
            "{code} is not in the registry"
        );
    }
    if !stem.contains("FP007") && !stem.contains("FP913-no-name") {
        assert!(
            r.stderr.contains("╭─["),
            "{sub}/{name}: no file:line:col in\n{}",
            r.stderr
        );
    }
}

#[test]
fn slurm_bad_imports() {
    let names = cases("slurm");
    assert!(names.len() >= 30);
    for name in &names {
        let path = format!("{DIR}/slurm/{name}");
        check("slurm", name, &["import", "slurm", &path]);
    }
}

#[test]
fn nvidia_smi_bad_imports() {
    let names = cases("nvidia-smi");
    for name in &names {
        let path = format!("{DIR}/nvidia-smi/{name}");
        let args: Vec<&str> = if name.starts_with("lgipp-") {
            vec!["import", "nvidia-smi", "--lgip", LGIP, "--lgipp", &path]
        } else if name.starts_with("lgip-") {
            vec!["import", "nvidia-smi", "--lgip", &path, "--lgipp", LGIPP]
        } else {
            vec![
                "import",
                "nvidia-smi",
                "--lgip",
                LGIP,
                "--lgipp",
                LGIPP,
                "--query",
                &path,
            ]
        };
        check("nvidia-smi", name, &args);
    }
}

#[test]
fn mig_parted_bad_configs() {
    for name in &cases("mig-parted") {
        let path = format!("{DIR}/mig-parted/{name}");
        check("mig-parted", name, &["mig", "check-config", &path]);
    }
}

/// Every problem is reported: the many-problems files give one diagnostic per mistake.
#[test]
fn every_problem_is_reported() {
    let r = run(&[
        "import",
        "slurm",
        "tests/fixtures/bad-imports/slurm/many-problems-crlf-bom-tabs.conf",
    ]);
    for code in ["FP902", "FP904", "FP905", "FP901"] {
        assert!(r.stderr.contains(code), "{code} missing:\n{}", r.stderr);
    }
    let r = run(&[
        "mig",
        "check-config",
        "tests/fixtures/bad-imports/mig-parted/many-problems.yaml",
    ]);
    for code in ["FP921", "FP922", "FP923", "FP924", "FP925"] {
        assert!(r.stderr.contains(code), "{code} missing:\n{}", r.stderr);
    }
}

/// A topology written on Windows (BOM, CRLF), with tabs and trailing spaces, imports like the
/// plain one; from stdin it is named `<stdin>` in diagnostics.
#[test]
fn bom_crlf_tabs_and_stdin() {
    let plain = "SwitchName=leaf1 Nodes=h[1-4]\nSwitchName=spine1 Switches=leaf1\n";
    let windows =
        "\u{feff}SwitchName=leaf1\tNodes=h[1-4]   \r\nSwitchName=spine1  Switches=leaf1\t\r\n";
    let a = common::run_stdin(&["import", "slurm", "-", "--name", "t"], &[], plain);
    let b = common::run_stdin(&["import", "slurm", "-", "--name", "t"], &[], windows);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert_eq!(a.stdout, b.stdout);
    let bad = common::run_stdin(
        &["import", "slurm", "-"],
        &[],
        "SwitchName=leaf1 Nodes=h[1-4\n",
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("<stdin>:1:24"), "{}", bad.stderr);
}

/// Nothing is written when there is any error.
#[test]
fn nothing_written_on_error() {
    let dir = std::env::temp_dir().join(format!("fabplan-bad-imports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("skeleton.yaml");
    let r = run(&[
        "import",
        "slurm",
        "tests/fixtures/bad-imports/slurm/FP905-unknown-child.conf",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every import parser code (FP900-FP939) has at least one fixture named after it; the
/// export name codes (FP926-FP935) are tested in tests/formats.rs and the as-built codes
/// (FP940 and up) in tests/asbuilt.rs.
#[test]
fn corpus_covers_every_import_code() {
    let names: Vec<String> = ["slurm", "nvidia-smi", "mig-parted"]
        .iter()
        .flat_map(|d| cases(d))
        .collect();
    for r in fabplan::checks::RULES
        .iter()
        .filter(|r| r.code >= "FP900" && r.code < "FP940")
        .filter(|r| !(r.code >= "FP926" && r.code <= "FP935"))
    {
        assert!(
            names.iter().any(|n| n.contains(r.code)),
            "no fixture under {DIR} for `{}` ({})",
            r.code,
            r.name
        );
    }
    assert!(names.len() >= 40, "{} cases", names.len());
}
