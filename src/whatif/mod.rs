//! Failure and maintenance what-ifs (docs/what-if.md): what a set of failures takes down,
//! the degraded fabric the planner re-plans on, the current state carried over to it, and the
//! N-1 sweep (how much spare capacity each level needs to survive any single failure there).
//!
//! No IO and no planner: `commands::whatif` plans on [`Degraded::fabric`] with the existing
//! `--current`/`--freeze` machinery and builds the report from what this module returns.
//!
//! The rules (one place, so the sweep and the named failures agree):
//! - a failed switch is down; a rack takes its nodes and its switches; a plane takes every
//!   switch of that plane;
//! - a switch whose design has uplinks is cut off (down) when all of them lead to down
//!   switches, from the top tier down;
//! - a NIC port is down when the switch it is cabled to is down;
//! - a node is down when it fails, its rack fails, or one of its GPUs loses every NIC port
//!   that serves it (a rail-aligned collective needs every rank's rail; fabplan does not
//!   model PXN rerouting over NVLink, so this is the conservative reading);
//! - a failed NVLink switch tray breaks its rack-scale domain: its nodes stay up, each a
//!   domain of its own (no multi-node NVLink gang can use them).

pub mod degrade;
pub mod report;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::demand::Demand;
use crate::model::plan::{Assignment, Current};
use crate::model::{DomainId, DomainKind, Endpoint, Fabric, GpuId, NodeId, SwitchId, Tier};

pub use degrade::{degrade, Degraded};

/// What can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailKind {
    Node,
    Switch,
    Rack,
    /// One NVLink switch tray of a rack-scale domain (named by the domain).
    NvlinkTray,
    Plane,
}

impl FailKind {
    pub const ALL: [FailKind; 5] = [
        FailKind::Node,
        FailKind::Switch,
        FailKind::Rack,
        FailKind::NvlinkTray,
        FailKind::Plane,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailKind::Node => "node",
            FailKind::Switch => "switch",
            FailKind::Rack => "rack",
            FailKind::NvlinkTray => "nvlink-tray",
            FailKind::Plane => "plane",
        }
    }
}

/// One validated failure.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    Node(NodeId),
    Switch(SwitchId),
    Rack(usize),
    NvlinkTray(DomainId),
    Plane(u32),
}

impl Failure {
    pub fn kind(&self) -> FailKind {
        match self {
            Failure::Node(_) => FailKind::Node,
            Failure::Switch(_) => FailKind::Switch,
            Failure::Rack(_) => FailKind::Rack,
            Failure::NvlinkTray(_) => FailKind::NvlinkTray,
            Failure::Plane(_) => FailKind::Plane,
        }
    }

    /// `kind:name`, as `--fail` spells it.
    pub fn spec(&self, f: &Fabric) -> String {
        let name = match self {
            Failure::Node(n) => f.nodes[n.index()].name.clone(),
            Failure::Switch(s) => f.switches[s.index()].name.clone(),
            Failure::Rack(r) => f.racks[*r].name.clone(),
            Failure::NvlinkTray(d) => f.nvlink_domains[d.index()].name.clone(),
            Failure::Plane(p) => p.to_string(),
        };
        format!("{}:{name}", self.kind().as_str())
    }
}

/// Why a `--fail` value was refused: a message and a help line (did-you-mean).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFailure {
    pub message: String,
    pub help: String,
}

/// Edit distance, for did-you-mean (names are short).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = if ca == b[j] {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest of `names` to `name`, when it is close enough to be a typo.
fn closest<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    names
        .map(|n| (distance(&lower, &n.to_ascii_lowercase()), n))
        .filter(|(d, n)| *d <= (n.len().max(3) / 3).max(1))
        .min()
        .map(|(_, n)| n)
}

