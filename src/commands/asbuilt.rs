//! `fabplan as-built`: read the captures (and the mapping file), load the design, diff, and
//! render the findings with a label in the design and one in each capture place.

use std::collections::BTreeSet;
use std::io::Write;

use serde_json::{json, Value};

use crate::asbuilt::diff::{diff, DiffResult, Finding};
use crate::asbuilt::mapping::Mapping;
use crate::asbuilt::{self, Capture, CaptureFormat, Seen};
use crate::cli::asbuilt::{AsBuiltArgs, AsBuiltFormat, CaptureFormatArg};
use crate::cli::output::emit;
use crate::cli::render::{self, Tally};
use crate::diag::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::load::load_fabric_file;
use crate::model::Fabric;
use crate::source::{read_source, Provenance, Rendered, SourceFile};

/// Reads every capture; unreadable files become diagnostics like parse problems.
fn read_captures(args: &AsBuiltArgs, paths: &[std::path::PathBuf]) -> Capture {
    let format = args.capture_format.map(|f| match f {
        CaptureFormatArg::Ibnetdiscover => CaptureFormat::Ibnetdiscover,
        CaptureFormatArg::LldpJson => CaptureFormat::LldpJson,
        CaptureFormatArg::TopographSlurm => CaptureFormat::TopographSlurm,
        CaptureFormatArg::TopographK8s => CaptureFormat::TopographK8s,
    });
    let mut cap = Capture::default();
    let mut halves = Vec::new();
    let mut viewers = BTreeSet::new();
    for (i, path) in paths.iter().enumerate() {
        let file = match read_source(path) {
            Ok(f) => f,
            Err((f, d)) => {
                cap.files.push(f);
                cap.formats.push(None);
                cap.diagnostics.push((i, d));
                continue;
            }
        };
        let (fmt, parsed) = asbuilt::parse_capture(&file, i, format);
        cap.files.push(file);
        cap.formats.push(fmt);
        asbuilt::add_parsed(&mut cap, &mut halves, &mut viewers, i, parsed);
    }
    let (links, diags) = asbuilt::merge(halves, &viewers, &cap.files);
    cap.links = links;
    cap.diagnostics.extend(diags);
    cap
}

/// A finding bound to its files for miette: the design part, then one part per capture place.
#[derive(Debug)]
struct Composite {
    main: Rendered,
    related: Vec<Rendered>,
}

impl std::fmt::Display for Composite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.main.fmt(f)
    }
}
impl std::error::Error for Composite {}
impl miette::Diagnostic for Composite {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.main.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.main.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.main.help()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.main.source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.main.labels()
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn location(files: &[SourceFile], s: Seen) -> (String, usize, usize) {
    let f = &files[s.file];
    let (line, col) = f.line_col(s.span.start);
    (f.name.clone(), line, col)
}

fn render_human(
    findings: &[&Finding],
    design: &SourceFile,
    prov: &Provenance,
    captures: &[SourceFile],
    color: bool,
) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(render::RENDER_WIDTH)
        .with_links(false);
    let empty = Provenance::default();
    let mut out = String::new();
    for f in findings {
        let related = f
            .seen
            .iter()
            .map(|(s, text)| {
                let (name, line, col) = location(captures, *s);
                let d = Diagnostic::new(
                    f.diag.code,
                    Severity::Note,
                    format!("as built: {name}:{line}:{col}"),
                )
                .at(s.span, text.clone());
                Rendered::new(&d, &captures[s.file], &empty)
            })
            .collect();
        let c = Composite {
            main: Rendered::new(&f.diag, design, prov),
            related,
        };
        let _ = handler.render_report(&mut out, &c);
        out.push('\n');
    }
    out
}

fn finding_json(
    f: &Finding,
    design: &SourceFile,
    prov: &Provenance,
    captures: &[SourceFile],
) -> Value {
    let mut v = render::diagnostic_json(&f.diag, design, prov);
    if v["line"].is_null() {
        v["file"] = Value::Null;
    }
    v["as_built"] = f
        .seen
        .iter()
        .map(|(s, text)| {
            let (name, line, col) = location(captures, *s);
            json!({"file": name, "line": line, "column": col, "text": text})
        })
        .collect();
    v
}

