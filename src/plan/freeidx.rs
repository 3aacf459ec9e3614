//! Indexes that spare the greedy hot paths of `state.rs` a scan per placement (issue 14 §3:
//! at 1M GPUs the greedy pass spent 42% of its time regrouping all 125,000 nodes by domain
//! for every gang, and 21% scanning every MIG GPU for a free instance).
//!
//! - [`GangIndex`]: per topology domain, the nodes with free GPUs of each (GPU model,
//!   openness class), ordered by (free GPUs, node), and per (model, tenant view, chunk size)
//!   each domain's number of free chunks, ordered by (chunks, domain). A gang then asks for
//!   the tightest domains that hold it instead of grouping every node. Node changes are
//!   recorded as they happen (`touch`) and applied before the next query (`flush`), so a
//!   placement that is rolled back, or that moves the same node several times, costs one
//!   update per node.
//! - [`MigIndex`]: MIG GPUs with a free instance of a profile, per (model, MIG group,
//!   profile), ordered by (free instances, GPU).
//! - [`ShareIndex`]: time-sliced GPUs per model, ordered by (free thousandths, GPU).
//!
//! Each index answers in the order the scan it replaces used (best fit, then lowest id), and
//! the caller still checks every condition the scan checked on the candidates it is given,
//! so the plans are the same (`index_matches_the_scan_on_random_cases` below compares whole
//! greedy plans with and without the indexes).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use crate::mig::{Placement, ProfileIdx};
use crate::model::demand::MILLI_PER_GPU;
use crate::model::{GpuId, TenantId, WorkloadId};

use super::state::{GeoNodeId, Geometry, GpuUse};

/// Who may put work on a node, as `State::node_open` decides it from the node's owner and
/// users: a node no one uses is open to every tenant; one used only by tenants without
/// dedicated-node isolation is open to those; one owned by a dedicated-node tenant is open
/// to that tenant only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Openness {
    Fresh,
    Shared,
    Owned(TenantId),
}

impl Openness {
    pub(super) fn of(owner: Option<TenantId>, users: &[TenantId]) -> Openness {
        match owner {
            Some(o) => Openness::Owned(o),
            None if users.is_empty() => Openness::Fresh,
            None => Openness::Shared,
        }
    }
}

/// The nodes a tenant may use, by class: a tenant without dedicated-node isolation sees fresh
/// and shared nodes, a dedicated-node tenant fresh nodes and its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum View {
    Open,
    Dedicated(TenantId),
}

impl View {
    fn sees(self, c: Openness) -> bool {
        match (self, c) {
            (_, Openness::Fresh) => true,
            (View::Open, Openness::Shared) => true,
            (View::Dedicated(t), Openness::Owned(o)) => t == o,
            _ => false,
        }
    }

    /// The (at most two) classes this view sees.
    fn classes(self) -> [Option<Openness>; 2] {
        match self {
            View::Open => [Some(Openness::Fresh), Some(Openness::Shared)],
            View::Dedicated(t) => [Some(Openness::Fresh), Some(Openness::Owned(t))],
        }
    }
}

/// Nodes of one (model, class) inside one domain, by (free GPUs, node); only nodes with at
/// least one free GPU.
#[derive(Debug, Default)]
struct DomainNodes {
    model: usize,
    class: Option<Openness>,
    nodes: BTreeSet<(u32, GeoNodeId)>,
}

/// Free chunks of `k` GPUs per domain at each level, for one (model, view, k).
#[derive(Debug)]
struct Chunks {
    per_domain: [Vec<u32>; 4],
    order: [BTreeSet<(u32, u32)>; 4],
}

/// Per-domain free nodes and free chunks (see the module documentation).
#[derive(Debug)]
pub(super) struct GangIndex {
    /// The (free GPUs, class) each node is indexed under.
    key: Vec<(u32, Openness)>,
    dirty: Vec<GeoNodeId>,
    is_dirty: Vec<bool>,
    /// `[level][domain]`: the domain's node sets, one per (model, class) present.
    sets: [Vec<Vec<DomainNodes>>; 4],
    chunks: BTreeMap<(usize, View, u32), Chunks>,
}

