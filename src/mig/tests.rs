//! Engine tests against docs/mig-rules.md (the published 19, the section 4 gotchas)
//! and property tests against brute force.

use super::*;
use crate::catalog::Catalog;
use proptest::prelude::*;

fn table(key: &str) -> &'static MigTable {
    Catalog::builtin().gpu(key).unwrap().mig.as_ref().unwrap()
}

fn idx(t: &MigTable, names: &[&str]) -> Vec<ProfileIdx> {
    names
        .iter()
        .map(|n| t.profile_index(n).unwrap_or_else(|| panic!("{n}")))
        .collect()
}

const EIGHT_UNIT: &[&str] = &[
    "a100-40gb",
    "a100-80gb",
    "h100-80gb",
    "h100-nvl-94gb",
    "h200-141gb",
    "b200",
    "gb200",
];

/// The five base profiles of an 8-unit GPU: the 1g, 2g, 3g, 4g and 7g without `+me` or 2x memory.
fn base_five(t: &MigTable) -> MigTable {
    let keep: Vec<ProfileIdx> = [19u32, 14, 9, 5, 0]
        .iter()
        .map(|id| ProfileIdx(t.profiles.iter().position(|p| p.id == *id).unwrap() as u8))
        .collect();
    t.restricted_to(&keep)
}

#[test]
fn a100_base_profiles_have_nvidias_19_maximal_layouts() {
    // MIG User Guide, "MIG Profiles on A100": 19 configurations (docs/mig-rules.md section 2).
    let t = base_five(table("a100-40gb"));
    assert_eq!(maximal_layouts(&t, Rules::default()).len(), 19);
    // "All 8-unit GPUs with the same placement table give the same counts."
    for key in EIGHT_UNIT {
        assert_eq!(
            maximal_layouts(&base_five(table(key)), Rules::default()).len(),
            19,
            "{key}"
        );
    }
}

#[test]
fn published_layout_two_2g_then_three_1g_is_maximal() {
    // docs/mig-rules.md section 3: `2g@0 | 2g@2 | 1g@4 | 1g@5 | 1g@6` is one of ours.
    let t = base_five(table("a100-40gb"));
    let found = maximal_layouts(&t, Rules::default())
        .iter()
        .any(|l| l.describe(&t) == "2g.10gb@0 2g.10gb@2 1g.5gb@4 1g.5gb@5 1g.5gb@6");
    assert!(found);
    // and `1|1|1|1|1|2` (2g at unit 5) is not a legal position: 2g starts only at 0, 2, 4.
    let bad: Vec<Placement> = (0..5)
        .map(|s| Placement {
            profile: ProfileIdx(0),
            start: s,
        })
        .chain([Placement {
            profile: ProfileIdx(1),
            start: 5,
        }])
        .collect();
    assert_eq!(
        check_layout(&t, Rules::default(), &bad).unwrap_err().rule,
        Rule::R1
    );
}

#[test]
fn three_g_three_g_one_g_is_never_placeable() {
    // docs/mig-rules.md section 4.
    for key in EIGHT_UNIT {
        let t = table(key);
        let threeg = t.profiles.iter().find(|p| p.id == 9).unwrap().name.clone();
        let oneg = t.profiles.iter().find(|p| p.id == 19).unwrap().name.clone();
        let err = place(t, Rules::default(), &idx(t, &[&threeg, &threeg, &oneg])).unwrap_err();
        assert_eq!(err.rule, Rule::R2, "{key}");
        assert!(err.why.contains("9 placement units"), "{}", err.why);
    }
}

#[test]
fn seven_1g_leave_unit_7_unusable() {
    let t = table("h100-80gb");
    let seven = place(t, Rules::default(), &idx(t, &["1g.10gb"; 7])).unwrap();
    let starts: Vec<u8> = seven.placements.iter().map(|p| p.start).collect();
    assert_eq!(starts, [0, 1, 2, 3, 4, 5, 6]);
    // No valid layout holds seven 1g and anything else.
    let one_g = t.profile_index("1g.10gb").unwrap();
    for layout in enumerate_layouts(t, Rules::default()) {
        let n1 = layout
            .placements
            .iter()
            .filter(|p| p.profile == one_g)
            .count();
        if n1 == 7 {
            assert_eq!(layout.placements.len(), 7, "{}", layout.describe(t));
        }
    }
    // Only 1g.20gb@6, 3g@4 or 7g can cover unit 7.
    let mut cover7: Vec<String> = t
        .items
        .iter()
        .filter(|it| it.mask & (1 << 7) != 0)
        .map(|it| format!("{}@{}", t.profiles[it.profile as usize].name, it.start))
        .collect();
    cover7.sort();
    assert_eq!(cover7, ["1g.20gb@6", "3g.40gb@4", "7g.80gb@0"]);
}

