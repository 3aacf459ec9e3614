//! Reads `nvidia-smi mig -lgip` (GPU instance profiles) and `nvidia-smi mig -lgipp` (their
//! possible placements) as printed, box characters and ANSI codes included, plus an optional
//! `--query-gpu ... --format=csv` capture, into a [`GpuModel`].
//!
//! Column layout, from the real captures in `tests/fixtures/nvidia-smi/` (driver 580.159.04)
//! and the A100 example in the NVIDIA MIG User Guide (getting-started):
//!
//! ```text
//! | GPU   Name               ID    Instances   Memory     P2P    SM    DEC   ENC  |
//! |                                Free/Total   GiB              CE    JPEG  OFA  |
//! |   0  MIG 1g.10gb         19     7/7        9.75       No     16     1     0   |
//! |                                                               1     1     0   |
//! GPU  0 Profile ID 19 Placements: {0,1,2,3,4,5,6}:1
//! GPU  0 Profile ID  5 Placement : {0}:4
//! ```
//!
//! What the captures do not say is derived, and documented in `docs/mig.md`: compute slices
//! from the `Ng` in the name; the grid size `U` as the largest `start + width`; memory slices
//! as `width / g` where `g` is the gcd of all widths (1 on 8-unit GPUs, 3 on the 12-unit
//! RTX PRO 6000 grid, docs/mig-rules.md section 1); engine totals from the widest (full-GPU) profile.

use std::ops::Range;

use crate::catalog::{parse_pci_id, Catalog, GpuModel};
use crate::checks::diag;
use crate::diag::{Diagnostic, Span};
use crate::mig::{Engines, MigProfile, MigTable, Provenance};

const LGIP_HELP: &str = "pass the output of `nvidia-smi mig -lgip` exactly as printed";
const LGIPP_HELP: &str = "pass the output of `nvidia-smi mig -lgipp`; lines look like `GPU  0 Profile ID 19 Placements: {0,1,2,3,4,5,6}:1`";
const QUERY_HELP: &str =
    "capture `nvidia-smi --query-gpu=name,pci.device_id,memory.total,power.max_limit --format=csv`";
const SAME_GPU_HELP: &str = "take -lgip and -lgipp from the same GPU and driver";

/// Which of the import's input files a diagnostic belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    Lgip,
    Lgipp,
    Query,
}

/// Every problem an import found, each with the file it is in (spans are byte ranges of that
/// file's text). Nothing is imported when there is any.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportErrors(pub Vec<(Input, Diagnostic)>);

fn to_span(r: &Range<usize>) -> Span {
    Span {
        start: r.start,
        len: r.len().max(1),
    }
}

/// One input file: its name (for diagnostics) and text.
pub struct Capture<'a> {
    pub origin: &'a str,
    pub text: &'a str,
}

/// One row of `-lgip`.
#[derive(Debug, Clone, PartialEq)]
pub struct LgipRow {
    pub gpu: u32,
    pub name: String,
    pub id: u32,
    pub total: u8,
    pub memory_gib: f64,
    pub sms: u32,
    pub nvdec: u16,
    pub nvenc: u16,
    pub copy_engines: Option<u32>,
    pub jpeg: Option<u16>,
    pub ofa: Option<u16>,
    /// Byte range of the row, for diagnostics.
    pub span: Range<usize>,
}

/// One line of `-lgipp`.
#[derive(Debug, Clone, PartialEq)]
pub struct LgippRow {
    pub gpu: u32,
    pub id: u32,
    pub starts: Vec<u8>,
    pub size: u8,
    pub span: Range<usize>,
}

/// Facts from a `--query-gpu` CSV capture or `nvidia-smi -q` lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryFacts {
    pub name: Option<String>,
    pub pci_device_id: Option<u32>,
    pub memory_mib: Option<f64>,
    pub power_limit_w: Option<f64>,
    pub driver_version: Option<String>,
}

/// Removes ANSI escape sequences (`ESC [ ... letter`), which `nvidia-smi` prints on terminals.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Lines with their byte ranges.
fn lines_with_spans(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        (start..start + line.len().max(1), line)
    })
}

