//! Loaded source files, the provenance table, and the one place where parser locations become
//! byte spans and byte spans become `miette::SourceSpan`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_saphyr::{Location, MessageFormatter, Spanned};

use crate::diag::{Diagnostic, Label, Severity, Span, Target};
use crate::model::Entity;

pub mod excerpt;
pub use excerpt::{clip_text, Excerpt};

/// Largest input file read (a guard against huge documents): 256 MiB.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// One input file, kept for rendering diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// The path as the user wrote it.
    pub name: String,
    pub text: Arc<String>,
    /// Byte offset where each line starts: line lookups are a binary search, so rendering
    /// 100k diagnostics on a large file does not rescan it each time.
    line_starts: Arc<Vec<usize>>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text: String = text.into();
        let line_starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        SourceFile {
            name: name.into(),
            text: Arc::new(text),
            line_starts: Arc::new(line_starts),
        }
    }

    /// 0-based line index of a byte offset.
    fn line_index(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_index(offset);
        let col = self.text[self.line_starts[line]..offset].chars().count() + 1;
        (line + 1, col)
    }

    /// Bytes of lines `first..=last` (0-based, clamped), as a byte range.
    fn line_range(&self, first: usize, last: usize) -> std::ops::Range<usize> {
        let last = last.min(self.line_starts.len() - 1);
        let start = self.line_starts[first.min(last)];
        let end = self
            .line_starts
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len());
        start..end
    }
}

impl SourceFile {
    /// Byte offset of a 1-based line and column (in characters), clamped to the text.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let text = self.text.as_str();
        let line_start = text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum::<usize>();
        let rest = &text[line_start.min(text.len())..];
        let line_text = rest.split('\n').next().unwrap_or("");
        line_start
            + line_text
                .char_indices()
                .nth(column.saturating_sub(1))
                .map(|(i, _)| i)
                .unwrap_or(line_text.len())
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Where each model entity (and some of its fields) was written.
#[derive(Debug, Default, Clone)]
pub struct Provenance {
    /// Links and nodes are the bulk of a large fabric (300k links at 100k GPUs): their spans
    /// live in flat vectors indexed by id; everything else in a map.
    links: Vec<Span>,
    nodes: Vec<Span>,
    entities: HashMap<Entity, Span>,
    fields: HashMap<(Entity, &'static str), Span>,
}

const NO_SPAN: Span = Span {
    start: usize::MAX,
    len: 0,
};

fn set_once(v: &mut Vec<Span>, i: usize, span: Span) {
    if v.len() <= i {
        v.resize(i + 1, NO_SPAN);
    }
    if v[i] == NO_SPAN {
        v[i] = span;
    }
}

impl Provenance {
    pub fn entity(&mut self, entity: Entity, span: Span) {
        match entity {
            Entity::Link(l) => set_once(&mut self.links, l.index(), span),
            Entity::Node(n) => set_once(&mut self.nodes, n.index(), span),
            _ => {
                self.entities.entry(entity).or_insert(span);
            }
        }
    }

    pub fn field(&mut self, entity: Entity, field: &'static str, span: Span) {
        self.fields.insert((entity, field), span);
    }

