//! The bound is a bound (issue 14 §2): on many small random demands, fabplan's objective,
//! bound and status are compared with an EXACT model over concrete nodes, written here and
//! sharing no code with `src/plan` (it reads only the validated demand, the fabric's node
//! list and the MIG engine's layouts): greedy <= fabplan <= exact optimum <= bound, and
//! `optimal` only when fabplan is within `--mip-gap` of the exact optimum.
//!
//! The exact model: two HGX H100 nodes (16 GPUs, one rail-optimized leaf group); GPUs of
//! one node are interchangeable, so per node it counts whole GPUs per replica or gang,
//! GPUs per (MIG group, maximal layout) with typed instance slots, and time-sliced GPUs per
//! maximal clique of tenants that may share pairwise (shares of 1/8, 1/4, 1/2 divide a GPU,
//! so capacity per clique is exact); a dedicated-node tenant's node holds no other tenant.
//! Gangs take part of one node or whole nodes (docs/demand-format.md). Objective: priority
//! x GPU-equivalents less stranding (cost and communication weights are set to 0 in these
//! demands, so the comparison is exact without re-deriving prices and all-reduce times).

// Node, tenant and workload indices address several parallel tables at once.
#![allow(clippy::needless_range_loop)]

use std::collections::BTreeMap;

use fabplan::model::demand::{Demand, Isolation, Unit};
use fabplan::model::{Fabric, TenantId};
use fabplan::plan::gen::Rng;
use fabplan::plan::{self, PlanOptions, PlanStatus, SolverChoice};
use good_lp::solvers::highs::highs;
use good_lp::{constraint, variable, Expression, ProblemVariables, SolverModel, Variable};

const STRANDED: f64 = 0.25;
const GPUS_PER_NODE: u32 = 8;
const NODES: usize = 2;

fn two_nodes() -> Fabric {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fabrics/lab-small.yaml");
    let text = std::fs::read_to_string(path).expect("lab-small");
    // lab-small without its second rack: lab1 and lab2 in rack lab-r1.
    let text = text
        .replace(
            "  - id: lab-r2\n    power_kw: 35\n    cooling: air\n    su: su1\n    nodes:\n      - {template: hgx-h100, ids: \"lab[3-4]\"}\n",
            "",
        )
        .replace("nodes: \"lab[1-4]\"", "nodes: \"lab[1-2]\"");
    let f = fabplan::load::load_fabric_str("two-nodes.yaml", &text)
        .fabric
        .expect("two-node fabric loads");
    assert_eq!(f.gpus.len(), NODES * GPUS_PER_NODE as usize);
    f
}

/// Two nodes of different models: `lab1` (HGX H100) and `lab2` (HGX H200), one rail
/// group, for elastic replicas across GPU models.
fn two_models() -> Fabric {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/plan/verify-mixed-fabric.yaml"
    );
    let text = std::fs::read_to_string(path).expect("verify-mixed-fabric");
    let text = text
        .replace("power_kw: 12\n", "power_kw: 35\n")
        .replace("ids: \"lab[1-2]\"", "ids: \"lab1\"")
        .replace("ids: \"lab[3-4]\"", "ids: \"lab2\"")
        .replace("nodes: \"lab[1-4]\"", "nodes: \"lab[1-2]\"");
    let f = fabplan::load::load_fabric_str("two-models.yaml", &text)
        .fabric
        .expect("two-model fabric loads");
    assert_eq!(f.gpus.len(), NODES * GPUS_PER_NODE as usize);
    let models: Vec<&str> = (0..NODES)
        .map(|n| {
            f.template_of(fabplan::model::NodeId::from_index(n))
                .gpu_model
                .as_str()
        })
        .collect();
    assert_eq!(models, ["h100-80gb", "h200-141gb"]);
    f
}