fn sarif(
    findings: &[Finding],
    design: &SourceFile,
    prov: &Provenance,
    captures: &[SourceFile],
) -> Value {
    let phys = |file: &str, line: usize, col: usize| {
        crate::formats::sarif::location(file, json!({"startLine": line, "startColumn": col}))
    };
    let results = findings
        .iter()
        .map(|f| {
            let mut locs: Vec<Value> = Vec::new();
            if let Some((line, col, _)) = crate::source::primary_line_col(&f.diag, design, prov) {
                locs.extend(phys(&design.name, line, col));
            }
            let mut related: Vec<Value> = f
                .seen
                .iter()
                .enumerate()
                .filter_map(|(i, (s, text))| {
                    let (name, line, col) = location(captures, *s);
                    let mut l = phys(&name, line, col)?;
                    l["id"] = json!(i);
                    l["message"] = json!({"text": text});
                    Some(l)
                })
                .collect();
            if locs.is_empty() && !related.is_empty() {
                let mut first = related.remove(0);
                first
                    .as_object_mut()
                    .map(|o| (o.remove("id"), o.remove("message")));
                locs.push(first);
            }
            let mut r = crate::formats::sarif::result(&f.diag);
            r["locations"] = Value::Array(locs);
            if !related.is_empty() {
                r["relatedLocations"] = Value::Array(related);
            }
            r
        })
        .collect();
    crate::formats::sarif::log(results)
}

/// The as-built link list as JSON rows.
fn links_json(cap: &Capture) -> Value {
    let links: Vec<Value> = cap
        .links
        .iter()
        .map(|l| {
            let seen: Vec<Value> = l
                .seen
                .iter()
                .map(|s| {
                    let (name, line, col) = location(&cap.files, *s);
                    json!({"file": name, "line": line, "column": col})
                })
                .collect();
            json!({"a": l.a, "b": l.b, "speed": l.speed, "seen": seen})
        })
        .collect();
    json!({"links": links, "internal_ports_skipped": cap.skipped_internal})
}

fn links_human(cap: &Capture) -> String {
    let mut s = String::new();
    for l in &cap.links {
        let (name, line, _) = location(&cap.files, l.seen[0]);
        let speed = l.speed.as_ref().map(|s| s.text.as_str()).unwrap_or("-");
        let views = if l.seen.len() > 1 {
            "both ends"
        } else {
            "one end"
        };
        s.push_str(&format!(
            "{} -- {}  {speed}  ({views}; {name}:{line})\n",
            l.a.display(),
            l.b.display()
        ));
    }
    s.push_str(&format!(
        "{} cables ({} seen from both ends), {} internal ports skipped\n",
        cap.links.len(),
        cap.links.iter().filter(|l| l.seen.len() > 1).count(),
        cap.skipped_internal
    ));
    s
}

fn render_input_problems(
    items: &[(&SourceFile, &Provenance, &[Diagnostic])],
    format: AsBuiltFormat,
    color: bool,
    help_uris: Option<&crate::formats::sarif::HelpUriBase>,
) -> String {
    match format {
        AsBuiltFormat::Human => items
            .iter()
            .map(|(f, p, d)| render::human(d, f, p, color))
            .collect(),
        AsBuiltFormat::Json => {
            let files: Vec<_> = items
                .iter()
                .map(|(f, p, d)| (*f, *p, *d, !crate::diag::has_errors(d)))
                .collect();
            serde_json::to_string_pretty(&render::files_json(&files)).expect("json") + "\n"
        }
        AsBuiltFormat::Sarif => {
            let log = crate::formats::sarif::sarif_log(items);
            serde_json::to_string_pretty(&crate::formats::sarif::with_help_uris(log, help_uris))
                .expect("json")
                + "\n"
        }
    }
}

