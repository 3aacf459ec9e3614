//! The independent checker: re-derives every constraint of a plan from the fabric, the
//! validated demand and the catalog. It shares no code with the model builder or the
//! placement code (`state`, `milp`): domains, costs and capacities are recomputed here.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Span};
use crate::fabric::topology::Topology;
use crate::mig::{self, Placement};
use crate::model::{Fabric, GpuId, NodeId, RackId, TenantId, WorkloadId};
use crate::schema::plan::{PlanDocument, PlanWorkload};
use crate::schema::Spanned;
use crate::source;

use crate::model::demand::{Demand, HostWorkload, Isolation, Level, Unit, Workload};

/// The label and help line of each of verify's codes (FP850-FP862; `fabplan explain CODE`).
fn words(code: &str) -> (&'static str, &'static str) {
    match code {
        "FP850" => ("not a workload of the demand", "plan the current demand again, or add the workload to the demand"),
        "FP851" => ("not admitted", "a rejected workload holds nothing: drop its assignments"),
        "FP852" => ("not a GPU or instance of the fabric", "GPUs are `node/index` of the fabric and instances `profile@start`"),
        "FP853" => ("admitted without GPUs", "an admitted workload holds its GPUs: add them, or mark it not admitted"),
        "FP854" => ("this workload", "use only models listed in `gpu_models`, and one model for a gang or a `same_model` workload"),
        "FP855" => ("this workload", "hold exactly the workload's size per replica (whole GPUs, MIG instances or shares)"),
        "FP856" => ("this gang", "keep the gang's GPUs inside one domain of its required topology level"),
        "FP857" => ("required, not admitted", "re-plan: a required workload must be admitted (`fabplan plan` says why it cannot be)"),
        "FP858" => ("this GPU", "a GPU is whole for one holder, MIG, or time-sliced up to 1000 thousandths"),
        "FP859" => ("this GPU", "`fabplan mig layouts --gpu MODEL` lists the layouts the GPU can hold"),
        "FP860" => ("shared here", "co-locate tenants only as their isolation allows (`share_with`, MIG co-tenancy, dedicated nodes)"),
        "FP861" => ("a GPU on the rack", "move work off the rack, or raise its `power_kw` if the rack can take it"),
        "FP862" => ("the tenant's first workload", "reject work of the tenant, or raise its budget or cap in the demand"),
        "FP863" => ("asks host resources of the node", "move replicas to nodes with CPU and memory free, or give the node template more `cpu_millicores`/`memory_mib`"),
        "FP864" => ("this workload", "run between `min_replicas` and `replicas` replicas (all of them without `min_replicas`)"),
        "FP867" => ("this host-only placement", "a host-only workload lists one `hosts` entry per replica, on a node of the fabric, with the demand's `cpu_millicores` and `memory_mib`, and no GPU assignments"),
        _ => ("here", "see `fabplan explain CODE`"),
    }
}

fn sp<T>(v: &Spanned<T>) -> Option<Span> {
    source::known_span_of(v)
}

/// What a workload entry holds on one GPU.
#[derive(Debug, Clone, PartialEq)]
enum Held {
    Whole,
    Mig(String, u8),
    /// A share in thousandths of a GPU.
    Milli(i64),
}

/// One holder of a GPU: the workload, what it holds, where the assignment is written.
type Holder = (WorkloadId, Held, Option<Span>);

/// A MIG layout as (profile name, start slice).
type Layout = Vec<(String, u8)>;

/// The GPUs a workload holds (and what on each), per GPU model.
type ByModel<'g> = BTreeMap<&'g str, (Vec<GpuId>, Vec<Held>)>;

/// The findings so far, each with its code's label and help line (`words`).
#[derive(Default)]
struct Findings(Vec<Diagnostic>);

impl Findings {
    fn push(&mut self, code: &'static str, at: Option<Span>, message: String) {
        let (label, help) = words(code);
        self.0.push(
            Diagnostic::error(code, message)
                .at_opt(at, label)
                .help(help),
        )
    }
}

/// Fabric, demand and catalog, with the lookups every check uses.
struct Context<'a> {
    fabric: &'a Fabric,
    demand: &'a Demand,
    catalog: Catalog,
    topo: Topology,
    /// `node/index` -> GPU.
    gpu_by_name: BTreeMap<String, GpuId>,
    /// The demand's GPU workloads and host-only workloads by name.
    workload_by_name: BTreeMap<&'a str, WorkloadId>,
    host_by_name: BTreeMap<&'a str, usize>,
    node_by_name: BTreeMap<&'a str, NodeId>,
}

