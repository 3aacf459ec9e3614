//! Diagnostics for broken demand and current-state files: they point into the YAML.
//!
//! - `tests/fixtures/plan/bad/CODE-what.yaml`: one broken demand per diagnostic.
//! - `tests/fixtures/plan/bad/state/CODE-what.yaml`: one broken current state per diagnostic,
//!   planned with `--current` against `tests/fixtures/plan/lab-one-chat.yaml`.
//!
//! The offending line of each fixture ends in `# <- error`: the diagnostic's primary label
//! must be on that line. Each fixture's `fabplan plan` run (exit code, stdout, stderr) is
//! snapshotted in `snapshots/plan_bad_*.snap`.

mod common;

use std::path::{Path, PathBuf};

use fabplan::diag::Diagnostic;
use fabplan::load::state;
use fabplan::model::Fabric;
use fabplan::schema::plan::PlanDocument;
use fabplan::source::{self, primary_line_col, Provenance, SourceFile};

const STATE_DEMAND: &str = "tests/fixtures/plan/lab-one-chat.yaml";
const MARK: &str = "# <- error";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn lab() -> Fabric {
    fabplan::load::load_fabric_file(&root().join("fabrics/lab-small.yaml"))
        .fabric
        .expect("lab-small loads")
}

/// The YAML files of a corpus directory, relative to the crate root, sorted.
fn corpus(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.strip_prefix(root()).expect("under root").to_path_buf())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {dir}");
    files
}

/// `FP803` from `.../FP803-size-two-keys.yaml`.
fn code_of(path: &Path) -> String {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    stem.split('-').next().unwrap().to_string()
}

/// 1-based number of the line marked `# <- error`, if any.
fn marked_line(text: &str) -> Option<usize> {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end().ends_with(MARK))
        .map(|(i, _)| i + 1)
        .collect();
    assert!(lines.len() <= 1, "more than one marked line");
    lines.first().copied()
}

/// Loads a demand text against lab-small the way `plan` does; its diagnostics.
fn demand_diagnostics(name: &str, text: &str, fabric: &Fabric) -> Vec<Diagnostic> {
    match fabplan::load::demand::demand_from_str(name, text, fabric) {
        Ok(_) => Vec::new(),
        Err(d) => d,
    }
}

/// Reads a state text the way `plan --current` does; its diagnostics.
fn state_diagnostics(file: &SourceFile, fabric: &Fabric) -> Vec<Diagnostic> {
    match state::parse_plan(file) {
        Ok(raw) => state::state_from_document(&raw, fabric).1,
        Err(d) => vec![d],
    }
}

/// Every fixture: exactly the code its name says, with the primary label on the marked line.
#[test]
fn diagnostics_point_at_the_marked_line() {
    let fabric = lab();
    let none = Provenance::default();
    let demands = corpus("tests/fixtures/plan/bad");
    let states = corpus("tests/fixtures/plan/bad/state");
    for path in demands.iter().chain(&states) {
        let text = std::fs::read_to_string(root().join(path)).unwrap();
        let file = SourceFile::new(path.display().to_string(), text.clone());
        let diags = if states.contains(path) {
            state_diagnostics(&file, &fabric)
        } else {
            demand_diagnostics(&file.name, &text, &fabric)
        };
        let code = code_of(path);
        assert_eq!(diags.len(), 1, "{}: {diags:#?}", path.display());
        let d = &diags[0];
        assert_eq!(d.code, code, "{}: {d:#?}", path.display());
        assert!(d.help.is_some(), "{}: no help", path.display());
        let at = primary_line_col(d, &file, &none).map(|(line, _, _)| line);
        assert_eq!(at, marked_line(&text), "{}: {d:#?}", path.display());
    }
}

/// Every fixture through the binary: exit 2, its code, a `file:line:col` header; snapshotted.
#[test]
fn broken_demand_corpus_renders() {
    let states = corpus("tests/fixtures/plan/bad/state");
    for path in corpus("tests/fixtures/plan/bad").iter().chain(&states) {
        let p = path.to_str().unwrap();
        let args: Vec<&str> = if states.contains(path) {
            vec!["plan", STATE_DEMAND, "--current", p]
        } else {
            vec!["plan", p]
        };
        let r = common::run(&args);
        assert_eq!(r.code, 2, "{}", r.transcript());
        assert!(r.stdout.is_empty(), "{}", r.transcript());
        assert!(r.stderr.contains(&code_of(path)), "{}", r.transcript());
        let text = std::fs::read_to_string(root().join(path)).unwrap();
        if let Some(line) = marked_line(&text) {
            assert!(
                r.stderr.contains(&format!("[{p}:{line}:")),
                "no `{p}:{line}:col` header:\n{}",
                r.transcript()
            );
        }
        let stem = path.file_stem().unwrap().to_str().unwrap();
        common::snapshot(&format!("plan_bad_{stem}"), &r.transcript());
    }
}