impl GangIndex {
    /// The index of a state whose nodes have `free` GPUs and `class` openness.
    pub(super) fn new(
        geo: &Geometry,
        free: &[u32],
        class: impl Fn(GeoNodeId) -> Openness,
    ) -> GangIndex {
        let mut idx = GangIndex {
            key: (0..geo.nodes.len())
                .map(|n| (free[n], class(GeoNodeId::from_index(n))))
                .collect(),
            dirty: Vec::new(),
            is_dirty: vec![false; geo.nodes.len()],
            sets: std::array::from_fn(|l| {
                (0..geo.domains[l]).map(|_| Vec::new()).collect::<Vec<_>>()
            }),
            chunks: BTreeMap::new(),
        };
        for (n, &(f, c)) in idx.key.clone().iter().enumerate() {
            idx.insert_node(geo, GeoNodeId::from_index(n), f, c);
        }
        idx
    }

    fn domain_nodes(&mut self, level: usize, d: u32, m: usize, c: Openness) -> &mut DomainNodes {
        let v = &mut self.sets[level][d as usize];
        let i = match v.iter().position(|x| x.model == m && x.class == Some(c)) {
            Some(i) => i,
            None => {
                v.push(DomainNodes {
                    model: m,
                    class: Some(c),
                    nodes: BTreeSet::new(),
                });
                v.len() - 1
            }
        };
        &mut v[i]
    }

    fn insert_node(&mut self, geo: &Geometry, n: GeoNodeId, f: u32, c: Openness) {
        if f == 0 {
            return;
        }
        let node = &geo.nodes[n.index()];
        for level in 0..4 {
            self.domain_nodes(level, node.domain[level], node.model, c)
                .nodes
                .insert((f, n));
        }
    }

    fn remove_node(&mut self, geo: &Geometry, n: GeoNodeId, f: u32, c: Openness) {
        if f == 0 {
            return;
        }
        let node = &geo.nodes[n.index()];
        for level in 0..4 {
            self.domain_nodes(level, node.domain[level], node.model, c)
                .nodes
                .remove(&(f, n));
        }
    }

    /// Notes that node `n`'s free GPUs, owner or users may have changed.
    pub(super) fn touch(&mut self, n: GeoNodeId) {
        if !self.is_dirty[n.index()] {
            self.is_dirty[n.index()] = true;
            self.dirty.push(n);
        }
    }

    /// Brings the index up to date with the nodes touched since the last flush.
    pub(super) fn flush(
        &mut self,
        geo: &Geometry,
        free: &[u32],
        class: impl Fn(GeoNodeId) -> Openness,
    ) {
        let dirty = std::mem::take(&mut self.dirty);
        for &n in &dirty {
            self.is_dirty[n.index()] = false;
            let new = (free[n.index()], class(n));
            let old = self.key[n.index()];
            if new == old {
                continue;
            }
            self.remove_node(geo, n, old.0, old.1);
            self.insert_node(geo, n, new.0, new.1);
            self.key[n.index()] = new;
            let node = &geo.nodes[n.index()];
            for (&(m, view, k), ch) in self.chunks.range_mut((node.model, View::Open, 0)..) {
                if m != node.model {
                    break;
                }
                let before = if view.sees(old.1) { old.0 / k } else { 0 };
                let after = if view.sees(new.1) { new.0 / k } else { 0 };
                if before == after {
                    continue;
                }
                for level in 0..4 {
                    let d = node.domain[level];
                    let c = &mut ch.per_domain[level][d as usize];
                    if *c > 0 {
                        ch.order[level].remove(&(*c, d));
                    }
                    *c = *c + after - before;
                    if *c > 0 {
                        ch.order[level].insert((*c, d));
                    }
                }
            }
        }
        self.dirty = dirty;
        self.dirty.clear();
    }

