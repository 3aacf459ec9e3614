//! Reading plan documents and current-state files (text -> `schema::plan::PlanDocument`
//! with spans -> validated, span-free `model::plan::Current`), collecting every problem.
//!
//! A state is validated like a demand: GPUs the fabric lacks (FP806), a demand passed where
//! a plan is expected (FP807), shares out of range (FP808), a GPU booked beyond what
//! its mode allows (FP810), MIG layouts the GPU cannot hold (FP811, by `mig::check_layout`),
//! a plan for another fabric (FP812), names given twice (FP813), assignments of the wrong
//! shape (FP814). Unknown keys are FP002 (`deny_unknown_fields`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_saphyr::Spanned;

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Span};
use crate::mig::{self, MigTable, Placement, ProfileIdx};
use crate::model::plan::{Assignment, Current, Hold};
use crate::model::{Fabric, GpuId, NodeId};
use crate::schema::plan::{DemandProbe, PlanAssignment, PlanDocument};
use crate::source::{self, SourceFile};

/// GPU name (`node/index`) -> the fabric's GPU id.
pub fn gpu_index(fabric: &Fabric) -> BTreeMap<String, GpuId> {
    fabric
        .gpus
        .iter()
        .enumerate()
        .map(|(i, g)| {
            (
                format!("{}/{}", fabric.nodes[g.node.index()].name, g.index),
                GpuId::from_index(i),
            )
        })
        .collect()
}

/// The MIG table of GPU `gpu`'s model (the fabric's own models first), if it has one.
fn mig_table(fabric: &Fabric, gpu: GpuId) -> Option<&MigTable> {
    let node = fabric.gpus[gpu.index()].node;
    let model = &fabric.template_of(node).gpu_model;
    fabric
        .gpu_model(model)
        .or_else(|| Catalog::builtin().gpu(model))?
        .mig
        .as_ref()
}

/// `profile@start` on `table`, when the profile exists and may start there.
pub fn parse_instance_on(table: Option<&MigTable>, text: &str) -> Option<Placement> {
    let (name, start) = text.split_once('@')?;
    let start: u8 = start.trim().parse().ok()?;
    let table = table?;
    let p: ProfileIdx = table.profile_index(name)?;
    // A start the profile does not allow is an instance the GPU cannot create.
    if !table.profile(p).starts.contains(&start) {
        return None;
    }
    Some(Placement { profile: p, start })
}

fn parse_instance(fabric: &Fabric, gpu: GpuId, text: &str) -> Option<Placement> {
    parse_instance_on(mig_table(fabric, gpu), text)
}

/// Reads a plan document (JSON or YAML; JSON is read as YAML, so values keep byte spans).
/// A demand file is refused in words (FP807), unknown keys are FP002.
#[allow(clippy::result_large_err)] // read once per input file
pub fn read_plan_file(path: &Path) -> Result<(PlanDocument, SourceFile), (SourceFile, Diagnostic)> {
    let file = source::read_source(path)?;
    match parse_plan(&file) {
        Ok(doc) => Ok((doc, file)),
        Err(d) => Err((file, d)),
    }
}