fn unknown(kind: FailKind, spec: &str, name: &str, names: Vec<&str>, what: &str) -> BadFailure {
    let help = match closest(name, names.iter().copied()) {
        Some(c) => format!("did you mean `{}:{c}`?", kind.as_str()),
        None if names.is_empty() => format!("the fabric has no {what}"),
        None => {
            let shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
            let more = if names.len() > 5 {
                format!(" and {} more", names.len() - 5)
            } else {
                String::new()
            };
            format!("the fabric's {what}: {}{more}", shown.join(", "))
        }
    };
    BadFailure {
        message: format!(
            "`--fail {spec}`: the fabric has no {} `{name}`",
            kind.as_str()
        ),
        help,
    }
}

/// Reads one `--fail KIND:NAME` against the fabric (names compare case-insensitively, as
/// host names do).
pub fn parse_failure(spec: &str, f: &Fabric) -> Result<Failure, BadFailure> {
    let kinds = FailKind::ALL.map(|k| k.as_str()).join(", ");
    let Some((kind, name)) = spec.split_once(':') else {
        return Err(BadFailure {
            message: format!("`--fail {spec}` is not `KIND:NAME`"),
            help: format!("write `--fail switch:leaf3`, `--fail node:dgx017`, `--fail rack:r2`, `--fail nvlink-tray:DOMAIN` or `--fail plane:1` (kinds: {kinds})"),
        });
    };
    let Some(kind) = FailKind::ALL
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(kind))
    else {
        let help = match closest(kind, FailKind::ALL.iter().map(|k| k.as_str())) {
            Some(c) => format!("did you mean `{c}:{name}`? (kinds: {kinds})"),
            None => format!("kinds: {kinds}"),
        };
        return Err(BadFailure {
            message: format!("`--fail {spec}`: unknown kind `{kind}`"),
            help,
        });
    };
    let eq = |a: &str| a.eq_ignore_ascii_case(name);
    match kind {
        FailKind::Node => f
            .nodes
            .iter()
            .position(|n| eq(&n.name))
            .map(|i| Failure::Node(NodeId::from_index(i)))
            .ok_or_else(|| {
                unknown(
                    kind,
                    spec,
                    name,
                    f.nodes.iter().map(|n| n.name.as_str()).collect(),
                    "nodes",
                )
            }),
        FailKind::Switch => f
            .switches
            .iter()
            .position(|s| eq(&s.name))
            .map(|i| Failure::Switch(SwitchId::from_index(i)))
            .ok_or_else(|| {
                unknown(
                    kind,
                    spec,
                    name,
                    f.switches.iter().map(|s| s.name.as_str()).collect(),
                    "switches",
                )
            }),
        FailKind::Rack => f
            .racks
            .iter()
            .position(|r| eq(&r.name))
            .map(Failure::Rack)
            .ok_or_else(|| {
                unknown(
                    kind,
                    spec,
                    name,
                    f.racks.iter().map(|r| r.name.as_str()).collect(),
                    "racks",
                )
            }),
        FailKind::NvlinkTray => {
            let trays: Vec<&str> = f
                .nvlink_domains
                .iter()
                .filter(|d| d.kind == DomainKind::Nvl72)
                .map(|d| d.name.as_str())
                .collect();
            match f.nvlink_domains.iter().position(|d| eq(&d.name)) {
                Some(i) if f.nvlink_domains[i].kind == DomainKind::Nvl72 => {
                    Ok(Failure::NvlinkTray(DomainId::from_index(i)))
                }
                Some(_) => Err(BadFailure {
                    message: format!("`--fail {spec}`: `{name}` is an 8-GPU board, whose NVSwitches are on the board, not in switch trays"),
                    help: format!("fail the node instead: `--fail node:{name}`"),
                }),
                None => {
                    // An HGX board's domain is named after its node: say so.
                    if let Some(n) = f.nodes.iter().find(|n| eq(&n.name)) {
                        return Err(BadFailure {
                            message: format!("`--fail {spec}`: `{name}` is a node, not a rack-scale NVLink domain"),
                            help: format!("fail the node: `--fail node:{}`", n.name),
                        });
                    }
                    Err(unknown(kind, spec, name, trays, "rack-scale NVLink domains (NVL72)"))
                }
            }
        }
        FailKind::Plane => {
            let planes: BTreeSet<u32> = f.switches.iter().map(|s| s.plane).collect();
            match name.parse::<u32>() {
                Ok(p) if planes.contains(&p) => Ok(Failure::Plane(p)),
                _ => {
                    let list: Vec<String> = planes.iter().map(|p| p.to_string()).collect();
                    Err(BadFailure {
                        message: format!("`--fail {spec}`: the fabric has no plane `{name}`"),
                        help: format!("the fabric's planes: {}", list.join(", ")),
                    })
                }
            }
        }
    }
}