impl<'a> Context<'a> {
    fn new(fabric: &'a Fabric, demand: &'a Demand) -> Self {
        Context {
            fabric,
            demand,
            catalog: Catalog::builtin().with_models(fabric.gpu_models.clone()),
            topo: Topology::new(fabric),
            gpu_by_name: (0..fabric.gpus.len())
                .map(GpuId::from_index)
                .map(|g| (gpu_name(fabric, g), g))
                .collect(),
            workload_by_name: demand
                .workloads
                .iter()
                .enumerate()
                .map(|(i, w)| (w.name.as_str(), WorkloadId::from_index(i)))
                .collect(),
            host_by_name: demand
                .host_workloads
                .iter()
                .enumerate()
                .map(|(i, h)| (h.name.as_str(), i))
                .collect(),
            node_by_name: fabric
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.name.as_str(), NodeId::from_index(i)))
                .collect(),
        }
    }

    fn node_of(&self, g: GpuId) -> NodeId {
        self.fabric.gpus[g.index()].node
    }

    /// The domain of `level` a node is in, as a key equal for nodes of one domain.
    fn domain(&self, node: NodeId, level: Level) -> String {
        let fabric = self.fabric;
        let n = &fabric.nodes[node.index()];
        match level {
            Level::Nvlink => n
                .nvlink_domain
                .map(|d| format!("d{}", d.0))
                .unwrap_or_else(|| format!("n{}", node.0)),
            Level::Leaf => {
                let t = fabric.template_of(node);
                let mut leaves: Vec<u32> = (0..t.nics.len())
                    .filter(|&k| t.nics[k].gpu.is_some())
                    .filter_map(|k| self.topo.nic_switch[n.first_nic.index() + k].map(|s| s.0))
                    .collect();
                leaves.sort_unstable();
                leaves.dedup();
                format!("{leaves:?}")
            }
            Level::Su => format!("{:?}", n.su),
            Level::Fabric => String::new(),
        }
    }
}

/// A GPU's name in a plan: `node/index`.
fn gpu_name(fabric: &Fabric, g: GpuId) -> String {
    let gpu = &fabric.gpus[g.index()];
    format!("{}/{}", fabric.nodes[gpu.node.index()].name, gpu.index)
}

/// What the plan's workload entries hold and ask, summed for the GPU, node and tenant checks.
struct Tally {
    /// Per GPU: its holders.
    holders: BTreeMap<GpuId, Vec<Holder>>,
    /// Where each tenant's first admitted workload is written (for tenant-level findings).
    tenant_at: Vec<Option<Span>>,
    tenant_usd: Vec<f64>,
    tenant_gpus: Vec<f64>,
    tenant_kw: Vec<f64>,
    /// Host CPU (millicores) and memory (MiB) asked per node.
    node_host: BTreeMap<NodeId, (u64, u64)>,
    /// The first workload entry that asks host resources of each node (where FP863 points).
    node_at: BTreeMap<NodeId, Option<Span>>,
    /// GPU memory (MiB) the shares on each GPU ask.
    gpu_mem: BTreeMap<GpuId, u64>,
}

impl Tally {
    fn new(tenants: usize) -> Self {
        Tally {
            holders: BTreeMap::new(),
            tenant_at: vec![None; tenants],
            tenant_usd: vec![0.0; tenants],
            tenant_gpus: vec![0.0; tenants],
            tenant_kw: vec![0.0; tenants],
            node_host: BTreeMap::new(),
            node_at: BTreeMap::new(),
            gpu_mem: BTreeMap::new(),
        }
    }

    /// `equiv` GPUs of `model` held by `wl`, charged to its tenant (cost, GPUs, power).
    fn charge(&mut self, cx: &Context, wl: &Workload, model: &str, first_gpu: GpuId, equiv: f64) {
        let demand = cx.demand;
        let t = cx.fabric.template_of(cx.node_of(first_gpu));
        let gpu_kw = t.power_kw / t.gpus as f64;
        self.tenant_usd[wl.tenant.index()] += crate::model::cost::chargeback_usd_per_hour(
            equiv,
            demand.gpu_price(model),
            gpu_kw,
            demand.pricing.pue,
            demand.pricing.power_usd_per_kwh,
        );
        self.tenant_gpus[wl.tenant.index()] += equiv;
        self.tenant_kw[wl.tenant.index()] += equiv * gpu_kw;
    }

