//! `fit`: the fewest GPUs of one model, with explicit layouts, that host a demand of
//! profile counts.
//!
//! Each GPU's layout is a placeable multiset (a "pattern"); this is bin packing over the
//! pattern set. The solver:
//! 1. enumerates the placeable multisets once (a few hundred on 8-unit GPUs);
//! 2. runs a greedy that repeatedly takes the pattern covering the most still-needed units
//!    (then compute slices), applying it as many times as it stays the same pattern, so a
//!    demand of thousands of instances costs a handful of steps;
//! 3. if the greedy count is above the lower bound and the demand is small, proves or
//!    improves it with an exact depth-first search (iterative deepening from the bound, with
//!    a node budget). The result says whether the count is proven minimal.
//!
//! At a fixed GPU count the stranded units are fixed too (`gpus * U - used`), so fewest GPUs
//! is also least stranded; the greedy packs GPUs full first so the leftover sits on few GPUs.

use serde::Serialize;

use super::{place, Layout, MigTable, ProfileIdx, Rules, Unplaceable};

/// `gpus` identical GPUs with this layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FitGroup {
    pub gpus: u32,
    #[serde(skip)]
    pub layout: Layout,
}

/// The answer of [`fit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// GPUs needed.
    pub gpus: u32,
    /// No packing can use fewer GPUs than this.
    pub lower_bound: u32,
    /// Whether `gpus` is proven minimal (equal to the bound, or the exact search finished).
    pub proven_minimal: bool,
    /// The GPUs, grouped by identical layout, fullest first.
    pub groups: Vec<FitGroup>,
    /// Placement units left free on the GPUs used (stranded).
    pub free_units: u32,
    /// Compute slices left free on the GPUs used.
    pub free_compute_slices: u32,
}

/// Instance count at or below which the exact search runs.
const EXACT_MAX_INSTANCES: u32 = 40;
/// Node budget of the exact search; past it the greedy answer stands, marked unproven.
const EXACT_NODE_BUDGET: u64 = 300_000;

struct Packer {
    patterns: Vec<Vec<u32>>,
    units: Vec<u32>,
    compute: Vec<u32>,
    /// Most instances of each profile on one GPU.
    cap: Vec<u32>,
    max_units: u32,
    max_compute: u32,
}

impl Packer {
    fn new(table: &MigTable, rules: Rules) -> Packer {
        let patterns = super::placeable_multisets(table, rules);
        let units: Vec<u32> = table.profiles.iter().map(|p| p.size as u32).collect();
        let compute: Vec<u32> = table
            .profiles
            .iter()
            .map(|p| p.compute_slices as u32)
            .collect();
        let n = table.profiles.len();
        let mut cap = vec![0u32; n];
        let (mut max_units, mut max_compute) = (0, 0);
        for pat in &patterns {
            for i in 0..n {
                cap[i] = cap[i].max(pat[i]);
            }
            max_units = max_units.max(dot(pat, &units));
            max_compute = max_compute.max(dot(pat, &compute));
        }
        Packer {
            patterns,
            units,
            compute,
            cap,
            max_units,
            max_compute,
        }
    }

    fn lower_bound(&self, rem: &[u32]) -> u32 {
        let mut lb = div_ceil(dot(rem, &self.units), self.max_units);
        lb = lb.max(div_ceil(dot(rem, &self.compute), self.max_compute));
        for (i, &n) in rem.iter().enumerate() {
            if n > 0 {
                lb = lb.max(div_ceil(n, self.cap[i]));
            }
        }
        lb
    }

    /// Greedy packing: (effective pattern, repeat count) steps.
    fn greedy(&self, demand: &[u32]) -> Vec<(Vec<u32>, u32)> {
        let mut rem = demand.to_vec();
        let mut steps = Vec::new();
        while rem.iter().any(|&n| n > 0) {
            let mut best: Option<(u32, u32, usize)> = None;
            for (k, pat) in self.patterns.iter().enumerate() {
                let (mut u, mut c) = (0, 0);
                for i in 0..rem.len() {
                    let take = pat[i].min(rem[i]);
                    u += take * self.units[i];
                    c += take * self.compute[i];
                }
                if best.is_none_or(|(bu, bc, _)| (u, c) > (bu, bc)) {
                    best = Some((u, c, k));
                }
            }
            let (_, _, k) = best.expect("every demanded profile is in some pattern");
            let eff: Vec<u32> = self.patterns[k]
                .iter()
                .zip(&rem)
                .map(|(&p, &r)| p.min(r))
                .collect();
            let times = eff
                .iter()
                .zip(&rem)
                .filter(|(&e, _)| e > 0)
                .map(|(&e, &r)| r / e)
                .min()
                .unwrap_or(1)
                .max(1);
            for i in 0..rem.len() {
                rem[i] -= eff[i] * times;
            }
            steps.push((eff, times));
        }
        steps
    }

