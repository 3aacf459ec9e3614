//! The gang master: which scalable unit (or leaf group, or NVLink rack) each whole-node gang
//! goes to, decided on patterns before the pooled model is built (the "hierarchy" idea of
//! docs/planner-notes.md).
//!
//! Gangs that must stay inside one domain make the pooled model a bin-packing problem, and
//! HiGHS's primal heuristics do badly on it: on 20 SUs with 40-node and 64-node gangs it
//! never improved on the greedy plan in 30 s although the optimum is 22% better. Here the
//! domains of one free size form a class, each class is cut by maximal patterns of gang
//! sizes (cutting stock, Gilmore-Gomory), and a small MILP picks the gangs and the pattern
//! counts; the patterns are then dealt out to concrete domains. The pooled model then sees
//! each chosen gang only in its domain, and may still reject it for better work.

use std::collections::BTreeMap;

use good_lp::solvers::highs::highs;
use good_lp::{
    constraint, variable, Constraint, Expression, ProblemVariables, SolverModel, Variable,
};

use super::rows::{add, maximal_patterns, tenant_rows};
use super::state::{chunks, comm_penalty, usd_per_hour, Geometry, State};
use crate::model::demand::{Demand, Level, Unit};

/// Most maximal patterns per class of domains; above it the level is left to the pooled
/// model alone.
pub const MAX_PATTERNS: usize = 4_000;

/// A gang the master can decide: whole nodes of one model inside one domain at `level`.
#[derive(Debug, Clone)]
pub struct GangShape {
    pub workload: usize,
    pub level: Level,
    pub model: usize,
    pub nodes: u32,
}

/// The gangs the master can decide (skipping `fixed` ones), in workload order.
pub fn gang_shapes(geo: &Geometry, d: &Demand, fixed: &[bool]) -> Vec<GangShape> {
    let mut out = Vec::new();
    for (w, wl) in d.workloads.iter().enumerate() {
        let Some(g) = wl.gang.as_ref().filter(|g| g.required < Level::Fabric) else {
            continue;
        };
        if fixed[w] {
            continue;
        }
        let models: Vec<usize> = (0..geo.models.len())
            .filter(|&m| wl.units.contains_key(&geo.models[m].key))
            .filter(|&m| geo.pools.iter().any(|p| p.model == m))
            .collect();
        let [m] = models[..] else {
            continue;
        };
        let unit = wl.units[&geo.models[m].key];
        let Some(gpn) = geo
            .pools
            .iter()
            .find(|p| p.model == m)
            .map(|p| p.gpus_per_node)
        else {
            continue;
        };
        if let (Unit::Gpus(_), Some((k, count))) = (unit, chunks(wl, unit, gpn)) {
            if k == gpn && count >= 2 {
                out.push(GangShape {
                    workload: w,
                    level: g.required,
                    model: m,
                    nodes: count,
                });
            }
        }
    }
    out
}

/// Free whole nodes of model `m` per domain at `level` in `base`.
pub fn free_nodes(geo: &Geometry, base: &State, level: Level, m: usize) -> BTreeMap<u32, u32> {
    let lvl = level as usize;
    let mut cap: BTreeMap<u32, u32> = BTreeMap::new();
    for pool in geo.pools.iter().filter(|p| p.model == m) {
        let dom = pool.domain[lvl];
        if dom == u32::MAX {
            continue;
        }
        let n = pool
            .nodes
            .iter()
            .filter(|&&n| base.free_gpus[n.index()] == pool.gpus_per_node)
            .count() as u32;
        *cap.entry(dom).or_default() += n;
    }
    cap
}

/// Domains grouped by their free whole nodes (class capacity -> sorted domains).
pub fn classes(cap: &BTreeMap<u32, u32>) -> BTreeMap<u32, Vec<u32>> {
    let mut out: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (&dom, &c) in cap {
        out.entry(c).or_default().push(dom);
    }
    out
}

/// One class of equal domains (same free whole nodes) at a (level, model), with the gang
/// sizes that fit it and their maximal patterns (`None` above `MAX_PATTERNS`).
pub struct PatternClass {
    pub capacity: u32,
    pub doms: Vec<u32>,
    pub fit: Vec<u32>,
    pub patterns: Option<Vec<Vec<u32>>>,
}

