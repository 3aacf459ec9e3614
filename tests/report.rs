//! `fabplan report`: snapshots (JSON and Markdown) on shipped fabrics, numbers checked by hand,
//! the HTML page against the JSON (and rendered in headless Chromium), bad flags, failed writes.

mod common;

use std::process::Command;

use common::{run_env, Run};

use fabplan::load::load_fabric_file;
use fabplan::report::{self, Failure, ReportOptions};

/// Runs fabplan from the crate root (so fixture paths in snapshots are relative).
fn run(args: &[&str]) -> Run {
    run_env(args, &[("COLUMNS", "100")])
}

fn check(name: &str, args: &[&str]) -> Run {
    let r = run(args);
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        // Temporary paths (with the test's process id) would churn the snapshot header.
        description => format!("fabplan {}", args.join(" "))
            .replace(&format!("{}/", std::env::temp_dir().display()), "$TMPDIR/")
            .replace(&format!("-{}/", std::process::id()), "/"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, format!("exit: {}\n--- stdout\n{}--- stderr\n{}", r.code, r.stdout, r.stderr));
    });
    r
}

/// Shipped fabrics and fixtures the reports are snapshotted on.
const FABRICS: &[(&str, &str)] = &[
    ("lab_small", "fabrics/lab-small.yaml"),
    ("dgx_h100_su1_ib", "fabrics/dgx-h100-su1-ib.yaml"),
    ("dgx_h100_4su_ib", "fabrics/dgx-h100-4su-ib.yaml"),
    ("hgx_h200_roce_1k", "fabrics/hgx-h200-roce-1k.yaml"),
    (
        "dgx_b200_16su_ib_3tier",
        "fabrics/dgx-b200-16su-ib-3tier.yaml",
    ),
    ("gb200_nvl72_su", "fabrics/gb200-nvl72-su.yaml"),
    (
        "nvl72_two_racks",
        "tests/fixtures/fabrics/nvl72-two-racks.yaml",
    ),
];