/// The verify corpora (`tests/fixtures/plan/bad/verify/CODE-what.yaml`, plans checked against
/// `verify-demand.yaml` on lab-small, and `bad/verify-mixed/` against `verify-mixed-demand.yaml`
/// on a fabric with two GPU models and a tight rack): exit 1, the fixture's code located on
/// the marked line of the plan (the finding's `[file:line:col]` header), the whole transcript
/// snapshotted.
#[test]
fn verify_findings_are_located_in_the_plan() {
    let corpora = [
        (
            "tests/fixtures/plan/bad/verify",
            "tests/fixtures/plan/verify-demand.yaml",
            "fabrics/lab-small.yaml",
        ),
        (
            "tests/fixtures/plan/bad/verify-mixed",
            "tests/fixtures/plan/verify-mixed-demand.yaml",
            "tests/fixtures/plan/verify-mixed-fabric.yaml",
        ),
    ];
    let none = Provenance::default();
    for (dir, demand_path, fabric_path) in corpora {
        let fabric = fabplan::load::load_fabric_file(&root().join(fabric_path))
            .fabric
            .expect("fabric loads");
        let demand = fabplan::load::demand::demand_from_str(
            demand_path,
            &std::fs::read_to_string(root().join(demand_path)).unwrap(),
            &fabric,
        )
        .expect("verify demand loads");
        for path in corpus(dir) {
            let p = path.to_str().unwrap();
            let code = code_of(&path);
            let text = std::fs::read_to_string(root().join(&path)).unwrap();
            let line = marked_line(&text).expect("a marked line");
            // In process: a finding with the fixture's code, its label on the marked line.
            let file = SourceFile::new(p, text.clone());
            let plan = state::parse_plan(&file).expect("the plan parses");
            let found = fabplan::plan::verify::verify(&fabric, &demand, &plan);
            assert!(
                found.iter().any(|d| d.code == code
                    && d.help.is_some()
                    && primary_line_col(d, &file, &none).map(|(l, _, _)| l) == Some(line)),
                "{p}: no {code} on line {line}: {found:#?}"
            );
            // Through the binary: exit 1 and the location in the header.
            let r = common::run(&["verify", demand_path, p]);
            assert_eq!(r.code, 1, "{}", r.transcript());
            assert!(
                r.stdout.contains(&format!("[{p}:{line}:")),
                "no `{p}:{line}:col` header:\n{}",
                r.transcript()
            );
            let stem = path.file_stem().unwrap().to_str().unwrap();
            common::snapshot(&format!("verify_bad_{stem}"), &r.transcript());
        }
    }
}

/// One type both ways: a plan `fabplan plan --format json` wrote reads into `PlanDocument`
/// and writes back byte for byte (spans serialize as bare values, tenant costs keep their order).
#[test]
fn a_plan_document_round_trips_byte_for_byte() {
    let path = "tests/fixtures/report/plan-mixed-tenants-h100.json";
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let plan = state::parse_plan(&SourceFile::new(path, text.clone())).expect("parses");
    let again = serde_json::to_string_pretty(&plan).unwrap() + "\n";
    assert!(again == text, "{path} does not round-trip");
}

