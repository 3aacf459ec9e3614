//! The fuzz harness over every loader and parser (issue 10 §7), shared by the CI slice
//! (`tests/fuzz.rs`: a few thousand inputs, fixed seed) and the long run
//! (`benches/fuzz.rs`: `cargo bench --bench fuzz -- --inputs 1000000`).
//!
//! An input is a seed file from the shipped corpus and a few mutations (`mutate.rs`'s line and
//! character mutations, plus byte flips, splices between files and numeric edge values). Each
//! input goes through the loaders for its kind (fabric, demand, current state, GPU model) and
//! through every line-oriented import parser (Slurm, nvidia-smi, mig-parted, openb). The
//! property: no panic, a bounded time per input, and every diagnostic's span inside the text;
//! diagnostics are also rendered, so miette's formatting is covered too. proptest shrinks a
//! failure to a minimal seed and mutation list. Chunks run in parallel on rayon, each with a
//! seed derived from the run's seed and its index, so a run is the same on any thread count.
#![allow(dead_code)]

#[path = "mutate.rs"]
mod mutate;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fabplan::diag::{Diagnostic, Target};
use fabplan::formats::{mig_parted, nvidia_smi, openb, slurm};
use fabplan::model::Fabric;
use fabplan::source::{Provenance, SourceFile};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use rayon::prelude::*;

/// Seed files are cut to their first 64 KiB (at a line end): the large trace files would
/// otherwise dominate the run without reaching new code.
const MAX_SEED_BYTES: usize = 64 << 10;

/// Which loaders a seed file's mutants go through (all of them also go through the import
/// parsers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fabric,
    Demand,
    State,
    GpuModel,
    Slurm,
    NvidiaSmi,
    MigParted,
    Openb,
    Other,
}

#[derive(Debug)]
pub struct Seed {
    pub path: String,
    pub kind: Kind,
    pub text: String,
}

/// What every input is checked against: the corpus, a fabric for demand and state files, and
/// good nvidia-smi captures to pair a mutated one with.
pub struct Corpus {
    pub seeds: Vec<Seed>,
    fabric: Fabric,
    lgip: String,
    lgipp: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn kind_of(path: &str) -> Kind {
    let p = path.replace('\\', "/");
    let ext = p.rsplit('.').next().unwrap_or("");
    if p.contains("nvidia-smi") || p.contains("lgip") {
        Kind::NvidiaSmi
    } else if p.contains("mig-parted") {
        Kind::MigParted
    } else if p.contains("openb") && ext == "csv" {
        Kind::Openb
    } else if p.contains("slurm") {
        Kind::Slurm
    } else if p.contains("catalog/gpus/") || p.contains("lab-sample-gpu") || p.contains("gpu-start")
    {
        Kind::GpuModel
    } else if ext == "json" || p.contains("plan/bad/") && p.contains("state") {
        Kind::State
    } else if p.contains("examples/")
        || p.contains("demand")
        || p.contains("fixtures/plan/")
        || p.contains("reference-mig")
    {
        Kind::Demand
    } else if ext == "yaml" || ext == "yml" {
        Kind::Fabric
    } else {
        Kind::Other
    }
}

/// Mutated inputs are cut to 1 MiB.
const MAX_INPUT_BYTES: usize = 1 << 20;

/// The first `MAX_SEED_BYTES` of a text, cut at a line end.
fn cut(text: String) -> String {
    cut_to(text, MAX_SEED_BYTES)
}

fn cut_to(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map(|i| i + 1).unwrap_or(end);
    text[..end].to_string()
}

impl Corpus {
    /// The shipped fixtures: fabrics/, examples/, tests/fixtures/, the catalog's GPU files,
    /// /work/shared/fixtures and /work/shared/data/{mig-parted,alibaba-openb} when present,
    /// plus Slurm exports of the shipped fabrics (the repository has no topology files).
    pub fn load() -> &'static Corpus {
        static CORPUS: OnceLock<Corpus> = OnceLock::new();
        CORPUS.get_or_init(|| {
            let root = root();
            let mut paths = Vec::new();
            for d in ["fabrics", "examples", "tests/fixtures", "src/catalog/gpus"] {
                files_under(&root.join(d), &mut paths);
            }
            for d in [
                "/work/shared/fixtures",
                "/work/shared/data/mig-parted",
                "/work/shared/data/alibaba-openb",
            ] {
                files_under(Path::new(d), &mut paths);
            }
            let mut seeds = Vec::new();
            for p in paths {
                let Ok(bytes) = std::fs::read(&p) else {
                    continue;
                };
                let shown = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
                if shown.ends_with(".snap") || shown.contains("LICENSE") {
                    continue;
                }
                let text = cut(String::from_utf8_lossy(&bytes).into_owned());
                seeds.push(Seed {
                    kind: kind_of(&shown),
                    path: shown,
                    text,
                });
            }
            let mut fabric = None;
            for f in ["fabrics/lab-small.yaml", "fabrics/gb200-nvl72-su.yaml"] {
                let loaded = fabplan::load::load_fabric_file(&root.join(f));
                let Some(fab) = loaded.fabric else { continue };
                let t = slurm::from_fabric(&fab);
                for (name, text) in [
                    ("yaml", slurm::render_yaml(&t, "fuzz seed")),
                    (
                        "tree.conf",
                        slurm::render_conf(&t, slurm::ConfKind::Tree, "fuzz seed"),
                    ),
                    (
                        "block.conf",
                        slurm::render_conf(&t, slurm::ConfKind::Block, "fuzz seed"),
                    ),
                ] {
                    seeds.push(Seed {
                        path: format!("<export slurm {f} {name}>"),
                        kind: Kind::Slurm,
                        text,
                    });
                }
                fabric.get_or_insert(fab);
            }
            let read = |p: &str| std::fs::read_to_string(root.join(p)).expect("nvidia-smi fixture");
            Corpus {
                seeds,
                fabric: fabric.expect("fabrics/lab-small.yaml loads"),
                lgip: read("tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgip.txt"),
                lgipp: read("tests/fixtures/nvidia-smi/h100-80gb-hbm3/mig-lgipp.txt"),
            }
        })
    }
}