    /// The host CPU and memory `wl`'s replicas on `gpus` ask of their nodes (a replica per
    /// whole-GPU chunk of `k`, per MIG instance or share; a training gang asks per GPU), and
    /// the GPU memory its shares ask.
    fn ask_host(
        &mut self,
        cx: &Context,
        pw: &PlanWorkload,
        wl: &Workload,
        unit: Unit,
        gpus: &[GpuId],
    ) {
        let mut per_node: BTreeMap<NodeId, u64> = BTreeMap::new();
        for &g in gpus {
            *per_node.entry(cx.node_of(g)).or_default() += 1;
        }
        for (n, count) in per_node {
            let replicas = match unit {
                Unit::Gpus(k) if wl.gang.is_none() => count / k.max(1) as u64,
                _ => count,
            };
            let e = self.node_host.entry(n).or_default();
            if wl.cpu_millicores > 0 || wl.memory_mib > 0 {
                self.node_at.entry(n).or_insert_with(|| sp(&pw.name));
            }
            e.0 += wl.cpu_millicores * replicas;
            e.1 += wl.memory_mib * replicas;
        }
        if let Unit::Share { mem_mib, .. } = unit {
            for &g in gpus {
                *self.gpu_mem.entry(g).or_default() += mem_mib as u64;
            }
        }
    }
}

/// Checks `plan` (a plan document's `workloads` and `gpus`) against fabric and demand: one
/// error diagnostic per violated constraint, labelled on the workload or GPU entry it concerns.
/// The check families: each workload entry (`check_entry`), required workloads, each GPU
/// (`check_gpu`), host resources per node, dedicated nodes, rack power and tenant limits.
pub fn verify(fabric: &Fabric, demand: &Demand, plan: &PlanDocument) -> Vec<Diagnostic> {
    let cx = Context::new(fabric, demand);
    let mut out = Findings::default();
    let mut tally = Tally::new(demand.tenants.len());
    for pw in &plan.workloads {
        check_entry(&cx, pw, &mut tally, &mut out);
    }
    check_required(demand, plan, &mut out);
    let (layouts, gpu_entry) = plan_gpus(&cx, plan);
    for (&g, hs) in &tally.holders {
        let gpu_at = gpu_entry.get(&g).copied().flatten().or(hs[0].2);
        let mem = tally.gpu_mem.get(&g).copied().unwrap_or(0);
        check_gpu(&cx, g, hs, gpu_at, layouts.get(&g), mem, &mut out);
    }
    check_host_capacity(&cx, &tally, &mut out);
    let mut gpu_use = GpuUse::of(&cx, &tally.holders);
    // Host-only replicas are their tenant's work on their node too (dedicated-node, FP860);
    // a node that holds only host work points at its host entry.
    super::verify_host::add_host_tenants(demand, plan, &cx.node_by_name, &mut gpu_use.node_tenants);
    for (&n, &at) in &tally.node_at {
        gpu_use.node_at.entry(n).or_insert(at);
    }
    check_dedicated_nodes(&cx, &gpu_use, &mut out);
    check_rack_power(&cx, &gpu_use, &mut out);
    check_tenant_limits(demand, &tally, &mut out);
    let mut out = out.0;
    out.sort_by(|a, b| (a.code, &a.message).cmp(&(b.code, &b.message)));
    out
}

/// One workload entry of the plan: a host-only workload (`verify_host`), else one the demand
/// lists (FP850, FP867 for `hosts`), holding nothing unless admitted (FP851) and GPUs of the
/// fabric when admitted (FP852, FP853); then its GPU models (FP854), size per model (FP855),
/// topology (FP856) and replica count (FP864) checked, and what it holds tallied.
fn check_entry(cx: &Context, pw: &PlanWorkload, tally: &mut Tally, out: &mut Findings) {
    if let Some(&h) = cx.host_by_name.get(pw.name.value.as_str()) {
        verify_host(
            &cx.demand.host_workloads[h],
            pw,
            &cx.node_by_name,
            tally,
            out,
        );
        return;
    }
    if let Some(h0) = pw.hosts.first() {
        out.push(
            "FP867",
            sp(&h0.node),
            format!(
                "`{}` holds GPUs by the demand and lists `hosts`, which only a host-only workload has",
                pw.name.value
            ),
        );
    }
    let Some(&w) = cx.workload_by_name.get(pw.name.value.as_str()) else {
        out.push(
            "FP850",
            sp(&pw.name),
            format!(
                "the plan places `{}`, which the demand does not list",
                pw.name.value
            ),
        );
        return;
    };
    let wl = &cx.demand.workloads[w.index()];
    if !pw.admitted {
        if !pw.assignments.is_empty() {
            out.push(
                "FP851",
                sp(&pw.name),
                format!("`{}` is not admitted but has assignments", wl.name),
            );
        }
        return;
    }
    let (gpus, held) = resolve_assignments(cx, pw, w, tally, out);
    if tally.tenant_at[wl.tenant.index()].is_none() {
        tally.tenant_at[wl.tenant.index()] = sp(&pw.name);
    }
    if gpus.is_empty() {
        out.push(
            "FP853",
            sp(&pw.name),
            format!("`{}` is admitted but has no GPUs", wl.name),
        );
        return;
    }
    let Some(by_model) = check_models(cx, pw, wl, &gpus, &held, out) else {
        return;
    };
    // All of `replicas` on one model: the count is part of each size check (FP855); else
    // the replicas are counted per model and their sum checked after (FP864).
    let fixed_count = !wl.is_elastic() && by_model.len() == 1;
    let mut replicas_held = 0u32;
    for (model, (model_gpus, model_held)) in &by_model {
        let unit = wl.units[*model];
        let size = Holding {
            model,
            unit,
            gpus: model_gpus,
            held: model_held,
            fixed_count,
        };
        let (equiv, replicas) = check_size(cx, pw, wl, &size, out);
        replicas_held += replicas;
        tally.charge(cx, wl, model, model_gpus[0], equiv);
        tally.ask_host(cx, pw, wl, unit, model_gpus);
    }
    check_topology(cx, pw, wl, &gpus, out);
    if !fixed_count
        && wl.gang.is_none()
        && !(wl.min_replicas.max(1)..=wl.replicas).contains(&replicas_held)
    {
        out.push(
            "FP864",
            sp(&pw.name),
            format!(
                "`{}` runs {replicas_held} replicas; the demand allows {} to {}",
                wl.name,
                wl.min_replicas.max(1),
                wl.replicas
            ),
        );
    }
}