/// A random small demand: 1-3 tenants of every isolation policy, 1-7 workloads sized for
/// their tenant (whole GPUs, MIG profiles, time-sliced shares, gangs of 1-16 GPUs). With
/// `elastic`, replicated workloads may take `min_replicas` (0 to all) and `same_model`.
fn scenario(rng: &mut Rng, elastic: bool) -> String {
    let nt = 1 + rng.below(3) as usize;
    let mut s = String::from(
        "weights: {value: 1, cost_per_usd: 0, communication: 0, stranded: 0.25, disruption: 0}\ntenants:\n",
    );
    let iso: Vec<u64> = (0..nt).map(|_| rng.below(5)).collect();
    let shared: Vec<usize> = (0..nt).filter(|&t| iso[t] == 4).collect();
    for t in 0..nt {
        let text = match iso[t] {
            0 => "dedicated-node".to_string(),
            1 => "dedicated-gpu".to_string(),
            2 => "mig".to_string(),
            3 => "mig, co_tenancy: true".to_string(),
            _ => {
                // A chain among the shared tenants: a <-> b <-> c, not a <-> c.
                let i = shared.iter().position(|&x| x == t).expect("shared");
                let mut with = Vec::new();
                if i > 0 {
                    with.push(format!("t{}", shared[i - 1]));
                }
                if i + 1 < shared.len() {
                    with.push(format!("t{}", shared[i + 1]));
                }
                format!("shared, share_with: [{}]", with.join(", "))
            }
        };
        s.push_str(&format!("  - {{name: t{t}, isolation: {text}}}\n"));
    }
    s.push_str("workloads:\n");
    for w in 0..1 + rng.below(7) {
        let t = rng.below(nt as u64) as usize;
        let prio = 1 + rng.below(6);
        let size = match iso[t] {
            0 | 1 if rng.below(2) == 0 => {
                let k = [1, 2, 4, 8, 16][rng.below(5) as usize];
                let level = if k > 8 {
                    "leaf"
                } else {
                    ["nvlink", "leaf"][rng.below(2) as usize]
                };
                format!("kind: training, gpus: {k}, topology: {{required: {level}}}")
            }
            0 | 1 => format!(
                "kind: inference, replicas: {}, size: {{gpus: {}}}",
                1 + rng.below(4),
                [1, 2, 4, 8][rng.below(4) as usize]
            ),
            2 | 3 => format!(
                "kind: inference, replicas: {}, size: {{mig: {}}}",
                1 + rng.below(8),
                ["1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"]
                    [rng.below(6) as usize]
            ),
            _ => format!(
                "kind: inference, replicas: {}, size: {{fraction: {}}}",
                1 + rng.below(10),
                ["0.125", "0.25", "0.5"][rng.below(3) as usize]
            ),
        };
        let mut extra = String::new();
        if elastic && !size.starts_with("kind: training") {
            let reps: u64 = size
                .split("replicas: ")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|r| r.parse().ok())
                .expect("replicas");
            if rng.below(3) > 0 {
                extra.push_str(&format!(", min_replicas: {}", rng.below(reps + 1)));
            }
            if rng.below(3) == 0 {
                extra.push_str(", same_model: true");
            }
        }
        s.push_str(&format!(
            "  - {{name: w{w}, tenant: t{t}, priority: {prio}, {size}{extra}}}\n"
        ));
    }
    s
}

/// Maximal sets of tenants (among `members`) that all may share pairwise.
fn maximal_cliques(d: &Demand, members: &[usize]) -> Vec<Vec<usize>> {
    let n = members.len();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for mask in 1u32..(1 << n) {
        let set: Vec<usize> = (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| members[i])
            .collect();
        let clique = set.iter().all(|&a| {
            set.iter()
                .all(|&b| a == b || d.may_share(TenantId::from_index(a), TenantId::from_index(b)))
        });
        if clique {
            out.push(set);
        }
    }
    let all = out.clone();
    out.retain(|c| {
        !all.iter()
            .any(|o| o.len() > c.len() && c.iter().all(|x| o.contains(x)))
    });
    out
}