    /// The span of a field, falling back to the entity's own span.
    pub fn resolve(&self, entity: Entity, field: Option<&'static str>) -> Option<Span> {
        if let Some(s) = field.and_then(|f| self.fields.get(&(entity, f))) {
            return Some(*s);
        }
        let flat = |v: &Vec<Span>, i: usize| v.get(i).copied().filter(|s| *s != NO_SPAN);
        match entity {
            Entity::Link(l) => flat(&self.links, l.index()),
            Entity::Node(n) => flat(&self.nodes, n.index()),
            _ => self.entities.get(&entity).copied(),
        }
    }
}

/// The byte span of a parser location (string input always has byte offsets).
pub fn location_span(loc: &Location) -> Span {
    let span = loc.span();
    Span {
        start: span.byte_offset().unwrap_or(0) as usize,
        len: span.byte_len().unwrap_or(0) as usize,
    }
}

/// The byte span of a spanned value: where it is written (for an alias, the alias site).
pub fn span_of<T>(value: &Spanned<T>) -> Span {
    location_span(&value.referenced)
}

/// The byte span of a spanned value, or `None` when its location is unknown: a value read
/// through another deserializer than serde-saphyr's (a plan handed over as `serde_json::Value`).
pub fn known_span_of<T>(value: &Spanned<T>) -> Option<Span> {
    value
        .referenced
        .span()
        .byte_offset()
        .map(|_| span_of(value))
}

/// Reads a file into a `SourceFile`, or a diagnostic (unreadable, too large, not UTF-8, empty)
/// with what could be read of the file.
#[allow(clippy::result_large_err)] // read once per input file; boxing buys nothing here
pub fn read_source(path: &Path) -> Result<SourceFile, (SourceFile, Diagnostic)> {
    if path.as_os_str() == "-" {
        return read_stdin();
    }
    let name = path.display().to_string();
    let empty = || SourceFile::new(name.clone(), String::new());
    let meta = std::fs::metadata(path);
    if let Ok(m) = &meta {
        if m.len() > MAX_FILE_BYTES {
            return Err((
                empty(),
                Diagnostic::error(
                    "FP005",
                    format!("`{name}` is larger than {} MiB", MAX_FILE_BYTES >> 20),
                )
                .help("split the design into several files, or describe it with `intent` patterns"),
            ));
        }
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return Err((
                empty(),
                Diagnostic::error("FP008", format!("cannot read `{name}`: {e}"))
                    .help("check that the file exists and is readable"),
            ))
        }
    };
    source_from_bytes(name, bytes)
}

/// Reads an input that may be stdin (every input may): the same as `read_source`.
#[allow(clippy::result_large_err)]
pub fn read_input(path: &Path) -> Result<SourceFile, (SourceFile, Diagnostic)> {
    read_source(path)
}

/// Whether standard input was already read by this process (`-` for two inputs).
static STDIN_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Reads standard input (`-`), named `<stdin>` in diagnostics, with the checks of a file
/// (size, UTF-8). Standard input can be read once: a second `-` is FP020.
#[allow(clippy::result_large_err)]
fn read_stdin() -> Result<SourceFile, (SourceFile, Diagnostic)> {
    let name = "<stdin>";
    if STDIN_TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return Err((
            SourceFile::new(name, String::new()),
            Diagnostic::error("FP020", "`-` (standard input) is given for two inputs")
                .help("standard input can be read once: give the other input as a file"),
        ));
    }
    let mut bytes = Vec::new();
    let limit = MAX_FILE_BYTES + 1;
    let read = std::io::Read::read_to_end(
        &mut std::io::Read::take(std::io::stdin().lock(), limit),
        &mut bytes,
    );
    if let Err(e) = read {
        return Err((
            SourceFile::new(name, String::new()),
            Diagnostic::error("FP008", format!("cannot read `{name}`: {e}"))
                .help("check that the file exists and is readable"),
        ));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err((
            SourceFile::new(name, String::new()),
            Diagnostic::error(
                "FP005",
                format!("`{name}` is larger than {} MiB", MAX_FILE_BYTES >> 20),
            )
            .help("split the input into several files"),
        ));
    }
    source_from_bytes(name.to_string(), bytes)
}

/// A `SourceFile` from raw bytes, or the not-UTF-8 diagnostic at the first bad byte.
#[allow(clippy::result_large_err)]
fn source_from_bytes(name: String, bytes: Vec<u8>) -> Result<SourceFile, (SourceFile, Diagnostic)> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile::new(name, text);
            let (line, col) = file.line_col(valid);
            Err((
                file,
                Diagnostic::error(
                    "FP006",
                    format!(
                        "the file is not valid UTF-8 (first bad byte at line {line}, column {col})"
                    ),
                )
                .at(
                    Span {
                        start: valid,
                        len: 1,
                    },
                    "not UTF-8",
                )
                .help("save the file as UTF-8"),
            ))
        }
    }
}

/// Parse events that aliases may replay in one document: the expanded size, whatever the
/// number of aliases (docs/limits.md, "Parse limits"). A hand-cabled file that reuses a few
/// scalar anchors on every one of a million links replays a million events; a billion-laughs
/// bomb passes this within milliseconds and is refused (FP005).
pub const MAX_ALIAS_REPLAYED_EVENTS: usize = 10_000_000;

