//! A GPU's MIG GPU-instance profile table: the engine's only input.
//!
//! The model follows docs/mig-rules.md section 1: a line of placement units
//! `0 .. U-1`; a profile `P` of width `P.size` may start at any unit in `P.starts` and takes
//! the half-open interval `[s, s + P.size)`; at most `P.max_instances` instances of `P` can
//! exist at once (the "Total" column of `nvidia-smi mig -lgip`).
//!
//! A table is built once through [`MigTable::new`], which checks it and precomputes the
//! (profile, start, bitmask) items that the search loops walk without allocating.

use serde::Serialize;

/// The largest placement grid the bitmask engine supports (masks are `u32`).
pub const MAX_PLACEMENT_UNITS: u8 = 32;
/// The most profiles one table may hold (per-profile counters are fixed arrays).
pub const MAX_PROFILES: usize = 32;

/// Index of a profile inside one [`MigTable`] (its position in `profiles`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ProfileIdx(pub u8);

impl ProfileIdx {
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// Media-engine counts of a profile or a whole GPU (`nvidia-smi mig -lgip` DEC/ENC/JPEG/OFA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Engines {
    pub nvdec: u16,
    pub nvenc: u16,
    pub jpeg: u16,
    pub ofa: u16,
}

impl Engines {
    pub fn as_array(self) -> [u16; 4] {
        [self.nvdec, self.nvenc, self.jpeg, self.ofa]
    }
}

/// Where a profile's placement data (ids, width, starts, caps) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    /// Read off real `nvidia-smi` / NVML output.
    Captured,
    /// Deduced (for example "same die, same table"); not seen on hardware.
    Inferred,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Captured => "captured",
            Provenance::Inferred => "inferred",
        }
    }
}

/// One GPU-instance profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigProfile {
    /// Name without the `MIG ` prefix, e.g. `1g.10gb+me`.
    pub name: String,
    /// The driver's GI profile id (`-lgip` ID column), e.g. 19 for 1g.
    pub id: u32,
    /// Compute slices (the `Ng` in the name); not the width.
    pub compute_slices: u8,
    /// Memory slices (eighths, quarters on RTX PRO 6000).
    pub memory_slices: u8,
    /// Placement width in units (the `:N` of `-lgipp`).
    pub size: u8,
    /// Allowed start units, ascending (the `{...}` of `-lgipp`).
    pub starts: Vec<u8>,
    /// Most instances at once (the Total of `-lgip` Free/Total).
    pub max_instances: u8,
    /// `-lgip` Memory column; `None` when not captured.
    pub memory_gib: Option<f64>,
    /// Streaming multiprocessors; `None` when not captured.
    pub sms: Option<u32>,
    /// Copy engines (`-lgip` CE); `None` when not captured.
    pub copy_engines: Option<u32>,
    /// Media engines; `None` when not known (R4 then counts this profile as zero).
    pub engines: Option<Engines>,
    pub provenance: Provenance,
    /// Where the numbers come from, in words.
    pub source: String,
}

/// One (profile, start) choice, with its unit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Item {
    pub profile: u8,
    pub start: u8,
    pub mask: u32,
}

/// A checked profile table with its precomputed items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigTable {
    /// `U`: 8 on A100/Hopper/Blackwell datacenter parts, 12 on RTX PRO 6000 Blackwell.
    pub placement_units: u8,
    /// Compute slices of the whole GPU (7, or 4 on RTX PRO 6000).
    pub compute_slices: u8,
    /// Memory slices of the whole GPU (8, or 4 on RTX PRO 6000).
    pub memory_slices: u8,
    /// Full-GPU media engines, for the optional rule R4.
    pub engine_totals: Option<Engines>,
    /// Free-form remarks (driver versions, doubts).
    pub notes: Vec<String>,
    pub profiles: Vec<MigProfile>,
    #[serde(skip)]
    pub(crate) items: Vec<Item>,
}

/// Why a table is not acceptable; `profile` names the offending profile when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    pub profile: Option<usize>,
    pub message: String,
}

/// The first problem of one profile of a table with `placement_units` units (its starts
/// are sorted as a side effect), or `None`.
fn profile_problem(p: &mut MigProfile, placement_units: u8) -> Option<String> {
    if p.name.trim().is_empty() {
        return Some("profile name is empty".into());
    }
    if p.size == 0 || p.size > placement_units {
        return Some(format!(
            "profile `{}` has width {} but the GPU has {placement_units} placement units",
            p.name, p.size
        ));
    }
    if p.starts.is_empty() {
        return Some(format!("profile `{}` has no start units", p.name));
    }
    p.starts.sort_unstable();
    if p.starts.windows(2).any(|w| w[0] == w[1]) {
        return Some(format!("profile `{}` lists a start unit twice", p.name));
    }
    if let Some(&s) = p
        .starts
        .iter()
        .find(|&&s| s as u32 + p.size as u32 > placement_units as u32)
    {
        return Some(format!(
            "profile `{}` starting at unit {s} with width {} runs past unit {} (R1)",
            p.name,
            p.size,
            placement_units - 1
        ));
    }
    if p.max_instances == 0 {
        return Some(format!("profile `{}` has `max_instances: 0`", p.name));
    }
    if p.compute_slices == 0 {
        return Some(format!("profile `{}` has no compute slices", p.name));
    }
    None
}