/// An admitted entry's assignments as GPU indices and what is held on each (FP852 for an
/// unknown GPU or a malformed instance, which are left out), recorded as the GPUs' holders.
fn resolve_assignments(
    cx: &Context,
    pw: &PlanWorkload,
    w: WorkloadId,
    tally: &mut Tally,
    out: &mut Findings,
) -> (Vec<GpuId>, Vec<Held>) {
    let wl = &cx.demand.workloads[w.index()];
    let mut gpus = Vec::new();
    let mut held = Vec::new();
    for a in &pw.assignments {
        let Some(&g) = cx.gpu_by_name.get(&a.gpu.value) else {
            out.push(
                "FP852",
                sp(&a.gpu),
                format!("`{}` is assigned unknown GPU `{}`", wl.name, a.gpu.value),
            );
            continue;
        };
        let h = match (&a.instance, &a.gpu_milli) {
            (Some(i), _) => match i
                .value
                .split_once('@')
                .and_then(|(p, s)| Some((p.to_string(), s.parse::<u8>().ok()?)))
            {
                Some((p, s)) => Held::Mig(p, s),
                None => {
                    out.push(
                        "FP852",
                        sp(i),
                        format!("`{}` names malformed instance `{}`", wl.name, i.value),
                    );
                    continue;
                }
            },
            (None, Some(m)) => Held::Milli(m.value),
            (None, None) => Held::Whole,
        };
        gpus.push(g);
        held.push(h.clone());
        tally.holders.entry(g).or_default().push((w, h, sp(&a.gpu)));
    }
    (gpus, held)
}

/// The GPUs (and what is held on each) per GPU model. Replicas may mix the models the
/// demand sized them for unless the workload is a gang or says `same_model` (FP854); every
/// model must be one the workload may use (FP854). `None` after a finding.
fn check_models<'g>(
    cx: &'g Context,
    pw: &PlanWorkload,
    wl: &Workload,
    gpus: &[GpuId],
    held: &[Held],
    out: &mut Findings,
) -> Option<ByModel<'g>> {
    let mut by_model: ByModel = BTreeMap::new();
    for (&g, h) in gpus.iter().zip(held) {
        let e = by_model
            .entry(cx.fabric.template_of(cx.node_of(g)).gpu_model.as_str())
            .or_default();
        e.0.push(g);
        e.1.push(h.clone());
    }
    if by_model.len() != 1 && (wl.gang.is_some() || wl.same_model) {
        out.push(
            "FP854",
            sp(&pw.name),
            format!(
                "`{}` spans GPU models {}{}",
                wl.name,
                by_model
                    .keys()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if wl.same_model {
                    " and says `same_model: true`"
                } else {
                    ""
                }
            ),
        );
        return None;
    }
    if let Some(model) = by_model.keys().find(|m| !wl.units.contains_key(**m)) {
        out.push(
            "FP854",
            sp(&pw.name),
            format!("`{}` runs on `{model}`, which it may not use", wl.name),
        );
        return None;
    }
    Some(by_model)
}

/// What a workload holds on the GPUs of one model.
struct Holding<'h> {
    model: &'h str,
    /// The unit the demand sized a replica in on this model.
    unit: Unit,
    gpus: &'h [GpuId],
    held: &'h [Held],
    /// All of `replicas` must be on this model (not elastic, one model).
    fixed_count: bool,
}

