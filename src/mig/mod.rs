//! The exact MIG layout engine: validity predicate, enumeration, placement and `fit`.
//!
//! Rules (cited from docs/mig-rules.md, section 2, which cites the NVIDIA MIG User
//! Guide v580 and real `nvidia-smi` captures):
//!
//! * **R1 placement**: each instance starts at one of its profile's allowed starts and ends
//!   inside the grid.
//! * **R2 no overlap**: the unit intervals `[s, s + size)` are pairwise disjoint.
//! * **R3 instance caps**: at most `max_instances` of each profile (stops two `+me`).
//! * **R4 media engines** (optional, inferred): per-profile NVDEC/NVENC/JPEG/OFA sums stay
//!   within the full GPU's counts.
//! * **R5 pre-R510 A100** (opt-in): a 4-compute/4-memory profile and a 3-compute/4-memory
//!   profile cannot coexist (MIG guide, Concepts > Partitioning; lifted in R510).
//!
//! Everything works on `u32` unit masks and fixed-size counters: the search loops do not
//! allocate; only the collected results do. Placement never relies on creation order: every
//! instance gets an explicit start (docs/mig-rules.md section 4, "Creation order matters").

pub mod table;

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use table::Item;
pub use table::{
    Engines, MigProfile, MigTable, ProfileIdx, Provenance, TableError, MAX_PLACEMENT_UNITS,
    MAX_PROFILES,
};

/// Optional rules on top of R1-R3.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rules {
    /// R4: check media-engine sums against the GPU's totals (inferred, not verified).
    pub media_engines: bool,
    /// R5: the pre-R510 A100 driver rule (4g.* and 3g.* cannot coexist).
    pub pre_r510: bool,
}

/// The rule that makes a request unplaceable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Rule {
    R1,
    R2,
    R3,
    R4,
    R5,
}

impl Rule {
    pub fn code(self) -> &'static str {
        match self {
            Rule::R1 => "R1",
            Rule::R2 => "R2",
            Rule::R3 => "R3",
            Rule::R4 => "R4",
            Rule::R5 => "R5",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Rule::R1 => "allowed start units",
            Rule::R2 => "no overlap",
            Rule::R3 => "instance caps",
            Rule::R4 => "media engines",
            Rule::R5 => "pre-R510 A100 4g+3g",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.title())
    }
}

/// One GPU instance at an explicit start unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Placement {
    pub profile: ProfileIdx,
    pub start: u8,
}

/// A set of placements on one GPU, sorted by start unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Layout {
    pub placements: Vec<Placement>,
}

impl Layout {
    fn from_sorted(mut placements: Vec<Placement>) -> Layout {
        placements.sort_by_key(|p| (p.start, p.profile));
        Layout { placements }
    }

    /// Units covered by the layout.
    pub fn used_units(&self, table: &MigTable) -> u32 {
        self.placements
            .iter()
            .map(|p| table.profile(p.profile).size as u32)
            .sum()
    }

    /// Compute slices used by the layout.
    pub fn used_compute_slices(&self, table: &MigTable) -> u32 {
        self.placements
            .iter()
            .map(|p| table.profile(p.profile).compute_slices as u32)
            .sum()
    }

    /// Per-profile instance counts, indexed like `table.profiles`.
    pub fn counts(&self, table: &MigTable) -> Vec<u32> {
        let mut counts = vec![0u32; table.profiles.len()];
        for p in &self.placements {
            counts[p.profile.get()] += 1;
        }
        counts
    }