/// One mutation of an input: `mutate.rs`'s, or one of the harness's own.
#[derive(Debug, Clone)]
pub enum Op {
    Text(mutate::Mutation),
    /// Flips bits of one byte (the result is read as lossy UTF-8, as a file would be).
    FlipByte(prop::sample::Index, u8),
    /// Replaces the n-th number of the text by an edge value.
    Number(prop::sample::Index, &'static str),
    /// Inserts lines of another seed file at a line of this one.
    Splice {
        other: prop::sample::Index,
        at: prop::sample::Index,
        from: prop::sample::Index,
        lines: usize,
    },
    /// Repeats one line many times (long inputs, repeated keys and names).
    Repeat(prop::sample::Index, usize),
}

/// Numeric edge values: non-finite, negative, zero, huge, and just past integer widths.
const EDGE_NUMBERS: &[&str] = &[
    "NaN",
    ".nan",
    "inf",
    "-.inf",
    "-1",
    "0",
    "-0",
    "1e308",
    "1e309",
    "4294967296",
    "4294967295",
    "65536",
    "256",
    "255",
    "18446744073709551616",
    "9223372036854775807",
    "0x7fffffff",
    "1.5",
    "00",
    "-2147483649",
    "1e-320",
];

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => mutate::mutation().prop_map(Op::Text),
        1 => (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, b)| Op::FlipByte(i, b)),
        2 => (any::<prop::sample::Index>(), prop::sample::select(EDGE_NUMBERS))
            .prop_map(|(i, n)| Op::Number(i, n)),
        1 => (
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            1usize..20
        )
            .prop_map(|(other, at, from, lines)| Op::Splice { other, at, from, lines }),
        1 => (any::<prop::sample::Index>(), 2usize..2000).prop_map(|(i, n)| Op::Repeat(i, n)),
    ]
}

/// Byte ranges of the numbers (digits, with a sign and a fraction) in a text.
fn numbers(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push(start..i);
        } else {
            i += 1;
        }
    }
    out
}