/// The classes of domains at `level` for model `m` in `base`, each with the maximal patterns
/// of `sizes` (descending, distinct) that fit it.
pub fn pattern_classes(
    geo: &Geometry,
    base: &State,
    level: Level,
    m: usize,
    sizes: &[u32],
) -> Vec<PatternClass> {
    classes(&free_nodes(geo, base, level, m))
        .into_iter()
        .map(|(capacity, doms)| {
            let fit: Vec<u32> = sizes.iter().copied().filter(|&s| s <= capacity).collect();
            let patterns = maximal_patterns(&fit, capacity, MAX_PATTERNS);
            PatternClass {
                capacity,
                doms,
                fit,
                patterns,
            }
        })
        .collect()
}

/// The rows of one class: its pattern counts `x` use at most its domains, and the gangs
/// placed in it of each given size are at most what the patterns offer (nothing for a size
/// that does not fit).
pub fn class_rows(
    fit: &[u32],
    patterns: &[Vec<u32>],
    x: &[Variable],
    domains: usize,
    placed: impl IntoIterator<Item = (u32, Expression)>,
) -> Vec<Constraint> {
    let total: Expression = x.iter().copied().sum();
    let mut rows = vec![constraint!(total <= domains as f64)];
    for (s, lhs) in placed {
        let mut offer = Expression::from(0.0);
        if let Some(i) = fit.iter().position(|&f| f == s) {
            for (p, &v) in patterns.iter().zip(x) {
                if p[i] > 0 {
                    offer += p[i] as f64 * v;
                }
            }
        }
        rows.push(constraint!(lhs <= offer));
    }
    rows
}

/// What the master decided for one gang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GangChoice {
    /// Not decided by the master: the pooled model chooses.
    Free,
    /// Admitted, inside this domain at its required level.
    In(u32),
    /// Rejected.
    Out,
}

/// The master's decisions and its dual bound.
pub struct Master {
    pub gangs: Vec<GangChoice>,
    /// An upper bound on the objective of every plan (see `assign`).
    pub bound: Option<f64>,
}

/// (required level, GPU model, free whole nodes) of a class of domains.
type ClassKey = (Level, usize, u32);

/// A gang's binary for one class of domains.
struct Pick {
    workload: usize,
    nodes: u32,
    class: ClassKey,
    y: Variable,
    col: usize,
}

/// One class of one (level, model) group, with its patterns.
struct Class {
    doms: Vec<u32>,
    sizes: Vec<u32>,
    patterns: Vec<Vec<u32>>,
    x: Vec<(Variable, usize)>,
}