/// Why something is down: the failure that took it down, in words.
pub type Reason = String;

/// What a set of failures takes down.
#[derive(Debug, Clone, Default)]
pub struct Impact {
    pub down_switches: BTreeMap<SwitchId, Reason>,
    pub down_nodes: BTreeMap<NodeId, Reason>,
    pub broken_domains: BTreeMap<DomainId, Reason>,
}

impl Impact {
    /// Whether a GPU (global index) is on a down node.
    pub fn gpu_down(&self, f: &Fabric, gpu: GpuId) -> bool {
        self.down_nodes.contains_key(&f.gpus[gpu.index()].node)
    }
}

/// Applies the rules of the module doc to a set of failures.
pub fn impact(f: &Fabric, failures: &[Failure]) -> Impact {
    impact_with(f, &Adjacency::new(f), failures)
}

/// [`impact`] with the adjacency computed once.
pub fn impact_with(f: &Fabric, adj: &Adjacency, failures: &[Failure]) -> Impact {
    let mut im = Impact::default();
    for fl in failures {
        let failed = format!("failed (`--fail {}`)", fl.spec(f));
        let spec = match fl {
            Failure::Rack(_) => format!("in a failed rack (`--fail {}`)", fl.spec(f)),
            Failure::Plane(_) => format!("on a failed plane (`--fail {}`)", fl.spec(f)),
            _ => failed.clone(),
        };
        match fl {
            Failure::Node(n) => {
                im.down_nodes.entry(*n).or_insert_with(|| spec.clone());
            }
            Failure::Switch(s) => {
                im.down_switches.entry(*s).or_insert_with(|| spec.clone());
            }
            Failure::Rack(r) => {
                for n in &f.racks[*r].nodes {
                    im.down_nodes.entry(*n).or_insert_with(|| spec.clone());
                }
                for s in &f.racks[*r].switches {
                    im.down_switches.entry(*s).or_insert_with(|| spec.clone());
                }
            }
            Failure::NvlinkTray(d) => {
                im.broken_domains.entry(*d).or_insert_with(|| spec.clone());
            }
            Failure::Plane(p) => {
                for (i, s) in f.switches.iter().enumerate() {
                    if s.plane == *p {
                        im.down_switches
                            .entry(SwitchId::from_index(i))
                            .or_insert_with(|| spec.clone());
                    }
                }
            }
        }
    }
    apply_rules(f, adj, &mut im);
    im
}

/// The cabling facts the rules need, computed once (the sweep applies the rules thousands of
/// times): each switch's uplinks and downlinks, and the nodes cabled to it.
pub struct Adjacency {
    ups: Vec<Vec<SwitchId>>,
    downs: Vec<Vec<SwitchId>>,
    nodes: Vec<Vec<NodeId>>,
}