    /// `3g.40gb@4 2g.20gb@0 ...` in start order.
    pub fn describe(&self, table: &MigTable) -> String {
        self.placements
            .iter()
            .map(|p| format!("{}@{}", table.profile(p.profile).name, p.start))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Why a request cannot be placed: the rule and a sentence for humans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unplaceable {
    pub rule: Rule,
    pub why: String,
}

/// Running state of a search: used units, per-profile counts, engine sums, R5 classes.
#[derive(Clone, Copy)]
struct State {
    used: u32,
    counts: [u8; MAX_PROFILES],
    engines: [u16; 4],
    r5_classes: u8,
}

impl State {
    const EMPTY: State = State {
        used: 0,
        counts: [0; MAX_PROFILES],
        engines: [0; 4],
        r5_classes: 0,
    };
}

/// R5 class of a profile: 1 for the (4 compute, 4 memory) 4g profiles, 2 for the
/// (3 compute, 4 memory) 3g profiles, 0 otherwise (MIG guide, Concepts > Partitioning).
fn r5_class(profile: &MigProfile) -> u8 {
    match (profile.compute_slices, profile.memory_slices) {
        (4, 4) => 1,
        (3, 4) => 2,
        _ => 0,
    }
}

fn profile_engines(profile: &MigProfile) -> [u16; 4] {
    profile.engines.map(Engines::as_array).unwrap_or([0; 4])
}

/// Whether `item` can join `state` under R2, R3 and the enabled optional rules. R1 holds by
/// construction: items are built only from allowed starts inside the grid.
#[inline]
fn can_add(table: &MigTable, rules: Rules, state: &State, item: &Item) -> bool {
    if state.used & item.mask != 0 {
        return false;
    }
    let p = item.profile as usize;
    let profile = &table.profiles[p];
    if state.counts[p] >= profile.max_instances {
        return false;
    }
    if rules.media_engines {
        if let Some(totals) = table.engine_totals {
            let add = profile_engines(profile);
            let totals = totals.as_array();
            for k in 0..4 {
                if state.engines[k] + add[k] > totals[k] {
                    return false;
                }
            }
        }
    }
    if rules.pre_r510 {
        let class = r5_class(profile);
        if class != 0 && state.r5_classes & !class & 3 != 0 {
            return false;
        }
    }
    true
}

#[inline]
fn apply(table: &MigTable, state: &mut State, item: &Item) {
    let p = item.profile as usize;
    state.used |= item.mask;
    state.counts[p] += 1;
    let add = profile_engines(&table.profiles[p]);
    for (sum, a) in state.engines.iter_mut().zip(add) {
        *sum += a;
    }
    state.r5_classes |= r5_class(&table.profiles[p]);
}

/// Checks a layout given with explicit starts against R1-R3 and the enabled optional rules.
/// This is the validity predicate of docs/mig-rules.md section 2.
pub fn check_layout(
    table: &MigTable,
    rules: Rules,
    placements: &[Placement],
) -> Result<(), Unplaceable> {
    let mut used = 0u32;
    for pl in placements {
        let profile = table.profile(pl.profile);
        if !profile.starts.contains(&pl.start) {
            return Err(Unplaceable {
                rule: Rule::R1,
                why: format!(
                    "`{}` cannot start at unit {}; its allowed starts are {}",
                    profile.name,
                    pl.start,
                    starts_text(&profile.starts)
                ),
            });
        }
        let mask = (((1u64 << profile.size) - 1) << pl.start) as u32;
        if used & mask != 0 {
            return Err(Unplaceable {
                rule: Rule::R2,
                why: format!(
                    "`{}` at unit {} overlaps another instance (units {}..{})",
                    profile.name,
                    pl.start,
                    pl.start,
                    pl.start as u32 + profile.size as u32
                ),
            });
        }
        used |= mask;
    }
    let request: Vec<ProfileIdx> = placements.iter().map(|p| p.profile).collect();
    check_counts(table, rules, &request)
}

/// R3, R5 and R4 on a multiset (these do not depend on where instances sit).
fn check_counts(table: &MigTable, rules: Rules, request: &[ProfileIdx]) -> Result<(), Unplaceable> {
    let mut counts = [0u32; MAX_PROFILES];
    for p in request {
        counts[p.get()] += 1;
    }
    for (i, profile) in table.profiles.iter().enumerate() {
        if counts[i] > profile.max_instances as u32 {
            return Err(Unplaceable {
                rule: Rule::R3,
                why: format!(
                    "`{}` is requested {} times but at most {} can exist at once (nvidia-smi mig -lgip Total)",
                    profile.name, counts[i], profile.max_instances
                ),
            });
        }
    }
    if rules.pre_r510 {
        let four = table
            .profiles
            .iter()
            .enumerate()
            .find(|(i, p)| counts[*i] > 0 && r5_class(p) == 1);
        let three = table
            .profiles
            .iter()
            .enumerate()
            .find(|(i, p)| counts[*i] > 0 && r5_class(p) == 2);
        if let (Some((_, f)), Some((_, t))) = (four, three) {
            return Err(Unplaceable {
                rule: Rule::R5,
                why: format!(
                    "before driver R510, `{}` and `{}` cannot coexist on an A100 (MIG User Guide, Partitioning)",
                    f.name, t.name
                ),
            });
        }
    }
    if rules.media_engines {
        if let Some(totals) = table.engine_totals {
            let mut sums = [0u32; 4];
            for (i, profile) in table.profiles.iter().enumerate() {
                let e = profile_engines(profile);
                for k in 0..4 {
                    sums[k] += counts[i] * e[k] as u32;
                }
            }
            let names = ["NVDEC", "NVENC", "JPEG", "OFA"];
            let totals = totals.as_array();
            for k in 0..4 {
                if sums[k] > totals[k] as u32 {
                    return Err(Unplaceable {
                        rule: Rule::R4,
                        why: format!(
                            "the instances need {} {} engines but the GPU has {}",
                            sums[k], names[k], totals[k]
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

fn starts_text(starts: &[u8]) -> String {
    let inner: Vec<String> = starts.iter().map(|s| s.to_string()).collect();
    format!("{{{}}}", inner.join(","))
}

/// Places a multiset of profiles on one GPU with explicit start units, or says which rule
/// forbids it. Exact: it fails only when no assignment of allowed starts satisfies all rules.
///
/// Instances are placed largest first and each tries its starts from the highest down, which
/// is how the driver picks starts itself (docs/mig-rules.md section 4: `-cgi 9,9` puts the first 3g at
/// 4), so the result is also what `nvidia-smi mig -cgi` in that order would likely create.
pub fn place(
    table: &MigTable,
    rules: Rules,
    request: &[ProfileIdx],
) -> Result<Layout, Unplaceable> {
    check_counts(table, rules, request)?;
    let units: u32 = request.iter().map(|&p| table.profile(p).size as u32).sum();
    if units > table.placement_units as u32 {
        return Err(Unplaceable {
            rule: Rule::R2,
            why: format!(
                "the instances need {units} placement units but the GPU has {}",
                table.placement_units
            ),
        });
    }
    // After the unit check every instance takes >= 1 unit, so the request fits the buffers.
    let n = request.len();
    let mut order = [0u8; MAX_PLACEMENT_UNITS as usize];
    for (k, p) in request.iter().enumerate() {
        order[k] = p.0;
    }
    let order = &mut order[..n];
    order.sort_unstable_by_key(|&p| {
        let profile = &table.profiles[p as usize];
        (std::cmp::Reverse(profile.size), profile.starts.len(), p)
    });
    let mut starts = [0u8; MAX_PLACEMENT_UNITS as usize];
    if place_dfs(table, order, 0, 0, &mut starts) {
        let placements = order
            .iter()
            .zip(starts.iter())
            .map(|(&p, &s)| Placement {
                profile: ProfileIdx(p),
                start: s,
            })
            .collect();
        return Ok(Layout::from_sorted(placements));
    }
    let mut seen = Vec::new();
    for &p in order.iter() {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    let allowed: Vec<String> = seen
        .iter()
        .map(|&p| {
            let profile = &table.profiles[p as usize];
            format!(
                "`{}` {}:{}",
                profile.name,
                starts_text(&profile.starts),
                profile.size
            )
        })
        .collect();
    Err(Unplaceable {
        rule: Rule::R2,
        why: format!(
            "no choice of allowed start units places all {n} instances without overlap (they need {units} of {} units; allowed starts: {})",
            table.placement_units,
            allowed.join(", ")
        ),
    })
}

/// Depth-first search over start units. Copies of one profile take strictly decreasing
/// starts, so each arrangement is tried once.
fn place_dfs(table: &MigTable, order: &[u8], k: usize, used: u32, starts: &mut [u8]) -> bool {
    if k == order.len() {
        return true;
    }
    let profile = &table.profiles[order[k] as usize];
    let width = ((1u64 << profile.size) - 1) as u32;
    let limit = if k > 0 && order[k - 1] == order[k] {
        starts[k - 1]
    } else {
        u8::MAX
    };
    for &s in profile.starts.iter().rev() {
        if s >= limit {
            continue;
        }
        let mask = width << s;
        if used & mask == 0 {
            starts[k] = s;
            if place_dfs(table, order, k + 1, used | mask, starts) {
                return true;
            }
        }
    }
    false
}

/// Calls `visit` for every non-empty valid layout (or only the maximal ones), with the
/// chosen items' indices. No allocation happens inside the walk.
fn walk_layouts(
    table: &MigTable,
    rules: Rules,
    maximal_only: bool,
    visit: &mut dyn FnMut(&[u8], &State),
) {
    let mut chosen = [0u8; MAX_PLACEMENT_UNITS as usize];
    walk(
        table,
        rules,
        maximal_only,
        0,
        &State::EMPTY,
        &mut chosen,
        0,
        visit,
    );
}

#[allow(clippy::too_many_arguments)]
fn walk(
    table: &MigTable,
    rules: Rules,
    maximal_only: bool,
    i: usize,
    state: &State,
    chosen: &mut [u8; MAX_PLACEMENT_UNITS as usize],
    n: usize,
    visit: &mut dyn FnMut(&[u8], &State),
) {
    let items = &table.items;
    if i == items.len() {
        if n > 0 && (!maximal_only || items.iter().all(|it| !can_add(table, rules, state, it))) {
            visit(&chosen[..n], state);
        }
        return;
    }
    let item = &items[i];
    if can_add(table, rules, state, item) {
        let mut next = *state;
        apply(table, &mut next, item);
        chosen[n] = i as u8;
        walk(
            table,
            rules,
            maximal_only,
            i + 1,
            &next,
            chosen,
            n + 1,
            visit,
        );
    }
    walk(table, rules, maximal_only, i + 1, state, chosen, n, visit);
}

fn layout_of(table: &MigTable, chosen: &[u8]) -> Layout {
    let placements = chosen
        .iter()
        .map(|&i| {
            let item = &table.items[i as usize];
            Placement {
                profile: ProfileIdx(item.profile),
                start: item.start,
            }
        })
        .collect();
    Layout::from_sorted(placements)
}

/// Every non-empty valid layout, sorted (by start, then profile index).
pub fn enumerate_layouts(table: &MigTable, rules: Rules) -> Vec<Layout> {
    collect_layouts(table, rules, false)
}

/// Every maximal layout: valid, and no further (profile, start) can be added.
pub fn maximal_layouts(table: &MigTable, rules: Rules) -> Vec<Layout> {
    collect_layouts(table, rules, true)
}

fn collect_layouts(table: &MigTable, rules: Rules, maximal_only: bool) -> Vec<Layout> {
    let mut out = Vec::new();
    walk_layouts(table, rules, maximal_only, &mut |chosen, _| {
        out.push(layout_of(table, chosen))
    });
    out.sort();
    out
}

/// Number of valid layouts, without building them (for benchmarks and quick counts).
pub fn count_layouts(table: &MigTable, rules: Rules, maximal_only: bool) -> usize {
    let mut n = 0usize;
    walk_layouts(table, rules, maximal_only, &mut |_, _| n += 1);
    n
}

/// A multiset of profiles: instance counts indexed like `table.profiles`.
pub type Multiset = Vec<u32>;

/// Every placeable multiset (the multisets of all valid layouts), sorted.
pub fn placeable_multisets(table: &MigTable, rules: Rules) -> Vec<Multiset> {
    let mut set: BTreeSet<[u8; MAX_PROFILES]> = BTreeSet::new();
    walk_layouts(table, rules, false, &mut |_, state| {
        set.insert(state.counts);
    });
    let n = table.profiles.len();
    set.into_iter()
        .map(|c| c[..n].iter().map(|&x| x as u32).collect())
        .collect()
}

/// Placeable multisets that no other placeable multiset strictly contains.
pub fn maximal_multisets(table: &MigTable, rules: Rules) -> Vec<Multiset> {
    let all = placeable_multisets(table, rules);
    all.iter()
        .filter(|m| {
            !all.iter()
                .any(|o| o != *m && o.iter().zip(m.iter()).all(|(a, b)| a >= b))
        })
        .cloned()
        .collect()
}

/// The docs/mig-rules.md ordering of a multiset's names: `(-compute, -memory, -size, name)`.
pub fn multiset_names(table: &MigTable, multiset: &[u32]) -> Vec<String> {
    let mut idx: Vec<usize> = (0..table.profiles.len())
        .filter(|&i| multiset[i] > 0)
        .collect();
    idx.sort_by(|&a, &b| {
        let (pa, pb) = (&table.profiles[a], &table.profiles[b]);
        (pb.compute_slices, pb.memory_slices, pb.size)
            .cmp(&(pa.compute_slices, pa.memory_slices, pa.size))
            .then_with(|| pa.name.cmp(&pb.name))
    });
    let mut names = Vec::new();
    for i in idx {
        for _ in 0..multiset[i] {
            names.push(table.profiles[i].name.clone());
        }
    }
    names
}

mod fit;
pub use fit::{fit, Fit, FitGroup};

#[cfg(test)]
mod tests;