#[test]
fn plus_me_is_one_per_gpu() {
    for key in EIGHT_UNIT {
        let t = table(key);
        let me = t.profiles.iter().find(|p| p.id == 20).unwrap().name.clone();
        let err = place(t, Rules::default(), &idx(t, &[&me, &me])).unwrap_err();
        assert_eq!(err.rule, Rule::R3, "{key}");
    }
    let rtx = table("rtx-pro-6000-blackwell");
    let err = place(
        rtx,
        Rules::default(),
        &idx(rtx, &["1g.24gb+me.all", "1g.24gb+me.all"]),
    )
    .unwrap_err();
    assert_eq!(err.rule, Rule::R3);
}

#[test]
fn four_g_plus_three_g_only_as_4g_at_0_and_3g_at_4() {
    let t = table("a100-40gb");
    let layout = place(t, Rules::default(), &idx(t, &["3g.20gb", "4g.20gb"])).unwrap();
    assert_eq!(layout.describe(t), "4g.20gb@0 3g.20gb@4");
    let (four, three) = (
        t.profile_index("4g.20gb").unwrap(),
        t.profile_index("3g.20gb").unwrap(),
    );
    let with_both: Vec<String> = enumerate_layouts(t, Rules::default())
        .iter()
        .filter(|l| {
            l.placements.iter().any(|p| p.profile == four)
                && l.placements.iter().any(|p| p.profile == three)
        })
        .map(|l| l.describe(t))
        .collect();
    assert_eq!(with_both, ["4g.20gb@0 3g.20gb@4"]);
    // Two 4g never fit (4g starts only at 0; its cap is 1).
    assert_eq!(
        place(t, Rules::default(), &idx(t, &["4g.20gb", "4g.20gb"]))
            .unwrap_err()
            .rule,
        Rule::R3
    );
    // Before R510 the pair is refused (MIG guide, Partitioning).
    let pre = Rules {
        pre_r510: true,
        ..Rules::default()
    };
    assert_eq!(
        place(t, pre, &idx(t, &["3g.20gb", "4g.20gb"]))
            .unwrap_err()
            .rule,
        Rule::R5
    );
    assert!(enumerate_layouts(t, pre).iter().all(|l| !(l
        .placements
        .iter()
        .any(|p| p.profile == four)
        && l.placements.iter().any(|p| p.profile == three))));
}

#[test]
fn three_g_on_the_left_is_maximal_but_not_multiset_maximal() {
    // docs/mig-rules.md section 4: `3g.40gb + 2g.20gb + 1g.10gb` with the 3g at 0.
    let t = table("h100-80gb");
    let rules = Rules::default();
    let maximal: Vec<String> = maximal_layouts(t, rules)
        .iter()
        .map(|l| l.describe(t))
        .collect();
    assert!(maximal.contains(&"3g.40gb@0 2g.20gb@4 1g.10gb@6".to_string()));
    let ms = maximal_multisets(t, rules);
    let m = |names: &[&str]| {
        let mut c = vec![0u32; t.profiles.len()];
        for p in idx(t, names) {
            c[p.get()] += 1;
        }
        c
    };
    assert!(!ms.contains(&m(&["3g.40gb", "2g.20gb", "1g.10gb"])));
    assert!(ms.contains(&m(&["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"])));
}