impl Adjacency {
    pub fn new(f: &Fabric) -> Adjacency {
        let level = |s: SwitchId| f.switches[s.index()].tier.level();
        let n = f.switches.len();
        let mut a = Adjacency {
            ups: vec![Vec::new(); n],
            downs: vec![Vec::new(); n],
            nodes: vec![Vec::new(); n],
        };
        for l in &f.links {
            match (&l.a, &l.b) {
                (Endpoint::Switch(x, _), Endpoint::Switch(y, _)) => {
                    let (lo, hi) = match level(*x).cmp(&level(*y)) {
                        std::cmp::Ordering::Less => (*x, *y),
                        std::cmp::Ordering::Greater => (*y, *x),
                        std::cmp::Ordering::Equal => continue,
                    };
                    a.ups[lo.index()].push(hi);
                    a.downs[hi.index()].push(lo);
                }
                (Endpoint::Nic(c), Endpoint::Switch(s, _))
                | (Endpoint::Switch(s, _), Endpoint::Nic(c)) => {
                    a.nodes[s.index()].push(f.nics[c.index()].node);
                }
                _ => {}
            }
        }
        for v in a.ups.iter_mut().chain(a.downs.iter_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        for v in &mut a.nodes {
            v.sort_unstable();
            v.dedup();
        }
        a
    }
}

/// Rules 2-4 of the module doc on an impact holding the direct failures. Only switches below
/// a down switch and nodes cabled to a down switch are looked at.
fn apply_rules(f: &Fabric, adj: &Adjacency, im: &mut Impact) {
    // Top tier first, so a spine cut off from every core takes its leaves' uplinks with it.
    for tier in [Tier::Spine, Tier::Leaf] {
        let candidates: BTreeSet<SwitchId> = im
            .down_switches
            .keys()
            .flat_map(|d| adj.downs[d.index()].iter().copied())
            .filter(|s| f.switches[s.index()].tier == tier)
            .collect();
        for id in candidates {
            let ups = &adj.ups[id.index()];
            if im.down_switches.contains_key(&id)
                || ups.is_empty()
                || !ups.iter().all(|u| im.down_switches.contains_key(u))
            {
                continue;
            }
            let via: BTreeSet<&str> = ups.iter().map(|u| im.down_switches[u].as_str()).collect();
            let via: Vec<&str> = via.into_iter().collect();
            let why = format!("every uplink lost ({})", via.join(", "));
            im.down_switches.insert(id, why);
        }
    }
    // A node is down when one of its GPUs has NIC ports and all of them are down.
    let candidates: BTreeSet<NodeId> = im
        .down_switches
        .keys()
        .flat_map(|s| adj.nodes[s.index()].iter().copied())
        .collect();
    for id in candidates {
        if im.down_nodes.contains_key(&id) {
            continue;
        }
        let node = &f.nodes[id.index()];
        let t = f.template_of(id);
        let mut per_gpu: BTreeMap<u32, (usize, Vec<(SwitchId, String)>)> = BTreeMap::new();
        for (k, port) in t.nics.iter().enumerate() {
            let Some(g) = port.gpu else { continue };
            let nic = &f.nics[node.first_nic.index() + k];
            let Some(link) = nic.link else { continue };
            let l = &f.links[link.index()];
            let sw = match (&l.a, &l.b) {
                (Endpoint::Switch(s, _), _) | (_, Endpoint::Switch(s, _)) => *s,
                _ => continue,
            };
            let e = per_gpu.entry(g).or_default();
            e.0 += 1;
            if im.down_switches.contains_key(&sw) {
                e.1.push((sw, port.port.clone()));
            }
        }
        if let Some((g, (_, lost))) = per_gpu
            .iter()
            .find(|(_, (total, lost))| *total > 0 && lost.len() == *total)
        {
            let (sw, port) = &lost[0];
            let why = format!(
                "GPU {g} loses its only NIC `{port}`: `{}` is {}",
                f.switches[sw.index()].name,
                im.down_switches[sw]
            );
            im.down_nodes.insert(id, why);
        }
    }
}

/// A running workload the failures displace: some of its GPUs are on a down node (or, for a
/// gang, it spans a broken NVLink domain).
#[derive(Debug, Clone)]
pub struct Displaced {
    pub workload: String,
    /// A training gang (or a workload the demand no longer has): displaced whole.
    pub whole: bool,
    /// Its GPUs before the failure (global indices in the full fabric).
    pub gpus: Vec<GpuId>,
    /// The GPUs its surviving replicas keep (full fabric; empty when displaced whole or when
    /// every replica was lost).
    pub kept: Vec<GpuId>,
    /// What it held on down nodes (the lost replicas; a gang: all of it).
    pub lost: Vec<Assignment>,
    /// What its surviving replicas hold (full fabric).
    pub survivors: Vec<Assignment>,
    /// Nodes it ran on.
    pub nodes: Vec<NodeId>,
    /// The down nodes among them, with why they are down.
    pub lost_on: Vec<NodeId>,
    /// The broken NVLink domains it spanned.
    pub broken_domains: Vec<DomainId>,
}

/// Whether a running workload is displaced whole by a failure: a training gang (a gang with
/// one rank lost cannot run), or a name the demand no longer has (nothing to re-place).
fn whole_gang(demand: &Demand, name: &str) -> bool {
    demand
        .workloads
        .iter()
        .find(|w| w.name == name)
        .is_none_or(|w| w.gang.is_some())
}

/// Splits the current state into the workloads the failures displace and the rest, carried
/// over onto the degraded fabric's GPU indices (`Degraded::gpu_map`). Disruption-minimal: a
/// gang is displaced whole (a gang with one rank lost cannot run; a multi-node gang on a
/// broken NVLink domain too), but a workload of independent replicas (inference, agents)
/// loses only the replicas on down nodes: its surviving replicas are carried over as
/// partially frozen (`Current::partial`), so the planner keeps them where they are and
/// re-places only the lost ones. Replicas sit on one node each, so a broken NVLink domain
/// does not displace them.
pub fn carry_over(
    f: &Fabric,
    demand: &Demand,
    im: &Impact,
    cur: &Current,
    d: &Degraded,
) -> (Current, Vec<Displaced>) {
    let mut kept = Current::default();
    let mut displaced = Vec::new();
    let carry = |asg: &[Assignment]| -> Vec<Assignment> {
        let mut v: Vec<Assignment> = asg
            .iter()
            .filter_map(|a| {
                d.gpu_map[a.gpu.index()].map(|g| Assignment {
                    gpu: g,
                    hold: a.hold,
                })
            })
            .collect();
        v.sort();
        v
    };
    for (name, asg) in &cur.running {
        let whole = whole_gang(demand, name);
        let down = |a: &Assignment| im.down_nodes.contains_key(&f.gpus[a.gpu.index()].node);
        let lost: BTreeSet<NodeId> = asg
            .iter()
            .map(|a| f.gpus[a.gpu.index()].node)
            .filter(|n| im.down_nodes.contains_key(n))
            .collect();
        // A gang on a broken NVLink domain is displaced too when it spans several nodes of it.
        let nodes: BTreeSet<NodeId> = asg.iter().map(|a| f.gpus[a.gpu.index()].node).collect();
        let broken: BTreeSet<DomainId> = if whole && nodes.len() > 1 {
            nodes
                .iter()
                .filter_map(|n| f.nodes[n.index()].nvlink_domain)
                .filter(|dm| im.broken_domains.contains_key(dm))
                .collect()
        } else {
            BTreeSet::new()
        };
        if lost.is_empty() && broken.is_empty() {
            kept.running.insert(name.clone(), carry(asg));
            continue;
        }
        let (survivors, gone): (Vec<Assignment>, Vec<Assignment>) = if whole {
            (Vec::new(), asg.clone())
        } else {
            asg.iter().partition(|a| !down(a))
        };
        if !survivors.is_empty() {
            kept.running.insert(name.clone(), carry(&survivors));
            kept.partial.insert(name.clone());
        }
        let ids = |v: &[Assignment]| {
            let mut g: Vec<GpuId> = v.iter().map(|a| a.gpu).collect();
            g.sort_unstable();
            g.dedup();
            g
        };
        displaced.push(Displaced {
            workload: name.clone(),
            whole,
            gpus: ids(asg),
            kept: ids(&survivors),
            lost: gone,
            survivors,
            nodes: nodes.into_iter().collect(),
            lost_on: lost.into_iter().collect(),
            broken_domains: broken.into_iter().collect(),
        });
    }
    for (g, layout) in &cur.mig {
        if let Some(ng) = d.gpu_map[g.index()] {
            kept.mig.insert(ng, layout.clone());
        }
    }
    (kept, displaced)
}

/// What every element of the sweep shares: who holds each GPU, and how many are free.
struct SweepCtx<'a> {
    demand: Option<&'a Demand>,
    used: BTreeMap<GpuId, BTreeSet<&'a str>>,
    free_before: usize,
}

