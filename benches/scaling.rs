//! Scaling of `validate`, `plan` and `report` through the release binary (issue 9, "Scaling";
//! issue 14 §3): wall time, CPU time and peak RSS of each command as a child process at 1k, 10k
//! and 100k GPUs with 500, 2,000 and 5,000 workloads, several runs per cell, and the exponents
//! of the growth curve fitted from the medians. `--targets` adds issue 14 §3's checks in the
//! same run (mixed 100k / 5,000 against 10 s and a 1% gap, contended HiGHS against greedy,
//! 1,000,000 GPUs / 50,000 workloads against 120 s). Figures go to BENCHMARKS.md, "Scaling".
//!
//! Run: `cargo bench --bench scaling [-- FLAGS]`; `-- --help` lists the flags. Linux only (peak
//! RSS is the child's `ru_maxrss` from `wait4`). CI compiles this file and never runs it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const USAGE: &str = "\
cargo bench --bench scaling -- [FLAGS]
  --gpus LIST          GPU counts (default 1024,10240,100000; multiples of 8)
  --workloads LIST     workload counts (default 500,2000,5000)
  --commands LIST      any of validate,plan,report (default all three)
  --runs N             runs per cell, at least 1 (default 3)
  --retry-spread PCT   re-run a cell once when (max - min) / median of its wall time is over
                       PCT percent and max - min over 20 ms (default 20; 0: never)
  --profile P          generated demand profile for the grid (default mixed)
  --seed N             demand seed (default 1)
  --time-limit S       plan --time-limit (default 30)
  --targets            also issue 14 §3's checks (contended 100k greedy vs HiGHS, 1M / 50k)
  --no-grid            only the --targets checks
  --million-runs N     runs of the 1M GPUs / 50,000 workloads plan (default 1; 0 skips it)
  --work DIR           where generated files go (default: cargo's bench tmp dir)";

struct Args {
    gpus: Vec<u64>,
    workloads: Vec<u64>,
    commands: Vec<String>,
    runs: usize,
    retry_spread: f64,
    profile: String,
    seed: u64,
    time_limit: f64,
    targets: bool,
    grid: bool,
    million_runs: usize,
    work: PathBuf,
}

fn parse_list(flag: &str, value: &str) -> Vec<u64> {
    value
        .split(',')
        .map(|v| {
            v.trim()
                .replace('_', "")
                .parse()
                .unwrap_or_else(|_| fail(&format!("{flag}: `{v}` is not a count")))
        })
        .collect()
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}\n\n{USAGE}");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        gpus: vec![1_024, 10_240, 100_000],
        workloads: vec![500, 2_000, 5_000],
        commands: vec!["validate".into(), "plan".into(), "report".into()],
        runs: 3,
        retry_spread: 20.0,
        profile: "mixed".into(),
        seed: 1,
        time_limit: 30.0,
        targets: false,
        grid: true,
        million_runs: 1,
        work: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scaling"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| fail(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            // cargo bench passes `--bench` to every harness = false target.
            "--bench" => {}
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0)
            }
            "--gpus" => args.gpus = parse_list("--gpus", &value()),
            "--workloads" => args.workloads = parse_list("--workloads", &value()),
            "--commands" => {
                args.commands = value().split(',').map(str::to_string).collect();
                for c in &args.commands {
                    if !["validate", "plan", "report"].contains(&c.as_str()) {
                        fail(&format!("--commands: unknown command `{c}`"));
                    }
                }
            }
            "--runs" => args.runs = parse_list("--runs", &value())[0].max(1) as usize,
            "--retry-spread" => {
                args.retry_spread = value()
                    .parse()
                    .unwrap_or_else(|_| fail("--retry-spread: not a number"))
            }
            "--profile" => args.profile = value(),
            "--seed" => args.seed = parse_list("--seed", &value())[0],
            "--time-limit" => {
                args.time_limit = value()
                    .parse()
                    .unwrap_or_else(|_| fail("--time-limit: not a number"))
            }
            "--targets" => args.targets = true,
            "--no-grid" => {
                args.grid = false;
                args.targets = true;
            }
            "--million-runs" => {
                args.million_runs = parse_list("--million-runs", &value())[0] as usize
            }
            "--work" => args.work = PathBuf::from(value()),
            other => fail(&format!("unknown flag `{other}`")),
        }
    }
    args
}