/// Exact line and underlined text of a few diagnostics, including secondary labels.
#[test]
fn line_and_text_of_selected_diagnostics() {
    let fabric = lab();
    let none = Provenance::default();
    let at = |text: &str| {
        let file = SourceFile::new("t.yaml", text);
        let d = demand_diagnostics("t.yaml", text, &fabric);
        let labels: Vec<(usize, String, bool)> = d[0]
            .labels
            .iter()
            .filter_map(|l| {
                let s = source::resolve_label(l, &none)?;
                let (line, _) = file.line_col(s.start);
                Some((line, text[s.start..s.start + s.len].to_string(), l.primary))
            })
            .collect();
        (d[0].code, labels)
    };
    let label = |line: usize, text: &str, primary: bool| (line, text.to_string(), primary);
    // An unknown tenant reference: the value after `tenant:`.
    assert_eq!(
        at("tenants: [{name: a, isolation: mig}]\nworkloads:\n  - {name: w, tenant: bb, kind: agent}\n"),
        ("FP801", vec![label(3, "bb", true)])
    );
    // A duplicate tenant: the second name, and the first as "first defined here".
    assert_eq!(
        at("tenants:\n  - name: a\n    isolation: mig\n  - name: a\n    isolation: shared\n"),
        ("FP804", vec![label(4, "a", true), label(2, "a", false)])
    );
    // A MIG size under a dedicated-gpu tenant: the profile, and the tenant's isolation.
    assert_eq!(
        at("tenants:\n  - {name: a, isolation: dedicated-gpu}\nworkloads:\n  - name: w\n    tenant: a\n    kind: inference\n    size: {mig: 3g.40gb}\n"),
        ("FP803", vec![label(7, "3g.40gb", true), label(2, "dedicated-gpu", false)])
    );
    // The second unknown GPU model of a list.
    assert_eq!(
        at("tenants: [{name: a, isolation: mig}]\nworkloads:\n  - {name: w, tenant: a, kind: inference, gpu_models: [h100, h1OO], size: {gpus: 1}}\n"),
        ("FP805", vec![label(3, "h1OO", true)])
    );
    // A bad word in a MIG layout: the word itself, in a plain and in a quoted scalar.
    for (text, col) in [
        ("gpus:\n  - {gpu: lab2/3, mig: 3g.40gb@0 3g.40gb@5}\n", 34),
        (
            "gpus:\n  - {gpu: lab2/3, mig: \"3g.40gb@0 3g.40gb@5\"}\n",
            35,
        ),
    ] {
        let file = SourceFile::new("s.yaml", text);
        let d = state_diagnostics(&file, &fabric);
        assert_eq!(d.len(), 1, "{d:#?}");
        let (line, column, span) = primary_line_col(&d[0], &file, &none).unwrap();
        assert_eq!((d[0].code, line, column), ("FP806", 2, col), "{text}");
        assert_eq!(&text[span.start..span.start + span.len], "3g.40gb@5");
    }
}

/// A state handed over as JSON values (no locations) still gets its diagnostics, unlabelled.
#[test]
fn state_without_locations_has_no_labels() {
    let raw: PlanDocument = serde_json::from_value(serde_json::json!({
        "workloads": [{"name": "chat", "assignments": [{"gpu": "lab9/0"}]}]
    }))
    .unwrap();
    let (_, diags) = state::state_from_document(&raw, &lab());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "FP806");
    assert!(diags[0].labels.is_empty(), "{diags:#?}");
}

/// `plan --format json`: load diagnostics are validate's JSON document, on stderr, with the
/// line and column; stdout (where the plan would go) stays empty.
#[test]
fn plan_json_format_reports_locations_as_json() {
    let p = "tests/fixtures/plan/bad/FP801-workload-tenant.yaml";
    let r = common::run(&["plan", p, "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(r.stdout.is_empty(), "{}", r.transcript());
    let doc: serde_json::Value = serde_json::from_str(&r.stderr).expect("stderr is JSON");
    let d = &doc["files"][0]["diagnostics"][0];
    assert_eq!(doc["files"][0]["file"], p);
    assert_eq!(doc["files"][0]["loaded"], false);
    assert_eq!(d["code"], "FP801");
    assert_eq!(d["rule"], "demand-unknown-tenant");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(8), Some(13))
    );
    assert_eq!(doc["summary"]["errors"], 1);
}