/// The exact optimum over concrete nodes (see the module doc).
fn exact_optimum(f: &Fabric, d: &Demand) -> f64 {
    let catalog = fabplan::load::demand::fabric_catalog(f);
    // Each node's GPU model, MIG table and maximal layouts.
    let node_model: Vec<String> = (0..NODES)
        .map(|n| {
            f.template_of(fabplan::model::NodeId::from_index(n))
                .gpu_model
                .clone()
        })
        .collect();
    let tables: Vec<_> = node_model
        .iter()
        .map(|m| catalog.gpu(m).and_then(|g| g.mig.clone()))
        .collect();
    let layouts: Vec<Vec<fabplan::mig::Layout>> = tables
        .iter()
        .map(|t| {
            t.as_ref()
                .map(|t| fabplan::mig::maximal_layouts(t, fabplan::mig::Rules::default()))
                .unwrap_or_default()
        })
        .collect();
    let mut vars = ProblemVariables::new();
    let mut rows = Vec::new();
    let mut obj = Expression::from(0.0);
    let nt = d.tenants.len();
    // Per node: GPUs taken, and per tenant an expression of what it holds there.
    let mut node_gpus: Vec<Expression> = vec![Expression::from(0.0); NODES];
    let mut holds: Vec<Vec<Expression>> = vec![vec![Expression::from(0.0); nt]; NODES];
    // MIG instances needed per (node, group, profile) and time-sliced replicas per node.
    let mut mig_need: BTreeMap<(usize, u32, u8), Expression> = BTreeMap::new();
    let mut share_reps: Vec<Vec<(usize, u16, Variable)>> = vec![Vec::new(); NODES];
    let group = |t: usize| match d.tenants[t].isolation {
        Isolation::Mig { co_tenancy: true } => 0u32,
        _ => t as u32 + 1,
    };
    for (w, wl) in d.workloads.iter().enumerate() {
        let units: Vec<Option<Unit>> = node_model
            .iter()
            .map(|m| wl.units.get(m).copied())
            .collect();
        if units.iter().all(|u| u.is_none()) {
            continue;
        }
        let a = vars.add(variable().binary());
        let t = wl.tenant.index();
        // A gang, or `same_model`: one model for all of it (a binary per model).
        let one_model = wl.gang.is_some() || wl.same_model;
        let mut pick: BTreeMap<&str, Variable> = BTreeMap::new();
        if one_model {
            let mut sum = Expression::from(0.0);
            for m in &node_model {
                if !pick.contains_key(m.as_str()) {
                    let b = vars.add(variable().binary());
                    sum += b;
                    pick.insert(m.as_str(), b);
                }
            }
            rows.push(constraint!(sum <= a));
        }
        let cap = if wl.gang.is_some() {
            16.0
        } else {
            wl.replicas as f64
        };
        let mut sum = Expression::from(0.0);
        let mut count = wl.replicas;
        for n in 0..NODES {
            let Some(unit) = units[n] else { continue };
            let x = match unit {
                Unit::Gpus(_) if wl.gang.is_some() => vars.add(variable().binary()),
                _ => vars.add(variable().integer().min(0).max(wl.replicas as f64)),
            };
            if one_model {
                let b = pick[node_model[n].as_str()];
                rows.push(constraint!(x <= cap * b));
            }
            sum += x;
            holds[n][t] += x;
            match unit {
                Unit::Gpus(k) if wl.gang.is_some() => {
                    // Part of one node, or whole nodes; worth the whole gang once admitted.
                    let per = if k <= GPUS_PER_NODE {
                        count = 1;
                        k
                    } else if k % GPUS_PER_NODE == 0 {
                        count = k / GPUS_PER_NODE;
                        GPUS_PER_NODE
                    } else {
                        count = u32::MAX;
                        k
                    };
                    node_gpus[n] += per as f64 * x;
                }
                Unit::Gpus(k) => {
                    obj += wl.priority * k as f64 * x;
                    node_gpus[n] += k as f64 * x;
                }
                Unit::Mig(p) => {
                    let table = tables[n].as_ref().expect("MIG table");
                    let eq = table.profile(p).compute_slices as f64 / table.compute_slices as f64;
                    obj += (wl.priority + STRANDED) * eq * x;
                    *mig_need
                        .entry((n, group(t), p.0))
                        .or_insert_with(|| Expression::from(0.0)) += x;
                }
                // Shares here are powers of two (1/8, 1/4, 1/2): summing thousandths per GPU
                // is exact for them (first-fit decreasing packs any such set that fits by sum).
                Unit::Share { milli: e, .. } => {
                    obj += (wl.priority + STRANDED) * (e as f64 / 1000.0) * x;
                    share_reps[n].push((w, e, x));
                }
            }
        }
        if let Some(g) = &wl.gang {
            let _ = g;
            let Some(Unit::Gpus(k)) = units.iter().flatten().next().copied() else {
                unreachable!("a gang takes whole GPUs")
            };
            if count == u32::MAX {
                rows.push(constraint!(a <= 0));
                continue;
            }
            obj += wl.priority * k as f64 * a;
            rows.push(constraint!(sum == count as f64 * a));
        } else {
            // Elastic: any count from `min_replicas` to `replicas` once admitted, each
            // replica worth its share (all of them when the demand gives no minimum).
            rows.push(constraint!(sum.clone() <= wl.replicas as f64 * a));
            rows.push(constraint!(sum >= wl.min_replicas as f64 * a));
        }
    }
    let shared_tenants: Vec<usize> = (0..nt)
        .filter(|&t| d.tenants[t].isolation == Isolation::Shared)
        .collect();
    let cliques = maximal_cliques(d, &shared_tenants);
    for n in 0..NODES {
        // MIG GPUs per (group, maximal layout); instances fill typed slots.
        let groups: Vec<u32> = {
            let mut g: Vec<u32> = mig_need.keys().filter(|k| k.0 == n).map(|k| k.1).collect();
            g.dedup();
            g
        };
        for grp in groups {
            let layouts = &layouts[n];
            let ys: Vec<Variable> = layouts
                .iter()
                .map(|_| vars.add(variable().integer().min(0).max(GPUS_PER_NODE as f64)))
                .collect();
            for &y in &ys {
                node_gpus[n] += y;
                obj -= STRANDED * y;
            }
            for ((_, _, q), need) in mig_need.range((n, grp, 0)..=(n, grp, u8::MAX)) {
                let mut offer = Expression::from(0.0);
                for (l, &y) in layouts.iter().zip(&ys) {
                    let c = l.placements.iter().filter(|x| x.profile.0 == *q).count();
                    offer += c as f64 * y;
                }
                rows.push(constraint!(need.clone() <= offer));
            }
        }
        // Time-sliced GPUs per clique; each replica goes to a clique holding its tenant.
        let mut per_rep: BTreeMap<usize, Expression> = BTreeMap::new();
        for c in &cliques {
            let z = vars.add(variable().integer().min(0).max(GPUS_PER_NODE as f64));
            node_gpus[n] += z;
            obj -= STRANDED * z;
            let mut load = Expression::from(0.0);
            for &(w, e, x) in &share_reps[n] {
                let _ = x;
                if c.contains(&d.workloads[w].tenant.index()) {
                    let r = vars.add(variable().integer().min(0).max(64.0));
                    load += e as f64 * r;
                    *per_rep.entry(w).or_insert_with(|| Expression::from(0.0)) += r;
                }
            }
            rows.push(constraint!(load <= 1000.0 * z));
        }
        for &(w, _, x) in &share_reps[n] {
            let r = per_rep.remove(&w).unwrap_or_else(|| Expression::from(0.0));
            rows.push(constraint!(x == r));
        }
        rows.push(constraint!(node_gpus[n].clone() <= GPUS_PER_NODE as f64));
        // Dedicated-node tenants: their node holds no other tenant.
        for t in 0..nt {
            if d.tenants[t].isolation != Isolation::DedicatedNode {
                continue;
            }
            let own = vars.add(variable().binary());
            rows.push(constraint!(holds[n][t].clone() <= 64.0 * own));
            for u in 0..nt {
                if u != t {
                    rows.push(constraint!(holds[n][u].clone() <= 64.0 * (1.0 - own)));
                }
            }
        }
    }
    let mut p = highs(vars.maximise(obj.clone()));
    for r in rows {
        p.add_constraint(r);
    }
    let mut m = p.into_inner();
    m.make_quiet();
    m.set_option("mip_rel_gap", 0.0);
    m.set_option("mip_abs_gap", 0.0);
    m.set_option("threads", 1);
    let s = m.try_solve().expect("exact model solves");
    assert_eq!(s.status(), highs::HighsModelStatus::Optimal);
    s.objective_value()
}