/// One element of a level in the N-1 sweep.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepElement {
    /// `kind:name`, as `--fail` spells it.
    pub fail: String,
    pub nodes_down: usize,
    pub gpus_down: usize,
    /// Running workloads it displaces.
    pub workloads_displaced: usize,
    /// GPUs to re-place (whole, MIG or shared: each GPU counted once): all of a displaced
    /// gang's, only the lost replicas' of other work (its survivors stay put).
    pub gpus_displaced: usize,
    /// GPUs left free on the surviving fabric once the displaced work has let go of its GPUs.
    pub gpus_free_after: usize,
}

/// The N-1 sweep of one level: every single failure of that level, the worst first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LevelSweep {
    pub level: String,
    pub elements: usize,
    /// The most GPUs any single failure of this level displaces: the spare capacity (in
    /// free GPUs elsewhere) the level needs so any one failure can re-place.
    pub spare_gpus_needed: usize,
    /// The fewest GPUs left free after any single failure of this level.
    pub spare_gpus_available: usize,
    /// Failures whose displaced GPUs exceed the free GPUs left (the count alone says they
    /// cannot all re-place; passing the count does not prove they can).
    pub short: Vec<String>,
    /// The failure that displaces the most (ties: the first by name).
    pub worst: Option<SweepElement>,
}