impl MigTable {
    /// Checks a table and precomputes its items. The checks keep the engine total: widths and
    /// starts inside the grid, unique names and ids, at most [`MAX_PROFILES`] profiles.
    /// The first problem only; [`MigTable::check`] reports them all.
    pub fn new(
        placement_units: u8,
        compute_slices: u8,
        memory_slices: u8,
        engine_totals: Option<Engines>,
        notes: Vec<String>,
        profiles: Vec<MigProfile>,
    ) -> Result<MigTable, TableError> {
        Self::check(
            placement_units,
            compute_slices,
            memory_slices,
            engine_totals,
            notes,
            profiles,
        )
        .map_err(|mut errors| errors.swap_remove(0))
    }

    /// As [`MigTable::new`], with every problem: the table-wide ones, then the first
    /// problem of each profile (later checks of a profile assume the earlier ones passed),
    /// then names and ids given twice. Never an empty `Err`.
    pub fn check(
        placement_units: u8,
        compute_slices: u8,
        memory_slices: u8,
        engine_totals: Option<Engines>,
        notes: Vec<String>,
        mut profiles: Vec<MigProfile>,
    ) -> Result<MigTable, Vec<TableError>> {
        let err = |profile: Option<usize>, message: String| TableError { profile, message };
        if placement_units == 0 || placement_units > MAX_PLACEMENT_UNITS {
            return Err(vec![err(
                None,
                format!("`placement_units` must be between 1 and {MAX_PLACEMENT_UNITS}, not {placement_units}"),
            )]);
        }
        if profiles.is_empty() {
            return Err(vec![err(
                None,
                "a MIG table needs at least one profile".into(),
            )]);
        }
        if profiles.len() > MAX_PROFILES {
            return Err(vec![err(
                None,
                format!(
                    "at most {MAX_PROFILES} profiles per GPU, found {}",
                    profiles.len()
                ),
            )]);
        }
        let mut errors = Vec::new();
        for (i, p) in profiles.iter_mut().enumerate() {
            if let Some(message) = profile_problem(p, placement_units) {
                errors.push(err(Some(i), message));
            }
        }
        for i in 0..profiles.len() {
            for j in 0..i {
                if profiles[i].name == profiles[j].name {
                    errors.push(err(
                        Some(i),
                        format!("profile `{}` is defined twice", profiles[i].name),
                    ));
                    break;
                }
                if profiles[i].id == profiles[j].id {
                    errors.push(err(
                        Some(i),
                        format!(
                            "profiles `{}` and `{}` share the id {}",
                            profiles[j].name, profiles[i].name, profiles[i].id
                        ),
                    ));
                    break;
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut table = MigTable {
            placement_units,
            compute_slices,
            memory_slices,
            engine_totals,
            notes,
            profiles,
            items: Vec::new(),
        };
        table.items = build_items(&table.profiles);
        Ok(table)
    }

    /// The profile named `name` (exact, then case-insensitive; a leading `MIG ` is ignored).
    pub fn profile_index(&self, name: &str) -> Option<ProfileIdx> {
        let name = name.trim();
        let name = name.strip_prefix("MIG ").unwrap_or(name);
        let pos = self
            .profiles
            .iter()
            .position(|p| p.name == name)
            .or_else(|| {
                self.profiles
                    .iter()
                    .position(|p| p.name.eq_ignore_ascii_case(name))
            })?;
        Some(ProfileIdx(pos as u8))
    }

    pub fn profile(&self, idx: ProfileIdx) -> &MigProfile {
        &self.profiles[idx.get()]
    }

    /// A table holding only the listed profiles (in the listed order), for
    /// `mig layouts --profiles`.
    pub fn restricted_to(&self, keep: &[ProfileIdx]) -> MigTable {
        let profiles: Vec<MigProfile> = keep.iter().map(|&i| self.profile(i).clone()).collect();
        let mut table = MigTable {
            profiles,
            items: Vec::new(),
            ..self.clone()
        };
        table.items = build_items(&table.profiles);
        table
    }

    /// Mask with every placement unit set.
    pub fn full_mask(&self) -> u32 {
        if self.placement_units >= 32 {
            u32::MAX
        } else {
            (1u32 << self.placement_units) - 1
        }
    }
}

/// Items in profile order, starts ascending (docs/mig-rules.md section 2, "Algorithms: Items").
fn build_items(profiles: &[MigProfile]) -> Vec<Item> {
    let mut items = Vec::new();
    for (p, profile) in profiles.iter().enumerate() {
        let width_mask = if profile.size >= 32 {
            u32::MAX
        } else {
            (1u32 << profile.size) - 1
        };
        for &s in &profile.starts {
            items.push(Item {
                profile: p as u8,
                start: s,
                mask: width_mask << s,
            });
        }
    }
    items
}