/// FP855 unless what is held on one model is whole units of the workload's size (and all of
/// its replicas when the count is fixed). Returns the GPU equivalents held and the replicas
/// they make.
fn check_size(
    cx: &Context,
    pw: &PlanWorkload,
    wl: &Workload,
    h: &Holding,
    out: &mut Findings,
) -> (f64, u32) {
    match h.unit {
        Unit::Gpus(k) => check_whole_gpus(cx, pw, wl, h, k, out),
        Unit::Mig(p) => {
            let table = cx
                .catalog
                .gpu(h.model)
                .and_then(|g| g.mig.as_ref())
                .expect("mig unit on a MIG GPU");
            let pname = &table.profile(p).name;
            if (h.fixed_count && h.held.len() as u32 != wl.replicas)
                || h.held
                    .iter()
                    .any(|x| !matches!(x, Held::Mig(n, _) if n == pname))
            {
                out.push(
                    "FP855",
                    sp(&pw.name),
                    format!("`{}` needs {} `{pname}` instances", wl.name, wl.replicas),
                );
            }
            let equiv = h.held.len() as f64 * table.profile(p).compute_slices as f64
                / table.compute_slices as f64;
            (equiv, h.held.len() as u32)
        }
        Unit::Share { milli, .. } => {
            let milli = i64::from(milli);
            if (h.fixed_count && h.held.len() as u32 != wl.replicas)
                || h.held
                    .iter()
                    .any(|x| !matches!(x, Held::Milli(m) if *m == milli))
            {
                out.push(
                    "FP855",
                    sp(&pw.name),
                    format!(
                        "`{}` needs {} shares of {milli} thousandths of a GPU",
                        wl.name, wl.replicas
                    ),
                );
            }
            (
                h.held.len() as f64 * milli as f64 / 1000.0,
                h.held.len() as u32,
            )
        }
    }
}

/// FP855 for replicas of `k` whole GPUs: only whole GPUs, `k` for a gang, `k` per replica
/// (all replicas when the count is fixed), each replica on one node.
fn check_whole_gpus(
    cx: &Context,
    pw: &PlanWorkload,
    wl: &Workload,
    h: &Holding,
    k: u32,
    out: &mut Findings,
) -> (f64, u32) {
    if h.held.iter().any(|x| *x != Held::Whole) {
        out.push(
            "FP855",
            sp(&pw.name),
            format!("`{}` needs whole GPUs", wl.name),
        );
    }
    let distinct: BTreeSet<GpuId> = h.gpus.iter().copied().collect();
    let want = if wl.gang.is_some() {
        k
    } else if h.fixed_count {
        k * wl.replicas
    } else {
        distinct.len() as u32 / k.max(1) * k
    };
    let replicas = if wl.gang.is_some() {
        1
    } else {
        want / k.max(1)
    };
    if distinct.len() as u32 != want {
        out.push(
            "FP855",
            sp(&pw.name),
            format!(
                "`{}` needs {want} GPUs and holds {}",
                wl.name,
                distinct.len()
            ),
        );
    }
    if wl.gang.is_none() {
        let mut per_node: BTreeMap<NodeId, u32> = BTreeMap::new();
        for &g in &distinct {
            *per_node.entry(cx.node_of(g)).or_default() += 1;
        }
        if per_node.values().any(|c| c % k != 0) {
            out.push(
                "FP855",
                sp(&pw.name),
                format!(
                    "a replica of `{}` ({k} GPUs) is split across nodes",
                    wl.name
                ),
            );
        }
    }
    (want as f64, replicas)
}

/// FP856 when a gang's GPUs span more than one domain of its required level.
fn check_topology(
    cx: &Context,
    pw: &PlanWorkload,
    wl: &Workload,
    gpus: &[GpuId],
    out: &mut Findings,
) {
    let Some(g) = &wl.gang else { return };
    let doms: BTreeSet<String> = gpus
        .iter()
        .map(|&x| cx.domain(cx.node_of(x), g.required))
        .collect();
    if doms.len() > 1 {
        out.push(
            "FP856",
            sp(&pw.name),
            format!(
                "gang `{}` must stay inside one {} and spans {}",
                wl.name,
                g.required.words(),
                doms.len()
            ),
        );
    }
}

/// FP857 for each required workload (GPU or host-only) the plan does not admit.
fn check_required(demand: &Demand, plan: &PlanDocument, out: &mut Findings) {
    let names = demand
        .workloads
        .iter()
        .map(|w| (w.name.as_str(), w.required))
        .chain(
            demand
                .host_workloads
                .iter()
                .map(|h| (h.name.as_str(), h.required)),
        );
    for (name, required) in names {
        let entry = plan.workloads.iter().find(|p| p.name.value == name);
        let admitted = plan
            .workloads
            .iter()
            .any(|p| p.name.value == name && p.admitted);
        if required && !admitted {
            out.push(
                "FP857",
                entry.and_then(|p| sp(&p.name)),
                format!("required workload `{name}` is not admitted"),
            );
        }
    }
}