fn sweep_one(
    f: &Fabric,
    adj: &Adjacency,
    cur: &Current,
    fl: Failure,
    c: &SweepCtx,
) -> SweepElement {
    let im = impact_with(f, adj, std::slice::from_ref(&fl));
    let mut displaced: BTreeSet<&str> = BTreeSet::new();
    let mut displaced_gpus: BTreeSet<GpuId> = BTreeSet::new();
    // Only workloads on down nodes or broken domains can be displaced.
    let mut touched: BTreeSet<&str> = BTreeSet::new();
    for n in im.down_nodes.keys() {
        for g in f.node_gpus(*n) {
            if let Some(h) = c.used.get(&g) {
                touched.extend(h.iter().copied());
            }
        }
    }
    for d in im.broken_domains.keys() {
        for n in &f.nvlink_domains[d.index()].nodes {
            for g in f.node_gpus(*n) {
                if let Some(h) = c.used.get(&g) {
                    touched.extend(h.iter().copied());
                }
            }
        }
    }
    // Workloads displaced whole (gangs): their surviving GPUs are freed. Replicas lose only
    // what was on down nodes (`carry_over`).
    let mut whole: BTreeSet<&str> = BTreeSet::new();
    for w in touched {
        let asg = &cur.running[w];
        let gang = c.demand.is_none_or(|d| whole_gang(d, w));
        let nodes: BTreeSet<NodeId> = asg.iter().map(|a| f.gpus[a.gpu.index()].node).collect();
        let lost = nodes.iter().any(|n| im.down_nodes.contains_key(n));
        let broken = gang
            && nodes.len() > 1
            && nodes.iter().any(|n| {
                f.nodes[n.index()]
                    .nvlink_domain
                    .is_some_and(|d| im.broken_domains.contains_key(&d))
            });
        if gang && (lost || broken) {
            displaced.insert(w);
            whole.insert(w);
            displaced_gpus.extend(asg.iter().map(|a| a.gpu));
        } else if lost {
            displaced.insert(w);
            displaced_gpus.extend(asg.iter().map(|a| a.gpu).filter(|g| im.gpu_down(f, *g)));
        }
    }
    let workloads = displaced.len();
    let gpus_down = im
        .down_nodes
        .keys()
        .map(|n| f.template_of(*n).gpus as usize)
        .sum();
    // Free after: GPUs free before on surviving nodes, plus surviving GPUs that only
    // displaced work held.
    let free_on_down = im
        .down_nodes
        .keys()
        .flat_map(|n| f.node_gpus(*n))
        .filter(|g| !c.used.contains_key(g))
        .count();
    let freed = displaced_gpus
        .iter()
        .filter(|g| !im.gpu_down(f, **g))
        .filter(|g| c.used[*g].iter().all(|w| whole.contains(w)))
        .count();
    let free_after = c.free_before - free_on_down + freed;
    SweepElement {
        fail: fl.spec(f),
        nodes_down: im.down_nodes.len(),
        gpus_down,
        workloads_displaced: workloads,
        gpus_displaced: displaced_gpus.len(),
        gpus_free_after: free_after,
    }
}