    /// At `level`, for gangs of `count` chunks of `k` GPUs of model `m` seen by `view`: the
    /// most free chunks any domain has, and the first `take` domains (fewest free chunks,
    /// then lowest id) with at least `count`, as of the last flush (a gang asks again at
    /// each level after rolling its tries back to the state of that flush).
    pub(super) fn domains(
        &mut self,
        geo: &Geometry,
        (m, view, k): (usize, View, u32),
        level: usize,
        count: u32,
        take: usize,
    ) -> (u32, Vec<u32>) {
        debug_assert!(k > 0);
        if !self.chunks.contains_key(&(m, view, k)) {
            let mut ch = Chunks {
                per_domain: std::array::from_fn(|l| vec![0; geo.domains[l] as usize]),
                order: Default::default(),
            };
            for (n, &(f, c)) in self.key.iter().enumerate() {
                let node = &geo.nodes[n];
                if node.model != m || !view.sees(c) || f < k {
                    continue;
                }
                for level in 0..4 {
                    ch.per_domain[level][node.domain[level] as usize] += f / k;
                }
            }
            for level in 0..4 {
                ch.order[level] = ch.per_domain[level]
                    .iter()
                    .enumerate()
                    .filter(|(_, &c)| c > 0)
                    .map(|(d, &c)| (c, d as u32))
                    .collect();
            }
            self.chunks.insert((m, view, k), ch);
        }
        let order = &self.chunks[&(m, view, k)].order[level];
        let most = order.last().map(|x| x.0).unwrap_or(0);
        let doms = order
            .range((count, 0)..)
            .take(take)
            .map(|&(_, d)| d)
            .collect();
        (most, doms)
    }

    /// The next node after `after` (`None`: the first) in (free GPUs, node) order among the
    /// nodes of domain `d` at `level` with model `m`, at least `k` free GPUs and a class
    /// `view` sees, as they were at the last flush.
    pub(super) fn next_node(
        &self,
        (m, view, k): (usize, View, u32),
        level: usize,
        d: u32,
        after: Option<(u32, GeoNodeId)>,
    ) -> Option<(u32, GeoNodeId)> {
        let from = match after {
            Some(x) => Bound::Excluded(x),
            None => Bound::Included((k, GeoNodeId(0))),
        };
        let sets = &self.sets[level][d as usize];
        view.classes()
            .into_iter()
            .flatten()
            .filter_map(|c| sets.iter().find(|x| x.model == m && x.class == Some(c)))
            .filter_map(|x| x.nodes.range((from, Bound::Unbounded)).next().copied())
            .min()
    }
}

/// The free instances (holder `None`) of a MIG GPU's layout, and its distinct profiles.
fn mig_free(layout: &[(Placement, Option<WorkloadId>)]) -> (u32, Vec<ProfileIdx>) {
    let mut profiles: Vec<ProfileIdx> = layout
        .iter()
        .filter(|x| x.1.is_none())
        .map(|x| x.0.profile)
        .collect();
    let free = profiles.len() as u32;
    profiles.sort_unstable();
    profiles.dedup();
    (free, profiles)
}

/// MIG GPUs with a free instance of a profile (see the module documentation).
#[derive(Debug, Default)]
pub(super) struct MigIndex {
    by: BTreeMap<(usize, u32, ProfileIdx), BTreeSet<(u32, GpuId)>>,
}

impl MigIndex {
    /// GPU `g` of model `m` went from `old` to `new`.
    pub(super) fn update(&mut self, m: usize, g: GpuId, old: &GpuUse, new: &GpuUse) {
        if let GpuUse::Mig { group, layout } = old {
            let (free, profiles) = mig_free(layout);
            for p in profiles {
                if let Some(s) = self.by.get_mut(&(m, *group, p)) {
                    s.remove(&(free, g));
                }
            }
        }
        if let GpuUse::Mig { group, layout } = new {
            let (free, profiles) = mig_free(layout);
            for p in profiles {
                self.by.entry((m, *group, p)).or_default().insert((free, g));
            }
        }
    }

    /// MIG GPUs of model `m` and `group` with a free `p` instance, by (free instances, GPU).
    pub(super) fn candidates(
        &self,
        m: usize,
        group: u32,
        p: ProfileIdx,
    ) -> impl Iterator<Item = GpuId> + '_ {
        self.by
            .get(&(m, group, p))
            .into_iter()
            .flat_map(|s| s.iter().map(|x| x.1))
    }
}

/// Thousandths of a time-sliced GPU its members leave free.
pub(super) fn share_free(members: &[(WorkloadId, u16)]) -> u32 {
    MILLI_PER_GPU.saturating_sub(members.iter().map(|x| x.1 as u32).sum::<u32>())
}