/// Parse limits against alias bombs and huge documents. Aliases are budgeted by what they
/// expand to (`max_total_replayed_events`), not by how many there are: counting aliases, or
/// their ratio to anchors, refuses legitimate files that reuse a few anchors many times.
pub fn parse_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // Alias and anchor counts are bounded by the events of the file (`max_events`) and their
    // expansion by `MAX_ALIAS_REPLAYED_EVENTS`; no separate count and no ratio heuristic.
    budget.max_aliases = usize::MAX;
    budget.max_anchors = usize::MAX;
    budget.enforce_alias_anchor_ratio = false;
    budget.max_depth = 64;
    budget.max_nodes = 20_000_000;
    budget.max_events = 50_000_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_REPLAYED_EVENTS;
    options.alias_limits.max_alias_expansions_per_anchor = usize::MAX;
    options.alias_limits.max_replay_stack_depth = 32;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options
}

/// What kind of document a file should be: names the format documentation in help lines.
#[derive(Debug, Clone, Copy)]
pub struct DocKind {
    /// The format's documentation, e.g. `docs/fabric-format.md`.
    pub doc: &'static str,
    /// Help for an empty file: the least the document needs.
    pub empty_help: &'static str,
}

pub const FABRIC_DOC: DocKind = DocKind {
    doc: "docs/fabric-format.md",
    empty_help: "a fabric file needs at least `fabric:`, `node_templates:` and `racks:`; see docs/fabric-format.md",
};

pub const DEMAND_DOC: DocKind = DocKind {
    doc: "docs/demand-format.md",
    empty_help: "a demand file needs at least `tenants:`; see docs/demand-format.md",
};

pub const STATE_DOC: DocKind = DocKind {
    doc: "docs/demand-format.md",
    empty_help: "a current state is a plan written by `fabplan plan --format json|yaml`; see docs/demand-format.md",
};

pub const GPU_MODEL_DOC: DocKind = DocKind {
    doc: "docs/mig.md",
    empty_help: "a GPU model file needs at least `key:` and `name:`; see docs/mig.md, or `fabplan import nvidia-smi` to generate one",
};

/// Parses a fabric document into raw type `T` (see `parse_yaml_as`).
pub fn parse_yaml<T: DeserializeOwned>(file: &SourceFile) -> Result<T, Diagnostic> {
    parse_yaml_as(file, FABRIC_DOC)
}

/// Parses a YAML document into raw type `T`; a failure becomes one diagnostic with a code
/// that says what kind of problem it is, and a help line naming `kind`'s documentation.
pub fn parse_yaml_as<T: DeserializeOwned>(
    file: &SourceFile,
    kind: DocKind,
) -> Result<T, Diagnostic> {
    if file.text.trim().is_empty()
        || file
            .text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Err(Diagnostic::error("FP007", "the file is empty").help(kind.empty_help));
    }
    // Aliases and nesting are budgeted before the typed parse, from the parse events in one
    // pass (`expansion_limit`): replaying a bomb up to the 10,000,000-event limit costs ~1 s
    // per parser, and typed deserialization stops at the first value of the wrong shape,
    // before it would reach a bomb or deep nesting further on.
    if let Some(d) = expansion_limit(file) {
        return Err(d);
    }
    serde_saphyr::from_str_with_options::<T>(&file.text, parse_options()).map_err(|err| {
        let mut diag = yaml_error(file, &err);
        if let Some(h) = &mut diag.help {
            *h = h.replace(FABRIC_DOC.doc, kind.doc);
        }
        diag
    })
}

/// Maximum nesting of a document, aliases expanded (the parser's `max_depth`).
const MAX_DEPTH: usize = 64;