/// The MIG layouts the plan's `gpus` entries declare, and where each GPU's entry is written.
fn plan_gpus(
    cx: &Context,
    plan: &PlanDocument,
) -> (BTreeMap<GpuId, Layout>, BTreeMap<GpuId, Option<Span>>) {
    let mut layouts: BTreeMap<GpuId, Layout> = BTreeMap::new();
    let mut gpu_entry: BTreeMap<GpuId, Option<Span>> = BTreeMap::new();
    for g in &plan.gpus {
        let Some(&id) = cx.gpu_by_name.get(&g.gpu.value) else {
            continue;
        };
        gpu_entry.entry(id).or_insert(sp(&g.gpu));
        if let Some(l) = &g.mig {
            layouts.insert(
                id,
                l.value
                    .split_whitespace()
                    .filter_map(|x| {
                        x.split_once('@')
                            .and_then(|(p, s)| Some((p.to_string(), s.parse().ok()?)))
                    })
                    .collect(),
            );
        }
    }
    (layouts, gpu_entry)
}

/// One GPU's holders: used in one way only and by at most one whole-GPU holder (FP858), a
/// valid MIG layout holding every instance once (FP859) among tenants that allow MIG
/// co-tenancy (FP860), shares within its compute and memory (FP858) among tenants that
/// share with each other (FP860). `mem_mib`: the GPU memory its shares ask.
fn check_gpu(
    cx: &Context,
    g: GpuId,
    hs: &[Holder],
    gpu_at: Option<Span>,
    layout: Option<&Layout>,
    mem_mib: u64,
    out: &mut Findings,
) {
    let demand = cx.demand;
    let t = cx.fabric.template_of(cx.node_of(g));
    let name = gpu_name(cx.fabric, g);
    let tenants: BTreeSet<TenantId> = hs
        .iter()
        .map(|(w, _, _)| demand.workloads[w.index()].tenant)
        .collect();
    let wholes = hs.iter().filter(|(_, h, _)| *h == Held::Whole).count();
    let migs: Layout = hs
        .iter()
        .filter_map(|(_, h, _)| match h {
            Held::Mig(p, s) => Some((p.clone(), *s)),
            _ => None,
        })
        .collect();
    let shares: Vec<i64> = hs
        .iter()
        .filter_map(|(_, h, _)| match h {
            Held::Milli(m) => Some(*m),
            _ => None,
        })
        .collect();
    let kinds = (wholes > 0) as u8 + (!migs.is_empty()) as u8 + (!shares.is_empty()) as u8;
    if kinds > 1 || wholes > 1 {
        out.push("FP858", gpu_at, format!("GPU `{name}` is used in incompatible ways (whole, MIG, shared) or by two whole-GPU holders"));
        return;
    }
    if !migs.is_empty() {
        let Some(table) = cx.catalog.gpu(&t.gpu_model).and_then(|m| m.mig.as_ref()) else {
            out.push("FP859", gpu_at, format!("GPU `{name}` has no MIG support"));
            return;
        };
        let layout = layout.cloned().unwrap_or_else(|| migs.clone());
        check_mig_layout(table, &name, gpu_at, &layout, &migs, out);
        // MIG isolation: co-tenancy only among tenants that allow it.
        if tenants.len() > 1
            && tenants
                .iter()
                .any(|&t| demand.tenant(t).isolation != (Isolation::Mig { co_tenancy: true }))
        {
            out.push(
                "FP860",
                gpu_at,
                format!("GPU `{name}` mixes tenants' MIG instances without co-tenancy"),
            );
        }
    }
    let mem_cap = cx
        .catalog
        .gpu(&t.gpu_model)
        .map(|m| m.memory_gib * 1024.0)
        .unwrap_or(0.0);
    if mem_cap > 0.0 && mem_mib as f64 > mem_cap + 1e-6 {
        out.push(
            "FP858",
            gpu_at,
            format!("GPU `{name}` holds shares asking {mem_mib} MiB of its {mem_cap:.0} MiB"),
        );
    }
    let milli: i64 = shares.iter().sum();
    if milli > 1000 {
        out.push(
            "FP858",
            gpu_at,
            format!("GPU `{name}` is time-sliced beyond one GPU ({milli} thousandths)"),
        );
    }
    if !shares.is_empty() {
        check_sharing(demand, &name, gpu_at, &tenants, out);
    }
}