#[test]
fn placement_mimics_the_driver_order_but_is_explicit() {
    // docs/mig-rules.md section 4: `-cgi 19,14,5` gives 1g at 6, 2g at 4, 4g at 0; `-cgi 9,9` 3g at 4 then 0.
    let t = table("a100-40gb");
    let l = place(
        t,
        Rules::default(),
        &idx(t, &["1g.5gb", "2g.10gb", "4g.20gb"]),
    )
    .unwrap();
    assert_eq!(l.describe(t), "4g.20gb@0 2g.10gb@4 1g.5gb@6");
    let l = place(t, Rules::default(), &idx(t, &["3g.20gb", "3g.20gb"])).unwrap();
    assert_eq!(l.describe(t), "3g.20gb@0 3g.20gb@4");
    // The guide's `-cgi 19,19,14,9` failed in that order; with explicit starts it fits.
    let l = place(
        t,
        Rules::default(),
        &idx(t, &["1g.5gb", "1g.5gb", "2g.10gb", "3g.20gb"]),
    )
    .unwrap();
    assert_eq!(l.describe(t), "1g.5gb@0 1g.5gb@1 2g.10gb@2 3g.20gb@4");
}

#[test]
fn media_engine_rule_is_optional() {
    // docs/mig-rules.md R4: on RTX PRO 6000 `+me.all` holds every media engine.
    let t = table("rtx-pro-6000-blackwell");
    let req = idx(t, &["1g.24gb+me.all", "1g.24gb"]);
    assert!(place(t, Rules::default(), &req).is_ok());
    let r4 = Rules {
        media_engines: true,
        ..Rules::default()
    };
    assert_eq!(place(t, r4, &req).unwrap_err().rule, Rule::R4);
    // On Hopper R4 never binds beyond R3 (OFA = 1 is enforced by the +me cap).
    let h = table("h100-80gb");
    assert_eq!(
        count_layouts(h, r4, false),
        count_layouts(h, Rules::default(), false)
    );
}

#[test]
fn rtx_pro_6000_has_five_base_layouts() {
    // docs/mig-rules.md section 4: 12 units and only 5 base layouts (4g; 2g+2g; 2g+1g+1g twice; 4x1g),
    // i.e. the maximal layouts of the plain 1g/2g/4g profiles.
    let t = table("rtx-pro-6000-blackwell");
    let base = t.restricted_to(&idx(t, &["1g.24gb", "2g.48gb", "4g.96gb"]));
    let maximal: Vec<String> = maximal_layouts(&base, Rules::default())
        .iter()
        .map(|l| l.describe(&base))
        .collect();
    assert_eq!(maximal.len(), 5, "{maximal:?}");
}

#[test]
fn every_layout_passes_the_predicate_and_maximal_ones_are_maximal() {
    for m in Catalog::builtin().gpus() {
        let t = m.mig.as_ref().unwrap();
        let all = enumerate_layouts(t, Rules::default());
        assert_eq!(all.len(), count_layouts(t, Rules::default(), false));
        let set: std::collections::BTreeSet<&Layout> = all.iter().collect();
        assert_eq!(set.len(), all.len(), "{}: duplicates", m.key);
        for l in &all {
            check_layout(t, Rules::default(), &l.placements).unwrap();
        }
        for l in maximal_layouts(t, Rules::default()) {
            assert!(set.contains(&l));
        }
    }
}