fn path(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn build(rel: &str, o: &ReportOptions) -> report::Report {
    let loaded = load_fabric_file(&path(rel));
    report::build(loaded.fabric.as_ref().expect("loads"), o)
}

#[test]
fn reports_are_snapshotted_in_json_and_markdown() {
    for (stem, file) in FABRICS {
        for (fmt, ext) in [("json", "json"), ("md", "md")] {
            let r = check(
                &format!("report_{stem}_{ext}"),
                &["report", file, "--format", fmt],
            );
            assert_eq!(r.code, 0, "{stem}: {}", r.stderr);
        }
    }
    let r = check(
        "report_lab_small_human_whatif",
        &[
            "report",
            "fabrics/lab-small.yaml",
            "--fail",
            "switch:leaf3",
            "--utilization",
            "0.6",
            "--growth",
            "10%/month",
        ],
    );
    assert_eq!(r.code, 0);
    let r = check(
        "report_lab_small_csv",
        &["report", "fabrics/lab-small.yaml", "--format", "csv"],
    );
    assert_eq!(r.code, 0);
    for (name, fmt) in [
        ("report_plan_mixed_tenants_json", "json"),
        ("report_plan_mixed_tenants_md", "md"),
        ("report_plan_mixed_tenants_csv", "csv"),
    ] {
        let r = check(
            name,
            &[
                "report",
                "fabrics/dgx-h100-su1-ib.yaml",
                "--plan",
                PLAN,
                "--demand",
                DEMAND,
                "--fail",
                "switch:leaf3",
                "--growth",
                "5%/month",
                "--format",
                fmt,
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
}

/// A plan of `fabplan plan examples/mixed-tenants-h100.yaml --format json` (branch plan,
/// 144ec3a) and that demand file.
const PLAN: &str = "tests/fixtures/report/plan-mixed-tenants-h100.json";
const DEMAND: &str = "tests/fixtures/report/mixed-tenants-h100.yaml";

fn with_plan() -> ReportOptions {
    let loaded = load_fabric_file(&path("fabrics/dgx-h100-su1-ib.yaml"));
    let f = loaded.fabric.unwrap();
    let (_, plan, _) = fabplan::load::state::read_state(&path(PLAN), &f).expect("plan is valid");
    ReportOptions {
        usage: Some(fabplan::load::usage::from_document(&plan, &f)),
        ..Default::default()
    }
}

/// Cost per tenant by hand: each workload pays its GPU-equivalents x the owned $/GPU-h;
/// the idle rest goes to `unallocated`; everything sums to the owned cost.
#[test]
fn cost_per_tenant_by_hand() {
    let r = build("fabrics/dgx-h100-su1-ib.yaml", &with_plan());
    let a = r.attribution.as_ref().unwrap();
    let rate = r.cost.models[0].owned_usd_per_gpu_hour_at_full_use.unwrap();
    // dgx-h100-su1-ib: 248 GPUs, capex 248 x 35,000 / 0.8 over 43,800 h = 247.717 $/h.
    assert!(close(
        r.cost.models[0].depreciation_usd_per_hour.unwrap(),
        247.717
    ));
    let row = |w: &str| a.rows.iter().find(|x| x.workload == w).unwrap();
    // Two 64-GPU pre-training gangs on whole GPUs.
    assert!(close(row("llm-pretrain-a").gpu_equivalents, 64.0));
    assert!((a.by_tenant_usd_per_hour["research"] - 128.0 * rate).abs() < 0.01);
    // `evals` holds MIG instances: 12 compute slices of 7 per GPU.
    assert!(close(
        row("evals").gpu_equivalents,
        (12.0f64 / 7.0 * 1000.0).round() / 1000.0
    ));
    let sum: f64 = a.by_tenant_usd_per_hour.values().sum();
    assert!(
        (sum - r.cost.owned_usd_per_hour).abs() < 0.02,
        "{sum} vs {}",
        r.cost.owned_usd_per_hour
    );
    let used: f64 = a
        .rows
        .iter()
        .filter(|x| x.tenant != "unallocated")
        .map(|x| x.gpu_equivalents)
        .sum();
    assert!((a.idle_gpu_equivalents + used - 248.0).abs() < 0.01);
    assert_eq!(
        r.capacity.pending_workloads,
        vec!["vision-finetune", "rl-sweep"]
    );
}

#[test]
fn html_with_a_plan_holds_the_json_figures() {
    let args = [
        "report",
        "fabrics/dgx-h100-su1-ib.yaml",
        "--plan",
        PLAN,
        "--fail",
        "switch:leaf3",
    ];
    let (json, html) = json_and_html(&args);
    assert!(html_matches_json(&html.stdout, &json) >= 20);
    assert!(html.stdout.contains("Cost per tenant"));
    // The plan's 13 MIG GPUs are drawn slot by slot: dgx09/2 holds 3g.40gb at units 0 and 4.
    assert!(
        html.stdout.contains("13 GPUs in MIG mode"),
        "no MIG picture"
    );
    assert!(html.stdout.contains("<title>3g.40gb at unit 4</title>"));
}

/// The JSON report and the HTML page for the same arguments (the page must render: exit 0).
fn json_and_html(args: &[&str]) -> (serde_json::Value, Run) {
    let json = serde_json::from_str(&run(&[args, &["--format", "json"]].concat()).stdout).unwrap();
    let html = run(&[args, &["--format", "html"]].concat());
    assert_eq!(html.code, 0, "{}", html.stderr);
    (json, html)
}

/// Stranded capacity and growth per level reach the HTML page with the JSON's figures.
#[test]
fn html_shows_stranded_and_growth_per_level() {
    let args = [
        "report",
        "fabrics/lab-small.yaml",
        "--plan",
        LAB_PLAN,
        "--demand",
        LAB_DEMAND,
        "--growth",
        "10%/month",
    ];
    let (json, html) = json_and_html(&args);
    html_matches_json(&html.stdout, &json);
    for key in [
        "capacity.stranded.gpus",
        "capacity.stranded.gpu_equivalents",
        "what_if.growth.levels.0.months_until_out",
        "what_if.growth.levels.4.months_until_out",
    ] {
        assert!(
            html.stdout.contains(&format!("data-key=\"{key}\"")),
            "{key}"
        );
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// lab-small by hand: 4 nodes x 10.2 kW, 12 SN4700 x 0.9 kW in rack lab-net.
#[test]
fn power_sums_by_hand() {
    let r = build("fabrics/lab-small.yaml", &ReportOptions::default());
    let p = &r.power;
    let rack = |n: &str| p.racks.iter().find(|x| x.rack == n).unwrap();
    assert!(close(rack("lab-r1").it_kw, 2.0 * 10.2));
    assert!(close(rack("lab-net").it_kw, 12.0 * 0.9));
    // usable = budget x site derate 0.9; headroom = usable - IT.
    assert!(close(rack("lab-r1").usable_kw, 31.5));
    assert!(close(rack("lab-r1").headroom_kw, 31.5 - 20.4));
    assert!(close(p.it_kw, 4.0 * 10.2 + 12.0 * 0.9));
    assert!(close(p.facility_kw, 51.6 * 1.3));
    assert!(p.racks_at_risk.is_empty());
}

/// Owned cost by hand, lab-small (32 H100, template price $24/node-hour):
/// capex 32 x 35,000 / (1 - 0.2) = 1,400,000 over 5 x 8760 h = 31.9635 $/h;
/// energy 51.6 kW x 1.3 x 0.11 = 7.3788 $/h; total 39.3423 $/h = 1.2294 $/GPU-h;
/// break-even against 24 / 8 = 3.00 $/GPU-h: 41.0 %.
#[test]
fn cost_by_hand() {
    let r = build("fabrics/lab-small.yaml", &ReportOptions::default());
    let m = &r.cost.models[0];
    assert_eq!(m.model, "h100-80gb");
    assert!(close(m.capex_usd.unwrap(), 1_400_000.0));
    assert!(close(m.energy_usd_per_hour, 7.379));
    assert!(close(m.owned_usd_per_hour.unwrap(), 39.342));
    assert!(close(m.owned_usd_per_gpu_hour_at_full_use.unwrap(), 1.229));
    assert!(close(m.cloud_usd_per_gpu_hour.unwrap(), 3.0));
    assert!(close(m.break_even_utilization.unwrap(), 0.41));
    // At 50 % use the GPU-hour costs twice as much.
    let half = build(
        "fabrics/lab-small.yaml",
        &ReportOptions {
            utilization: Some(0.5),
            ..Default::default()
        },
    );
    assert!(close(
        half.cost.models[0]
            .owned_usd_per_gpu_hour_at_utilization
            .unwrap(),
        2.459
    ));
}

#[test]
fn kv_bytes_for_llama_70b_by_hand() {
    let r = build("fabrics/lab-small.yaml", &ReportOptions::default());
    assert_eq!(r.tokens.kv_bytes_per_token, 2 * 80 * 8 * 128 * 2);
    assert_eq!(r.tokens.kv_bytes_per_token, 327_680);
    assert_eq!(r.tokens.kv_bytes_per_sequence, 327_680 * 8192);
}

#[test]
fn capacity_and_failures_by_hand() {
    let r = build(
        "tests/fixtures/fabrics/nvl72-two-racks.yaml",
        &ReportOptions::default(),
    );
    let row = |lv: &[report::LevelCapacity], level: &str| {
        lv.iter().find(|l| l.level == level).unwrap().clone()
    };
    assert_eq!(
        row(&r.capacity.levels, "nvlink-domain").largest_gang_gpus,
        72
    );
    assert_eq!(row(&r.capacity.levels, "fabric").largest_gang_gpus, 144);
    // One rail leaf serves GPU 0 of rack nvl1's 18 trays: those 18 lose their only NIC.
    let fail = build(
        "tests/fixtures/fabrics/nvl72-two-racks.yaml",
        &ReportOptions {
            failure: Some(Failure::Switch("leaf1".into())),
            ..Default::default()
        },
    );
    let fl = fail.what_if.failure.unwrap();
    assert_eq!(fl.gpus_disconnected, 18);
    assert_eq!(fl.gpus_lost, 0);
    assert_eq!(row(&fl.capacity_after, "fabric").free_gpus, 144 - 18);
    assert_eq!(
        row(&fl.capacity_after, "nvlink-domain").largest_gang_gpus,
        72
    );
    // A whole NVL72 rack: its 72 GPUs are lost, the other domain is intact.
    let rack = build(
        "tests/fixtures/fabrics/nvl72-two-racks.yaml",
        &ReportOptions {
            failure: Some(Failure::Rack("nvl1".into())),
            ..Default::default()
        },
    );
    let fl = rack.what_if.failure.unwrap();
    assert_eq!(fl.gpus_lost, 72);
    assert_eq!(row(&fl.capacity_after, "fabric").free_gpus, 72);
}

/// Every `data-key` figure on the HTML page carries the JSON value at that path in
/// `data-value` (shown rounded).
fn html_matches_json(html: &str, json: &serde_json::Value) -> usize {
    let mut n = 0;
    for part in html.split("<span data-key=\"").skip(1) {
        let (key, rest) = part.split_once("\" data-value=\"").unwrap();
        let shown = rest.split_once('"').unwrap().0;
        let mut v = json;
        for seg in key.split('.') {
            v = match seg.parse::<usize>() {
                Ok(i) => &v[i],
                Err(_) => &v[seg],
            };
        }
        let expected = match v {
            serde_json::Value::Null => "-".to_string(),
            serde_json::Value::Number(x) => x.as_f64().map(|f| format!("{f}")).unwrap(),
            other => other.to_string(),
        };
        assert_eq!(shown, expected, "{key}");
        n += 1;
    }
    n
}

#[test]
fn html_holds_the_json_figures_and_is_self_contained() {
    for (_, file) in FABRICS {
        let json: serde_json::Value = serde_json::from_str(
            &run(&["report", file, "--format", "json", "--fail", "plane:0"]).stdout,
        )
        .unwrap();
        let html = run(&["report", file, "--format", "html", "--fail", "plane:0"]);
        assert_eq!(html.code, 0, "{}", html.stderr);
        let n = html_matches_json(&html.stdout, &json);
        assert!(n >= 15, "{file}: only {n} figures checked");
        for banned in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
            assert!(
                !html.stdout.contains(banned),
                "{file}: external or scripted content `{banned}`"
            );
        }
        assert!(html.stdout.contains("<svg"), "{file}: no pictures");
    }
}

/// Headless Chromium (Debian package `chromium`, installed by `.ci/install-deps`). Absent
/// outside CI: `None`, and the caller says it skipped; absent in CI: a failure.
fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "headless Chromium is required in CI: run .ci/install-deps (Debian package `chromium`)"
        );
        eprintln!(
            "SKIPPED: headless Chromium not found (not CI): run .ci/install-deps to render the page"
        );
    }
    found
}

/// The DOM headless Chromium builds from `page` (a file), with a fresh, empty profile.
fn dump_dom(browser: &str, page: &std::path::Path) -> String {
    let profile = page.with_extension("profile");
    let _ = std::fs::remove_dir_all(&profile);
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fabplan-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Renders the page in headless Chromium and checks that the DOM it built still holds the
/// figures, the tiers picture, the heat map and one drill-down per rack group.
#[test]
fn html_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let dir = temp_dir("html");
    let page = dir.join("report.html");
    let r = run(&[
        "report",
        "tests/fixtures/fabrics/nvl72-two-racks.yaml",
        "--format",
        "html",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json: serde_json::Value = serde_json::from_str(
        &run(&[
            "report",
            "tests/fixtures/fabrics/nvl72-two-racks.yaml",
            "--format",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    let dom = dump_dom(browser, &page);
    assert!(dom.contains("<svg"), "the rendered DOM has no SVG");
    assert!(
        html_matches_json(&dom, &json) >= 15,
        "the rendered DOM lost figures"
    );
    assert!(dom.contains("class=\"tiers\""), "no tiers picture");
    assert!(dom.contains("class=\"heat-map\""), "no heat map");
    let groups = json["groups"].as_array().unwrap().len();
    assert_eq!(dom.matches("<details ").count(), groups);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 11 section 7: the 100k-GPU page is at most 2 MB, aggregated (no per-rack element),
/// and headless Chromium renders it with every group's cell and drill-down.
#[test]
fn html_at_100k_gpus_is_at_most_2_mb_and_renders() {
    let dir = temp_dir("html-100k");
    let fabric = dir.join("big.yaml");
    let page = dir.join("big.html");
    let g = run(&[
        "generate",
        "--gpus",
        "100000",
        "--radix",
        "128",
        "-o",
        fabric.to_str().unwrap(),
    ]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    let r = run(&[
        "report",
        fabric.to_str().unwrap(),
        "--format",
        "html",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.len() <= 2_000_000,
        "the 100k page is {} bytes (at most 2 MB)",
        html.len()
    );
    assert!(html.contains("100,000</span> GPUs"), "headline not rounded");
    assert!(
        !html.contains("class=\"rack\""),
        "per-rack drawing without --per-rack"
    );
    // 100,000 GPUs / 512 per SU: 195 full SUs and one of 160 GPUs.
    assert_eq!(html.matches("class=\"group-cell\"").count(), 196);
    if let Some(browser) = chromium() {
        let dom = dump_dom(browser, &page);
        assert_eq!(dom.matches("<details ").count(), 196);
        assert_eq!(dom.matches("class=\"group-cell\"").count(), 196);
        assert!(dom.contains("class=\"tiers\""), "no tiers picture");
        assert!(dom.contains("</html>"), "the DOM did not finish");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Names reach the page escaped by construction (maud): a tenant `<script>` stays text, and
/// `ba"tch` does not end an attribute; the browser builds no script element from them.
#[test]
fn html_escapes_tenant_names() {
    let dir = temp_dir("html-escape");
    let plan = dir.join("plan.json");
    let text = std::fs::read_to_string(path(PLAN))
        .unwrap()
        .replace(
            "\"tenant\": \"labs\"",
            "\"tenant\": \"<script>alert(1)</script>\"",
        )
        .replace("\"tenant\": \"batch\"", "\"tenant\": \"ba\\\"tch\"");
    assert!(text.contains("<script>") && text.contains("ba\\\"tch"));
    std::fs::write(&plan, text).unwrap();
    let page = dir.join("escaped.html");
    let r = run(&[
        "report",
        "fabrics/dgx-h100-su1-ib.yaml",
        "--plan",
        plan.to_str().unwrap(),
        "--per-rack",
        "--format",
        "html",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"), "a tenant name became markup");
    assert!(!html.contains("ba\"tch"), "a quote was not escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("ba&quot;tch"));
    if let Some(browser) = chromium() {
        let dom = dump_dom(browser, &page);
        assert!(
            !dom.contains("<script"),
            "the browser built a script element"
        );
        assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_flags_and_names_exit_2() {
    for (name, args) in [
        (
            "report_bad_fail_kind",
            &["report", "fabrics/lab-small.yaml", "--fail", "cable:x"][..],
        ),
        (
            "report_unknown_switch",
            &[
                "report",
                "fabrics/lab-small.yaml",
                "--fail",
                "switch:leaf99",
            ],
        ),
        (
            "report_bad_growth",
            &["report", "fabrics/lab-small.yaml", "--growth", "fast"],
        ),
        (
            "report_bad_pue",
            &["report", "fabrics/lab-small.yaml", "--pue", "0.5"],
        ),
        (
            "report_unknown_model",
            &["report", "fabrics/lab-small.yaml", "--model", "gpt-9"],
        ),
        (
            "report_bad_format",
            &["report", "fabrics/lab-small.yaml", "--format", "pdf"],
        ),
        (
            "report_bad_period",
            &[
                "report",
                "fabrics/lab-small.yaml",
                "--format",
                "csv",
                "--period",
                "yesterday",
            ],
        ),
        (
            "report_plan_wrong_fabric",
            &["report", "fabrics/lab-small.yaml", "--plan", PLAN],
        ),
        (
            "report_bad_demand",
            &[
                "report",
                "fabrics/lab-small.yaml",
                "--demand",
                "tests/fixtures/report/bad-demand.yaml",
            ],
        ),
        (
            "report_missing_plan",
            &["report", "fabrics/lab-small.yaml", "--plan", "nope.json"],
        ),
    ] {
        let r = check(name, args);
        assert_eq!(r.code, 2, "{name}");
    }
}

#[test]
fn failed_write_leaves_no_partial_file() {
    let r = common::assert_failed_write(
        &["report", "fabrics/lab-small.yaml", "--format", "html"],
        "report.html",
    );
    assert!(r.stderr.contains("no partial file"), "{}", r.stderr);
}

#[test]
fn help_is_snapshotted() {
    for (name, args) in [
        ("help_report", &["report", "--help"][..]),
        ("help_export", &["export", "--help"]),
        ("help_export_slurm", &["export", "slurm", "--help"]),
        ("help_export_kueue", &["export", "kueue", "--help"]),
        ("help_import_slurm", &["import", "slurm", "--help"]),
        ("help_import_openb", &["import", "openb", "--help"]),
    ] {
        let r = check(name, args);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("Examples:"), "{name}");
    }
}

/// Reports on each planner example, from the plan the planner makes of it now (not a stored
/// copy): JSON and Markdown snapshotted, and the cost per tenant adds up to the owned cost.
#[test]
fn reports_on_every_example_plan() {
    let dir = std::env::temp_dir().join(format!("fabplan-report-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (stem, example, fabric) in [
        (
            "mixed_tenants_h100",
            "examples/mixed-tenants-h100.yaml",
            "fabrics/dgx-h100-su1-ib.yaml",
        ),
        (
            "mig_inference_h200",
            "examples/mig-inference-h200.yaml",
            "fabrics/hgx-h200-roce-1k.yaml",
        ),
        (
            "nvl72_training",
            "examples/nvl72-training.yaml",
            "fabrics/gb200-nvl72-su.yaml",
        ),
    ] {
        let plan = dir.join(format!("{stem}.json"));
        let p = run(&[
            "plan",
            example,
            "--format",
            "json",
            "-o",
            plan.to_str().unwrap(),
        ]);
        assert!(p.code == 0 || p.code == 1, "{stem}: {}", p.stderr);
        for fmt in ["json", "md"] {
            let r = check(
                &format!("report_example_{stem}_{fmt}"),
                &[
                    "report",
                    fabric,
                    "--plan",
                    plan.to_str().unwrap(),
                    "--demand",
                    example,
                    "--format",
                    fmt,
                ],
            );
            assert_eq!(r.code, 0, "{stem}: {}", r.stderr);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A hand-written plan on lab-small (tests/fixtures/report/lab-small-plan.json) and its
/// demand: `pretrain` holds lab1/0-3 (tenant `train`, dedicated-node); lab2/0 holds
/// 3g.40gb@0 and @4, lab2/1 only 3g.40gb@4 of the same layout, lab2/2 six of seven 1g.10gb
/// (`svc`, mig with co-tenancy); lab2/3 three 1/4 shares (`batch`); lab2/4 a whole GPU.
/// Pending: `big` (16-GPU gang inside a leaf group, `train`), `tiny` (2g.20gb, `solo`: mig
/// without co-tenancy), `more-chat` (3g.40gb, `svc`), `side-jobs` (1/4 share, `batch2`, which
/// shares with nobody).
const LAB_PLAN: &str = "tests/fixtures/report/lab-small-plan.json";
const LAB_DEMAND: &str = "tests/fixtures/report/lab-small-demand.yaml";

fn lab_report(extra: &[&str]) -> serde_json::Value {
    let r = run(&[
        &[
            "report",
            "fabrics/lab-small.yaml",
            "--plan",
            LAB_PLAN,
            "--demand",
            LAB_DEMAND,
            "--format",
            "json",
        ][..],
        extra,
    ]
    .concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// Free MIG instances by hand: 23 free GPUs x the most instances of the profile on an empty
/// H100 (7 x 1g.10gb, 2 x 3g.40gb), plus the configured instances no workload holds:
/// 1g.10gb@6 on lab2/2 and 3g.40gb@0 on lab2/1.
#[test]
fn free_mig_instances_count_unassigned_ones_by_hand() {
    let j = lab_report(&[]);
    let row = |p: &str| {
        j["inventory"]["mig_free"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["profile"] == p)
            .unwrap()
            .clone()
    };
    let one = row("1g.10gb");
    assert_eq!(one["on_free_gpus"], 23 * 7);
    assert_eq!(one["on_partly_used_gpus"], 1);
    assert_eq!(one["instances"], 23 * 7 + 1);
    let three = row("3g.40gb");
    assert_eq!(three["on_free_gpus"], 23 * 2);
    assert_eq!(three["on_partly_used_gpus"], 1);
    assert_eq!(three["instances"], 23 * 2 + 1);
    assert_eq!(row("2g.20gb")["on_partly_used_gpus"], 0);
}

/// Stranded capacity by hand, piece by piece:
/// * lab1/4-7: free, but on `train`'s dedicated node: only `train` may use them, and `big`
///   needs two wholly free nodes: 4 GPUs stranded;
/// * lab2/5-7, lab3, lab4: free and usable by `tiny` or `side-jobs` (and `big` on lab3+lab4);
/// * lab2/0 (3g+3g): its 7th compute slice fits no profile: 1 slice stranded;
/// * lab2/1 (3g.40gb@4 held): `more-chat` (same tenant) places 3g.40gb@0: 4/7 usable;
///   `tiny` may not (no co-tenancy);
/// * lab2/2 (six 1g held): one free unit, `tiny` needs two and no co-tenancy: 1 slice;
/// * lab2/3 (3/4 shared by `batch`): `side-jobs` is `batch2`, which shares with nobody: 1/4.
#[test]
fn stranded_capacity_by_hand() {
    let j = lab_report(&[]);
    let s = &j["capacity"]["stranded"];
    assert_eq!(
        s["pending_workloads"],
        serde_json::json!(["big", "tiny", "more-chat", "side-jobs"])
    );
    assert_eq!(s["gpus"], 4);
    assert_eq!(s["mig_compute_slices"], 2);
    assert_eq!(s["shared_gpu_equivalents"], 0.25);
    let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
    assert_eq!(s["gpu_equivalents"], r3(4.0 + 2.0 / 7.0 + 0.25));
    assert_eq!(s["usable_gpu_equivalents"], r3(3.0 + 16.0 + 4.0 / 7.0));
    // The old figure, under its own name: every idle share of a partly used GPU.
    assert_eq!(
        j["capacity"]["idle_on_partly_used_gpu_equivalents"],
        r3(1.0 / 7.0 + 4.0 / 7.0 + 1.0 / 7.0 + 0.25)
    );
    // Without the demand there is nothing to judge against: no figure, a note says why.
    let r = run(&[
        "report",
        "fabrics/lab-small.yaml",
        "--plan",
        LAB_PLAN,
        "--format",
        "json",
    ]);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(j["capacity"]["stranded"].is_null());
    assert!(j["capacity"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("needs the demand file")));
}

/// Growth per level by hand, 10 %/month. In use: 4 + 6/7 + 3/7 + 6/7 + 3/4 + 1 GPU-equivalents;
/// free: 23 whole GPUs. months = ln(1 + (free - needed) / in use) / ln(1.1), where needed is
/// the demand's largest gang at the level (leaf: `big` 16, scalable unit: `pretrain` 4), else
/// today's largest free gang where the level has several domains (NVLink: a free HGX board,
/// 8), else one whole node (spine group and fabric are one domain each: 8 GPUs).
#[test]
fn growth_per_level_by_hand() {
    let j = lab_report(&["--growth", "10%/month"]);
    let used = 4.0 + 6.0 / 7.0 + 3.0 / 7.0 + 6.0 / 7.0 + 0.75 + 1.0;
    let months = |needed: f64| {
        let m = (1.0 + (23.0 - needed) / used).ln() / 1.1f64.ln();
        (m * 100.0).round() / 100.0
    };
    let levels = j["what_if"]["growth"]["levels"].as_array().unwrap();
    let row = |l: &str| levels.iter().find(|x| x["level"] == l).unwrap();
    for (level, needed, by) in [
        ("nvlink-domain", 8, "largest free gang"),
        ("leaf-group", 16, "big"),
        ("scalable-unit", 4, "pretrain"),
        ("spine-group", 8, "one whole node (single domain)"),
        ("fabric", 8, "one whole node (single domain)"),
    ] {
        let r = row(level);
        assert_eq!(r["needed_gang_gpus"], needed, "{level}");
        assert_eq!(r["needed_by"], by, "{level}");
        assert_eq!(r["free_gpus"], 23.0, "{level}");
        assert_eq!(r["months_until_out"], months(needed as f64), "{level}");
    }
    assert_eq!(row("nvlink-domain")["months_until_out"], 11.17);
    assert_eq!(row("fabric")["months_until_out"], 11.17);
    // The per-model figure stays: ln(32 / in use) / ln(1.1).
    let full = (32.0 / used).ln() / 1.1f64.ln();
    assert_eq!(
        j["what_if"]["growth"]["months_until_full"]["h100-80gb"],
        (full * 100.0).round() / 100.0
    );
}

// ---- FinOps FOCUS ---------------------------------------------------------------------------

/// A FOCUS decimal as (units, scale), for exact products.
fn decimal(s: &str) -> (u128, u32) {
    assert!(
        regex::Regex::new(r"^[0-9]+(\.[0-9]+)?$")
            .unwrap()
            .is_match(s),
        "`{s}` is not a FOCUS decimal (NumericFormat)"
    );
    match s.split_once('.') {
        Some((i, f)) => (format!("{i}{f}").parse().unwrap(), f.len() as u32),
        None => (s.parse().unwrap(), 0),
    }
}

fn same_decimal(a: (u128, u32), b: (u128, u32)) -> bool {
    let s = a.1.max(b.1);
    a.0 * 10u128.pow(s - a.1) == b.0 * 10u128.pow(s - b.1)
}

/// Checks FOCUS rows against the spec's column list (tests/fixtures/schemas, FOCUS 1.2) and
/// its value rules; returns the rows as maps.
fn check_focus(csv_text: &str, v13: bool) -> Vec<std::collections::BTreeMap<String, String>> {
    let spec = std::fs::read_to_string("tests/fixtures/schemas/focus-v1.2-columns.txt").unwrap();
    let spec: Vec<(&str, &str)> = spec
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split_once(':').unwrap())
        // The reference copy has a stray `\r` inside `ChargeClass\r:Mandatory`.
        .map(|(c, lv)| (c.trim(), lv.trim()))
        .collect();
    // FOCUS 1.3 (the spec's main branch, 2026): these two become mandatory; Allocated* are new.
    let added_1_3 = [
        "AllocatedMethodDetails",
        "AllocatedMethodId",
        "AllocatedResourceId",
        "AllocatedResourceName",
        "AllocatedTags",
        "HostProviderName",
        "ServiceProviderName",
    ];
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    for (col, level) in &spec {
        if *level == "Mandatory" {
            assert!(
                header.iter().any(|h| h == col),
                "mandatory `{col}` missing from {header:?}"
            );
        }
    }
    for h in &header {
        let known = spec.iter().any(|(c, _)| c == h) || (v13 && added_1_3.contains(&h.as_str()));
        assert!(
            known,
            "`{h}` is not a column of FOCUS {}",
            if v13 { "1.3" } else { "1.2" }
        );
    }
    if v13 {
        for c in ["HostProviderName", "ServiceProviderName"] {
            assert!(header.iter().any(|h| h == c), "1.3 needs `{c}`");
        }
    }
    let datetime = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$").unwrap();
    let service_categories = [
        "AI and Machine Learning",
        "Analytics",
        "Business Applications",
        "Compute",
        "Databases",
        "Developer Tools",
        "Multicloud",
        "Identity",
        "Integration",
        "Internet of Things",
        "Management and Governance",
        "Media",
        "Migration",
        "Mobile",
        "Networking",
        "Security",
        "Storage",
        "Web",
        "Other",
    ];
    let mut rows = Vec::new();
    for rec in rd.records() {
        let rec = rec.expect("a well-formed CSV record");
        assert_eq!(rec.len(), header.len());
        let row: std::collections::BTreeMap<String, String> = header
            .iter()
            .cloned()
            .zip(rec.iter().map(String::from))
            .collect();
        let g = |c: &str| row.get(c).map(String::as_str).unwrap_or("");
        for c in [
            "BilledCost",
            "BillingAccountId",
            "BillingAccountName",
            "BillingCurrency",
            "BillingPeriodEnd",
            "BillingPeriodStart",
            "ChargeCategory",
            "ChargeDescription",
            "ChargePeriodEnd",
            "ChargePeriodStart",
            "ContractedCost",
            "EffectiveCost",
            "InvoiceIssuerName",
            "ListCost",
            "PricingUnit",
            "ProviderName",
            "PublisherName",
            "ServiceCategory",
            "ServiceName",
        ] {
            assert!(!g(c).is_empty(), "`{c}` must not be null");
        }
        for c in [
            "BillingPeriodStart",
            "BillingPeriodEnd",
            "ChargePeriodStart",
            "ChargePeriodEnd",
        ] {
            assert!(datetime.is_match(g(c)), "`{c}` = `{}`", g(c));
        }
        let cat = g("ChargeCategory");
        assert!(["Usage", "Purchase", "Tax", "Credit", "Adjustment"].contains(&cat));
        assert!(["", "Correction"].contains(&g("ChargeClass")));
        assert!(service_categories.contains(&g("ServiceCategory")));
        assert!(["Usage-Based", "One-Time", "Recurring", ""].contains(&g("ChargeFrequency")));
        if cat == "Usage" {
            for c in ["PricingQuantity", "ContractedUnitPrice", "PricingCategory"] {
                assert!(!g(c).is_empty(), "`{c}` must not be null for usage");
            }
            assert!(["Standard", "Dynamic", "Committed", "Other"].contains(&g("PricingCategory")));
        }
        for (unit, cost) in [
            ("ContractedUnitPrice", "ContractedCost"),
            ("ListUnitPrice", "ListCost"),
        ] {
            let q = decimal(g("PricingQuantity"));
            let p = decimal(g(unit));
            let c = decimal(g(cost));
            assert!(
                same_decimal((q.0 * p.0, q.1 + p.1), c),
                "{unit} {} x PricingQuantity {} != {cost} {}",
                g(unit),
                g("PricingQuantity"),
                g(cost)
            );
        }
        for c in ["BilledCost", "EffectiveCost", "ConsumedQuantity"] {
            decimal(g(c));
        }
        let mut json_cols = vec!["Tags"];
        if v13 {
            json_cols.extend(["AllocatedTags", "AllocatedMethodDetails"]);
        }
        for c in json_cols {
            let v: serde_json::Value = serde_json::from_str(g(c))
                .unwrap_or_else(|e| panic!("`{c}` is not JSON ({e}): {}", g(c)));
            assert!(v.is_object(), "`{c}` is a JSON object");
            if c != "AllocatedMethodDetails" {
                for k in v.as_object().unwrap().keys() {
                    assert!(
                        k.starts_with("fabplan/"),
                        "provider tag `{k}` has the prefix"
                    );
                }
            }
        }
        rows.push(row);
    }
    rows
}

/// FOCUS 1.2 by default, 1.3 by flag, on a fabric alone and with a plan: the columns and the
/// value rules of the spec, and the cost identities exactly.
#[test]
fn focus_rows_conform_to_the_spec() {
    for v13 in [false, true] {
        for args in [
            vec!["report", "fabrics/lab-small.yaml", "--format", "csv"],
            vec![
                "report",
                "fabrics/dgx-h100-su1-ib.yaml",
                "--plan",
                PLAN,
                "--demand",
                DEMAND,
                "--format",
                "csv",
            ],
        ] {
            let mut args = args.clone();
            if v13 {
                args.extend(["--focus-version", "1.3"]);
            }
            let r = run(&args);
            assert_eq!(r.code, 0, "{}", r.stderr);
            let rows = check_focus(&r.stdout, v13);
            assert!(!rows.is_empty());
        }
    }
}

/// A tenant named `ba"tch, x` is escaped by the CSV and JSON serializers: the rows parse back
/// with the name intact.
#[test]
fn focus_escapes_names() {
    let loaded = load_fabric_file(&path("fabrics/dgx-h100-su1-ib.yaml"));
    let f = loaded.fabric.unwrap();
    let mut r = report::build(&f, &with_plan());
    for row in &mut r.attribution.as_mut().unwrap().rows {
        row.tenant = "ba\"tch, x\nnew".into();
    }
    let text = fabplan::formats::focus::csv(
        &r,
        fabplan::formats::focus::FocusVersion::V1_3,
        "2026-01-01T00:00:00Z",
        "2026-01-02T00:00:00Z",
        24.0,
    );
    for row in check_focus(&text, true) {
        assert_eq!(row["SubAccountName"], "ba\"tch, x\nnew");
        let tags: serde_json::Value = serde_json::from_str(&row["AllocatedTags"]).unwrap();
        assert_eq!(tags["fabplan/tenant"], "ba\"tch, x\nnew");
    }
}

/// One cost ledger: with the plan's demand, the report charges each tenant the chargeback
/// the plan computed for it (list price + energy, `fabplan::model::cost`).
#[test]
fn report_chargeback_equals_the_plan_cost() {
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path(PLAN)).unwrap()).unwrap();
    let r = run(&[
        "report",
        "fabrics/dgx-h100-su1-ib.yaml",
        "--plan",
        PLAN,
        "--demand",
        DEMAND,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let charge = &rep["attribution"]["by_tenant_chargeback_usd_per_hour"];
    let costs = plan["cost_per_hour"]
        .as_object()
        .expect("plan cost_per_hour");
    assert!(!costs.is_empty());
    for (tenant, usd) in costs {
        let want = usd.as_f64().unwrap();
        let got = charge[tenant].as_f64().unwrap_or(0.0);
        assert!(
            (want - got).abs() < 0.01,
            "tenant `{tenant}`: plan ${want}/h, report ${got}/h"
        );
    }
}

/// Small-fabric renderings snapshotted: the page, the human report by group and per rack,
/// and `inspect` per rack (its default, by group, is `inspect_lab_small_human`).
#[test]
fn small_fabric_outputs_are_snapshotted() {
    check(
        "report_lab_small_html",
        &["report", "fabrics/lab-small.yaml", "--format", "html"],
    );
    check(
        "report_lab_small_human",
        &["report", "fabrics/lab-small.yaml"],
    );
    let per_rack = check(
        "report_lab_small_human_per_rack",
        &["report", "fabrics/lab-small.yaml", "--per-rack"],
    );
    assert!(per_rack.stdout.contains("lab-r2"), "no per-rack row");
    check(
        "inspect_lab_small_human_per_rack",
        &["inspect", "fabrics/lab-small.yaml", "--per-rack"],
    );
}

/// At 100k GPUs `report` and `inspect` print groups, not one line per rack (3,125 racks).
#[test]
fn human_outputs_at_100k_gpus_are_aggregated() {
    let dir = temp_dir("human-100k");
    let fabric = dir.join("big.yaml");
    let g = run(&[
        "generate",
        "--gpus",
        "100000",
        "--radix",
        "128",
        "-o",
        fabric.to_str().unwrap(),
    ]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    let f = fabric.to_str().unwrap();
    for (args, at_most) in [(vec!["report", f], 300), (vec!["inspect", f], 250)] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let lines = r.stdout.lines().count();
        assert!(lines <= at_most, "{args:?}: {lines} lines");
        let mut per_rack = args.clone();
        per_rack.push("--per-rack");
        let all = run(&per_rack).stdout.lines().count();
        assert!(all >= 3_125, "{per_rack:?}: {all} lines, not one per rack");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Groups partition the racks: every rack in exactly one group, GPUs and IT kW summing to the
/// fabric's; with a plan, the GPU-equivalents in use sum to the attribution's.
#[test]
fn rack_groups_partition_the_racks() {
    for (_, file) in FABRICS {
        let r = build(file, &ReportOptions::default());
        let mut racks: Vec<&str> = r
            .groups
            .iter()
            .flat_map(|g| g.racks.iter().map(|s| s.as_str()))
            .collect();
        racks.sort_unstable();
        let mut want: Vec<&str> = r.power.racks.iter().map(|p| p.rack.as_str()).collect();
        want.sort_unstable();
        assert_eq!(racks, want, "{file}");
        assert_eq!(
            r.groups.iter().map(|g| g.gpus).sum::<u32>(),
            r.inventory.gpus,
            "{file}"
        );
        let it: f64 = r.power.racks.iter().map(|p| p.it_kw).sum();
        assert!(
            (r.groups.iter().map(|g| g.it_kw).sum::<f64>() - it).abs() < 0.01,
            "{file}"
        );
    }
    let r = build("fabrics/dgx-h100-su1-ib.yaml", &with_plan());
    let a = r.attribution.as_ref().unwrap();
    let used: f64 = a
        .rows
        .iter()
        .filter(|x| x.tenant != "unallocated")
        .map(|x| x.gpu_equivalents)
        .sum();
    let in_use: f64 = r
        .groups
        .iter()
        .map(|g| g.in_use_gpu_equivalents.unwrap())
        .sum();
    assert!((in_use - used).abs() < 0.01, "{in_use} vs {used}");
    // The plan's `research` tenant holds two 64-GPU gangs on whole GPUs.
    assert_eq!(r.groups[0].gpus_by_tenant["research"], 128);
}

/// The context-tier table by hand: lab-small's H100s, Llama-3.1-70B at FP8 (70 GB), 128K
/// tokens at FP16 KV (42.94967296 GB per sequence), 32 sequences wanted per replica of 8 GPUs.
/// HBM for KV: 8 x 80 GiB x 0.9 - 70 GB = 548.475 GB; the other 825.914 GB go to host DRAM
/// (250 GB per GPU). Spilled, a step reads 70 + 548.475 GB at 8 x 3.35 TB/s and 825.914 GB
/// at 8 x 64 GB/s = 1.63618 s: 19.56 tok/s, worse than fitting the batch to HBM.
#[test]
fn context_tiers_by_hand() {
    let r = build(
        "fabrics/lab-small.yaml",
        &ReportOptions {
            context_tokens: 131_072,
            concurrency: 32,
            ..Default::default()
        },
    );
    let c = &r.tokens.context[0];
    assert_eq!((c.gpu_model.as_str(), c.gpus_per_replica), ("h100-80gb", 8));
    let hbm = 8.0 * 80.0 * (1u64 << 30) as f64 * 0.9 / 1e9 - 70.0;
    let wanted: f64 = 32.0 * 327_680.0 * 131_072.0 / 1e9;
    assert!(close(c.kv_wanted_gb, (wanted * 1000.0).round() / 1000.0));
    let names: Vec<&str> = c.tiers.iter().map(|t| t.tier.as_str()).collect();
    assert_eq!(names, ["hbm", "host-dram", "pooled", "nvme"]);
    assert!(
        (c.tiers[0].holds_gb - hbm).abs() < 1e-3,
        "{}",
        c.tiers[0].holds_gb
    );
    assert!((c.tiers[1].holds_gb - (wanted - hbm)).abs() < 1e-3);
    assert_eq!(c.tiers[2].holds_gb, 0.0);
    assert_eq!(c.deepest_tier.as_deref(), Some("host-dram"));
    let step = (70e9 + hbm * 1e9) / (8.0 * 3.35e12) + (wanted - hbm) * 1e9 / (8.0 * 64e9);
    assert!((c.decode_tokens_per_s_spilled - 32.0 / step).abs() < 0.01);
    assert!((c.decode_tokens_per_s_spilled - 19.56).abs() < 0.01);
    assert_eq!(c.better, "fit batch to HBM");
    // Its owned $/Mtok: 8 GPUs x $/GPU-h / (tok/s x 3600) x 1e6 (host DRAM is not priced).
    let rate = r.cost.models[0].owned_usd_per_gpu_hour_at_full_use.unwrap();
    // (tok/s is printed to 0.01 and the rate to 0.001 $: agree to 0.1 %).
    let usd = 8.0 * rate / (32.0 / step * 3600.0) * 1e6;
    let got = c.usd_per_million_tokens_spilled.unwrap();
    assert!((got - usd).abs() < 1e-3 * usd, "{got} vs {usd}");
}

const HOST: &str = "tests/fixtures/report/host";

/// Host CPU and memory by hand (tests/fixtures/report/host: two nodes of 16 cores and
/// 64 GiB; the plan is hand-made and verifies clean). With the demand:
/// n1: api 4 + train 1 (per GPU) + cache 3 = 8 cores, 8 + 2 + 16 = 26 GiB;
/// n2: api 4 + train 1 + cache 3 + cron 6 = 14 cores, 8 + 2 + 16 + 4 = 30 GiB;
/// web: api 2 x 4 + cache 2 x 3 = 14 cores, 2 x 8 + 2 x 16 = 48 GiB; batch: train 2 x 1 +
/// cron 6 = 8 cores, 2 x 2 + 4 = 8 GiB. `spare` is not admitted and counts nothing. Without
/// the demand only the host-only replicas (the plan's `hosts:`) count.
#[test]
fn host_use_by_hand() {
    let verify = run(&[
        "verify",
        &format!("{HOST}/demand.yaml"),
        &format!("{HOST}/plan.json"),
    ]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let fabric = format!("{HOST}/fabric.yaml");
    let plan = format!("{HOST}/plan.json");
    let demand = format!("{HOST}/demand.yaml");
    let with = ["report", &fabric, "--plan", &plan, "--demand", &demand];
    let (json, html) = json_and_html(&with);
    let h = &json["host"];
    let num = |v: &serde_json::Value| v.as_u64().unwrap();
    assert_eq!(h["gpu_workloads_counted"], true);
    assert_eq!(
        (num(&h["cpu_millicores"]), num(&h["memory_mib"])),
        (22_000, 56 * 1024)
    );
    assert_eq!(
        (
            num(&h["cpu_millicores_capacity"]),
            num(&h["memory_mib_capacity"])
        ),
        (32_000, 128 * 1024)
    );
    assert_eq!(num(&h["host_only_replicas"]), 3);
    let rows = |h: &serde_json::Value, key: &str, name: &str| -> Vec<(String, u64, u64, u64)> {
        h[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[name].as_str().unwrap().to_string(),
                    num(&r["cpu_millicores"]),
                    num(&r["memory_mib"]),
                    num(&r["host_only_replicas"]),
                )
            })
            .collect()
    };
    let s = |x: &str| x.to_string();
    assert_eq!(
        rows(h, "nodes", "node"),
        vec![
            (s("n1"), 8_000, 26 * 1024, 1),
            (s("n2"), 14_000, 30 * 1024, 2)
        ]
    );
    assert_eq!(
        rows(h, "tenants", "tenant"),
        vec![
            (s("batch"), 8_000, 8 * 1024, 1),
            (s("web"), 14_000, 48 * 1024, 2)
        ]
    );
    assert_eq!(h["nodes"][0]["cpu_millicores_capacity"], 16_000);
    // The page shows the JSON's figures, host section included.
    html_matches_json(&html.stdout, &json);
    for key in ["host.cpu_millicores", "host.tenants.1.memory_mib"] {
        assert!(
            html.stdout.contains(&format!("data-key=\"{key}\"")),
            "{key}"
        );
    }
    check("report_host_md", &[&with[..], &["--format", "md"]].concat());

    // The plan alone: host-only replicas only. n1: cache 3 cores, 16 GiB; n2: cache 3 +
    // cron 6 = 9 cores, 16 + 4 = 20 GiB; web 6 cores, 32 GiB; batch 6 cores, 4 GiB.
    let (json, _) = json_and_html(&with[..4]);
    let h = &json["host"];
    assert_eq!(h["gpu_workloads_counted"], false);
    assert_eq!(
        (num(&h["cpu_millicores"]), num(&h["memory_mib"])),
        (12_000, 36 * 1024)
    );
    assert_eq!(
        rows(h, "nodes", "node"),
        vec![
            (s("n1"), 3_000, 16 * 1024, 1),
            (s("n2"), 9_000, 20 * 1024, 2)
        ]
    );
    assert_eq!(
        rows(h, "tenants", "tenant"),
        vec![
            (s("batch"), 6_000, 4 * 1024, 1),
            (s("web"), 6_000, 32 * 1024, 2)
        ]
    );
    assert!(h["notes"][0].as_str().unwrap().contains("--demand"));
    // A plan that takes no host CPU or memory has no host section (the JSON key is absent).
    let none = lab_report(&[]);
    assert!(none.get("host").is_none(), "{}", none["host"]);
}

/// `report::chargeback_rates` (what `fabplan admit` prices budgets with) is the report's own
/// `cost.models[].chargeback_rate` with the demand, bit for bit, on a fabric of two GPU models
/// whose nodes draw different power, priced by hand: the RTX nodes at the demand's $2.50 list
/// plus 12 kW / 8 x 1.25 x $0.08, $2.65; the H100 nodes, not in the demand's prices, at the
/// dated default $3.00 (`DEFAULT_GPU_USD_PER_HOUR`) plus 10.2 kW / 8 x 1.25 x $0.08, $3.1275.
#[test]
fn chargeback_rates_are_the_reports() {
    let text = std::fs::read_to_string(path("tests/fixtures/admit/rtx-fabric.yaml"))
        .unwrap()
        .replacen(
            "    power_kw: 10.2              # DGX H100 maximum (6 x 3.3 kW PSUs, 4+2)\n",
            "    power_kw: 12.0\n",
            1,
        )
        .replacen(
            "racks:",
            "  - id: hgx-h100-b\n    gpu: h100-80gb\n    gpus: 8\n    nvlink: hgx8\n    power_kw: 10.2\n    rail_nics: {gbps: 400}\n\nracks:",
            1,
        )
        .replacen(
            "{template: hgx-h100, ids: \"lab[3-4]\"}",
            "{template: hgx-h100-b, ids: \"lab[3-4]\"}",
            1,
        );
    let loaded = fabplan::load::load_fabric_str("two-models.yaml", &text);
    let f = loaded
        .fabric
        .unwrap_or_else(|| panic!("{:?}", loaded.diagnostics));
    let demand = fabplan::load::demand::demand_from_str(
        "d.yaml",
        "tenants: [{name: ops, isolation: shared}]\npricing: {gpu_usd_per_hour: {rtx-pro-6000-blackwell: 2.5}, power_usd_per_kwh: 0.08, pue: 1.25}\nworkloads: []\n",
        &f,
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    let rates = report::chargeback_rates(&f, &demand);
    let r = report::build(
        &f,
        &ReportOptions {
            demand: Some(demand),
            ..Default::default()
        },
    );
    let from_report: std::collections::BTreeMap<String, f64> = r
        .cost
        .models
        .iter()
        .map(|m| (m.model.clone(), m.chargeback_rate.expect("priced")))
        .collect();
    assert_eq!(rates, from_report);
    assert_eq!(rates.len(), 2, "{rates:?}");
    assert!(close(rates["rtx-pro-6000-blackwell"], 2.65), "{rates:?}");
    assert!(close(rates["h100-80gb"], 3.1275), "{rates:?}");
}