/// A few hundred random demands: greedy <= fabplan <= exact <= bound; `optimal` only within
/// the gap of the exact optimum; every plan passes `verify`.
#[test]
fn bound_holds_against_an_exact_model() {
    check_against_exact(&two_nodes(), 0..300, false, (200, 50));
}

/// The same on one H100 and one H200 node, with elastic replicas (`min_replicas` 0 to all)
/// and `same_model` at random: replicas may split over both models unless told not to.
#[test]
fn bound_holds_with_elastic_and_multi_model_replicas() {
    check_against_exact(&two_models(), 1000..1200, true, (150, 30));
}

fn check_against_exact(
    f: &Fabric,
    seeds: std::ops::Range<u64>,
    elastic: bool,
    (least_loaded, least_contested): (usize, usize),
) {
    use rayon::prelude::*;
    let f = f.clone();
    let mip_gap = 0.01;
    let loaded = std::sync::atomic::AtomicUsize::new(0);
    let contested = std::sync::atomic::AtomicUsize::new(0);
    // Plans with a workload split over two models, or admitted short of its replicas.
    let mixed = std::sync::atomic::AtomicUsize::new(0);
    let short = std::sync::atomic::AtomicUsize::new(0);
    let failures: Vec<String> = seeds
        .into_par_iter()
        .filter_map(|seed| {
            let mut rng = Rng::new(seed);
            let text = scenario(&mut rng, elastic);
            let d = fabplan::load::demand::demand_from_str("p.yaml", &text, &f).ok()?;
            let exact = exact_optimum(&f, &d);
            loaded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let o = PlanOptions {
                time_limit_seconds: 10.0,
                mip_gap,
                ..PlanOptions::default()
            };
            let g = plan::plan_document(
                &f,
                &d,
                None,
                &PlanOptions {
                    solver: SolverChoice::Greedy,
                    ..o.clone()
                },
            )
            .0;
            let (h, doc) = plan::plan_document(&f, &d, None, &o);
            if h.admitted.iter().any(|a| !a) {
                contested.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if doc.workloads.iter().any(|w| !w.gpu_models.is_empty()) {
                mixed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if doc
                .workloads
                .iter()
                .any(|w| w.admitted && w.replicas < w.replicas_requested)
            {
                short.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let tol = 1e-6 * exact.abs().max(1.0);
            let mut why = Vec::new();
            if h.objective + tol < g.objective {
                why.push(format!(
                    "highs {} below greedy {}",
                    h.objective, g.objective
                ));
            }
            if h.objective > exact + tol {
                why.push(format!(
                    "fabplan {} above the exact optimum {exact} (the exact model is wrong)",
                    h.objective
                ));
            }
            match h.bound {
                Some(b) if b + tol < exact => why.push(format!(
                    "bound {b} ({}) below the exact optimum {exact}",
                    h.bound_scope
                )),
                None if h.status == PlanStatus::Optimal => {
                    why.push("optimal without a bound".into())
                }
                _ => {}
            }
            if h.status == PlanStatus::Optimal
                && (exact - h.objective) / exact.abs().max(1e-9) > mip_gap + 1e-6
            {
                why.push(format!(
                    "optimal at {} but the exact optimum is {exact}",
                    h.objective
                ));
            }
            why.extend(
                plan::verify::verify(&f, &d, &doc)
                    .into_iter()
                    // FP857: a required workload not admitted (infeasible demand, not a bug).
                    .filter(|v| v.code != "FP857")
                    .map(|v| format!("{}: {}", v.code, v.message)),
            );
            (!why.is_empty()).then(|| format!("seed {seed}: {}\n{text}", why.join("; ")))
        })
        .collect();
    let (loaded, contested) = (loaded.into_inner(), contested.into_inner());
    let (mixed, short) = (mixed.into_inner(), short.into_inner());
    eprintln!(
        "{loaded} demands loaded, {contested} with work left out, {mixed} with replicas on \
         two models, {short} with an elastic workload short of its replicas"
    );
    assert!(
        failures.is_empty(),
        "{} failures, first:\n{}",
        failures.len(),
        failures.first().unwrap()
    );
    // The cases must be hard enough to mean something.
    assert!(
        loaded >= least_loaded
            && contested >= least_contested
            && (!elastic || (mixed >= 10 && short >= 10)),
        "{loaded} loaded, {contested} contested"
    );
}