/// The FP005 diagnostic of a document whose aliases expand past `MAX_ALIAS_REPLAYED_EVENTS`
/// events or whose nesting (aliases expanded) passes `MAX_DEPTH`, computed from the parse
/// events in one pass without replaying any alias: each anchored node's expanded size and
/// depth are known when it closes, and each alias adds its target's expanded size. The
/// parser's own replay counter (still set, `parse_options`) counts at least as much (it
/// refused `alias-bomb.yaml` one level earlier), so it remains the backstop. `None` when
/// within the limits, or when the text does not parse (the typed parse reports the syntax
/// error).
fn expansion_limit(file: &SourceFile) -> Option<Diagnostic> {
    use granit_parser::{Event, Parser};
    let text = file.text.as_str();
    // An anchored node being read: its events so far (aliases expanded) and its deepest
    // nesting relative to itself.
    struct Open {
        anchor: usize,
        size: u64,
        depth: usize,
        level: usize,
    }
    let mut sizes: HashMap<usize, (u64, usize)> = HashMap::new();
    let mut open: Vec<Open> = Vec::new();
    let mut level = 0usize;
    let mut replayed = 0u64;
    let refuse = |span: granit_parser::Span, what: String| {
        let start = span
            .start
            .byte_offset()
            .unwrap_or(0)
            .min(text.len().saturating_sub(1));
        let end = span.end.byte_offset().unwrap_or(start).min(text.len());
        Some(
            Diagnostic::error(
                "FP005",
                format!("the document is too large or too complex to read: {what}"),
            )
            .at(
                Span {
                    start,
                    len: end.saturating_sub(start).max(1),
                },
                "limit reached here",
            )
            .help("the document exceeds fabplan's parse limits (alias expansion, nesting or size); write it without deep alias chains"),
        )
    };
    for next in Parser::new_from_str(text) {
        let Ok((event, span)) = next else {
            return None;
        };
        // Events this one stands for, and how deep it reaches below the current level.
        let (size, reach, anchor, opens) = match event {
            Event::Alias(id) => {
                let (n, d) = sizes.get(&id).copied().unwrap_or((1, 0));
                replayed = replayed.saturating_add(n);
                if replayed > MAX_ALIAS_REPLAYED_EVENTS as u64 {
                    return refuse(
                        span,
                        format!(
                            "its aliases expand to more than {MAX_ALIAS_REPLAYED_EVENTS} parse events (an alias bomb, or very deep alias chains)"
                        ),
                    );
                }
                (n, d, 0, false)
            }
            Event::Scalar(_, _, anchor, _) => (1, 0, anchor, false),
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                (1, 1, anchor, true)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                level = level.saturating_sub(1);
                if let Some(o) = open.last_mut() {
                    o.size = o.size.saturating_add(1);
                }
                if open.last().is_some_and(|o| o.level == level) {
                    let o = open.pop().expect("checked");
                    sizes.insert(o.anchor, (o.size, o.depth));
                    if let Some(p) = open.last_mut() {
                        p.size = p.size.saturating_add(o.size);
                        p.depth = p.depth.max(level + o.depth - p.level);
                    }
                }
                continue;
            }
            _ => continue,
        };
        if level + reach > MAX_DEPTH {
            return refuse(
                span,
                format!("it nests deeper than the parse limit ({MAX_DEPTH} levels)"),
            );
        }
        if opens && anchor != 0 {
            open.push(Open {
                anchor,
                size: 1,
                depth: 1,
                level,
            });
        } else {
            if let Some(o) = open.last_mut() {
                o.size = o.size.saturating_add(size);
                o.depth = o.depth.max(level + reach - o.level);
            }
            if anchor != 0 {
                sizes.insert(anchor, (1, 0));
            }
        }
        if opens {
            level += 1;
        }
    }
    None
}