#[test]
fn fit_packs_demands_into_fewest_gpus() {
    let t = table("h100-80gb");
    let demand = |pairs: &[(&str, u32)]| {
        let mut d = vec![0u32; t.profiles.len()];
        for (n, c) in pairs {
            d[t.profile_index(n).unwrap().get()] = *c;
        }
        d
    };
    let f = fit(t, Rules::default(), &demand(&[("1g.10gb", 14)])).unwrap();
    assert_eq!((f.gpus, f.lower_bound, f.proven_minimal), (2, 2, true));
    // 3 x 3g + 1 x 1g: two 3g per GPU at most, 3g+3g+1g impossible -> 2 GPUs.
    let f = fit(
        t,
        Rules::default(),
        &demand(&[("3g.40gb", 3), ("1g.10gb", 1)]),
    )
    .unwrap();
    assert_eq!(f.gpus, 2);
    assert_eq!(f.free_units, 16 - 13);
    // The all-balanced mix x 10: 2x1g + 2g + 3g fill one GPU each.
    let f = fit(
        t,
        Rules::default(),
        &demand(&[("1g.10gb", 20), ("2g.20gb", 10), ("3g.40gb", 10)]),
    )
    .unwrap();
    assert_eq!(f.gpus, 10);
    // The layouts cover the demand exactly.
    let mut covered = vec![0u32; t.profiles.len()];
    for g in &f.groups {
        check_layout(t, Rules::default(), &g.layout.placements).unwrap();
        for (i, c) in g.layout.counts(t).iter().enumerate() {
            covered[i] += c * g.gpus;
        }
    }
    assert_eq!(
        covered,
        demand(&[("1g.10gb", 20), ("2g.20gb", 10), ("3g.40gb", 10)])
    );
    // 4g x 2 + 3g x 2: 4g+3g on one GPU each.
    let f = fit(
        t,
        Rules::default(),
        &demand(&[("4g.40gb", 2), ("3g.40gb", 2)]),
    )
    .unwrap();
    assert_eq!(f.gpus, 2);
    // With the pre-R510 rule they cannot share: 4 GPUs? No: 3g+3g share one -> 3.
    let f = fit(
        t,
        Rules {
            pre_r510: true,
            ..Rules::default()
        },
        &demand(&[("4g.40gb", 2), ("3g.40gb", 2)]),
    )
    .unwrap();
    assert_eq!(f.gpus, 3);
}

#[test]
fn fit_refuses_a_profile_that_cannot_exist() {
    let t = table("rtx-pro-6000-blackwell");
    let mut d = vec![0u32; t.profiles.len()];
    d[t.profile_index("1g.24gb+me.all").unwrap().get()] = 1;
    let r4 = Rules {
        media_engines: true,
        ..Rules::default()
    };
    assert!(fit(t, r4, &d).is_ok());
    let empty = fit(t, Rules::default(), &vec![0; t.profiles.len()]).unwrap();
    assert_eq!(empty.gpus, 0);
}

// ---- brute force -------------------------------------------------------------------------

/// Tries every assignment of allowed starts, in request order, checking whole layouts only.
fn brute_force_placeable(t: &MigTable, rules: Rules, request: &[ProfileIdx]) -> bool {
    fn go(t: &MigTable, rules: Rules, request: &[ProfileIdx], chosen: &mut Vec<Placement>) -> bool {
        if chosen.len() == request.len() {
            return check_layout(t, rules, chosen).is_ok();
        }
        let p = request[chosen.len()];
        for &s in &t.profile(p).starts {
            chosen.push(Placement {
                profile: p,
                start: s,
            });
            // Overlap prunes only: a layout with an overlap never becomes valid.
            let ok = {
                let mut used = 0u64;
                chosen.iter().all(|c| {
                    let m = ((1u64 << t.profile(c.profile).size) - 1) << c.start;
                    let free = used & m == 0;
                    used |= m;
                    free
                })
            };
            if ok && go(t, rules, request, chosen) {
                return true;
            }
            chosen.pop();
        }
        false
    }
    go(t, rules, request, &mut Vec::new())
}

/// All subsets of items that pass the predicate (tiny tables only).
fn brute_force_layout_count(t: &MigTable, rules: Rules) -> usize {
    let n = t.items.len();
    assert!(n <= 16);
    (1u32..(1 << n))
        .filter(|bits| {
            let placements: Vec<Placement> = (0..n)
                .filter(|i| bits & (1 << i) != 0)
                .map(|i| Placement {
                    profile: ProfileIdx(t.items[i].profile),
                    start: t.items[i].start,
                })
                .collect();
            check_layout(t, rules, &placements).is_ok()
        })
        .count()
}

fn arb_rules() -> impl Strategy<Value = Rules> {
    (any::<bool>(), any::<bool>()).prop_map(|(media_engines, pre_r510)| Rules {
        media_engines,
        pre_r510,
    })
}