/// Solves the master: whole-node gangs on patterns (one binary per gang and class of
/// domains), every other workload as a fluid fraction of its GPU-equivalents, capacity per
/// GPU model, tenant budgets and caps, required work. It relaxes the planning problem
/// (fluid work, no rack power, no node shapes below the gang level, no communication,
/// stranding or disruption penalties, all of which only lower a plan's objective), so its
/// dual bound bounds every named plan. `None` when no gang needs deciding or HiGHS finds
/// no solution in `time_limit`.
pub fn assign(
    geo: &Geometry,
    d: &Demand,
    base: &State,
    fixed: &[bool],
    time_limit: f64,
) -> Option<Master> {
    let shapes = gang_shapes(geo, d, fixed);
    if shapes.is_empty() {
        return None;
    }
    let mut groups: BTreeMap<(Level, usize), Vec<&GangShape>> = BTreeMap::new();
    for s in &shapes {
        groups.entry((s.level, s.model)).or_default().push(s);
    }
    let mut vars = ProblemVariables::new();
    let mut rows = Vec::new();
    let mut objective = Expression::from(0.0);
    let nt = d.tenants.len();
    let nm = geo.models.len();
    let mut t_usd: Vec<Expression> = vec![Expression::from(0.0); nt];
    let mut t_gpus: Vec<Expression> = vec![Expression::from(0.0); nt];
    let mut t_kw: Vec<Expression> = vec![Expression::from(0.0); nt];
    let mut m_gpus: Vec<Expression> = vec![Expression::from(0.0); nm];
    let mut take: BTreeMap<usize, Expression> = BTreeMap::new();
    // Cheapest power per GPU of each model (the relaxation keeps the best case).
    let kw = geo.min_gpu_kw_per_model();
    let mut term = |w: usize, m: usize, eq: f64, v: Variable, objective: &mut Expression| {
        let wl = &d.workloads[w];
        let usd = usd_per_hour(geo, d, m, eq, kw[m]);
        *objective += (d.weights.value * wl.priority * eq - d.weights.cost_per_usd * usd) * v;
        t_usd[wl.tenant.index()] += usd * v;
        t_gpus[wl.tenant.index()] += eq * v;
        t_kw[wl.tenant.index()] += eq * kw[m] * v;
        m_gpus[m] += eq * v;
        *take.entry(w).or_insert_with(|| Expression::from(0.0)) += v;
    };
    // Gangs: (workload, class key, y, column).
    let mut ys: Vec<Pick> = Vec::new();
    let mut all_classes: BTreeMap<ClassKey, Class> = BTreeMap::new();
    let mut decided = vec![false; d.workloads.len()];
    for ((level, m), gangs) in &groups {
        let mut sizes: Vec<u32> = gangs.iter().map(|g| g.nodes).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes.dedup();
        // The whole level is left to the pooled model when any class has too many patterns.
        let Some(group_classes) = pattern_classes(geo, base, *level, *m, &sizes)
            .into_iter()
            .map(|c| c.patterns.map(|p| (c.capacity, c.doms, c.fit, p)))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let gpn = geo
            .pools
            .iter()
            .find(|p| p.model == *m)
            .map(|p| p.gpus_per_node)
            .unwrap_or(1);
        for g in gangs {
            decided[g.workload] = true;
        }
        let largest: Vec<u32> = Level::ALL
            .iter()
            .map(|&l| {
                free_nodes(geo, base, l, *m)
                    .values()
                    .copied()
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (c, doms, fit, patterns) in group_classes {
            let x: Vec<(Variable, usize)> = patterns
                .iter()
                .map(|_| {
                    add(
                        &mut vars,
                        variable().integer().min(0).max(doms.len() as f64),
                    )
                })
                .collect();
            let key = (*level, *m, c);
            for g in gangs.iter().filter(|g| g.nodes <= c) {
                let (y, col) = add(&mut vars, variable().binary());
                ys.push(Pick {
                    workload: g.workload,
                    nodes: g.nodes,
                    class: key,
                    y,
                    col,
                });
                term(g.workload, *m, (g.nodes * gpn) as f64, y, &mut objective);
                // The least communication penalty any placement can get: at the tightest
                // level with a domain big enough.
                let tight = Level::ALL
                    .into_iter()
                    .find(|&l| l == Level::Fabric || largest[l as usize] >= g.nodes)
                    .unwrap_or(Level::Fabric);
                let wl = &d.workloads[g.workload];
                objective -= comm_penalty(geo, d, wl, *m, tight) * y;
            }
            all_classes.insert(
                key,
                Class {
                    doms,
                    sizes: fit,
                    patterns,
                    x,
                },
            );
        }
    }
    if ys.is_empty() {
        return None;
    }
    // Everything else as a fluid fraction on each model it may use.
    for (w, wl) in d.workloads.iter().enumerate() {
        if fixed[w] || decided[w] {
            continue;
        }
        for m in 0..nm {
            let Some(&unit) = wl.units.get(&geo.models[m].key) else {
                continue;
            };
            if !geo.pools.iter().any(|p| p.model == m) {
                continue;
            }
            let reps = if wl.gang.is_some() { 1 } else { wl.replicas };
            let eq = super::state::unit_equiv(geo, m, unit) * reps as f64;
            let v = vars.add(variable().min(0.0).max(1.0));
            term(w, m, eq, v, &mut objective);
        }
    }
    for (w, e) in take {
        let wl = &d.workloads[w];
        if wl.required && wl.is_elastic() {
            // Elastic: at least `min_replicas` of `replicas`, as a fraction (relax.rs).
            let least = wl.min_replicas as f64 / wl.replicas as f64;
            rows.push(constraint!(e.clone() <= 1));
            rows.push(constraint!(e >= least));
        } else if wl.required {
            rows.push(constraint!(e == 1));
        } else {
            rows.push(constraint!(e <= 1));
        }
    }
    // Capacity per model: free GPUs in `base`.
    let mut free = vec![0u32; nm];
    for pool in &geo.pools {
        for &n in &pool.nodes {
            free[pool.model] += base.free_gpus[n.index()];
        }
    }
    for (m, e) in m_gpus.into_iter().enumerate() {
        rows.push(constraint!(e <= free[m] as f64));
    }
    // Pattern rows.
    for (key, class) in &all_classes {
        let x: Vec<Variable> = class.x.iter().map(|x| x.0).collect();
        let placed = class.sizes.iter().map(|&s| {
            let e: Expression = ys
                .iter()
                .filter(|p| p.class == *key && p.nodes == s)
                .map(|p| p.y)
                .sum();
            (s, e)
        });
        rows.extend(class_rows(
            &class.sizes,
            &class.patterns,
            &x,
            class.doms.len(),
            placed,
        ));
    }
    // Tenant limits, net of what `base` already holds.
    rows.extend(tenant_rows(d, base, t_usd, t_gpus, t_kw));
    let (cols, bound) = solve_master(vars, objective, rows, time_limit)?;
    let gangs = deal(&all_classes, &ys, &cols, d.workloads.len());
    Some(Master { gangs, bound })
}

/// Solves the master's MIP (one thread, seed 0): the column values and HiGHS's dual bound,
/// or `None` without a primal solution.
fn solve_master(
    vars: ProblemVariables,
    objective: Expression,
    rows: Vec<Constraint>,
    time_limit: f64,
) -> Option<(Vec<f64>, Option<f64>)> {
    let ncols = vars.len();
    let mut problem = highs(vars.maximise(objective));
    for r in rows {
        problem.add_constraint(r);
    }
    let mut model = problem.into_inner();
    model.make_quiet();
    model.set_option("time_limit", time_limit.max(0.01));
    model.set_option("mip_rel_gap", 1e-4);
    model.set_option("threads", 1);
    model.set_option("random_seed", 0);
    model.set_option("parallel", "off");
    let solved = model.try_solve().ok()?;
    let has = solved
        .int_info_value(c"primal_solution_status")
        .map(|v| v == 2)
        .unwrap_or(false);
    if !has {
        return None;
    }
    let bound = solved
        .double_info_value(c"mip_dual_bound")
        .ok()
        .filter(|b| b.is_finite());
    let cols = solved.get_solution().columns().to_vec();
    debug_assert_eq!(cols.len(), ncols);
    Some((cols, bound))
}

/// Deals each class's chosen patterns out to its domains, in domain order, and puts each
/// chosen gang in a domain with a free slot of its size; the others are `Out`.
fn deal(
    all_classes: &BTreeMap<ClassKey, Class>,
    ys: &[Pick],
    cols: &[f64],
    workloads: usize,
) -> Vec<GangChoice> {
    let mut out = vec![GangChoice::Free; workloads];
    for p in ys {
        out[p.workload] = GangChoice::Out;
    }
    for (key, class) in all_classes {
        // Deal the patterns out to domains, in domain order: free slots per domain by size.
        let mut slots: Vec<(u32, BTreeMap<u32, u32>)> = Vec::new();
        let mut dom_iter = class.doms.iter();
        for (p, &(_, xcol)) in class.patterns.iter().zip(&class.x) {
            let n = cols[xcol].round().max(0.0) as usize;
            for _ in 0..n {
                let Some(&dom) = dom_iter.next() else {
                    break;
                };
                let mut s = BTreeMap::new();
                for (i, &k) in p.iter().enumerate() {
                    if k > 0 {
                        s.insert(class.sizes[i], k);
                    }
                }
                slots.push((dom, s));
            }
        }
        for p in ys.iter().filter(|p| p.class == *key && cols[p.col] >= 0.5) {
            if let Some((dom, s)) = slots
                .iter_mut()
                .find(|(_, s)| s.get(&p.nodes).copied().unwrap_or(0) > 0)
            {
                *s.get_mut(&p.nodes).expect("slot") -= 1;
                out[p.workload] = GangChoice::In(*dom);
            }
        }
    }
    out
}