/// FP859 unless `layout` is a valid MIG layout of `table` holding each instance in `migs`,
/// each given to one replica only.
fn check_mig_layout(
    table: &mig::MigTable,
    name: &str,
    gpu_at: Option<Span>,
    layout: &[(String, u8)],
    migs: &[(String, u8)],
    out: &mut Findings,
) {
    let mut placements = Vec::new();
    for (p, s) in layout {
        match table.profile_index(p) {
            Some(i) => placements.push(Placement {
                profile: i,
                start: *s,
            }),
            None => out.push(
                "FP859",
                gpu_at,
                format!("GPU `{name}` has unknown MIG profile `{p}`"),
            ),
        }
    }
    if let Err(e) = mig::check_layout(table, mig::Rules::default(), &placements) {
        out.push(
            "FP859",
            gpu_at,
            format!(
                "GPU `{name}` has an invalid MIG layout: {} ({})",
                e.why, e.rule
            ),
        );
    }
    let mut used = BTreeSet::new();
    for m in migs {
        if !layout.contains(m) {
            out.push(
                "FP859",
                gpu_at,
                format!(
                    "GPU `{name}` has no instance `{}@{}` in its layout",
                    m.0, m.1
                ),
            );
        }
        if !used.insert(m.clone()) {
            out.push(
                "FP859",
                gpu_at,
                format!(
                    "instance `{}@{}` on GPU `{name}` is given to two replicas",
                    m.0, m.1
                ),
            );
        }
    }
}

/// FP860 for each pair of tenants time-slicing one GPU that do not both list the other in
/// `share_with`.
fn check_sharing(
    demand: &Demand,
    name: &str,
    gpu_at: Option<Span>,
    tenants: &BTreeSet<TenantId>,
    out: &mut Findings,
) {
    let ts: Vec<TenantId> = tenants.iter().copied().collect();
    for (i, &a) in ts.iter().enumerate() {
        for &b in &ts[i + 1..] {
            let ok = demand.tenant(a).share_with.contains(&b)
                && demand.tenant(b).share_with.contains(&a);
            if !ok {
                out.push(
                    "FP860",
                    gpu_at,
                    format!(
                        "GPU `{name}` is time-sliced by `{}` and `{}`, which do not share",
                        demand.tenant(a).name,
                        demand.tenant(b).name
                    ),
                );
            }
        }
    }
}

/// FP863 for a node asked more host CPU or memory than its template offers.
fn check_host_capacity(cx: &Context, tally: &Tally, out: &mut Findings) {
    for (&n, &(cpu, mem)) in &tally.node_host {
        let node = &cx.fabric.nodes[n.index()];
        let t = &cx.fabric.templates[node.template.index()];
        let at = tally.node_at.get(&n).copied().flatten();
        if let Some(c) = t.cpu_millicores.filter(|&c| cpu > c) {
            out.push(
                "FP863",
                at,
                format!(
                    "node `{}` is asked {cpu} millicores of CPU and has {c}",
                    node.name
                ),
            );
        }
        if let Some(c) = t.memory_mib.filter(|&c| mem > c) {
            out.push(
                "FP863",
                at,
                format!(
                    "node `{}` is asked {mem} MiB of memory and has {c}",
                    node.name
                ),
            );
        }
    }
}

/// The held GPUs summed per node (tenants) and per rack (power), with the first holder's
/// assignment as where a finding points.
struct GpuUse {
    node_tenants: BTreeMap<NodeId, BTreeSet<TenantId>>,
    node_at: BTreeMap<NodeId, Option<Span>>,
    rack_kw: BTreeMap<RackId, f64>,
    rack_at: BTreeMap<RackId, Option<Span>>,
}

impl GpuUse {
    fn of(cx: &Context, holders: &BTreeMap<GpuId, Vec<Holder>>) -> Self {
        let mut u = GpuUse {
            node_tenants: BTreeMap::new(),
            node_at: BTreeMap::new(),
            rack_kw: BTreeMap::new(),
            rack_at: BTreeMap::new(),
        };
        for (&g, hs) in holders {
            let node = cx.node_of(g);
            let t = cx.fabric.template_of(node);
            let rack = cx.fabric.nodes[node.index()].rack;
            u.node_at.entry(node).or_insert(hs[0].2);
            u.rack_at.entry(rack).or_insert(hs[0].2);
            *u.rack_kw.entry(rack).or_default() += t.power_kw / t.gpus as f64;
            u.node_tenants.entry(node).or_default().extend(
                hs.iter()
                    .map(|(w, _, _)| cx.demand.workloads[w.index()].tenant),
            );
        }
        u
    }
}