fn yaml_error(file: &SourceFile, err: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    // Errors met while replaying an alias come wrapped (`AliasError`, snippets): classify
    // the original one, or an alias bomb would read as a syntax error.
    let mut inner = err;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = inner {
        inner = error;
    }
    let message = serde_saphyr::UserMessageFormatter
        .format_message(inner)
        .into_owned();
    let message = lowercase_first(message.trim_end_matches('.'));
    let (code, help) = match inner {
        E::SerdeUnknownField { .. } => ("FP002", "remove the key or fix its spelling; docs/fabric-format.md lists every key"),
        E::SerdeMissingField { .. } => ("FP002", "add the missing key; docs/fabric-format.md lists the required keys"),
        E::Unexpected { .. }
        | E::SerdeInvalidType { .. }
        | E::SerdeInvalidValue { .. }
        | E::SerdeInvalidLength { .. }
        | E::SerdeUnknownVariant { .. }
        | E::InvalidScalar { .. }
        | E::NullIntoString { .. }
        | E::InvalidBooleanStrict { .. } => ("FP002", "give the value the type docs/fabric-format.md documents for this key"),
        E::DuplicateMappingKey { .. } => ("FP003", "each key may appear once per mapping; remove or rename the duplicate"),
        E::Budget { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => (
            "FP005",
            "the document exceeds fabplan's parse limits (alias expansion, nesting or size); write it without deep alias chains",
        ),
        E::InvalidUtf8Input => ("FP006", "save the file as UTF-8"),
        _ => ("FP001", "fix the YAML syntax at the marked position"),
    };
    let message = if code == "FP005" {
        budget_message(inner)
    } else {
        message
    };
    // A misspelt key or value: name the one that was meant (`powr_kw` -> `power_kw`).
    let meant = match inner {
        E::SerdeUnknownField {
            field, expected, ..
        } => crate::util::did_you_mean(field, expected.iter().copied()),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => crate::util::did_you_mean(variant, expected.iter().copied()),
        _ => None,
    };
    let help = match meant {
        Some(m) => format!("did you mean `{m}`? {help}"),
        None => help.to_string(),
    };
    let mut diag = Diagnostic::error(code, message).help(help);
    if let Some(loc) = err.location() {
        let mut span = location_span(&loc);
        if loc.span().byte_offset().is_none() {
            // Scanner errors carry a line and column but no byte offset.
            span = Span {
                start: file.offset_of(loc.line() as usize, loc.column() as usize),
                len: 1,
            };
        }
        if span.start >= file.text.len() && !file.text.is_empty() {
            span.start = file.text.len() - 1;
        }
        diag = diag.at(
            Span {
                start: span.start,
                len: span.len.max(1),
            },
            label_for(code),
        );
    }
    diag
}

/// Says which parse limit was reached, in words (the parser's own text is a debug dump).
fn budget_message(err: &serde_saphyr::Error) -> String {
    let what = match err {
        serde_saphyr::Error::Budget { breach, .. } => format!("{breach:?}"),
        other => format!("{other:?}"),
    };
    let kind = what
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    let limit = if kind.contains("Depth") {
        "it nests deeper than the parse limit (64 levels)"
    } else if kind.contains("Alias") || kind.contains("Anchor") {
        "its aliases expand past the parse limit (an alias bomb, or very deep alias chains)"
    } else {
        "it has more nodes, events or bytes than fabplan reads from one file"
    };
    format!("the document is too large or too complex to read: {limit}")
}

fn label_for(code: &str) -> &'static str {
    match code {
        "FP002" => "here",
        "FP003" => "duplicate key",
        "FP005" => "limit reached here",
        _ => "here",
    }
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if !s.starts_with("YAML") => f.to_lowercase().chain(c).collect(),
        Some(_) => s.to_string(),
        None => String::new(),
    }
}

/// A diagnostic bound to its file, ready for miette to render.
#[derive(Debug)]
pub struct Rendered {
    code: &'static str,
    severity: Severity,
    message: String,
    help: Option<String>,
    labels: Vec<miette::LabeledSpan>,
    source: Excerpt,
    /// Labels in other files than the one drawn (a GPU model file's diagnostic and its
    /// `gpu_models:` entry in the fabric): one note per file, drawn on that file.
    related: Vec<Rendered>,
}

/// The file a label's span is in: its own, or the one the diagnostic is reported for.
fn label_file<'a>(label: &'a Label, file: &'a SourceFile) -> &'a SourceFile {
    label.file.as_deref().unwrap_or(file)
}

/// The file a diagnostic is drawn on and located in: the file of its primary label (or of
/// its first label), else the file it is reported for.
pub fn primary_file<'a>(diag: &'a Diagnostic, file: &'a SourceFile) -> &'a SourceFile {
    diag.labels
        .iter()
        .find(|l| l.primary)
        .or(diag.labels.first())
        .map_or(file, |l| label_file(l, file))
}