pub fn apply(corpus: &Corpus, text: &str, op: &Op) -> String {
    match op {
        Op::Text(m) => mutate::apply(text, m),
        Op::FlipByte(i, bits) if !text.is_empty() => {
            let mut bytes = text.as_bytes().to_vec();
            let k = i.index(bytes.len());
            bytes[k] ^= bits;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Op::Number(i, n) => {
            let nums = numbers(text);
            if nums.is_empty() {
                return text.to_string();
            }
            let r = nums[i.index(nums.len())].clone();
            format!("{}{}{}", &text[..r.start], n, &text[r.end..])
        }
        Op::Splice {
            other,
            at,
            from,
            lines,
        } => {
            let donor = &corpus.seeds[other.index(corpus.seeds.len())].text;
            let donor: Vec<&str> = donor.split_inclusive('\n').collect();
            let mine: Vec<&str> = text.split_inclusive('\n').collect();
            let f = if donor.is_empty() {
                0
            } else {
                from.index(donor.len())
            };
            let piece: String = donor[f..(f + lines).min(donor.len())].concat();
            let a = at.index(mine.len() + 1);
            let mut out: String = mine[..a].concat();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&piece);
            out.push_str(&mine[a..].concat());
            out
        }
        Op::Repeat(i, n) => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            if lines.is_empty() {
                return text.to_string();
            }
            let k = i.index(lines.len());
            let line = if lines[k].ends_with('\n') {
                lines[k].to_string()
            } else {
                format!("{}\n", lines[k])
            };
            let mut out: String = lines[..k].concat();
            for _ in 0..*n {
                out.push_str(&line);
            }
            out.push_str(&lines[k + 1..].concat());
            out
        }
        _ => text.to_string(),
    }
}

/// An input: a seed file and the mutations applied to it, in order.
pub fn input() -> impl Strategy<Value = (prop::sample::Index, Vec<Op>)> {
    (
        any::<prop::sample::Index>(),
        prop::collection::vec(op(), 0..6),
    )
}

pub fn build(corpus: &Corpus, seed: &prop::sample::Index, ops: &[Op]) -> (Kind, String, String) {
    let s = &corpus.seeds[seed.index(corpus.seeds.len())];
    let mut text = s.text.clone();
    for o in ops {
        text = apply(corpus, &text, o);
        // Repeats compound; past 1 MiB an input tests the size limits, not the parsers
        // (those have their own tests), and would dominate the run.
        if text.len() > MAX_INPUT_BYTES {
            text = cut_to(text, MAX_INPUT_BYTES);
        }
    }
    (s.kind, s.path.clone(), text)
}