/// One finished child process.
struct Run {
    wall_s: f64,
    cpu_s: f64,
    peak_rss_mb: f64,
}

/// Runs the release binary with `args` in `dir` (stdout and stderr to `log`), waits for it with
/// `wait4` and returns its wall time, CPU time (user + system) and peak resident set.
fn run_fabplan(dir: &Path, args: &[String], log: &Path) -> Run {
    let out = File::create(log).expect("create log");
    let err = out.try_clone().expect("clone log");
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_fabplan"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn fabplan");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data that wait4 fills; `pid` is our own unwaited child
    // (std's `Child` is dropped without waiting, so nothing else reaps it).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_s = start.elapsed().as_secs_f64();
    drop(child);
    assert_eq!(
        waited,
        pid,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    // 0 success; 1 findings is fine for `plan` (rejected workloads are expected), never for
    // generate or validate on generated input.
    let allowed: &[i32] = if args[0] == "plan" { &[0, 1] } else { &[0] };
    if !allowed.contains(&code) {
        panic!(
            "`fabplan {}` exited {code}; see {}",
            args.join(" "),
            log.display()
        );
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Run {
        wall_s,
        cpu_s: secs(usage.ru_utime) + secs(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak_rss_mb: usage.ru_maxrss as f64 * 1024.0 / 1e6,
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The radix `generate` needs: 128 up to 100k GPUs (as `benches/plan.rs`), 256 beyond (a
/// 3-tier Clos of radix 128 has too few ports for 1M GPUs).
fn radix(gpus: u64) -> u64 {
    if gpus > 200_000 {
        256
    } else {
        128
    }
}

thread_local! {
    /// Files generated by this run: each is written once per run (never reused from an older
    /// run, whose binary may have generated other bytes).
    static GENERATED: std::cell::RefCell<std::collections::BTreeSet<String>> =
        const { std::cell::RefCell::new(std::collections::BTreeSet::new()) };
}

/// Whether `name` still has to be generated in this run (and marks it as generated).
fn first_time(name: &str) -> bool {
    GENERATED.with(|g| g.borrow_mut().insert(name.to_string()))
}

/// Generates (once per run) `fabric-G.yaml` and returns its file name.
fn fabric(work: &Path, gpus: u64) -> String {
    let name = format!("fabric-{gpus}.yaml");
    if first_time(&name) {
        let args = strings(&[
            "generate",
            "--gpus",
            &gpus.to_string(),
            "--radix",
            &radix(gpus).to_string(),
            "-o",
            &name,
        ]);
        run_fabplan(work, &args, &work.join("generate.log"));
    }
    name
}

/// Generates (once per run) a demand for `fabric-G.yaml` and returns its file name.
fn demand(work: &Path, gpus: u64, workloads: u64, profile: &str, seed: u64) -> String {
    let fabric = fabric(work, gpus);
    let name = format!("demand-{gpus}-{workloads}-{profile}-{seed}.yaml");
    if first_time(&name) {
        let args = strings(&[
            "generate",
            "demand",
            "--fabric",
            &fabric,
            "--workloads",
            &workloads.to_string(),
            "--seed",
            &seed.to_string(),
            "--profile",
            profile,
            "-o",
            &name,
        ]);
        run_fabplan(work, &args, &work.join("generate.log"));
    }
    name
}

/// What a plan document says about its own solve.
struct PlanFacts {
    status: String,
    gap: Option<f64>,
    admitted: u64,
    workloads: u64,
    priority_weighted_gpus: f64,
}

fn plan_facts(path: &Path) -> PlanFacts {
    let text = std::fs::read_to_string(path).expect("read plan");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("plan is JSON");
    let summary = &doc["summary"];
    PlanFacts {
        status: doc["status"].as_str().unwrap_or("?").to_string(),
        gap: doc["gap"].as_f64(),
        admitted: summary["admitted"].as_u64().unwrap_or(0),
        workloads: summary["workloads"].as_u64().unwrap_or(0),
        priority_weighted_gpus: summary["priority_weighted_gpus"].as_f64().unwrap_or(0.0),
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// Wall-time spread of a cell: (max - min) / median, in percent.
fn spread_pct(runs: &[Run]) -> f64 {
    let wall: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
    let (lo, hi) = min_max(&wall);
    (hi - lo) / median(&wall).max(1e-9) * 100.0
}

/// "median (min-max)" with the precision that suits the magnitude.
fn summarize(values: &[f64]) -> String {
    let (lo, hi) = min_max(values);
    let m = median(values);
    let digits = if m < 0.1 {
        3
    } else if m < 10.0 {
        2
    } else if m < 100.0 {
        1
    } else {
        0
    };
    format!("{m:.digits$} ({lo:.digits$}-{hi:.digits$})")
}

/// One measured cell: its runs (the re-run's when the first set spread too far).
struct Cell {
    gpus: u64,
    workloads: Option<u64>,
    command: &'static str,
    runs: Vec<Run>,
    first_spread: Option<f64>,
    plan: Option<PlanFacts>,
}

fn measure(
    args: &Args,
    dir: &Path,
    argv: &[String],
    log: &Path,
    label: &str,
) -> (Vec<Run>, Option<f64>) {
    let once = || -> Vec<Run> {
        (0..args.runs)
            .map(|_| run_fabplan(dir, argv, log))
            .collect()
    };
    let runs = once();
    let spread = spread_pct(&runs);
    // Below 20 ms of difference the spread is process start-up and timer noise.
    let wall: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
    let (lo, hi) = min_max(&wall);
    if args.runs > 1 && args.retry_spread > 0.0 && spread > args.retry_spread && hi - lo > 0.02 {
        eprintln!(
            "{label}: wall spread {spread:.0}% over {}%, re-run",
            args.retry_spread
        );
        return (once(), Some(spread));
    }
    (runs, None)
}

fn print_table(cells: &[Cell]) {
    println!(
        "| command | GPUs | workloads | runs | wall s, median (min-max) | spread | CPU s, median | peak RSS MB, median (min-max) | plan status | gap | admitted |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
    for c in cells {
        let wall: Vec<f64> = c.runs.iter().map(|r| r.wall_s).collect();
        let cpu: Vec<f64> = c.runs.iter().map(|r| r.cpu_s).collect();
        let rss: Vec<f64> = c.runs.iter().map(|r| r.peak_rss_mb).collect();
        let (rss_lo, rss_hi) = min_max(&rss);
        let spread = match c.first_spread {
            Some(first) => format!("{:.0}% (re-run; first {first:.0}%)", spread_pct(&c.runs)),
            None => format!("{:.0}%", spread_pct(&c.runs)),
        };
        let (status, gap, admitted) = match &c.plan {
            Some(p) => (
                p.status.clone(),
                p.gap
                    .map(|g| format!("{:.2}%", g * 100.0))
                    .unwrap_or_else(|| "-".into()),
                format!("{} / {}", p.admitted, p.workloads),
            ),
            None => ("".into(), "".into(), "".into()),
        };
        println!(
            "| {} | {} | {} | {} | {} | {spread} | {:.2} | {:.0} ({rss_lo:.0}-{rss_hi:.0}) | {status} | {gap} | {admitted} |",
            c.command,
            c.gpus,
            c.workloads.map(|w| w.to_string()).unwrap_or_else(|| "-".into()),
            c.runs.len(),
            summarize(&wall),
            median(&cpu),
            median(&rss),
        );
    }
}

/// Least squares of `y` on the columns of `x` (each row starting with 1.0 for the intercept),
/// by the normal equations and Gaussian elimination (at most three unknowns here).
fn least_squares(x: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let k = x.first()?.len();
    if x.len() < k {
        return None;
    }
    let mut a = vec![vec![0.0; k + 1]; k];
    for (row, &yi) in x.iter().zip(y) {
        for i in 0..k {
            for j in 0..k {
                a[i][j] += row[i] * row[j];
            }
            a[i][k] += row[i] * yi;
        }
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i]).collect())
}

/// Fits `value = c x GPUs^a x workloads^b` over the cells of one command (log-log least
/// squares on the medians); validate has no workload axis.
fn print_growth(cells: &[Cell]) {
    println!();
    println!("Growth (least squares on log medians: value ~ GPUs^a x workloads^b):");
    println!();
    println!("| command | measure | exponent a (GPUs) | exponent b (workloads) | cells |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for command in ["validate", "plan", "report"] {
        let of: Vec<&Cell> = cells.iter().filter(|c| c.command == command).collect();
        if of.is_empty() {
            continue;
        }
        type Measure = fn(&Run) -> f64;
        let measures: [(&str, Measure); 3] = [
            ("wall", |r| r.wall_s),
            ("CPU", |r| r.cpu_s),
            ("peak RSS", |r| r.peak_rss_mb),
        ];
        for (name, pick) in measures {
            // An axis enters the fit only where the cells vary along it.
            let with_gpus = of.iter().any(|c| c.gpus != of[0].gpus);
            let with_workloads = of.iter().all(|c| c.workloads.is_some())
                && of.iter().any(|c| c.workloads != of[0].workloads);
            let x: Vec<Vec<f64>> = of
                .iter()
                .map(|c| {
                    let mut row = vec![1.0];
                    if with_gpus {
                        row.push((c.gpus as f64).ln());
                    }
                    if with_workloads {
                        row.push((c.workloads.unwrap_or(1) as f64).ln());
                    }
                    row
                })
                .collect();
            let y: Vec<f64> = of
                .iter()
                .map(|c| {
                    let v: Vec<f64> = c.runs.iter().map(pick).collect();
                    median(&v).max(1e-4).ln()
                })
                .collect();
            let fit = if with_gpus || with_workloads {
                least_squares(&x, &y)
            } else {
                None
            };
            match fit {
                Some(coef) => {
                    let mut rest = coef[1..].iter();
                    let mut exponent = |on: bool| match on.then(|| rest.next()).flatten() {
                        Some(e) => format!("{e:.2}"),
                        None => "-".into(),
                    };
                    let a = exponent(with_gpus);
                    let b = exponent(with_workloads);
                    println!("| {command} | {name} | {a} | {b} | {} |", of.len())
                }
                None => println!(
                    "| {command} | {name} | - | - | {} (too few to fit) |",
                    of.len()
                ),
            }
        }
    }
}

fn grid(args: &Args) -> Vec<Cell> {
    let mut cells = Vec::new();
    let work = &args.work;
    for &gpus in &args.gpus {
        let fabric = fabric(work, gpus);
        if args.commands.iter().any(|c| c == "validate") {
            let argv = strings(&["validate", &fabric]);
            let label = format!("validate {gpus}");
            let (runs, first_spread) =
                measure(args, work, &argv, &work.join("validate.log"), &label);
            cells.push(Cell {
                gpus,
                workloads: None,
                command: "validate",
                runs,
                first_spread,
                plan: None,
            });
        }
        for &workloads in &args.workloads {
            let demand = demand(work, gpus, workloads, &args.profile, args.seed);
            let plan_file = format!("plan-{gpus}-{workloads}.json");
            let needs_plan = args.commands.iter().any(|c| c == "plan" || c == "report");
            if needs_plan {
                let argv = strings(&[
                    "plan",
                    &demand,
                    "--time-limit",
                    &args.time_limit.to_string(),
                    "--format",
                    "json",
                    "-o",
                    &plan_file,
                ]);
                let label = format!("plan {gpus} {workloads}");
                let (runs, first_spread) = if args.commands.iter().any(|c| c == "plan") {
                    measure(args, work, &argv, &work.join("plan.log"), &label)
                } else {
                    // report alone still needs a plan to read.
                    run_fabplan(work, &argv, &work.join("plan.log"));
                    (Vec::new(), None)
                };
                let facts = plan_facts(&work.join(&plan_file));
                if !runs.is_empty() {
                    cells.push(Cell {
                        gpus,
                        workloads: Some(workloads),
                        command: "plan",
                        runs,
                        first_spread,
                        plan: Some(facts),
                    });
                }
            }
            if args.commands.iter().any(|c| c == "report") {
                let report_file = format!("report-{gpus}-{workloads}.txt");
                let argv = strings(&[
                    "report",
                    &fabric,
                    "--plan",
                    &plan_file,
                    "--demand",
                    &demand,
                    "-o",
                    &report_file,
                ]);
                let label = format!("report {gpus} {workloads}");
                let (runs, first_spread) =
                    measure(args, work, &argv, &work.join("report.log"), &label);
                cells.push(Cell {
                    gpus,
                    workloads: Some(workloads),
                    command: "report",
                    runs,
                    first_spread,
                    plan: None,
                });
            }
        }
    }
    // Rows grouped by command, then by size, as the doc shows them.
    let order = |c: &str| ["validate", "plan", "report"].iter().position(|n| *n == c);
    cells.sort_by_key(|c| (order(c.command), c.gpus, c.workloads));
    cells
}

/// Issue 14 §3: contended 100k / 5,000, greedy then HiGHS side by side in this run (priority-
/// weighted GPUs, the measure); mixed 100k / 5,000 comes from the grid (or is run here
/// when the grid skipped it); 1M GPUs / 50,000 workloads under a 120 s limit.
fn targets(args: &Args, cells: &[Cell]) {
    let work = &args.work;
    println!();
    println!("Issue 14 §3 targets (seed {}):", args.seed);
    println!();
    println!("| case | solver | runs | wall s, median (min-max) | CPU s | peak RSS MB | status | gap | admitted | priority-weighted GPUs |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
    let row = |case: &str, solver: &str, runs: &[Run], p: &PlanFacts| {
        let wall: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
        let cpu: Vec<f64> = runs.iter().map(|r| r.cpu_s).collect();
        let rss: Vec<f64> = runs.iter().map(|r| r.peak_rss_mb).collect();
        println!(
            "| {case} | {solver} | {} | {} | {:.2} | {:.0} | {} | {} | {} / {} | {:.1} |",
            runs.len(),
            summarize(&wall),
            median(&cpu),
            median(&rss),
            p.status,
            p.gap
                .map(|g| format!("{:.2}%", g * 100.0))
                .unwrap_or_else(|| "-".into()),
            p.admitted,
            p.workloads,
            p.priority_weighted_gpus
        );
    };
    let plan_case = |gpus: u64, workloads: u64, profile: &str, solver: &str, limit: f64, runs| {
        let demand = demand(work, gpus, workloads, profile, args.seed);
        let plan_file = format!("target-{gpus}-{workloads}-{profile}-{solver}.json");
        let argv = strings(&[
            "plan",
            &demand,
            "--solver",
            solver,
            "--time-limit",
            &limit.to_string(),
            "--format",
            "json",
            "-o",
            &plan_file,
        ]);
        let runs: Vec<Run> = (0..runs)
            .map(|_| run_fabplan(work, &argv, &work.join("target.log")))
            .collect();
        (runs, plan_facts(&work.join(&plan_file)))
    };
    // Mixed 100k / 5,000: the grid's cell when it ran with the mixed profile.
    let from_grid = cells
        .iter()
        .find(|c| c.command == "plan" && c.gpus == 100_000 && c.workloads == Some(5_000));
    match from_grid {
        Some(c) if args.profile == "mixed" => row(
            "mixed 100k / 5,000 (grid cell; target <= 10 s, gap <= 1%)",
            "highs",
            &c.runs,
            c.plan.as_ref().expect("plan cells carry facts"),
        ),
        _ => {
            let (runs, p) = plan_case(100_000, 5_000, "mixed", "highs", 30.0, args.runs);
            row(
                "mixed 100k / 5,000 (target <= 10 s, gap <= 1%)",
                "highs",
                &runs,
                &p,
            );
        }
    }
    let (g_runs, greedy) = plan_case(100_000, 5_000, "contended", "greedy", 30.0, args.runs);
    row("contended 100k / 5,000", "greedy", &g_runs, &greedy);
    let (h_runs, highs) = plan_case(100_000, 5_000, "contended", "highs", 30.0, args.runs);
    row("contended 100k / 5,000", "highs", &h_runs, &highs);
    if args.million_runs > 0 {
        let (runs, p) = plan_case(
            1_000_000,
            50_000,
            "mixed",
            "highs",
            120.0,
            args.million_runs,
        );
        row(
            "mixed 1M / 50,000, `--time-limit 120` (target <= 120 s, gap printed)",
            "highs",
            &runs,
            &p,
        );
    }
    println!();
    println!(
        "Contended 100k / 5,000, HiGHS over greedy (priority-weighted GPUs): {:+.1}% (target >= +20%)",
        (highs.priority_weighted_gpus / greedy.priority_weighted_gpus.max(1e-9) - 1.0) * 100.0
    );
}

fn main() {
    let args = parse_args();
    std::fs::create_dir_all(&args.work).expect("create work dir");
    println!(
        "fabplan scaling: {} (generated files in {}); `--time-limit {}`, seed {}, profile {}",
        env!("CARGO_BIN_EXE_fabplan"),
        args.work.display(),
        args.time_limit,
        args.seed,
        args.profile
    );
    println!();
    let cells = if args.grid { grid(&args) } else { Vec::new() };
    if !cells.is_empty() {
        print_table(&cells);
        print_growth(&cells);
    }
    if args.targets {
        targets(&args, &cells);
    }
}