/// FP860 for a node holding several tenants' GPUs where one of them is `dedicated-node`.
fn check_dedicated_nodes(cx: &Context, gpu_use: &GpuUse, out: &mut Findings) {
    for node in super::verify_host::dedicated_conflicts(cx.demand, &gpu_use.node_tenants) {
        out.push(
            "FP860",
            gpu_use.node_at.get(&node).copied().flatten(),
            format!(
                "node `{}` is dedicated but holds several tenants",
                cx.fabric.nodes[node.index()].name
            ),
        );
    }
}

/// FP861 for a rack whose held GPUs draw more than its power budget.
fn check_rack_power(cx: &Context, gpu_use: &GpuUse, out: &mut Findings) {
    for (r, kw) in &gpu_use.rack_kw {
        let rack = &cx.fabric.racks[r.index()];
        if *kw > rack.power_kw + 1e-6 {
            out.push(
                "FP861",
                gpu_use.rack_at.get(r).copied().flatten(),
                format!(
                    "rack `{}` draws {kw:.1} kW of a {:.1} kW budget",
                    rack.name, rack.power_kw
                ),
            );
        }
    }
}

/// FP862 for a tenant over its budget, GPU cap or power cap.
fn check_tenant_limits(demand: &Demand, tally: &Tally, out: &mut Findings) {
    for (t, ten) in demand.tenants.iter().enumerate() {
        let at = tally.tenant_at[t];
        if let Some(b) = ten.budget_usd_per_hour {
            if tally.tenant_usd[t] > b + 1e-6 {
                out.push(
                    "FP862",
                    at,
                    format!(
                        "tenant `{}` spends ${:.2}/h of a ${b:.2}/h budget",
                        ten.name, tally.tenant_usd[t]
                    ),
                );
            }
        }
        if let Some(c) = ten.max_gpus {
            if tally.tenant_gpus[t] > c + 1e-6 {
                out.push(
                    "FP862",
                    at,
                    format!(
                        "tenant `{}` holds {} GPUs of a {c} cap",
                        ten.name, tally.tenant_gpus[t]
                    ),
                );
            }
        }
        if let Some(c) = ten.max_power_kw {
            if tally.tenant_kw[t] > c + 1e-6 {
                out.push(
                    "FP862",
                    at,
                    format!(
                        "tenant `{}` draws {:.1} kW of a {c} kW cap",
                        ten.name, tally.tenant_kw[t]
                    ),
                );
            }
        }
    }
}

/// A host-only workload's entry (`hosts:`, one per replica): on nodes of the fabric (FP867),
/// as many as its `replicas` when admitted and none when not, each with the demand's CPU and
/// memory (FP867); what they ask is added to the node's host use (FP863, checked later).
fn verify_host(
    hw: &HostWorkload,
    pw: &PlanWorkload,
    node_by_name: &BTreeMap<&str, NodeId>,
    tally: &mut Tally,
    out: &mut Findings,
) {
    if let Some(a) = pw.assignments.first() {
        out.push(
            "FP867",
            sp(&a.gpu),
            format!(
                "host-only workload `{}` holds GPU `{}`; it asks no GPU",
                hw.name, a.gpu.value
            ),
        );
    }
    if !pw.admitted {
        if let Some(h0) = pw.hosts.first() {
            out.push(
                "FP851",
                sp(&h0.node),
                format!("`{}` is not admitted but has hosts", hw.name),
            );
        }
        return;
    }
    if pw.hosts.len() != hw.replicas as usize {
        out.push(
            "FP867",
            sp(&pw.name),
            format!(
                "host-only workload `{}` runs {} replica(s) and asks {}",
                hw.name,
                pw.hosts.len(),
                hw.replicas
            ),
        );
    }
    for h in &pw.hosts {
        let Some(&n) = node_by_name.get(h.node.value.as_str()) else {
            out.push(
                "FP867",
                sp(&h.node),
                format!(
                    "host-only workload `{}` runs on node `{}`, which the fabric lacks",
                    hw.name, h.node.value
                ),
            );
            continue;
        };
        if h.cpu_millicores.value != hw.cpu_millicores as i64
            || h.memory_mib.value != hw.memory_mib as i64
        {
            out.push(
                "FP867",
                sp(&h.cpu_millicores),
                format!(
                    "a replica of `{}` takes {} millicores and {} MiB; the demand asks {} and {}",
                    hw.name,
                    h.cpu_millicores.value,
                    h.memory_mib.value,
                    hw.cpu_millicores,
                    hw.memory_mib
                ),
            );
        }
        // The demand's ask is what the node must hold.
        tally.node_at.entry(n).or_insert_with(|| sp(&h.node));
        let e = tally.node_host.entry(n).or_default();
        e.0 += hw.cpu_millicores;
        e.1 += hw.memory_mib;
    }
}