/// `verify` and `export mig-parted` with a broken plan: exit 2 and the plan's file:line:col.
#[test]
fn a_broken_plan_is_reported_with_its_location() {
    let dir = std::env::temp_dir().join(format!("fabplan-verify-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = dir.join("plan.yaml");
    std::fs::write(&plan, "workloads:\n  - {name: chat, admitted: maybe}\n").unwrap();
    let plan = plan.to_str().unwrap();
    let runs = [
        common::run(&["verify", STATE_DEMAND, plan]),
        common::run(&["export", "mig-parted", plan]),
    ];
    std::fs::remove_dir_all(&dir).ok();
    for r in runs {
        assert_eq!(r.code, 2, "{}", r.transcript());
        assert!(r.stderr.contains("FP002"), "{}", r.transcript());
        assert!(r.stderr.contains("plan.yaml:2:"), "{}", r.transcript());
    }
}

/// Every demand and state code is in the registry, and `explain` prints it.
#[test]
fn corpus_codes_are_registered() {
    let demands = corpus("tests/fixtures/plan/bad");
    let states = corpus("tests/fixtures/plan/bad/state");
    for path in demands.iter().chain(&states) {
        let code = code_of(path);
        assert!(
            fabplan::checks::rule(&code).is_some(),
            "{code} is not registered"
        );
    }
    let mut verify = corpus("tests/fixtures/plan/bad/verify");
    verify.extend(corpus("tests/fixtures/plan/bad/verify-mixed"));
    for path in &verify {
        let code = code_of(path);
        assert!(
            fabplan::checks::rule(&code).is_some(),
            "{code} is not registered"
        );
    }
    // Every demand, state and verify code has a fixture in one of the corpora, except FP815
    // (`export mig-parted` only: tests/plan.rs), the openb CSV codes FP830-FP834 (their
    // corpus is tests/fixtures/openb/bad, run by tests/openb.rs) and FP863 (host CPU and
    // memory, built by hand in tests/resources.rs), FP839 and FP867 (host-only replicas over
    // a node's CPU, and misplaced: nodes that declare CPU, in tests/openb.rs).
    let untested = [
        "FP815", "FP830", "FP831", "FP832", "FP833", "FP834", "FP839", "FP863", "FP867",
    ];
    for rule in fabplan::checks::RULES
        .iter()
        .filter(|r| r.code.starts_with("FP8"))
    {
        let code = rule.code;
        let r = common::run(&["explain", code]);
        assert_eq!(r.code, 0, "{}", r.transcript());
        if untested.contains(&code) {
            continue;
        }
        assert!(
            demands
                .iter()
                .chain(&states)
                .chain(&verify)
                .any(|p| code_of(p) == code),
            "no fixture for {code}"
        );
    }
}

mod never_panics {
    use super::*;
    use crate::common::mutate::{apply, mutation};
    use proptest::prelude::*;

    const MIXED: &str = include_str!("../examples/mixed-tenants-h100.yaml");

    /// Loads `text` as a demand on lab-small and as a current state, and renders every
    /// diagnostic for people and as JSON; any panic fails the property.
    fn load_and_render(fabric: &Fabric, text: &str) {
        let file = SourceFile::new("fuzz.yaml", text);
        let none = Provenance::default();
        let mut diags = demand_diagnostics("fuzz.yaml", text, fabric);
        diags.extend(state_diagnostics(&file, fabric));
        // As a plan: verified against the verify corpus's demand, and exported to mig-parted.
        if let Ok(plan) = state::parse_plan(&file) {
            diags.extend(fabplan::plan::verify::verify(
                fabric,
                verify_demand(),
                &plan,
            ));
            if let Err(d) = fabplan::plan::export::mig_parted(&plan, None) {
                diags.extend(d);
            }
            let _ = fabplan::plan::export::mig_parted(&plan, Some(fabric));
        }
        let _ = fabplan::cli::render::human(&diags, &file, &none, false);
        let _ = fabplan::cli::render::files_json(&[(&file, &none, &diags, false)]);
    }

    fn verify_demand() -> &'static fabplan::model::demand::Demand {
        static D: std::sync::OnceLock<fabplan::model::demand::Demand> = std::sync::OnceLock::new();
        D.get_or_init(|| {
            let path = "tests/fixtures/plan/verify-demand.yaml";
            let text = std::fs::read_to_string(root().join(path)).unwrap();
            fabplan::load::demand::demand_from_str(path, &text, fabric()).expect("loads")
        })
    }

    fn fabric() -> &'static Fabric {
        static LAB: std::sync::OnceLock<Fabric> = std::sync::OnceLock::new();
        LAB.get_or_init(lab)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            load_and_render(fabric(), &String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn mutated_example_demand(mutations in prop::collection::vec(mutation(), 1..6)) {
            let mut text = MIXED.to_string();
            for m in &mutations {
                text = apply(&text, m);
            }
            load_and_render(fabric(), &text);
        }

        #[test]
        fn mutated_corpus_file(
            pick in any::<prop::sample::Index>(),
            mutations in prop::collection::vec(mutation(), 1..4),
        ) {
            let mut files = corpus("tests/fixtures/plan/bad");
            files.extend(corpus("tests/fixtures/plan/bad/state"));
            files.extend(corpus("tests/fixtures/plan/bad/verify"));
            let path = &files[pick.index(files.len())];
            let mut text = std::fs::read_to_string(root().join(path)).expect("read");
            for m in &mutations {
                text = apply(&text, m);
            }
            load_and_render(fabric(), &text);
        }
    }
}