fn cells(line: &str) -> Vec<String> {
    strip_ansi(line)
        .trim()
        .trim_matches(|c| c == '|' || c == '│' || c == '\u{feff}')
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// One `-lgip` profile row (its cells already split), or the FP911 diagnostic on it.
fn lgip_row(c: &[String], span: Range<usize>) -> Result<LgipRow, Diagnostic> {
    let err = |msg: String| {
        diag("FP911", msg)
            .at(to_span(&span), "this row")
            .help(LGIP_HELP)
    };
    if c.len() < 10 {
        return Err(err(format!("profile row has {} columns, expected 10 (GPU, MIG, Name, ID, Free/Total, Memory, P2P, SM, DEC, ENC)", c.len())));
    }
    let num = |k: usize, what: &str| -> Result<u32, Diagnostic> {
        c[k].parse::<u32>()
            .map_err(|_| err(format!("{what} `{}` is not a number", c[k])))
    };
    let small = |k: usize, what: &str| -> Result<u16, Diagnostic> {
        c[k].parse::<u16>()
            .map_err(|_| err(format!("{what} `{}` is not a small number", c[k])))
    };
    let total = c[4]
        .split_once('/')
        .and_then(|(_, t)| t.parse::<u8>().ok())
        .ok_or_else(|| err(format!("instances `{}` is not Free/Total", c[4])))?;
    let memory_gib = c[5]
        .parse::<f64>()
        .ok()
        .filter(|m| m.is_finite() && *m >= 0.0)
        .ok_or_else(|| err(format!("memory `{}` is not a number of GiB", c[5])))?;
    Ok(LgipRow {
        gpu: num(0, "GPU index")?,
        name: c[2].clone(),
        id: num(3, "profile id")?,
        total,
        memory_gib,
        sms: num(7, "SM count")?,
        nvdec: small(8, "DEC")?,
        nvenc: small(9, "ENC")?,
        copy_engines: None,
        jpeg: None,
        ofa: None,
        span,
    })
}

/// FP007 for an empty capture; else FP913 on its first non-blank line.
fn no_rows(text: &str, message: &str, help: &str) -> Diagnostic {
    let first = lines_with_spans(text).find(|(_, l)| {
        !strip_ansi(l)
            .trim()
            .trim_start_matches('\u{feff}')
            .is_empty()
    });
    match first {
        None => diag("FP007", "the file is empty").help(help),
        Some((span, _)) => diag("FP913", message)
            .at(to_span(&span), "not a row of this capture")
            .help(help),
    }
}

/// Parses `nvidia-smi mig -lgip` output: every row, collecting a diagnostic (FP911) per bad
/// row and FP913 when there is no row at all.
pub fn parse_lgip(cap: &Capture) -> Result<Vec<LgipRow>, Vec<Diagnostic>> {
    let mut rows: Vec<LgipRow> = Vec::new();
    let mut diags = Vec::new();
    let mut expect_continuation = false;
    for (span, line) in lines_with_spans(cap.text) {
        let c = cells(line);
        if c.len() >= 2 && c[1] == "MIG" && c[0].chars().all(|ch| ch.is_ascii_digit()) {
            expect_continuation = false;
            match lgip_row(&c, span) {
                Ok(row) => {
                    rows.push(row);
                    expect_continuation = true;
                }
                Err(d) => diags.push(d),
            }
        } else if expect_continuation && c.len() == 3 && c.iter().all(|x| x.parse::<u32>().is_ok())
        {
            if let Some(row) = rows.last_mut() {
                row.copy_engines = c[0].parse().ok();
                row.jpeg = c[1].parse().ok();
                row.ofa = c[2].parse().ok();
            }
            expect_continuation = false;
        } else {
            expect_continuation = false;
            let joined = c.join(" ");
            if c.len() >= 2 && c[0].chars().all(|ch| ch.is_ascii_digit()) && joined.contains("MIG")
            {
                diags.push(
                    diag("FP911", "unreadable profile row")
                        .at(to_span(&span), "this row")
                        .help(LGIP_HELP),
                );
            }
        }
    }
    if rows.is_empty() && diags.is_empty() {
        let help = if cap.text.contains("Profile ID") && cap.text.contains("Placement") {
            "this looks like `nvidia-smi mig -lgipp` output: pass it with --lgipp, and -lgip with --lgip"
        } else {
            "is this the output of `nvidia-smi mig -lgip`? Rows look like `|   0  MIG 1g.10gb   19   7/7   9.75   No   16   1   0   |`"
        };
        diags.push(no_rows(cap.text, "no GPU instance profiles found", help));
    }
    if diags.is_empty() {
        Ok(rows)
    } else {
        Err(diags)
    }
}

/// One `-lgipp` line, or the FP912 diagnostic on it.
fn lgipp_line(t: &str, span: Range<usize>) -> Result<LgippRow, Diagnostic> {
    let err = |msg: String| {
        diag("FP912", msg)
            .at(to_span(&span), "this line")
            .help(LGIPP_HELP)
    };
    let Some(rest) = t.strip_prefix("GPU") else {
        return Err(err(format!("unexpected line `{t}`")));
    };
    let (gpu, rest) = rest
        .split_once("Profile ID")
        .ok_or_else(|| err("missing `Profile ID`".into()))?;
    let gpu: u32 = gpu
        .trim()
        .parse()
        .map_err(|_| err(format!("GPU index `{}` is not a number", gpu.trim())))?;
    let (id, rest) = rest
        .split_once("Placement")
        .ok_or_else(|| err("missing `Placements:`".into()))?;
    let id: u32 = id
        .trim()
        .parse()
        .map_err(|_| err(format!("profile id `{}` is not a number", id.trim())))?;
    let open = rest
        .find('{')
        .ok_or_else(|| err("missing `{start,...}`".into()))?;
    let close = rest.find('}').ok_or_else(|| err("missing `}`".into()))?;
    if close < open {
        return Err(err("malformed `{start,...}:width`".into()));
    }
    let mut starts = Vec::new();
    for s in rest[open + 1..close].split(',') {
        let s = s.trim();
        let v: u8 = s
            .parse()
            .map_err(|_| err(format!("start `{s}` is not a unit number")))?;
        starts.push(v);
    }
    let size_text = rest[close + 1..].trim().trim_start_matches(':').trim();
    let size: u8 = size_text.parse().ok().filter(|&w| w > 0).ok_or_else(|| {
        err(format!(
            "width `{size_text}` after `}}:` is not a unit count"
        ))
    })?;
    Ok(LgippRow {
        gpu,
        id,
        starts,
        size,
        span,
    })
}

/// Parses `nvidia-smi mig -lgipp` output: every line, collecting a diagnostic (FP912) per
/// bad line and FP913 when there is none.
pub fn parse_lgipp(cap: &Capture) -> Result<Vec<LgippRow>, Vec<Diagnostic>> {
    let mut rows = Vec::new();
    let mut diags = Vec::new();
    for (span, line) in lines_with_spans(cap.text) {
        let line = strip_ansi(line);
        let t = line.trim().trim_start_matches('\u{feff}');
        if t.is_empty() {
            continue;
        }
        match lgipp_line(t, span) {
            Ok(r) => rows.push(r),
            Err(d) => diags.push(d),
        }
    }
    if rows.is_empty() {
        // Not one placement line: the wrong file, not a file of bad lines; one diagnostic.
        let help = if cap.text.contains("GPU instance profiles") {
            "this looks like `nvidia-smi mig -lgip` output: pass it with --lgip, and -lgipp with --lgipp"
        } else {
            "is this the output of `nvidia-smi mig -lgipp`? Lines look like `GPU  0 Profile ID 19 Placements: {0,1,2,3,4,5,6}:1`"
        };
        return Err(vec![no_rows(cap.text, "no placements found", help)]);
    }
    if diags.is_empty() {
        Ok(rows)
    } else {
        Err(diags)
    }
}

/// Reads the facts a `--query-gpu=... --format=csv` capture (or `nvidia-smi -q` lines) holds.
pub fn parse_query(cap: &Capture) -> Result<QueryFacts, Diagnostic> {
    let mut facts = QueryFacts::default();
    let lines: Vec<(Range<usize>, &str)> = lines_with_spans(cap.text).collect();
    let mut found = false;
    for (k, (span, line)) in lines.iter().enumerate() {
        let line = strip_ansi(line);
        let t = line.trim();
        if t.starts_with("name,") || t.starts_with("name ,") {
            let header: Vec<String> = t.split(',').map(|h| h.trim().to_string()).collect();
            let Some((_, values)) = lines.get(k + 1) else {
                return Err(diag("FP914", "CSV header without a value line")
                    .at(to_span(span), "header")
                    .help(QUERY_HELP));
            };
            let values: Vec<String> = strip_ansi(values)
                .split(',')
                .map(|v| v.trim().to_string())
                .collect();
            for (h, v) in header.iter().zip(&values) {
                let number = |v: &str| {
                    v.split_whitespace()
                        .next()
                        .and_then(|n| n.parse::<f64>().ok())
                };
                match h.split_whitespace().next().unwrap_or("") {
                    "name" => facts.name = Some(v.clone()),
                    "pci.device_id" => facts.pci_device_id = parse_pci_id(v),
                    "memory.total" => facts.memory_mib = number(v),
                    "power.max_limit" => facts.power_limit_w = number(v).or(facts.power_limit_w),
                    "power.limit" if facts.power_limit_w.is_none() => {
                        facts.power_limit_w = number(v)
                    }
                    "driver_version" => facts.driver_version = Some(v.clone()),
                    _ => {}
                }
            }
            found = true;
        } else if let Some((key, value)) = t.split_once(':') {
            let (key, value) = (key.trim(), value.trim());
            match key {
                "Device Id" if facts.pci_device_id.is_none() => {
                    facts.pci_device_id = parse_pci_id(value)
                }
                "Product Name" if facts.name.is_none() => {
                    facts.name = Some(value.to_string());
                    found = true;
                }
                "Driver Version" if facts.driver_version.is_none() => {
                    facts.driver_version = Some(value.to_string())
                }
                _ => {}
            }
        }
    }
    if !found {
        return Err(diag("FP913", "no GPU name found").help(QUERY_HELP));
    }
    Ok(facts)
}

fn gcd(a: u8, b: u8) -> u8 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `nvidia h100 80gb hbm3` -> `h100-80gb-hbm3`.
fn slug(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_prefix("nvidia").unwrap_or(&lower);
    let mut out = String::new();
    for c in lower.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Options of the import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// GPU index to read when a capture lists several GPUs (default: the first one seen).
    pub gpu_index: Option<u32>,
    /// Catalog key to use instead of the matched or derived one.
    pub key: Option<String>,
}

/// Builds a GPU model from `-lgip`, `-lgipp` and an optional query capture. When the GPU
/// matches a catalog model (by PCI id, then name), its key, aliases and board specs are kept;
/// the MIG table always comes from the capture.
/// Every file is read to its end and every problem reported (`ImportErrors`), the three
/// files' parse problems together, then the cross-file ones.
pub fn import(
    lgip: &Capture,
    lgipp: &Capture,
    query: Option<&Capture>,
    catalog: &Catalog,
    options: &ImportOptions,
) -> Result<GpuModel, ImportErrors> {
    let mut errors = Vec::new();
    let lgip_rows = parse_lgip(lgip).unwrap_or_else(|d| {
        errors.extend(d.into_iter().map(|d| (Input::Lgip, d)));
        Vec::new()
    });
    let lgipp_rows = parse_lgipp(lgipp).unwrap_or_else(|d| {
        errors.extend(d.into_iter().map(|d| (Input::Lgipp, d)));
        Vec::new()
    });
    let facts = match query.map(parse_query) {
        Some(Ok(f)) => Some(f),
        Some(Err(d)) => {
            errors.push((Input::Query, d));
            None
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(ImportErrors(errors));
    }
    let gpu = options.gpu_index.unwrap_or(lgip_rows[0].gpu);
    let rows: Vec<&LgipRow> = lgip_rows.iter().filter(|r| r.gpu == gpu).collect();
    if rows.is_empty() {
        return Err(ImportErrors(vec![(
            Input::Lgip,
            diag("FP915", format!("no profiles for GPU {gpu}"))
                .help("pick a GPU index that the capture lists with `--gpu-index`"),
        )]));
    }
    let places: Vec<&LgippRow> = lgipp_rows.iter().filter(|r| r.gpu == gpu).collect();
    for p in &places {
        if !rows.iter().any(|r| r.id == p.id) {
            errors.push((
                Input::Lgipp,
                diag(
                    "FP915",
                    format!(
                        "profile id {} has placements but is not in `{}`",
                        p.id, lgip.origin
                    ),
                )
                .at(to_span(&p.span), "no such profile")
                .help(SAME_GPU_HELP),
            ));
        }
    }
    let mut profiles = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        if let Some(first) = rows[..k].iter().find(|q| q.id == r.id) {
            errors.push((
                Input::Lgip,
                diag("FP915", format!("profile id {} is listed twice", r.id))
                    .at(to_span(&r.span), "listed again")
                    .also_at(to_span(&first.span), "first listed here")
                    .help("pass one GPU's capture, unedited"),
            ));
            continue;
        }
        let mut matching = places.iter().filter(|p| p.id == r.id);
        let Some(place) = matching.next() else {
            errors.push((
                Input::Lgip,
                diag(
                    "FP915",
                    format!(
                        "profile `{}` (id {}) has no placements in `{}`",
                        r.name, r.id, lgipp.origin
                    ),
                )
                .at(to_span(&r.span), "no placements")
                .help(SAME_GPU_HELP),
            ));
            continue;
        };
        if let Some(dup) = matching.next() {
            errors.push((
                Input::Lgipp,
                diag("FP915", format!("profile id {} is listed twice", r.id))
                    .at(to_span(&dup.span), "listed again")
                    .also_at(to_span(&place.span), "first listed here")
                    .help("pass one GPU's capture, unedited"),
            ));
            continue;
        }
        let compute: Option<u8> = r
            .name
            .split_once('g')
            .and_then(|(n, _)| n.parse().ok())
            .filter(|&n| n > 0);
        let Some(compute) = compute else {
            errors.push((
                Input::Lgip,
                diag(
                    "FP911",
                    format!("profile name `{}` does not start with `<N>g`", r.name),
                )
                .at(to_span(&r.span), "this row")
                .help("GPU instance profiles are named like `3g.40gb`"),
            ));
            continue;
        };
        profiles.push((r, place, compute));
    }
    if !errors.is_empty() {
        return Err(ImportErrors(errors));
    }
    let units = profiles
        .iter()
        .map(|(_, p, _)| {
            p.starts
                .iter()
                .map(|&s| s as u32 + p.size as u32)
                .max()
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    let g = profiles
        .iter()
        .fold(0u8, |acc, (_, p, _)| gcd(acc, p.size))
        .max(1);
    let widest = profiles.iter().map(|(_, p, _)| p.size).max().unwrap_or(1);
    let full: Vec<&(&&LgipRow, &&LgippRow, u8)> = profiles
        .iter()
        .filter(|(_, p, _)| p.size == widest)
        .collect();
    let engines_of = |r: &LgipRow| match (r.jpeg, r.ofa) {
        (Some(jpeg), Some(ofa)) => Some(Engines {
            nvdec: r.nvdec,
            nvenc: r.nvenc,
            jpeg,
            ofa,
        }),
        _ => None,
    };
    let engine_totals = full.first().and_then(|(r, _, _)| engines_of(r));
    let compute_total = profiles.iter().map(|(_, _, c)| *c).max().unwrap_or(0);
    // Sources name files without directories, so an import does not depend on where the
    // capture sits; diagnostics use the path as given.
    let base = |origin: &str| {
        std::path::Path::new(origin)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| origin.to_string())
    };
    let files = match query {
        Some(q) => format!(
            "{}, {}, {}",
            base(lgip.origin),
            base(lgipp.origin),
            base(q.origin)
        ),
        None => format!("{}, {}", base(lgip.origin), base(lgipp.origin)),
    };
    let driver = facts.as_ref().and_then(|f| f.driver_version.clone());
    let source = match &driver {
        Some(d) => format!("nvidia-smi capture ({files}), driver {d}"),
        None => format!("nvidia-smi capture ({files})"),
    };
    let mig_profiles: Vec<MigProfile> = profiles
        .iter()
        .map(|(r, p, compute)| MigProfile {
            name: r.name.clone(),
            id: r.id,
            compute_slices: *compute,
            memory_slices: p.size / g,
            size: p.size,
            starts: p.starts.clone(),
            max_instances: r.total,
            memory_gib: Some(r.memory_gib),
            sms: Some(r.sms),
            copy_engines: r.copy_engines,
            engines: engines_of(r),
            provenance: Provenance::Captured,
            source: source.clone(),
        })
        .collect();
    let table = MigTable::new(
        units.min(255) as u8,
        compute_total,
        (units.min(255) as u8) / g,
        engine_totals,
        vec![],
        mig_profiles,
    )
    .map_err(|e| {
        let span = e.profile.map(|i| to_span(&profiles[i].0.span));
        ImportErrors(vec![(
            Input::Lgip,
            diag(
                "FP916",
                format!("the captured table is not usable: {}", e.message),
            )
            .at_opt(span, "this profile")
            .help("pass the capture as printed; edited or mixed captures break the MIG rules"),
        )])
    })?;

    let name = facts.as_ref().and_then(|f| f.name.clone());
    let pci = facts.as_ref().and_then(|f| f.pci_device_id);
    // Match a catalog model by PCI id, then by name, then by an identical placement table
    // (names, ids, widths, starts, caps) when exactly one model has it.
    let same_table = |m: &&GpuModel| {
        m.mig.as_ref().is_some_and(|t| {
            t.placement_units == table.placement_units
                && t.profiles.len() == table.profiles.len()
                && t.profiles.iter().all(|p| {
                    table.profiles.iter().any(|q| {
                        (&p.name, p.id, p.size, &p.starts, p.max_instances)
                            == (&q.name, q.id, q.size, &q.starts, q.max_instances)
                    })
                })
        })
    };
    let by_table = || {
        let mut it = catalog.gpus().filter(same_table);
        match (it.next(), it.next()) {
            (Some(m), None) => Some(m),
            _ => None,
        }
    };
    let known = pci
        .and_then(|id| catalog.by_pci_id(id).next())
        .or_else(|| name.as_deref().and_then(|n| catalog.gpu(n)))
        .or_else(|| {
            if name.is_none() && pci.is_none() {
                by_table()
            } else {
                None
            }
        });
    let mut sources = vec![format!("mig: {source}")];
    let mut model = match known {
        Some(k) => {
            sources.push(format!(
                "key, aliases, PCI ids and board specs: fabplan catalog model `{}`",
                k.key
            ));
            GpuModel {
                key: k.key.clone(),
                name: name.clone().unwrap_or_else(|| k.name.clone()),
                aliases: k.aliases.clone(),
                pci_device_ids: k.pci_device_ids.clone(),
                memory_gib: k.memory_gib,
                hbm_tbps: k.hbm_tbps,
                tdp_w: k.tdp_w,
                nvlink_gen: k.nvlink_gen,
                nvlink_gbytes_per_s: k.nvlink_gbytes_per_s,
                sources,
                mig: Some(table),
            }
        }
        None => {
            let name = name.unwrap_or_else(|| "unknown MIG GPU".to_string());
            let memory_gib = facts
                .as_ref()
                .and_then(|f| f.memory_mib)
                .map(|m| (m / 1024.0 * 100.0).round() / 100.0);
            let tdp_w = facts
                .as_ref()
                .and_then(|f| f.power_limit_w)
                .map(|w| w.round() as u32);
            if memory_gib.is_some() || tdp_w.is_some() {
                sources.push(format!(
                    "memory_gib (memory.total) and tdp_w (power limit): {files}"
                ));
            }
            sources.push(
                "hbm_tbps and NVLink are not in an nvidia-smi capture: 0 means unknown".to_string(),
            );
            GpuModel {
                key: slug(&name),
                name,
                aliases: vec![],
                pci_device_ids: pci.into_iter().collect(),
                memory_gib: memory_gib.unwrap_or(0.0),
                hbm_tbps: 0.0,
                tdp_w: tdp_w.unwrap_or(0),
                nvlink_gen: 0,
                nvlink_gbytes_per_s: 0,
                sources,
                mig: Some(table),
            }
        }
    };
    if let Some(key) = &options.key {
        model.key = key.clone();
    }
    if model.key.is_empty() {
        model.key = "imported-gpu".to_string();
    }
    Ok(model)
}