    /// Exact search: can `rem` be covered by `gpus` patterns? Fills `chosen` on success.
    fn cover(
        &self,
        rem: &mut Vec<u32>,
        gpus: u32,
        chosen: &mut Vec<Vec<u32>>,
        nodes: &mut u64,
    ) -> Option<bool> {
        *nodes += 1;
        if *nodes > EXACT_NODE_BUDGET {
            return None;
        }
        if rem.iter().all(|&n| n == 0) {
            return Some(true);
        }
        if gpus == 0 || self.lower_bound(rem) > gpus {
            return Some(false);
        }
        // Some GPU must hold the widest remaining profile: branch on its patterns only.
        let hardest = (0..rem.len())
            .filter(|&i| rem[i] > 0)
            .max_by_key(|&i| (self.units[i], self.compute[i], std::cmp::Reverse(i)))
            .expect("rem is non-zero");
        let mut candidates: Vec<Vec<u32>> = Vec::new();
        for pat in &self.patterns {
            if pat[hardest] == 0 {
                continue;
            }
            let eff: Vec<u32> = pat
                .iter()
                .zip(rem.iter())
                .map(|(&p, &r)| p.min(r))
                .collect();
            if !candidates.contains(&eff) {
                candidates.push(eff);
            }
        }
        // Drop candidates another candidate contains: covering less never helps.
        let undominated: Vec<&Vec<u32>> = candidates
            .iter()
            .filter(|c| {
                !candidates
                    .iter()
                    .any(|o| o != *c && o.iter().zip(c.iter()).all(|(a, b)| a >= b))
            })
            .collect();
        for eff in undominated {
            for i in 0..rem.len() {
                rem[i] -= eff[i];
            }
            chosen.push(eff.clone());
            let found = self.cover(rem, gpus - 1, chosen, nodes);
            for i in 0..rem.len() {
                rem[i] += eff[i];
            }
            match found {
                Some(true) => return Some(true),
                None => {
                    chosen.pop();
                    return None;
                }
                Some(false) => {
                    chosen.pop();
                }
            }
        }
        Some(false)
    }
}

fn dot(a: &[u32], b: &[u32]) -> u32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn div_ceil(a: u32, b: u32) -> u32 {
    if b == 0 {
        0
    } else {
        a.div_ceil(b)
    }
}

/// The fewest GPUs of this model, with explicit layouts, that host `demand` (instance counts
/// indexed like `table.profiles`). Fails when a demanded profile cannot be placed at all
/// under `rules`.
pub fn fit(table: &MigTable, rules: Rules, demand: &[u32]) -> Result<Fit, Unplaceable> {
    let mut demand = demand.to_vec();
    demand.resize(table.profiles.len(), 0);
    for (i, &n) in demand.iter().enumerate() {
        if n > 0 {
            place(table, rules, &[ProfileIdx(i as u8)])?;
        }
    }
    let packer = Packer::new(table, rules);
    let lower_bound = packer.lower_bound(&demand);
    let mut steps = packer.greedy(&demand);
    let mut gpus: u32 = steps.iter().map(|(_, t)| t).sum();
    let mut proven_minimal = gpus == lower_bound;
    let total: u32 = demand.iter().sum();
    if !proven_minimal && total <= EXACT_MAX_INSTANCES {
        let mut nodes = 0u64;
        let mut finished = true;
        for target in lower_bound..gpus {
            let mut chosen = Vec::new();
            match packer.cover(&mut demand.clone(), target, &mut chosen, &mut nodes) {
                Some(true) => {
                    steps = chosen.into_iter().map(|c| (c, 1)).collect();
                    gpus = target;
                    break;
                }
                Some(false) => {}
                None => {
                    finished = false;
                    break;
                }
            }
        }
        proven_minimal = finished;
    }
    // Merge identical patterns, place each once, fullest GPUs first.
    let mut merged: Vec<(Vec<u32>, u32)> = Vec::new();
    for (eff, times) in steps {
        match merged.iter_mut().find(|(e, _)| *e == eff) {
            Some(entry) => entry.1 += times,
            None => merged.push((eff, times)),
        }
    }
    let mut groups = Vec::new();
    let (mut free_units, mut free_compute) = (0u32, 0u32);
    for (eff, times) in merged {
        let request: Vec<ProfileIdx> = eff
            .iter()
            .enumerate()
            .flat_map(|(i, &n)| std::iter::repeat_n(ProfileIdx(i as u8), n as usize))
            .collect();
        let layout = place(table, rules, &request)?;
        free_units +=
            times * (table.placement_units as u32).saturating_sub(layout.used_units(table));
        free_compute +=
            times * (table.compute_slices as u32).saturating_sub(layout.used_compute_slices(table));
        groups.push(FitGroup {
            gpus: times,
            layout,
        });
    }
    groups.sort_by(|a, b| {
        b.layout
            .used_units(table)
            .cmp(&a.layout.used_units(table))
            .then_with(|| b.gpus.cmp(&a.gpus))
            .then_with(|| a.layout.cmp(&b.layout))
    });
    Ok(Fit {
        gpus,
        lower_bound,
        proven_minimal,
        groups,
        free_units,
        free_compute_slices: free_compute,
    })
}