pub fn run(args: &AsBuiltArgs, out: &mut dyn Write) -> Result<Outcome> {
    let color = args.output.is_none() && crate::cli::output::stdout_color();
    let help_uris = crate::formats::sarif::HelpUriBase::resolve(args.help_uri_base.as_ref())?;
    // `-o` may not name a design, capture or mapping file of this run.
    let inputs: Vec<&std::path::Path> = args
        .files
        .iter()
        .chain(args.map.iter())
        .map(|p| p.as_path())
        .collect();
    let (design_path, capture_paths) = if args.links {
        (None, &args.files[..])
    } else {
        if args.files.len() < 2 {
            return Err(Error::usage(
                "`fabplan as-built` needs a design and at least one capture",
                Some(
                    "give `DESIGN CAPTURE...`, or `--links CAPTURE...` for the link list alone"
                        .to_string(),
                ),
            ));
        }
        (Some(&args.files[0]), &args.files[1..])
    };
    if args.links && args.format == AsBuiltFormat::Sarif {
        return Err(Error::usage(
            "`--links` writes human or JSON output, not SARIF",
            None,
        ));
    }
    // Captures are read in path order (each once), so neither the findings nor which end's
    // view comes first depend on the order they were given in.
    let mut capture_paths = capture_paths.to_vec();
    capture_paths.sort();
    capture_paths.dedup();
    let cap = read_captures(args, &capture_paths);
    let empty = Provenance::default();
    let per_file = |cap: &Capture| -> Vec<Vec<Diagnostic>> {
        let mut v = vec![Vec::new(); cap.files.len()];
        for (i, d) in &cap.diagnostics {
            v[*i].push(d.clone());
        }
        v
    };
    let mapping = match &args.map {
        Some(p) => match Mapping::load(p) {
            Ok(m) => Some(m),
            Err((file, d)) => {
                let text = render_input_problems(
                    &[(&file, &empty, std::slice::from_ref(&d))],
                    args.format,
                    color,
                    help_uris.as_ref(),
                );
                emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
                return Err(Error::InputRejected { count: 1 });
            }
        },
        None => None,
    };
    let design = design_path.map(|p| load_fabric_file(p));
    let mut problems: Vec<(&SourceFile, &Provenance, Vec<Diagnostic>)> = Vec::new();
    if let Some(d) = &design {
        if d.fabric.is_none() {
            problems.push((&d.file, &d.provenance, d.diagnostics.clone()));
        }
    }
    let mut map_problems = Vec::new();
    if let (Some(m), Some(Some(f))) = (&mapping, design.as_ref().map(|d| d.fabric.as_ref())) {
        map_problems = check_mapping(m, f);
    }
    if let Some(m) = &mapping {
        if !map_problems.is_empty() {
            problems.push((&m.file, &empty, map_problems));
        }
    }
    let cap_diags = per_file(&cap);
    let capture_errors = cap.has_errors();
    if capture_errors || !problems.is_empty() {
        for (i, d) in cap_diags.iter().enumerate() {
            if !d.is_empty() {
                problems.push((&cap.files[i], &empty, d.clone()));
            }
        }
        let items: Vec<_> = problems
            .iter()
            .map(|(f, p, d)| (*f, *p, d.as_slice()))
            .collect();
        let text = render_input_problems(&items, args.format, color, help_uris.as_ref());
        emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
        return Err(Error::InputRejected {
            count: problems
                .iter()
                .filter(|(_, _, d)| crate::diag::has_errors(d))
                .count(),
        });
    }
    let Some(design) = design else {
        let mut text = String::new();
        if args.format == AsBuiltFormat::Human {
            for (i, d) in cap_diags.iter().enumerate() {
                text.push_str(&render::human(d, &cap.files[i], &empty, color));
            }
            text.push_str(&links_human(&cap));
        } else {
            text = serde_json::to_string_pretty(&links_json(&cap)).expect("json") + "\n";
        }
        emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
        return Ok(Outcome::Clean);
    };
    let fabric = design.fabric.as_ref().expect("checked above");
    // Topograph outputs carry placements, not cables: without a cabling capture there is
    // nothing to compare cable by cable (every designed cable would read as missing).
    let cabling = cap.formats.iter().any(|f| {
        matches!(
            f,
            Some(CaptureFormat::Ibnetdiscover) | Some(CaptureFormat::LldpJson)
        )
    });
    let mut result = if cabling {
        diff(fabric, &cap, mapping.as_ref())
    } else {
        DiffResult {
            design_links: fabric.links.len(),
            ..Default::default()
        }
    };
    let placed = crate::asbuilt::placement::diff(fabric, &cap, mapping.as_ref());
    result.findings.extend(placed.findings);
    // Capture warnings (FP943) come first, as findings without a design label.
    let mut all: Vec<Finding> = cap
        .diagnostics
        .iter()
        .map(|(i, d)| capture_finding(*i, d))
        .collect();
    all.append(&mut result.findings);
    // Registry order, then emission order: deterministic whatever the input order.
    all.sort_by_key(|f| f.diag.code);
    let tally = Tally::of(&all.iter().map(|f| f.diag.clone()).collect::<Vec<_>>());
    let text = match args.format {
        AsBuiltFormat::Human => {
            let mut shown = Vec::new();
            let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
            for f in &all {
                let n = counts.entry(f.diag.code).or_default();
                *n += 1;
                if args.limit == 0 || *n <= args.limit {
                    shown.push(f);
                }
            }
            let mut s = render_human(&shown, &design.file, &design.provenance, &cap.files, color);
            for (code, n) in counts {
                if args.limit != 0 && n > args.limit {
                    s.push_str(&format!(
                        "{} more {code} not shown (`--limit 0` shows all)\n",
                        n - args.limit
                    ));
                }
            }
            s.push_str(&summary(&design.file, &cap, &result, tally));
            s
        }
        AsBuiltFormat::Json => {
            let v = json!({
                "design": design.file.name,
                "captures": cap.files.iter().zip(&cap.formats).map(|(f, fmt)| json!({"file": f.name, "format": fmt})).collect::<Vec<_>>(),
                "designed_cables": result.design_links,
                "captured_cables": result.captured_links,
                "matched": result.matched,
                "topograph_nodes": cap.placements.len(),
                "findings": all.iter().map(|f| finding_json(f, &design.file, &design.provenance, &cap.files)).collect::<Vec<_>>(),
                "summary": {"errors": tally.errors, "warnings": tally.warnings, "notes": tally.notes},
            });
            serde_json::to_string_pretty(&v).expect("json") + "\n"
        }
        AsBuiltFormat::Sarif => {
            let log = sarif(&all, &design.file, &design.provenance, &cap.files);
            serde_json::to_string_pretty(&crate::formats::sarif::with_help_uris(
                log,
                help_uris.as_ref(),
            ))
            .expect("json")
                + "\n"
        }
    };
    emit(out, args.output.as_deref(), &inputs, text.as_bytes())?;
    let failing = tally.errors > 0 || (args.deny_warnings && tally.warnings > 0);
    Ok(if failing {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// A capture diagnostic (FP943) as a finding: no design label, its place in the capture.
fn capture_finding(file: usize, d: &Diagnostic) -> Finding {
    let seen = d
        .labels
        .iter()
        .filter_map(|l| match l.target {
            crate::diag::Target::Span(s) => Some((Seen { file, span: s }, l.text.clone())),
            _ => None,
        })
        .collect();
    let mut diag = d.clone();
    diag.labels.clear();
    Finding { diag, seen }
}

fn summary(design: &SourceFile, cap: &Capture, r: &DiffResult, t: Tally) -> String {
    let status = if t.errors > 0 {
        "differs from the design"
    } else {
        "matches the design"
    };
    let placed = if cap.placements.is_empty() {
        String::new()
    } else {
        format!(", {} nodes placed by topograph", cap.placements.len())
    };
    format!(
        "{} as built ({} capture{}): {status}; {} designed cables, {} captured, {} matched{placed} ({})\n",
        design.name,
        cap.files.len(),
        if cap.files.len() == 1 { "" } else { "s" },
        r.design_links,
        r.captured_links,
        r.matched,
        t.describe()
    )
}

/// Every mapping target must be a device (and port) of the design.
fn check_mapping(m: &Mapping, f: &Fabric) -> Vec<Diagnostic> {
    let mut names: BTreeSet<String> = f
        .nodes
        .iter()
        .map(|n| n.name.to_ascii_lowercase())
        .collect();
    names.extend(f.switches.iter().map(|s| s.name.to_ascii_lowercase()));
    m.targets()
        .filter(|t| !names.contains(&t.device.to_ascii_lowercase()))
        .map(|t| {
            Diagnostic::error("FP944", format!("`{}` is not a node or switch of the design", t.device))
                .at_opt(t.span, "not in the design")
                .help("map to a name the design declares (node and switch names are case-insensitive here)")
        })
        .collect()
}