/// The N-1 sweep: for each level (rack, leaf, spine, core, plane, NVLink tray, node), every
/// single failure of it against the current state. A count of GPUs, not a re-plan: it is a
/// necessary condition (a failure that is short here cannot be survived), and names the
/// failures worth re-planning with `--fail`.
/// Without a demand, every running workload counts as a gang (displaced whole).
pub fn sweep(f: &Fabric, demand: Option<&Demand>, cur: &Current) -> Vec<LevelSweep> {
    let mut used: BTreeMap<GpuId, BTreeSet<&str>> = BTreeMap::new();
    for (w, asg) in &cur.running {
        for a in asg {
            used.entry(a.gpu).or_default().insert(w.as_str());
        }
    }
    let ctx = SweepCtx {
        demand,
        free_before: f.gpus.len() - used.len(),
        used,
    };
    let adj = Adjacency::new(f);
    let mut levels: Vec<(String, Vec<Failure>)> = vec![(
        "rack".into(),
        (0..f.racks.len())
            .filter(|&r| !f.racks[r].nodes.is_empty() || !f.racks[r].switches.is_empty())
            .map(Failure::Rack)
            .collect(),
    )];
    for tier in Tier::ALL {
        let members: Vec<Failure> = (0..f.switches.len())
            .filter(|&s| f.switches[s].tier == tier)
            .map(|s| Failure::Switch(SwitchId::from_index(s)))
            .collect();
        if !members.is_empty() {
            levels.push((tier.as_str().to_string(), members));
        }
    }
    // One plane is the whole fabric: not a level of its own.
    let planes: BTreeSet<u32> = f.switches.iter().map(|s| s.plane).collect();
    if planes.len() > 1 {
        levels.push((
            "plane".into(),
            planes.into_iter().map(Failure::Plane).collect(),
        ));
    }
    let trays: Vec<Failure> = (0..f.nvlink_domains.len())
        .filter(|&d| f.nvlink_domains[d].kind == DomainKind::Nvl72)
        .map(|d| Failure::NvlinkTray(DomainId::from_index(d)))
        .collect();
    if !trays.is_empty() {
        levels.push(("nvlink-tray".into(), trays));
    }
    levels.push((
        "node".into(),
        (0..f.nodes.len())
            .filter(|&n| f.template_of(NodeId::from_index(n)).gpus > 0)
            .map(|n| Failure::Node(NodeId::from_index(n)))
            .collect(),
    ));
    levels
        .into_iter()
        .map(|(level, members)| {
            let elements: Vec<SweepElement> = members
                .into_iter()
                .map(|m| sweep_one(f, &adj, cur, m, &ctx))
                .collect();
            let worst = elements
                .iter()
                .max_by(|a, b| {
                    a.gpus_displaced
                        .cmp(&b.gpus_displaced)
                        .then_with(|| b.fail.cmp(&a.fail))
                })
                .cloned();
            LevelSweep {
                level,
                elements: elements.len(),
                spare_gpus_needed: elements.iter().map(|e| e.gpus_displaced).max().unwrap_or(0),
                spare_gpus_available: elements
                    .iter()
                    .map(|e| e.gpus_free_after)
                    .min()
                    .unwrap_or(0),
                short: elements
                    .iter()
                    .filter(|e| e.gpus_displaced > e.gpus_free_after)
                    .map(|e| e.fail.clone())
                    .collect(),
                worst,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_and_closest() {
        assert_eq!(distance("leaf3", "leaf3"), 0);
        assert_eq!(distance("lef3", "leaf3"), 1);
        assert_eq!(
            closest("lef3", ["leaf3", "spine1"].into_iter()),
            Some("leaf3")
        );
        assert_eq!(closest("zzzzzz", ["leaf3", "spine1"].into_iter()), None);
    }
}