impl Rendered {
    pub fn new(diag: &Diagnostic, file: &SourceFile, prov: &Provenance) -> Self {
        let main = primary_file(diag, file);
        // Files are compared by identity: labels moved into a file share its `Arc`.
        let in_main = |l: &Label| std::ptr::eq(label_file(l, file), main);
        let mine: Vec<&Label> = diag.labels.iter().filter(|l| in_main(l)).collect();
        let mut others: Vec<(&SourceFile, Vec<&Label>)> = Vec::new();
        for l in diag.labels.iter().filter(|l| !in_main(l)) {
            let f = label_file(l, file);
            match others.iter_mut().find(|(o, _)| std::ptr::eq(*o, f)) {
                Some((_, ls)) => ls.push(l),
                None => others.push((f, vec![l])),
            }
        }
        // Entities resolve through the provenance of the file the diagnostic is reported
        // for; spans in another file are plain spans.
        let none = Provenance::default();
        let prov_of = |f: &SourceFile| if std::ptr::eq(f, file) { prov } else { &none };
        let related = others
            .into_iter()
            .map(|(f, labels)| {
                Rendered::drawn(
                    // Internal: not shown (the code is on the diagnostic itself).
                    "fabplan::related",
                    Severity::Note,
                    format!("in `{}`", f.name),
                    None,
                    &labels,
                    f,
                    prov_of(f),
                    Vec::new(),
                )
            })
            .collect();
        Rendered::drawn(
            diag.code,
            diag.severity,
            diag.message.clone(),
            diag.help.as_deref(),
            &mine,
            main,
            prov_of(main),
            related,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn drawn(
        code: &'static str,
        severity: Severity,
        message: String,
        help: Option<&str>,
        labels: &[&Label],
        file: &SourceFile,
        prov: &Provenance,
        related: Vec<Rendered>,
    ) -> Self {
        let resolved: Vec<(&Label, Span)> = labels
            .iter()
            .filter_map(|l| resolve_label(l, prov).map(|span| (*l, span)))
            .collect();
        let ranges: Vec<std::ops::Range<usize>> = resolved
            .iter()
            .map(|(_, s)| s.start..s.start.saturating_add(s.len))
            .collect();
        // Labels are drawn on an excerpt: long lines cut around them (see `excerpt`).
        let (source, ranges) = Excerpt::new(file, &ranges);
        let labels = resolved
            .iter()
            .zip(ranges)
            .map(|((l, _), r)| {
                let text = Some(clip_text(&l.text, excerpt::MAX_LABEL_CHARS));
                let ss = miette::SourceSpan::new(r.start.into(), r.len());
                if l.primary {
                    miette::LabeledSpan::new_primary_with_span(text, ss)
                } else {
                    miette::LabeledSpan::new_with_span(text, ss)
                }
            })
            .collect();
        Rendered {
            code,
            severity,
            message: clip_text(&message, excerpt::MAX_MESSAGE_CHARS),
            help: help.map(|h| clip_text(h, excerpt::MAX_MESSAGE_CHARS)),
            labels,
            source,
            related,
        }
    }
}

impl Rendered {
    /// An `InputError` (a GPU model file, a capture, a topology) rendered under the same
    /// rules as a diagnostic: long lines cut around the label, long texts clipped.
    pub fn of_input_error(e: &crate::error::InputError) -> Self {
        let file = SourceFile::new(e.src.name(), e.src.inner().clone());
        let mut d = Diagnostic::error(e.code, e.message.clone());
        if let Some(s) = e.span {
            d = d.also_at(
                Span {
                    start: s.offset(),
                    len: s.len(),
                },
                e.label.clone(),
            );
        }
        if let Some(h) = &e.help {
            d = d.help(h.clone());
        }
        Rendered::new(&d, &file, &Provenance::default())
    }
}

/// The byte span a label points at, if it can be found.
pub fn resolve_label(label: &Label, prov: &Provenance) -> Option<Span> {
    match &label.target {
        Target::Span(s) => Some(*s),
        Target::Entity(e, f) => prov.resolve(*e, *f),
    }
}

/// The primary location of a diagnostic as (line, column), for JSON and SARIF.
pub fn primary_line_col(
    diag: &Diagnostic,
    file: &SourceFile,
    prov: &Provenance,
) -> Option<(usize, usize, Span)> {
    let label = diag
        .labels
        .iter()
        .find(|l| l.primary)
        .or(diag.labels.first())?;
    let span = resolve_label(label, prov)?;
    // In the label's own file (`primary_file`), whose name the caller reports with it.
    let (line, col) = label_file(label, file).line_col(span.start);
    Some((line, col, span))
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        // Registry codes (FP101) are shown; internal names of input errors
        // (`fabplan::gpu_model`) are not: they mean nothing to a user.
        (!self.code.starts_with("fabplan::"))
            .then(|| Box::new(self.code) as Box<dyn std::fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.labels.is_empty() {
            None
        } else {
            Some(&self.source)
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
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