/// Parses a loaded file as a plan document (see [`read_plan_file`]).
///
/// The plan is parsed once; only when that fails is the file probed for demand keys. This
/// gives the same diagnostics as probing first: `PlanDocument` denies unknown fields and has
/// none of the probe's keys, so a file with one of them never parses as a plan.
pub fn parse_plan(file: &SourceFile) -> Result<PlanDocument, Diagnostic> {
    let plan_err = match source::parse_yaml_as::<PlanDocument>(file, source::STATE_DOC) {
        Ok(doc) => return Ok(doc),
        Err(d) => d,
    };
    if let Ok(probe) = source::parse_yaml_as::<DemandProbe>(file, source::STATE_DOC) {
        // The first demand key in the file, so the label lands where a reader looks first.
        let key = [
            ("tenants", &probe.tenants),
            ("fabric", &probe.fabric),
            ("pricing", &probe.pricing),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .min_by_key(|(_, v)| source::known_span_of(v).map_or(usize::MAX, |s| s.start));
        if let Some((key, value)) = key {
            return Err(Diagnostic::error(
                "FP807",
                format!("`{}` is a demand file, not a plan", file.name),
            )
            .at_opt(
                source::known_span_of(value),
                format!("`{key}` is a demand key; a plan has none"),
            )
            .help("pass the plan `fabplan plan DEMAND --format json -o PLAN` wrote; the demand goes first, e.g. `fabplan verify DEMAND PLAN`"));
        }
    }
    Err(plan_err)
}

/// Reads a plan or current-state file (JSON or YAML) and validates it against `fabric`:
/// the state and the document, or every problem found.
#[allow(clippy::type_complexity)]
pub fn read_state(
    path: &Path,
    fabric: &Fabric,
) -> Result<(Current, PlanDocument, SourceFile), (SourceFile, Vec<Diagnostic>)> {
    let (doc, file) = read_plan_file(path).map_err(|(f, d)| (f, vec![d]))?;
    let (cur, diags) = state_from_document(&doc, fabric);
    if diags.is_empty() {
        Ok((cur, doc, file))
    } else {
        Err((file, diags))
    }
}

/// Help for a GPU name the fabric does not have: the node's GPU range when the node exists.
fn unknown_gpu_help(fabric: &Fabric, names: &BTreeMap<String, GpuId>, gpu: &str) -> String {
    let node = gpu.rsplit_once('/').map(|(n, _)| n).unwrap_or(gpu);
    match fabric.nodes.iter().position(|n| n.name == node) {
        Some(n) => {
            let count = fabric.gpus.iter().filter(|g| g.node.index() == n).count();
            if count == 0 {
                format!("node `{node}` has no GPUs")
            } else {
                format!(
                    "node `{node}` has GPUs `{node}/0` to `{node}/{}`",
                    count - 1
                )
            }
        }
        None => match names.keys().next() {
            Some(first) => format!(
                "the fabric has no node `{node}`; GPUs are named `node/index`, e.g. `{first}`"
            ),
            None => "the fabric has no GPUs".to_string(),
        },
    }
}

/// Help for a MIG instance `word` a GPU does not offer: the starts its profile allows, or
/// the model's profiles.
fn bad_instance_help(fabric: &Fabric, gpu: GpuId, word: &str) -> String {
    let node = fabric.gpus[gpu.index()].node;
    let model = &fabric.template_of(node).gpu_model;
    let table = fabric
        .gpu_model(model)
        .or_else(|| Catalog::builtin().gpu(model))
        .and_then(|g| g.mig.as_ref());
    let Some(t) = table.filter(|t| !t.profiles.is_empty()) else {
        return format!("`{model}` has no MIG profiles; drop the instance");
    };
    let name = word.split_once('@').map(|(n, _)| n).unwrap_or(word);
    if let Some(p) = t.profile_index(name) {
        let starts = &t.profile(p).starts;
        return format!(
            "on `{model}`, `{name}` may start at {}; write `profile@start`",
            starts
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    format!(
        "write `profile@start`, e.g. `{}@0`; `{model}` offers {}",
        t.profiles[0].name,
        t.profiles
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The span of word `index` (a byte offset into the value) of a spanned string: exact for a
/// plain or quoted scalar on one line, else the whole value.
fn word_span(value: &Spanned<String>, index: usize, len: usize) -> Option<Span> {
    let whole = source::known_span_of(value)?;
    let quote = match whole.len.checked_sub(value.value.len()) {
        Some(0) => 0,
        Some(2) => 1,
        _ => return Some(whole),
    };
    Some(Span {
        start: whole.start + quote + index,
        len,
    })
}

/// One assignment read and checked: the GPU, what it holds, and where it was written.
struct Booking<'a> {
    owner: &'a str,
    gpu: GpuId,
    hold: Hold,
    at: &'a PlanAssignment,
}

/// Reads one workload's assignments; problems go to `diags` and the assignment is skipped.
fn read_assignments<'a>(
    list: &'a [PlanAssignment],
    fabric: &Fabric,
    names: &BTreeMap<String, GpuId>,
    owner: &'a str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Booking<'a>> {
    let mut out = Vec::new();
    for a in list {
        let Some(&g) = names.get(&a.gpu.value) else {
            diags.push(
                Diagnostic::error(
                    "FP806",
                    format!("`{owner}` is assigned unknown GPU `{}`", a.gpu.value),
                )
                .at_opt(source::known_span_of(&a.gpu), "not a GPU of the fabric")
                .help(unknown_gpu_help(fabric, names, &a.gpu.value)),
            );
            continue;
        };
        let hold = match (&a.instance, &a.gpu_milli) {
            (Some(i), Some(_)) => {
                diags.push(
                    Diagnostic::error(
                        "FP814",
                        format!(
                            "`{owner}` holds both a MIG instance and a share of GPU `{}`",
                            a.gpu.value
                        ),
                    )
                    .at_opt(source::known_span_of(i), "a MIG instance")
                    .help("an assignment is a whole GPU (`{gpu}`), a MIG instance (`{gpu, instance}`) or a share (`{gpu, gpu_milli}`): keep one"),
                );
                continue;
            }
            (Some(i), None) => match parse_instance(fabric, g, &i.value) {
                Some(p) => Hold::Mig(p),
                None => {
                    diags.push(
                        Diagnostic::error(
                            "FP806",
                            format!(
                                "`{owner}` names MIG instance `{}` that GPU `{}` does not offer",
                                i.value, a.gpu.value
                            ),
                        )
                        .at_opt(source::known_span_of(i), "not an instance of this GPU")
                        .help(bad_instance_help(fabric, g, &i.value)),
                    );
                    continue;
                }
            },
            (None, Some(m)) => {
                if !(1..=1000).contains(&m.value) {
                    diags.push(
                        Diagnostic::error(
                            "FP808",
                            format!(
                                "`{owner}` holds a share of {} thousandths of GPU `{}`",
                                m.value, a.gpu.value
                            ),
                        )
                        .at_opt(source::known_span_of(m), "not in 1..=1000")
                        .help("`gpu_milli` is a share in thousandths of one GPU, from 1 to 1000 (a whole GPU); write a whole GPU as `{gpu}`"),
                    );
                    continue;
                }
                Hold::Share(m.value as u16)
            }
            (None, None) => Hold::Whole,
        };
        out.push(Booking {
            owner,
            gpu: g,
            hold,
            at: a,
        });
    }
    out
}

/// Every GPU name a document mentions, with its spanned value.
fn named_gpus(doc: &PlanDocument) -> Vec<&Spanned<String>> {
    doc.workloads
        .iter()
        .flat_map(|w| w.assignments.iter().map(|a| &a.gpu))
        .chain(doc.gpus.iter().map(|g| &g.gpu))
        .collect()
}

/// Validates a plan document against `fabric` into the current state, with every problem.
pub fn state_from_document(doc: &PlanDocument, fabric: &Fabric) -> (Current, Vec<Diagnostic>) {
    let names = gpu_index(fabric);
    let mut diags = Vec::new();
    let mut cur = Current::default();
    // A plan for another fabric: no GPU it names is here. One sentence, not one per GPU.
    let mentioned = named_gpus(doc);
    let mut distinct: Vec<&str> = mentioned.iter().map(|g| g.value.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() > 1 && distinct.iter().all(|g| !names.contains_key(*g)) {
        let first = mentioned[0];
        diags.push(
            Diagnostic::error(
                "FP812",
                format!(
                    "the plan names {} GPUs and none is on fabric `{}`: it was written for another fabric",
                    distinct.len(),
                    fabric.name
                ),
            )
            .at_opt(source::known_span_of(first), "not a GPU of this fabric")
            .help(format!(
                "pass the fabric the plan was made for ({})",
                unknown_gpu_help(fabric, &names, &first.value)
            )),
        );
        return (cur, diags);
    }
    let mut first_workload: BTreeMap<&str, &Spanned<String>> = BTreeMap::new();
    let mut bookings: Vec<Booking> = Vec::new();
    let mut host_use: BTreeMap<NodeId, HostUse> = BTreeMap::new();
    for w in &doc.workloads {
        if let Some(first) = first_workload.get(w.name.value.as_str()) {
            diags.push(
                Diagnostic::error(
                    "FP813",
                    format!("workload `{}` is listed twice", w.name.value),
                )
                .at_opt(source::known_span_of(&w.name), "listed again")
                .also_at_opt(source::known_span_of(first), "first listed here")
                .help("list each workload once, with all its assignments"),
            );
            continue;
        }
        first_workload.insert(&w.name.value, &w.name);
        if !w.admitted {
            if let Some(a) = w.assignments.first() {
                diags.push(
                    Diagnostic::error(
                        "FP814",
                        format!("workload `{}` is not admitted but holds GPUs", w.name.value),
                    )
                    .at_opt(
                        source::known_span_of(&a.gpu),
                        "an assignment of a rejected workload",
                    )
                    .help("drop the assignments, or set `admitted: true` if the workload runs"),
                );
            }
            continue;
        }
        let hosts = read_hosts(w, fabric, &mut host_use, &mut diags);
        if !hosts.is_empty() {
            cur.hosts.insert(w.name.value.clone(), hosts);
        }
        let b = read_assignments(&w.assignments, fabric, &names, &w.name.value, &mut diags);
        if !b.is_empty() {
            let mut held: Vec<Assignment> = b
                .iter()
                .map(|x| Assignment {
                    gpu: x.gpu,
                    hold: x.hold,
                })
                .collect();
            held.sort();
            cur.running.insert(w.name.value.clone(), held);
        }
        bookings.extend(b);
    }
    check_bookings(&bookings, fabric, &mut diags);
    check_host_use(&host_use, fabric, &mut diags);
    let mut listed: BTreeMap<GpuId, &Spanned<String>> = BTreeMap::new();
    for g in &doc.gpus {
        let Some(&id) = names.get(&g.gpu.value) else {
            diags.push(
                Diagnostic::error(
                    "FP806",
                    format!("unknown GPU `{}` in the state's `gpus`", g.gpu.value),
                )
                .at_opt(source::known_span_of(&g.gpu), "not a GPU of the fabric")
                .help(unknown_gpu_help(fabric, &names, &g.gpu.value)),
            );
            continue;
        };
        if let Some(first) = listed.insert(id, &g.gpu) {
            diags.push(
                Diagnostic::error("FP813", format!("GPU `{}` is listed twice", g.gpu.value))
                    .at_opt(source::known_span_of(&g.gpu), "listed again")
                    .also_at_opt(source::known_span_of(first), "first listed here")
                    .help("list each GPU once under `gpus`"),
            );
            continue;
        }
        if let Some(layout) = &g.mig {
            let table = mig_table(fabric, id);
            let before = diags.len();
            let pl = layout_words(layout, table, &mut diags, |word| {
                (
                    format!(
                        "GPU `{}` has MIG instance `{word}` it does not offer",
                        g.gpu.value
                    ),
                    bad_instance_help(fabric, id, word),
                )
            });
            if diags.len() == before {
                if let Some(t) = table {
                    check_layout_at(t, &pl, layout, &g.gpu.value, &mut diags);
                }
            }
            cur.mig.insert(id, pl);
        }
    }
    // An instance held on a GPU whose listed layout lacks it.
    for b in &bookings {
        if let (Hold::Mig(p), Some(layout)) = (b.hold, cur.mig.get(&b.gpu)) {
            if !layout.contains(&p) {
                let inst = b.at.instance.as_ref().expect("a MIG hold has an instance");
                diags.push(
                    Diagnostic::error(
                        "FP811",
                        format!(
                            "`{}` holds `{}` on GPU `{}`, which is not in the GPU's layout",
                            b.owner, inst.value, b.at.gpu.value
                        ),
                    )
                    .at_opt(
                        source::known_span_of(inst),
                        "not in the layout under `gpus`",
                    )
                    .also_at_opt(
                        listed.get(&b.gpu).and_then(|s| source::known_span_of(s)),
                        "the GPU's layout",
                    )
                    .help("add the instance to the GPU's `mig` layout, or hold one the layout has"),
                );
            }
        }
    }
    (cur, diags)
}

/// Parses a layout's `profile@start` words on `table`; a bad word gets a diagnostic on the
/// word itself (`what(word)` gives the message and help).
pub fn layout_words(
    layout: &Spanned<String>,
    table: Option<&MigTable>,
    diags: &mut Vec<Diagnostic>,
    what: impl Fn(&str) -> (String, String),
) -> Vec<Placement> {
    let mut pl = Vec::new();
    let text = layout.value.as_str();
    for word in text.split_whitespace() {
        match parse_instance_on(table, word) {
            Some(p) => pl.push(p),
            None => {
                // `split_whitespace` yields subslices of `text`: the pointer difference is
                // the word's byte offset.
                let at = word.as_ptr() as usize - text.as_ptr() as usize;
                let (message, help) = what(word);
                diags.push(
                    Diagnostic::error("FP806", message)
                        .at_opt(
                            word_span(layout, at, word.len()),
                            "not an instance of this GPU",
                        )
                        .help(help),
                )
            }
        }
    }
    pl.sort_by_key(|p| (p.start, p.profile));
    pl
}

/// FP811 when `placements` are not a layout the GPU can hold (overlap, capacity, starts).
pub fn check_layout_at(
    table: &MigTable,
    placements: &[Placement],
    at: &Spanned<String>,
    gpu: &str,
    diags: &mut Vec<Diagnostic>,
) {
    if let Err(e) = mig::check_layout(table, mig::Rules::default(), placements) {
        diags.push(
            Diagnostic::error(
                "FP811",
                format!("GPU `{gpu}` has a MIG layout it cannot hold: {}", e.why),
            )
            .at_opt(source::known_span_of(at), format!("breaks {}", e.rule))
            .help("`fabplan mig layouts --gpu MODEL` lists the layouts the GPU can hold"),
        );
    }
}

/// FP810: a GPU held beyond what its mode allows (two whole holders, a whole GPU shared,
/// MIG instances and shares on one GPU, shares above one GPU, an instance given twice),
/// and FP811 for instances held without a listed layout that no layout can hold together.
fn check_bookings(bookings: &[Booking], fabric: &Fabric, diags: &mut Vec<Diagnostic>) {
    let mut per_gpu: BTreeMap<GpuId, Vec<&Booking>> = BTreeMap::new();
    for b in bookings {
        per_gpu.entry(b.gpu).or_default().push(b);
    }
    for (g, bs) in &per_gpu {
        let name = &bs[0].at.gpu.value;
        let over = |diags: &mut Vec<Diagnostic>, b: &Booking, why: String| {
            diags.push(
                Diagnostic::error("FP810", format!("GPU `{name}` is booked twice: {why}"))
                    .at_opt(source::known_span_of(&b.at.gpu), "booked again here")
                    .also_at_opt(source::known_span_of(&bs[0].at.gpu), "first booked here")
                    .help("a GPU is held whole by one workload, split into MIG instances, or time-sliced in shares summing to at most 1000"),
            );
        };
        let mut milli = 0i64;
        let mut instances: Vec<Placement> = Vec::new();
        for (i, b) in bs.iter().enumerate() {
            let first = bs[0].hold;
            let clash = i > 0
                && (matches!(b.hold, Hold::Whole)
                    || matches!(first, Hold::Whole)
                    || std::mem::discriminant(&b.hold) != std::mem::discriminant(&first));
            if clash {
                over(
                    diags,
                    b,
                    format!(
                        "`{}` holds it {} and `{}` {}",
                        bs[0].owner,
                        hold_words(first),
                        b.owner,
                        hold_words(b.hold)
                    ),
                );
                break;
            }
            match b.hold {
                Hold::Share(e) => {
                    milli += i64::from(e);
                    if milli > 1000 {
                        over(diags, b, format!("its shares sum to {milli} thousandths"));
                        break;
                    }
                }
                Hold::Mig(p) => {
                    if instances.contains(&p) {
                        over(
                            diags,
                            b,
                            "one MIG instance is given to two replicas".to_string(),
                        );
                        break;
                    }
                    instances.push(p);
                }
                Hold::Whole => {}
            }
        }
        if instances.len() > 1 {
            if let Some(t) = mig_table(fabric, *g) {
                instances.sort_by_key(|p| (p.start, p.profile));
                if let Err(e) = mig::check_layout(t, mig::Rules::default(), &instances) {
                    let b = bs.last().expect("two instances");
                    diags.push(
                        Diagnostic::error(
                            "FP811",
                            format!(
                                "the MIG instances held on GPU `{name}` do not fit one layout: {}",
                                e.why
                            ),
                        )
                        .at_opt(
                            b.at.instance.as_ref().and_then(source::known_span_of),
                            format!("breaks {}", e.rule),
                        )
                        .help(
                            "`fabplan mig layouts --gpu MODEL` lists the layouts the GPU can hold",
                        ),
                    );
                }
            }
        }
    }
}

fn hold_words(h: Hold) -> String {
    match h {
        Hold::Whole => "whole".to_string(),
        Hold::Mig(_) => "as a MIG instance".to_string(),
        Hold::Share(e) => format!("as a share of {e} thousandths"),
    }
}

/// Host CPU (millicores) and memory (MiB) the state's host-only replicas take on a node, and
/// where the first of them is written.
#[derive(Default)]
struct HostUse {
    cpu: u64,
    mem: u64,
    at: Option<Span>,
}

/// The nodes of a host-only workload's `hosts` (fabric nodes, one per replica):
/// FP837 for a node the fabric lacks, FP838 for a negative CPU or memory.
fn read_hosts(
    w: &crate::schema::plan::PlanWorkload,
    fabric: &Fabric,
    host_use: &mut BTreeMap<NodeId, HostUse>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<NodeId> {
    let mut out = Vec::new();
    for h in &w.hosts {
        let Some(n) = fabric
            .nodes
            .iter()
            .position(|n| n.name == h.node.value)
            .map(NodeId::from_index)
        else {
            let near: Vec<&str> = fabric
                .nodes
                .iter()
                .take(3)
                .map(|n| n.name.as_str())
                .collect();
            diags.push(
                Diagnostic::error(
                    "FP837",
                    format!(
                        "workload `{}` runs on node `{}`, which the fabric lacks",
                        w.name.value, h.node.value
                    ),
                )
                .at_opt(source::known_span_of(&h.node), "not a node of this fabric")
                .help(format!(
                    "name a node of fabric `{}` (e.g. {})",
                    fabric.name,
                    near.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
            continue;
        };
        let mut ok = true;
        for (what, x) in [
            ("cpu_millicores", &h.cpu_millicores),
            ("memory_mib", &h.memory_mib),
        ] {
            if x.value < 0 {
                diags.push(
                    Diagnostic::error(
                        "FP838",
                        format!(
                            "a replica of `{}` on `{}` has `{what}: {}`",
                            w.name.value, h.node.value, x.value
                        ),
                    )
                    .at_opt(source::known_span_of(x), "negative")
                    .help(format!("`{what}` is what the replica takes: 0 or more")),
                );
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        let e = host_use.entry(n).or_default();
        e.cpu += h.cpu_millicores.value as u64;
        e.mem += h.memory_mib.value as u64;
        e.at = e.at.or(source::known_span_of(&h.node));
        out.push(n);
    }
    out.sort_unstable();
    out
}

/// FP839: the host-only replicas of a state ask more CPU or memory of a node than its
/// template declares.
fn check_host_use(
    host_use: &BTreeMap<NodeId, HostUse>,
    fabric: &Fabric,
    diags: &mut Vec<Diagnostic>,
) {
    for (&n, u) in host_use {
        let node = &fabric.nodes[n.index()];
        let t = &fabric.templates[node.template.index()];
        for (what, used, cap, unit) in [
            ("CPU", u.cpu, t.cpu_millicores, "millicores"),
            ("memory", u.mem, t.memory_mib, "MiB"),
        ] {
            if let Some(c) = cap.filter(|&c| used > c) {
                diags.push(
                    Diagnostic::error(
                        "FP839",
                        format!(
                            "the host-only replicas on node `{}` take {used} {unit} of {what}; it has {c}",
                            node.name
                        ),
                    )
                    .at_opt(u.at, "the first replica on the node")
                    .help("move replicas to other nodes; a node holds what its template declares"),
                );
            }
        }
    }
}