/// Time-sliced GPUs per model (see the module documentation).
#[derive(Debug, Default)]
pub(super) struct ShareIndex {
    by_model: Vec<BTreeSet<(u32, GpuId)>>,
}

impl ShareIndex {
    pub(super) fn new(models: usize) -> ShareIndex {
        ShareIndex {
            by_model: vec![BTreeSet::new(); models],
        }
    }

    /// GPU `g` of model `m` went from `old` to `new`.
    pub(super) fn update(&mut self, m: usize, g: GpuId, old: &GpuUse, new: &GpuUse) {
        if let GpuUse::Shared { members } = old {
            self.by_model[m].remove(&(share_free(members), g));
        }
        if let GpuUse::Shared { members } = new {
            self.by_model[m].insert((share_free(members), g));
        }
    }

    /// Time-sliced GPUs of model `m` with at least `milli` thousandths free, by (free, GPU).
    pub(super) fn candidates(&self, m: usize, milli: u16) -> impl Iterator<Item = GpuId> + '_ {
        self.by_model[m]
            .range((milli as u32, GpuId(0))..)
            .map(|x| x.1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::greedy;
    use super::super::state::{Assignment, GeoNodeId, Geometry, GpuUse, State};
    use crate::fabric::generate::{generate, GenerateRequest, Style};
    use crate::model::demand::Demand;
    use crate::model::plan::Current;
    use crate::model::Fabric;
    use crate::model::WorkloadId;
    use crate::plan::gen::{generate_demand, Profile};

    use crate::plan::gen::Rng;

    type Outcome = (
        Vec<GpuUse>,
        Vec<Vec<Assignment>>,
        Vec<bool>,
        Vec<Option<String>>,
        Vec<Result<(), String>>,
    );

    /// The greedy plan of `d`, then three rounds of churn (a random third of the admitted
    /// workloads removed and placed again, with their old GPUs preferred, on half the nodes
    /// or anywhere; then every rejected workload tried again), with or without the indexes.
    /// With whether the gang index was used.
    fn churn(geo: &Geometry, d: &Demand, use_index: bool, seed: u64) -> (Outcome, bool) {
        let mut st = State::new(geo, d);
        st.use_index = use_index;
        let current = Current::default();
        let order = greedy::greedy_order(d, &current);
        let mut reasons = vec![None; d.workloads.len()];
        greedy::run_greedy(&mut st, &order, &current, false, &mut reasons);
        let mut rng = Rng::new(seed);
        let mut log = Vec::new();
        let half = GeoNodeId::from_index(geo.nodes.len() / 2);
        for _ in 0..3 {
            let mut out = Vec::new();
            for w in 0..d.workloads.len() {
                if st.admitted[w] && rng.index(3) == 0 {
                    out.push((w, st.assignments[w].clone()));
                    st.remove(WorkloadId::from_index(w));
                }
            }
            for (w, held) in out.into_iter().rev() {
                let w = WorkloadId::from_index(w);
                let r = match rng.index(4) {
                    0 => st.place_any(w, &held),
                    1 => st.place(w, &|n| n < half, &[]),
                    _ => st.place_any(w, &[]),
                };
                st.commit();
                log.push(r);
            }
            for &w in &order {
                if !st.admitted[w] {
                    log.push(st.place_any(WorkloadId::from_index(w), &[]));
                    st.commit();
                }
            }
        }
        let used = st.gang_idx.is_some();
        let out = (st.gpus, st.assignments, st.admitted, reasons, log);
        (out, used)
    }

    fn generated(gpus: u64, style: Style, gpu: &str) -> Fabric {
        let text = generate(&GenerateRequest {
            gpus,
            style,
            radix: 32,
            nic_gbps: 400,
            gpu_model: gpu.into(),
            roce: false,
        })
        .expect("generate");
        crate::load::load_fabric_str("gen.yaml", &text)
            .fabric
            .expect("generated fabric")
    }

    /// Greedy plans, and the churn of `churn`, are the same with the indexes as with the
    /// scans they replace: generated HGX and NVL72 fabrics under mixed and contended demand
    /// (dedicated-node, dedicated-GPU, MIG and time-sliced tenants), the same with host CPU
    /// limits (gangs then scan), and shipped fabrics and demands.
    #[test]
    fn index_matches_the_scan_on_random_cases() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        // (name, fabric, demand, whether the gang index serves it)
        let mut cases: Vec<(String, Fabric, String, bool)> = Vec::new();
        for (gpus, style, gpu) in [
            (1024, Style::RailOptimized, "h100-80gb"),
            (1152, Style::Nvl72, "gb200"),
        ] {
            let f = generated(gpus, style, gpu);
            for seed in 1..=4 {
                for (profile, p) in [(Profile::Mixed, "mixed"), (Profile::Contended, "contended")] {
                    let d = generate_demand(&f, None, 200, seed, profile);
                    cases.push((format!("{gpus} {gpu} {p} {seed}"), f.clone(), d, true));
                }
            }
        }
        // Every third rack without power for one more node: domains count chunks their
        // nodes cannot give, so gangs fail part-way through a domain, roll back and try the
        // next one.
        let text = generate(&GenerateRequest {
            gpus: 1024,
            style: Style::RailOptimized,
            radix: 32,
            nic_gbps: 400,
            gpu_model: "h100-80gb".into(),
            roce: false,
        })
        .unwrap()
        .split('\n')
        .enumerate()
        .map(|(i, line)| match i % 3 {
            0 => line.replace("power_kw: 45.0", "power_kw: 8.0"),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
        let f = crate::load::load_fabric_str("power.yaml", &text)
            .fabric
            .expect("fabric with tight racks");
        for seed in 1..=2 {
            let d = generate_demand(&f, None, 200, seed, Profile::Contended);
            cases.push((format!("tight racks {seed}"), f.clone(), d, true));
        }
        // Host CPU on every node and on every workload: the gang index stands aside.
        let text = generate(&GenerateRequest {
            gpus: 512,
            style: Style::RailOptimized,
            radix: 32,
            nic_gbps: 400,
            gpu_model: "h100-80gb".into(),
            roce: false,
        })
        .unwrap()
        .replace(
            "rail_nics: {gbps: 400}",
            "rail_nics: {gbps: 400}, cpu_cores: 40",
        );
        let f = crate::load::load_fabric_str("cpu.yaml", &text)
            .fabric
            .expect("fabric with CPU");
        let d = generate_demand(&f, None, 120, 7, Profile::Mixed)
            .replace("kind: training,", "kind: training, cpu_millicores: 3000,")
            .replace("kind: inference,", "kind: inference, cpu_millicores: 2000,");
        cases.push(("512 with host CPU".into(), f, d, false));
        for (fabric, demand) in [
            (
                "fabrics/dgx-h100-su1-ib.yaml",
                "tests/fixtures/report/mixed-tenants-h100.yaml",
            ),
            (
                "fabrics/hgx-h200-roce-1k.yaml",
                "examples/mig-inference-h200.yaml",
            ),
            (
                "fabrics/gb200-nvl72-su.yaml",
                "examples/nvl72-training.yaml",
            ),
        ] {
            let f = crate::load::load_fabric_file(&root.join(fabric))
                .fabric
                .expect(fabric);
            let d = std::fs::read_to_string(root.join(demand)).unwrap();
            let gangs = !demand.contains("mig-inference");
            cases.push((format!("{fabric} {demand}"), f, d, gangs));
        }
        let mut admitted = 0;
        for (i, (name, f, text, gangs)) in cases.iter().enumerate() {
            let d = crate::load::demand::demand_from_str("d.yaml", text, f)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let catalog = crate::load::demand::fabric_catalog(f);
            let geo = Geometry::new(f, &catalog, &d);
            let seed = 0x9e37_79b9_7f4a_7c15 + i as u64;
            let (want, scanned) = churn(&geo, &d, false, seed);
            let (got, used) = churn(&geo, &d, true, seed);
            assert!(!scanned, "{name}: the reference must not use the index");
            assert!(
                got == want,
                "{name}: the indexed plan differs from the scan"
            );
            assert_eq!(used, *gangs, "{name}: whether the gang index was used");
            admitted += want.2.iter().filter(|&&a| a).count();
        }
        assert_eq!(cases.len(), 22);
        assert!(
            admitted > 2000,
            "{admitted} workloads admitted over all cases"
        );
    }
}