/// A random small table: up to 6 units, up to 4 profiles.
fn arb_table() -> impl Strategy<Value = MigTable> {
    (2u8..=6).prop_flat_map(|units| {
        let profile = (1u8..=units, any::<u8>(), 1u8..=3, 0u16..=2).prop_map(
            move |(size, starts_bits, max, ofa)| {
                let starts: Vec<u8> = (0..=units - size)
                    .filter(|s| starts_bits & (1 << s) != 0)
                    .collect();
                let starts = if starts.is_empty() { vec![0] } else { starts };
                (size, starts, max, ofa)
            },
        );
        proptest::collection::vec(profile, 1..=4).prop_map(move |ps| {
            let profiles = ps
                .into_iter()
                .enumerate()
                .map(|(i, (size, starts, max, ofa))| MigProfile {
                    name: format!("p{i}"),
                    id: i as u32,
                    compute_slices: size.min(4),
                    memory_slices: size,
                    size,
                    starts,
                    max_instances: max,
                    memory_gib: None,
                    sms: None,
                    copy_engines: None,
                    engines: Some(Engines {
                        nvdec: 0,
                        nvenc: 0,
                        jpeg: 0,
                        ofa,
                    }),
                    provenance: Provenance::Inferred,
                    source: String::new(),
                })
                .collect();
            let totals = Some(Engines {
                nvdec: 0,
                nvenc: 0,
                jpeg: 0,
                ofa: 2,
            });
            MigTable::new(units, units, units, totals, vec![], profiles).unwrap()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// On catalog GPUs: a placement passes the predicate and holds exactly the request; an
    /// unplaceable verdict means brute force finds nothing either.
    #[test]
    fn place_agrees_with_brute_force_on_catalog(gpu in 0usize..8, picks in proptest::collection::vec(0usize..32, 0..7), rules in arb_rules()) {
        let model = Catalog::builtin().gpus().nth(gpu).unwrap();
        let t = model.mig.as_ref().unwrap();
        let request: Vec<ProfileIdx> = picks.iter().map(|&k| ProfileIdx((k % t.profiles.len()) as u8)).collect();
        match place(t, rules, &request) {
            Ok(layout) => {
                prop_assert!(check_layout(t, rules, &layout.placements).is_ok());
                let mut got: Vec<ProfileIdx> = layout.placements.iter().map(|p| p.profile).collect();
                let mut want = request.clone();
                got.sort();
                want.sort();
                prop_assert_eq!(got, want);
            }
            Err(_) => prop_assert!(!brute_force_placeable(t, rules, &request)),
        }
    }

    /// On random small tables: the same, plus the enumeration count equals brute force over
    /// every subset of items, and every emitted layout passes the predicate.
    #[test]
    fn engine_agrees_with_brute_force_on_random_tables(t in arb_table(), picks in proptest::collection::vec(0usize..4, 0..6), rules in arb_rules()) {
        let request: Vec<ProfileIdx> = picks.iter().map(|&k| ProfileIdx((k % t.profiles.len()) as u8)).collect();
        match place(&t, rules, &request) {
            Ok(layout) => prop_assert!(check_layout(&t, rules, &layout.placements).is_ok()),
            Err(_) => prop_assert!(!brute_force_placeable(&t, rules, &request)),
        }
        if t.items.len() <= 12 {
            let layouts = enumerate_layouts(&t, rules);
            for l in &layouts {
                prop_assert!(check_layout(&t, rules, &l.placements).is_ok());
            }
            prop_assert_eq!(layouts.len(), brute_force_layout_count(&t, rules));
        }
    }

    /// `fit` covers the demand exactly with valid layouts, never below its lower bound.
    #[test]
    fn fit_covers_demand(gpu in 0usize..8, counts in proptest::collection::vec(0u32..6, 11)) {
        let model = Catalog::builtin().gpus().nth(gpu).unwrap();
        let t = model.mig.as_ref().unwrap();
        let demand: Vec<u32> = counts[..t.profiles.len()].to_vec();
        let f = fit(t, Rules::default(), &demand).unwrap();
        let mut covered = vec![0u32; t.profiles.len()];
        let mut gpus = 0;
        for g in &f.groups {
            prop_assert!(check_layout(t, Rules::default(), &g.layout.placements).is_ok());
            gpus += g.gpus;
            for (i, c) in g.layout.counts(t).iter().enumerate() {
                covered[i] += c * g.gpus;
            }
        }
        prop_assert_eq!(covered, demand);
        prop_assert_eq!(gpus, f.gpus);
        prop_assert!(f.gpus >= f.lower_bound);
    }
}