/// Spans inside the text; at most a few diagnostics rendered (rendering a flood is the same
/// code again and again).
fn check_diags(
    what: &str,
    file: &SourceFile,
    prov: &Provenance,
    diags: &[Diagnostic],
) -> Result<(), TestCaseError> {
    let len = file.text.len();
    for d in diags {
        if fabplan::checks::rule(d.code).is_none() {
            return Err(TestCaseError::fail(format!(
                "{what}: code `{}` is not in the registry ({})",
                d.code, d.message
            )));
        }
        for l in &d.labels {
            let span = match &l.target {
                Target::Span(s) => Some(*s),
                Target::Entity(e, f) => prov.resolve(*e, *f),
            };
            if let Some(s) = span {
                if s.start > len || s.start.saturating_add(s.len) > len {
                    return Err(TestCaseError::fail(format!(
                        "{what}: {} label `{}` has span {}+{} past the end of a {len}-byte text",
                        d.code, l.text, s.start, s.len
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Renders the first few diagnostics (rendering must not panic either, issue 10 §2); only for
/// the input's own parser, as rendering costs more than parsing.
fn render(file: &SourceFile, prov: &Provenance, diags: &[Diagnostic]) {
    let shown = &diags[..diags.len().min(3)];
    let _ = fabplan::cli::render::human(shown, file, prov, false);
}

/// Where each thread writes the input it is about to run (the long run sets it): an abort
/// (an allocation failing under `ulimit -v`, a stack overflow) kills the process without
/// unwinding, and this file is then the culprit, with its seed file and mutations.
pub static INFLIGHT_DIR: OnceLock<PathBuf> = OnceLock::new();

fn record_inflight(chunk: u64, path: &str, ops: &[Op], text: &str) {
    use std::io::{Seek, Write};
    let Some(dir) = INFLIGHT_DIR.get() else {
        return;
    };
    thread_local! {
        static FILE: std::cell::RefCell<Option<std::fs::File>> = const { std::cell::RefCell::new(None) };
    }
    FILE.with(|f| {
        let mut f = f.borrow_mut();
        if f.is_none() {
            let name = format!("inflight-{}.txt", rayon::current_thread_index().unwrap_or(0));
            *f = std::fs::File::create(dir.join(name)).ok();
        }
        if let Some(file) = f.as_mut() {
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(
                file,
                "chunk {chunk}\nseed file {path}\nmutations {ops:?}\n--- input ({} bytes) ---\n{text}",
                text.len()
            );
        }
    });
}

/// Runs every parser the input's kind calls for, and the import parsers.
pub fn check_input(corpus: &Corpus, kind: Kind, text: &str) -> Result<(), TestCaseError> {
    let file = SourceFile::new("fuzz.input", text);
    let none = Provenance::default();
    match kind {
        Kind::Fabric | Kind::Other => {
            let loaded = fabplan::load::load_fabric_str("fuzz.yaml", text);
            check_diags(
                "fabric",
                &loaded.file,
                &loaded.provenance,
                &loaded.diagnostics,
            )?;
            render(&loaded.file, &loaded.provenance, &loaded.diagnostics);
            if let Some(f) = loaded.fabric.as_ref() {
                let findings = fabplan::checks::run_checks(f);
                check_diags("checks", &loaded.file, &loaded.provenance, &findings)?;
            }
        }
        Kind::Demand => {
            if let Err(d) =
                fabplan::load::demand::demand_from_str("fuzz.yaml", text, &corpus.fabric)
            {
                check_diags("demand", &file, &none, &d)?;
                render(&file, &none, &d);
            }
        }
        Kind::State => match fabplan::load::state::parse_plan(&file) {
            Ok(doc) => {
                let (_, d) = fabplan::load::state::state_from_document(&doc, &corpus.fabric);
                check_diags("state", &file, &none, &d)?;
                render(&file, &none, &d);
            }
            Err(d) => check_diags("state", &file, &none, &[d])?,
        },
        Kind::GpuModel => {
            let _ = fabplan::catalog::parse_gpu_model_yaml(text, "fuzz.yaml");
        }
        Kind::NvidiaSmi => {
            let cap = |t| nvidia_smi::Capture {
                origin: "fuzz.txt",
                text: t,
            };
            let catalog = fabplan::catalog::Catalog::builtin();
            let opts = nvidia_smi::ImportOptions::default();
            let mut rendered = 0;
            for (lgip, lgipp) in [(text, corpus.lgipp.as_str()), (corpus.lgip.as_str(), text)] {
                if let Err(nvidia_smi::ImportErrors(errors)) =
                    nvidia_smi::import(&cap(lgip), &cap(lgipp), Some(&cap(text)), catalog, &opts)
                {
                    for (which, d) in errors {
                        let own = match which {
                            nvidia_smi::Input::Lgip => lgip,
                            nvidia_smi::Input::Lgipp => lgipp,
                            nvidia_smi::Input::Query => text,
                        };
                        let own = SourceFile::new("fuzz.txt", own);
                        check_diags("nvidia-smi import", &own, &none, std::slice::from_ref(&d))?;
                        // Render the first few only: a capture of 4,000 bad lines would
                        // otherwise render 4,000 reports per input.
                        if rendered < 3 {
                            rendered += 1;
                            render(&own, &none, &[d]);
                        }
                    }
                }
            }
        }
        Kind::Slurm | Kind::MigParted | Kind::Openb => {}
    }
    // The import parsers on every input: they must refuse any text with diagnostics only.
    let (_, d) = slurm::parse(&file);
    check_diags("slurm", &file, &none, &d)?;
    if kind == Kind::Slurm {
        render(&file, &none, &d);
    }
    let (_, d) = mig_parted::parse(&file);
    check_diags("mig-parted", &file, &none, &d)?;
    if kind == Kind::MigParted {
        render(&file, &none, &d);
    }
    let cap = nvidia_smi::Capture {
        origin: "fuzz.txt",
        text,
    };
    if let Err(d) = nvidia_smi::parse_lgip(&cap) {
        check_diags("nvidia-smi -lgip", &file, &none, &d)?;
    }
    if let Err(d) = nvidia_smi::parse_lgipp(&cap) {
        check_diags("nvidia-smi -lgipp", &file, &none, &d)?;
    }
    if let Err(d) = nvidia_smi::parse_query(&cap) {
        check_diags("nvidia-smi query", &file, &none, &[d])?;
    }
    let (_, d) = openb::parse_nodes(text);
    check_diags("openb nodes", &file, &none, &d)?;
    let (_, d) = openb::parse_pods(text);
    check_diags("openb pods", &file, &none, &d)?;
    Ok(())
}

/// Inputs over `SLOW` are counted (and the slowest named) but fail only past the run's own
/// limit: an input that expands to a fabric near its budgets (3,000,000 nodes is within
/// `limits::MAX_NODES`) legitimately takes seconds to load, more on a shared machine.
pub const SLOW: Duration = Duration::from_secs(5);

/// Figures of one run.
#[derive(Debug, Default)]
pub struct Report {
    pub inputs: u64,
    /// Inputs that took longer than `SLOW` (shrinking included).
    pub slow: u64,
    pub elapsed: Duration,
    pub slowest: Duration,
    pub slowest_input: String,
    /// Minimal failing inputs (after shrinking), one per failing chunk, sorted by chunk.
    pub failures: Vec<String>,
    /// Per seed kind: inputs run and time spent (shrinking included).
    pub by_kind: std::collections::BTreeMap<String, (u64, Duration)>,
}

/// Runs `inputs` inputs in chunks of `chunk` on rayon, from `seed`; each input must finish in
/// `limit`; `progress` prints a line per finished chunk on stderr.
pub fn run(seed: u64, inputs: u64, chunk: u64, limit: Duration, progress: bool) -> Report {
    let corpus = Corpus::load();
    let started = Instant::now();
    let chunks = inputs.div_ceil(chunk.max(1));
    let done = std::sync::atomic::AtomicU64::new(0);
    #[allow(clippy::type_complexity)]
    let mut results: Vec<(
        u64,
        Duration,
        String,
        Option<String>,
        std::collections::BTreeMap<String, (u64, Duration)>,
        u64,
    )> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let cases = chunk.min(inputs - c * chunk) as u32;
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&seed.to_le_bytes());
            key[8..16].copy_from_slice(&c.to_le_bytes());
            let mut runner = TestRunner::new_with_rng(
                Config {
                    cases,
                    failure_persistence: None,
                    max_shrink_iters: 2048,
                    ..Config::default()
                },
                TestRng::from_seed(RngAlgorithm::ChaCha, &key),
            );
            let slowest = std::cell::RefCell::new((Duration::ZERO, String::new()));
            let slow = std::cell::Cell::new(0u64);
            let by_kind = std::cell::RefCell::new(std::collections::BTreeMap::<String, (u64, Duration)>::new());
            let outcome = runner.run(&input(), |(s, ops)| {
                let (kind, path, text) = build(corpus, &s, &ops);
                record_inflight(c, &path, &ops, &text);
                let t = Instant::now();
                check_input(corpus, kind, &text)?;
                let took = t.elapsed();
                {
                    let mut k = by_kind.borrow_mut();
                    let e = k.entry(format!("{kind:?}")).or_default();
                    e.0 += 1;
                    e.1 += took;
                }
                if took > SLOW {
                    slow.set(slow.get() + 1);
                }
                if took > slowest.borrow().0 {
                    *slowest.borrow_mut() = (took, format!("{path} with {ops:?}"));
                }
                if took > limit {
                    return Err(TestCaseError::fail(format!(
                        "{path}: one input took {took:?} (limit {limit:?})"
                    )));
                }
                Ok(())
            });
            let failure = match outcome {
                Ok(()) => None,
                Err(TestError::Fail(why, (s, ops))) => {
                    let (kind, path, text) = build(corpus, &s, &ops);
                    Some(format!(
                        "chunk {c}: {why}\n  seed file {path} ({kind:?}), mutations {ops:?}\n  input ({} bytes): {:?}",
                        text.len(),
                        if text.len() > 600 { format!("{}...", &text[..text.floor_char_boundary_compat(600)]) } else { text.clone() }
                    ))
                }
                Err(TestError::Abort(why)) => Some(format!("chunk {c}: aborted: {why}")),
            };
            if progress {
                let n = done.fetch_add(cases as u64, std::sync::atomic::Ordering::Relaxed)
                    + cases as u64;
                eprintln!(
                    "fuzz: {n}/{inputs} inputs after {:.0} s",
                    started.elapsed().as_secs_f64()
                );
                if let Some(f) = &failure {
                    eprintln!("fuzz: FAILED {f}");
                }
            }
            let (took, what) = slowest.into_inner();
            (c, took, what, failure, by_kind.into_inner(), slow.get())
        })
        .collect();
    results.sort_by_key(|r| r.0);
    let mut report = Report {
        inputs,
        elapsed: started.elapsed(),
        ..Report::default()
    };
    for (_, took, what, failure, kinds, slow) in results {
        report.slow += slow;
        for (k, (n, t)) in kinds {
            let e = report.by_kind.entry(k).or_default();
            e.0 += n;
            e.1 += t;
        }
        if took > report.slowest {
            report.slowest = took;
            report.slowest_input = what;
        }
        report.failures.extend(failure);
    }
    report
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorBoundary for String {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}
