//! The MILP on pooled capacity (the only good_lp user), solved by HiGHS, then named.
//!
//! Count, don't name (docs/planner-notes.md): GPUs of one pool (rack, template, leaf
//! group, SU) are interchangeable, so the model decides counts per pool: chunks of whole
//! GPUs, MIG instances, time-sliced shares; GPUs per (pool, MIG group, maximal layout)
//! (patterns); nodes per dedicated-node tenant; one binary per (gang, domain) at its
//! required level and at each level it would prefer. Every named plan maps to a feasible
//! point of this model with an objective at least as high, so HiGHS's dual bound bounds
//! the named problem (when every workload sees every pool; see `bound_scope`).
//! The solution is named by the same placement code as the greedy baseline, restricted to
//! the pools the MILP chose; the better of that and the greedy plan is returned.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use good_lp::solvers::highs::highs;
use good_lp::{
    constraint, variable, Constraint, Expression, ProblemVariables, SolverModel, Variable,
    VariableDefinition,
};

use super::greedy::{greedy_order, restore_layouts, run_greedy};
use super::master::GangChoice;
pub use super::rows::maximal_patterns;
use super::rows::{add, tenant_rows};
use super::state::{
    chunks, comm_penalty, mig_group, unit_equiv, usd_per_hour, GeoNodeId, Geometry, GpuUse, State,
};
use super::{BoundScope, Current, PlanOptions, PlanResult, PlanStatus, SolverChoice};
use crate::model::demand::{Demand, Isolation, Level, Unit, MILLI_PER_GPU};
use crate::model::{GpuId, TenantId, WorkloadId};

/// One workload's decision in one pool.
#[derive(Debug, Clone)]
pub struct Cell {
    pub workload: usize,
    pub pool: usize,
    pub var: Variable,
    pub col: usize,
    /// GPUs per unit of `var` (whole chunks), 0 for MIG/shared.
    pub chunk_gpus: u32,
    pub unit: Unit,
    /// An elastic cell of a class of identical workloads (index into `PoolModel::classes`):
    /// `var` counts how many of them run in the pool; `workload` is the class's first.
    pub class: Option<usize>,
}

/// The built model, inspectable without solving (STYLE: problem-builder struct).
pub struct PoolModel {
    pub vars: ProblemVariables,
    pub objective: Expression,
    pub constraints: Vec<Constraint>,
    pub admit: Vec<Option<Variable>>,
    pub admit_col: Vec<Option<usize>>,
    pub cells: Vec<Cell>,
    /// (pool, group, layout index into the model's layouts) -> GPUs with that layout.
    pub patterns: Vec<(usize, u32, usize, usize)>,
    pub warm: Vec<(usize, f64)>,
    pub pruned: bool,
    /// Classes of identical workloads modelled as one elastic cell per pool.
    pub classes: Vec<Vec<usize>>,
}

/// Identical one-replica workloads (same tenant, kind, priority, size per model, host
/// CPU and memory; not required, not running, no gang, not frozen, not fixed by the gang
/// master), in classes of two or more. The pooled model counts each class per pool
/// instead of deciding each workload (8,000 single-pod workloads of an openb trace fall
/// into ~135 classes), which leaves the model exact: the workloads of a class are
/// interchangeable, so any plan maps to class counts with the same objective.
pub fn identical_classes(
    d: &Demand,
    current: &Current,
    fixed: &[bool],
    gang_dom: &[GangChoice],
) -> Vec<Vec<usize>> {
    type Key<'a> = (
        TenantId,
        crate::model::demand::Kind,
        u64,
        &'a BTreeMap<String, Unit>,
        u64,
        u64,
    );
    let mut by: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (w, wl) in d.workloads.iter().enumerate() {
        let running = current
            .running
            .get(&wl.name)
            .map(|a| !a.is_empty())
            .unwrap_or(false);
        let free = gang_dom.get(w).copied().unwrap_or(GangChoice::Free) == GangChoice::Free;
        if wl.gang.is_some() || wl.replicas != 1 || wl.required || running || fixed[w] || !free {
            continue;
        }
        by.entry((
            wl.tenant,
            wl.kind,
            wl.priority.to_bits(),
            &wl.units,
            wl.cpu_millicores,
            wl.memory_mib,
        ))
        .or_default()
        .push(w);
    }
    let mut classes: Vec<Vec<usize>> = by.into_values().filter(|c| c.len() > 1).collect();
    classes.sort();
    classes
}

/// Sharing components: tenants connected by `may_share` (a-b and b-c put a, b and c in one
/// component even when a and c may not share). The tenants on one time-sliced GPU all share
/// pairwise, so they lie in one component, and pooling the shares of a component per pool
/// relaxes the per-GPU rule: the bound stays valid; naming places each share on a GPU whose
/// members all may share with it (`State::place`), so a solution the rule forbids is repaired
/// there.
fn share_components(d: &Demand) -> Vec<u32> {
    let n = d.tenants.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut a: usize) -> usize {
        while parent[a] != a {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        a
    }
    for a in 0..n {
        for b in a + 1..n {
            if d.may_share(TenantId::from_index(a), TenantId::from_index(b)) {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    (0..n).map(|a| root(&mut parent, a) as u32).collect()
}

/// Builds the pooled model. `base` holds frozen placements (capacity taken); `warm` is the
/// greedy plan used as a warm start and to seed candidate pools; `gang_dom` holds the gang
/// master's choices (empty: every gang free). The families are added in a fixed order
/// (decisions, value and tenant rows, gangs, patterns, admission, pool capacity), so the
/// columns and rows HiGHS sees, and with them its path, do not depend on how this is split.
#[allow(clippy::too_many_arguments)]
pub fn build(
    geo: &Geometry,
    d: &Demand,
    current: &Current,
    opts: &PlanOptions,
    base: &State,
    fixed: &[bool],
    warm: &State,
    gang_dom: &[GangChoice],
) -> PoolModel {
    let classes = identical_classes(d, current, fixed, gang_dom);
    let mut b = Builder::new(geo, d, base, warm);
    let pruned = b.decisions(opts, fixed, gang_dom, &classes);
    b.value_and_tenant_rows();
    let gang_z = b.gang_rows();
    pattern_rows(geo, base, gang_z, &mut b.vars, &mut b.constraints);
    b.admission_terms(current);
    let patterns = b.capacity_rows();
    PoolModel {
        vars: b.vars,
        objective: b.objective,
        constraints: b.constraints,
        admit: b.admit,
        admit_col: b.admit_col,
        cells: b.cells,
        patterns,
        warm: b.warm_vals,
        pruned,
        classes,
    }
}

/// The pooled model while it is built: the variables, rows and objective so far (a
/// problem-builder struct, as in good_lp's resource-allocation test), one method per family
/// of decisions or rows.
struct Builder<'a> {
    geo: &'a Geometry,
    d: &'a Demand,
    base: &'a State<'a>,
    warm: &'a State<'a>,
    vars: ProblemVariables,
    constraints: Vec<Constraint>,
    objective: Expression,
    /// Warm-start value per column.
    warm_vals: Vec<(usize, f64)>,
    cells: Vec<Cell>,
    admit: Vec<Option<Variable>>,
    admit_col: Vec<Option<usize>>,
}

/// Candidate pools per decision: the full model while it stays small; else each workload
/// sees 8 pools (docs/planner-notes.md: pool-K8 lost at most 0.012% at 1024 nodes) plus those
/// the greedy plan used. 0: every eligible pool.
fn candidate_count(opts: &PlanOptions, decisions: usize, pools: usize) -> usize {
    if opts.candidates > 0 {
        opts.candidates
    } else if decisions * pools > 50_000 {
        8
    } else {
        0
    }
}

/// Pools whose GPU model `wl` may use, where one chunk of it fits one node's GPUs, host
/// CPU and memory (the pool rows only sum host CPU and memory).
fn eligible_pools(geo: &Geometry, wl: &crate::model::demand::Workload) -> Vec<usize> {
    (0..geo.pools.len())
        .filter(|&p| {
            let pool = &geo.pools[p];
            let chunk = match wl.units.get(&geo.models[pool.model].key) {
                Some(&u @ Unit::Gpus(_)) => chunks(wl, u, pool.gpus_per_node).map(|c| (u, c.0)),
                Some(&u) => Some((u, 1)),
                None => None,
            };
            chunk.is_some_and(|(u, k)| {
                let (cpu, mem) = super::state::host_need(wl, u, k);
                let n = &geo.nodes[pool.nodes[0].index()];
                n.cpu_millicores.is_none_or(|c| cpu <= c) && n.memory_mib.is_none_or(|c| mem <= c)
            })
        })
        .collect()
}

/// The pools a decision sees among `eligible`: the gang master's domain, all of them, or
/// (pruned to `k`) a rotation plus the pools of the warm plan (`warm_pools`).
fn candidate_pools(
    geo: &Geometry,
    w: usize,
    wl: &crate::model::demand::Workload,
    choice: GangChoice,
    eligible: Vec<usize>,
    warm_pools: &BTreeMap<usize, u32>,
    k: usize,
) -> Vec<usize> {
    let pruned = k > 0;
    if let (GangChoice::In(dom), Some(g)) = (choice, wl.gang.as_ref()) {
        // The gang master's domain.
        let lvl = g.required as usize;
        eligible
            .into_iter()
            .filter(|&p| geo.pools[p].domain[lvl] == dom)
            .collect()
    } else if !pruned || eligible.len() <= k {
        eligible
    } else if let Some(g) = wl.gang.as_ref().filter(|g| g.required < Level::Fabric) {
        // Gangs: whole domains at the required level (rotated), plus the greedy's.
        let lvl = g.required as usize;
        let mut doms: Vec<u32> = eligible.iter().map(|&p| geo.pools[p].domain[lvl]).collect();
        doms.sort_unstable();
        doms.dedup();
        let start = (w * 7) % doms.len();
        let chosen: Vec<u32> = (0..2.min(doms.len()))
            .map(|i| doms[(start + i) % doms.len()])
            .collect();
        let mut c: Vec<usize> = eligible
            .iter()
            .copied()
            .filter(|&p| chosen.contains(&geo.pools[p].domain[lvl]) || warm_pools.contains_key(&p))
            .collect();
        c.truncate(4 * k);
        for &p in warm_pools.keys() {
            if !c.contains(&p) {
                c.push(p);
            }
        }
        c
    } else {
        let start = (w * k * 7) % eligible.len();
        let mut c: Vec<usize> = (0..k)
            .map(|i| eligible[(start + i) % eligible.len()])
            .collect();
        for &p in warm_pools.keys() {
            if !c.contains(&p) {
                c.push(p);
            }
        }
        c.sort_unstable();
        c.dedup();
        c
    }
}

/// A pool's demand on its capacity, summed over its cells (`Builder::pool_need`).
struct PoolNeed {
    /// Whole-GPU chunks of non-dedicated tenants, and the whole nodes among them.
    gpus_used: Expression,
    nodes_full: Expression,
    /// Every GPU that draws power.
    gpus_power: Expression,
    /// Whole GPUs per dedicated-node tenant.
    ded: BTreeMap<TenantId, Expression>,
    /// MIG instances per (group, profile).
    mig_need: BTreeMap<(u32, u8), Expression>,
    /// Thousandths and GPU memory per sharing component.
    share_need: BTreeMap<u32, (Expression, Expression)>,
    /// Host CPU and memory of the pool's cells: a relaxation of the per-node rows (every
    /// named plan satisfies it; naming places per node).
    cpu_need: Expression,
    mem_need: Expression,
    /// Whole nodes of dedicated-node tenants (`Builder::dedicated_rows`), and whether any.
    ded_nodes: Expression,
    any_ded: bool,
}

impl<'a> Builder<'a> {
    fn new(geo: &'a Geometry, d: &'a Demand, base: &'a State<'a>, warm: &'a State<'a>) -> Self {
        let nw = d.workloads.len();
        Builder {
            geo,
            d,
            base,
            warm,
            vars: ProblemVariables::new(),
            constraints: Vec::new(),
            objective: Expression::from(0.0),
            warm_vals: Vec::new(),
            cells: Vec::new(),
            admit: vec![None; nw],
            admit_col: vec![None; nw],
        }
    }

    fn add(&mut self, def: VariableDefinition, warm: f64) -> Variable {
        let (v, col) = add(&mut self.vars, def);
        self.warm_vals.push((col, warm));
        v
    }

    /// GPUs of the warm plan's workload `w` per pool.
    fn warm_pool_count(&self, w: usize) -> BTreeMap<usize, u32> {
        let geo = self.geo;
        let mut m = BTreeMap::new();
        for a in &self.warm.assignments[w] {
            let p = geo.nodes[geo.node_of(a.gpu).index()].pool as usize;
            *m.entry(p).or_insert(0) += 1;
        }
        m
    }

    /// The decisions: per workload (or class of identical ones) an admission binary and a
    /// count per candidate pool, with its replica rows and `same_model`. Returns whether the
    /// candidate pools were pruned.
    fn decisions(
        &mut self,
        opts: &PlanOptions,
        fixed: &[bool],
        gang_dom: &[GangChoice],
        classes: &[Vec<usize>],
    ) -> bool {
        let (geo, d) = (self.geo, self.d);
        let nw = d.workloads.len();
        let mut class_of: Vec<Option<usize>> = vec![None; nw];
        for (c, members) in classes.iter().enumerate() {
            for &w in members {
                class_of[w] = Some(c);
            }
        }
        // Decisions: one per class and one per other workload.
        let decisions = nw - classes.iter().map(|c| c.len() - 1).sum::<usize>();
        let k = candidate_count(opts, decisions, geo.pools.len());
        for (w, wl) in d.workloads.iter().enumerate() {
            let choice = gang_dom.get(w).copied().unwrap_or(GangChoice::Free);
            if fixed[w] || choice == GangChoice::Out {
                continue;
            }
            // A class is decided once, at its first workload.
            let members: &[usize] = match class_of[w] {
                Some(c) if classes[c][0] != w => continue,
                Some(c) => &classes[c],
                None => std::slice::from_ref(&w),
            };
            let eligible = eligible_pools(geo, wl);
            if eligible.is_empty() {
                continue;
            }
            let mut wp: BTreeMap<usize, u32> = BTreeMap::new();
            for &m in members {
                for (p, n) in self.warm_pool_count(m) {
                    *wp.entry(p).or_default() += n;
                }
            }
            let cand = candidate_pools(geo, w, wl, choice, eligible, &wp, k);
            self.decision(w, members, choice, cand, &wp, class_of[w]);
        }
        k > 0
    }

    /// One decision: workload `w` (for `members`, a class when several) over pools `cand`.
    fn decision(
        &mut self,
        w: usize,
        members: &[usize],
        choice: GangChoice,
        cand: Vec<usize>,
        wp: &BTreeMap<usize, u32>,
        class: Option<usize>,
    ) {
        let (geo, wl, warm) = (self.geo, &self.d.workloads[w], self.warm);
        let elastic = members.len() > 1;
        let a = if elastic {
            None
        } else {
            let (a, acol) = add(&mut self.vars, variable().binary());
            if matches!(choice, GangChoice::In(_)) {
                // The master admitted it there.
                self.constraints.push(constraint!(a == 1));
            }
            self.admit[w] = Some(a);
            self.admit_col[w] = Some(acol);
            self.warm_vals
                .push((acol, if warm.admitted[w] { 1.0 } else { 0.0 }));
            Some(a)
        };
        let mut total = Expression::from(0.0);
        let mut count_need = 0u32;
        let first_cell = self.cells.len();
        for p in cand {
            let pool = &geo.pools[p];
            let unit = wl.units[&geo.models[pool.model].key];
            let (chunk_gpus, count) = match unit {
                Unit::Gpus(_) => chunks(wl, unit, pool.gpus_per_node).expect("eligible"),
                _ => (0, wl.replicas),
            };
            let count = count * members.len() as u32;
            count_need = count;
            let wv = match unit {
                Unit::Gpus(_) => wp.get(&p).copied().unwrap_or(0) as f64 / chunk_gpus as f64,
                _ => wp.get(&p).copied().unwrap_or(0) as f64,
            };
            let (v, vcol) = add(
                &mut self.vars,
                variable().integer().min(0).max(count as f64),
            );
            self.warm_vals
                .push((vcol, if elastic || warm.admitted[w] { wv } else { 0.0 }));
            total += v;
            self.cells.push(Cell {
                workload: w,
                pool: p,
                var: v,
                col: vcol,
                chunk_gpus,
                unit,
                class: class.filter(|_| elastic),
            });
        }
        match a {
            Some(a) if wl.is_elastic() => {
                // Elastic replicas: any count from `min_replicas` to `replicas` once admitted
                // (replicas, MIG instances and shares all count one per replica).
                self.constraints
                    .push(constraint!(total.clone() <= count_need as f64 * a));
                self.constraints
                    .push(constraint!(total >= wl.min_replicas as f64 * a));
            }
            Some(a) => self
                .constraints
                .push(constraint!(total == count_need as f64 * a)),
            // Elastic: any number of the class's workloads, each whole.
            None => self
                .constraints
                .push(constraint!(total <= count_need as f64)),
        }
        if let (Some(a), true) = (a, wl.gang.is_none() && wl.same_model) {
            self.same_model_rows(w, a, first_cell, count_need);
        }
    }

    /// `same_model`: the replicas' pools all of one model (one binary per model).
    fn same_model_rows(&mut self, w: usize, a: Variable, first_cell: usize, count_need: u32) {
        let geo = self.geo;
        let mut models: Vec<usize> = self.cells[first_cell..]
            .iter()
            .map(|c| geo.pools[c.pool].model)
            .collect();
        models.sort_unstable();
        models.dedup();
        if models.len() <= 1 {
            return;
        }
        let mut sel = Expression::from(0.0);
        for m in models {
            let used_m = self.warm.admitted[w] && self.warm.model_of[w] == Some(m);
            let b = self.add(variable().binary(), if used_m { 1.0 } else { 0.0 });
            sel += b;
            let e: Expression = self.cells[first_cell..]
                .iter()
                .filter(|c| geo.pools[c.pool].model == m)
                .map(|c| c.var)
                .sum();
            self.constraints
                .push(constraint!(e <= count_need as f64 * b));
        }
        self.constraints.push(constraint!(sel <= a));
    }

    /// Value less cost of every cell in the objective; tenant budget, GPU and power rows.
    fn value_and_tenant_rows(&mut self) {
        let (geo, d) = (self.geo, self.d);
        let nt = d.tenants.len();
        let mut t_usd: Vec<Expression> = vec![Expression::from(0.0); nt];
        let mut t_eq: Vec<Expression> = vec![Expression::from(0.0); nt];
        let mut t_kw: Vec<Expression> = vec![Expression::from(0.0); nt];
        for c in &self.cells {
            let wl = &d.workloads[c.workload];
            let pool = &geo.pools[c.pool];
            let eq = cell_equiv(geo, c);
            let usd = usd_per_hour(geo, d, pool.model, eq, pool.gpu_kw);
            self.objective +=
                (d.weights.value * wl.priority * eq - d.weights.cost_per_usd * usd) * c.var;
            t_usd[wl.tenant.index()] += usd * c.var;
            t_eq[wl.tenant.index()] += eq * c.var;
            t_kw[wl.tenant.index()] += eq * pool.gpu_kw * c.var;
        }
        self.constraints
            .extend(tenant_rows(d, self.base, t_usd, t_eq, t_kw));
    }

    /// Gangs: communication penalty and domain choice. Whole-node gangs of one model also
    /// record their required-level domain binaries for the pattern rows (returned).
    fn gang_rows(&mut self) -> GangZ {
        let d = self.d;
        let mut gang_z: GangZ = BTreeMap::new();
        let mut cells_of: Vec<Vec<usize>> = vec![Vec::new(); d.workloads.len()];
        for (i, c) in self.cells.iter().enumerate() {
            cells_of[c.workload].push(i);
        }
        for (w, wl) in d.workloads.iter().enumerate() {
            let (Some(g), Some(a)) = (&wl.gang, self.admit[w]) else {
                continue;
            };
            let my: Vec<Cell> = cells_of[w].iter().map(|&i| self.cells[i].clone()).collect();
            self.gang(w, g, a, &my, &mut gang_z);
        }
        gang_z
    }

    /// One gang's rows (see `gang_rows`).
    fn gang(
        &mut self,
        w: usize,
        g: &crate::model::demand::Gang,
        a: Variable,
        my: &[Cell],
        gang_z: &mut GangZ,
    ) {
        let (geo, d, warm) = (self.geo, self.d, self.warm);
        let wl = &d.workloads[w];
        let count = my
            .iter()
            .map(|c| match c.unit {
                Unit::Gpus(n) => n / c.chunk_gpus.max(1),
                _ => 1,
            })
            .max()
            .unwrap_or(1);
        let models: Vec<usize> = {
            let mut m: Vec<usize> = my.iter().map(|c| geo.pools[c.pool].model).collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        let pen = |level: Level| {
            models
                .iter()
                .map(|&m| comm_penalty(geo, d, wl, m, level))
                .fold(f64::INFINITY, f64::min)
        };
        if count <= 1 {
            self.objective -= pen(Level::Nvlink) * a;
            return;
        }
        // A gang spanning several pools may mix models only if each chunk agrees; forbid mixing.
        if models.len() > 1 {
            let mut sel = Expression::from(0.0);
            for &m in &models {
                let used_m = warm.admitted[w] && warm.model_of[w] == Some(m);
                let b = self.add(variable().binary(), if used_m { 1.0 } else { 0.0 });
                sel += b;
                let e: Expression = my
                    .iter()
                    .filter(|c| geo.pools[c.pool].model == m)
                    .map(|c| c.var)
                    .sum();
                self.constraints.push(constraint!(e <= count as f64 * b));
            }
            self.constraints.push(constraint!(sel <= 1));
        }
        self.objective -= pen(g.required) * a;
        // Every level up to the required one (a gang placed tighter than it prefers still
        // pays only its tightest level's penalty, as `evaluate` scores it); the bonus chain
        // runs over the levels where the gang has domains, so missing levels (no SU) do not
        // break it.
        let mut bonus_levels: Vec<(Level, Expression)> = Vec::new();
        for level in Level::ALL {
            if level > g.required || level == Level::Fabric {
                continue;
            }
            let lvl = level as usize;
            let mut doms: BTreeMap<u32, Vec<Variable>> = BTreeMap::new();
            for c in my {
                let dom = geo.pools[c.pool].domain[lvl];
                if dom != u32::MAX {
                    doms.entry(dom).or_default().push(c.var);
                }
            }
            let mut any = Expression::from(0.0);
            let warm_gpus: Vec<GpuId> = warm.assignments[w].iter().map(|x| x.gpu).collect();
            let warm_dom = (!warm_gpus.is_empty()
                && super::state::tightest_level(geo, &warm_gpus) <= level)
                .then(|| geo.nodes[geo.node_of(warm_gpus[0]).index()].domain[lvl]);
            let whole_nodes = models.len() == 1
                && my
                    .iter()
                    .all(|c| c.chunk_gpus == geo.pools[c.pool].gpus_per_node);
            for (dom, vs) in &doms {
                let z = self.add(
                    variable().binary(),
                    if warm_dom == Some(*dom) { 1.0 } else { 0.0 },
                );
                let inside: Expression = vs.iter().copied().sum();
                self.constraints
                    .push(constraint!(inside >= count as f64 * z));
                any += z;
                if level == g.required && whole_nodes {
                    gang_z
                        .entry((lvl, models[0]))
                        .or_default()
                        .push((count, *dom, z));
                }
            }
            if level == g.required {
                // Required: everything inside one domain (the admitted gang picks one).
                self.constraints.push(constraint!(any.clone() == a));
                for c in my {
                    let dom = geo.pools[c.pool].domain[lvl];
                    if dom == u32::MAX {
                        self.constraints.push(constraint!(c.var <= 0));
                    }
                }
            } else if !doms.is_empty() {
                self.constraints.push(constraint!(any.clone() <= a));
                bonus_levels.push((level, any));
            }
        }
        // Bonus for staying inside one domain at a level instead of the next level with
        // domains (or the required level).
        for i in 0..bonus_levels.len() {
            let next = bonus_levels.get(i + 1).map(|x| x.0).unwrap_or(g.required);
            let (level, any) = &bonus_levels[i];
            let bonus = pen(next) - pen(*level);
            if bonus > 0.0 {
                self.objective += bonus * any.clone();
            }
        }
    }

    /// Required workloads admitted; running ones worth their disruption when kept.
    fn admission_terms(&mut self, current: &Current) {
        let d = self.d;
        for (w, wl) in d.workloads.iter().enumerate() {
            if let Some(a) = self.admit[w] {
                if wl.required {
                    self.constraints.push(constraint!(a == 1));
                }
                if current
                    .running
                    .get(&wl.name)
                    .map(|v| !v.is_empty())
                    .unwrap_or(false)
                {
                    self.objective += d.weights.disruption * a;
                }
            }
        }
    }

    /// Pool capacity rows (whole GPUs and nodes, MIG patterns, shares, host CPU and
    /// memory), rack power rows and the stranding term. Returns the MIG patterns.
    fn capacity_rows(&mut self) -> Vec<(usize, u32, usize, usize)> {
        let (geo, d, base) = (self.geo, self.d, self.base);
        let np = geo.pools.len();
        let sgroup = share_components(d);
        // Free capacity per pool in `base`.
        let mut free = vec![0u32; np];
        for (p, pool) in geo.pools.iter().enumerate() {
            for &n in &pool.nodes {
                free[p] += base.free_gpus[n.index()];
            }
        }
        let mut patterns = Vec::new();
        let mut by_pool: Vec<Vec<usize>> = vec![Vec::new(); np];
        for (i, c) in self.cells.iter().enumerate() {
            by_pool[c.pool].push(i);
        }
        let mut rack_rows: BTreeMap<u32, Expression> = BTreeMap::new();
        let mut stranded = Expression::from(0.0);
        for p in 0..np {
            if by_pool[p].is_empty() {
                continue;
            }
            let mut need = self.pool_need(&by_pool[p], geo.pools[p].gpus_per_node, &sgroup);
            let whole = WholeNodes::of(&geo.pools[p], base);
            self.dedicated_rows(p, &whole, &mut need);
            self.mig_rows(p, free[p], &mut need, &mut stranded, &mut patterns);
            self.share_rows(p, free[p], &sgroup, &mut need, &mut stranded);
            let power = self.node_rows(p, free[p], &whole, need);
            *rack_rows
                .entry(geo.pools[p].rack)
                .or_insert_with(|| Expression::from(0.0)) += geo.pools[p].gpu_kw * power;
        }
        for (r, e) in rack_rows {
            let cap = geo.rack_kw[r as usize] - base.rack_used_kw[r as usize] + 1e-6;
            self.constraints.push(constraint!(e <= cap));
        }
        let used_eq_shared: Expression = self
            .cells
            .iter()
            .filter(|c| !matches!(c.unit, Unit::Gpus(_)))
            .map(|c| cell_equiv(geo, c) * c.var)
            .sum();
        self.objective -= d.weights.stranded * (stranded - used_eq_shared);
        patterns
    }

    /// What the cells `in_pool` ask of their pool (`gpn` GPUs per node).
    fn pool_need(&self, in_pool: &[usize], gpn: u32, sgroup: &[u32]) -> PoolNeed {
        let d = self.d;
        let mut need = PoolNeed {
            gpus_used: Expression::from(0.0),
            nodes_full: Expression::from(0.0),
            gpus_power: Expression::from(0.0),
            ded: BTreeMap::new(),
            mig_need: BTreeMap::new(),
            share_need: BTreeMap::new(),
            cpu_need: Expression::from(0.0),
            mem_need: Expression::from(0.0),
            ded_nodes: Expression::from(0.0),
            any_ded: false,
        };
        for &i in in_pool {
            let c = &self.cells[i];
            let wl = &d.workloads[c.workload];
            let (cpu, mem) = super::state::host_need(wl, c.unit, c.chunk_gpus.max(1));
            need.cpu_need += cpu as f64 * c.var;
            need.mem_need += mem as f64 * c.var;
            match c.unit {
                Unit::Gpus(_) => {
                    need.gpus_power += c.chunk_gpus as f64 * c.var;
                    if d.tenant(wl.tenant).isolation == Isolation::DedicatedNode {
                        *need
                            .ded
                            .entry(wl.tenant)
                            .or_insert_with(|| Expression::from(0.0)) +=
                            c.chunk_gpus as f64 * c.var;
                    } else {
                        need.gpus_used += c.chunk_gpus as f64 * c.var;
                        if c.chunk_gpus == gpn {
                            need.nodes_full += c.var;
                        }
                    }
                }
                Unit::Mig(q) => {
                    *need
                        .mig_need
                        .entry((mig_group(d, wl.tenant), q.0))
                        .or_insert_with(|| Expression::from(0.0)) += c.var;
                }
                Unit::Share { milli, mem_mib } => {
                    let e = need
                        .share_need
                        .entry(sgroup[wl.tenant.index()])
                        .or_insert_with(|| (Expression::from(0.0), Expression::from(0.0)));
                    e.0 += milli as f64 * c.var;
                    e.1 += mem_mib as f64 * c.var;
                }
            }
        }
        need.any_ded = !need.ded.is_empty();
        need
    }

    /// Whole nodes per dedicated-node tenant in pool `p`: its GPUs fill them, and they count
    /// as used and full; where host-only work made nodes owned or shared, who may take
    /// which (`WholeNodes`).
    fn dedicated_rows(&mut self, p: usize, whole: &WholeNodes, need: &mut PoolNeed) {
        let (geo, base, warm) = (self.geo, self.base, self.warm);
        let pool = &geo.pools[p];
        let gpn = pool.gpus_per_node;
        for (t, e) in std::mem::take(&mut need.ded) {
            let most = whole.open + whole.owned.get(&t).copied().unwrap_or(0);
            let warm_n = pool
                .nodes
                .iter()
                .filter(|&&x| {
                    // Its nodes in the warm plan that were whole in `base` (a node its
                    // host-only work owns counts once its GPU work uses it).
                    let x = x.index();
                    warm.owner[x] == Some(t)
                        && (base.owner[x].is_none()
                            || base.free_gpus[x] == gpn && warm.free_gpus[x] < gpn)
                })
                .count();
            let n = self.add(variable().integer().min(0).max(most as f64), warm_n as f64);
            self.constraints.push(constraint!(e <= gpn as f64 * n));
            need.gpus_used += gpn as f64 * n;
            need.nodes_full += n;
            need.ded_nodes += n;
        }
    }

    /// MIG pattern rows of pool `p` per group (`free` GPUs): GPUs per maximal layout.
    fn mig_rows(
        &mut self,
        p: usize,
        free: u32,
        need: &mut PoolNeed,
        stranded: &mut Expression,
        patterns: &mut Vec<(usize, u32, usize, usize)>,
    ) {
        let (geo, warm) = (self.geo, self.warm);
        let pool = &geo.pools[p];
        let model = &geo.models[pool.model];
        let mig_need = &mut need.mig_need;
        let groups: Vec<u32> = {
            let mut g: Vec<u32> = mig_need.keys().map(|k| k.0).collect();
            g.dedup();
            g
        };
        for grp in groups {
            let profs: Vec<u8> = mig_need
                .keys()
                .filter(|k| k.0 == grp)
                .map(|k| k.1)
                .collect();
            let mut offer: BTreeMap<u8, Expression> = BTreeMap::new();
            // Patterns: every maximal layout restricted to the group's profiles (the profiles
            // it does not ask for dropped), less the dominated ones. Every GPU of the group in
            // a plan holds a sub-multiset of one of them, so the rows stay a relaxation (on an
            // H100, 4g.40gb + 2g.20gb share a GPU only in a layout that also holds a 1g).
            // Naming configures the whole maximal layout.
            let restricted: Vec<(usize, Vec<usize>)> = model
                .layouts
                .iter()
                .enumerate()
                .map(|(li, l)| {
                    let c = profs
                        .iter()
                        .map(|&q| l.placements.iter().filter(|x| x.profile.0 == q).count())
                        .collect::<Vec<usize>>();
                    (li, c)
                })
                .filter(|(_, c)| c.iter().any(|&k| k > 0))
                .collect();
            let keep: Vec<usize> = restricted
                .iter()
                .enumerate()
                .filter(|&(i, (_, c))| {
                    !restricted.iter().enumerate().any(|(j, (_, o))| {
                        j != i && o.iter().zip(c).all(|(a, b)| a >= b) && (o != c || j < i)
                    })
                })
                .map(|(_, (li, _))| *li)
                .collect();
            for li in keep {
                let l = &model.layouts[li];
                let wy = pool
                    .nodes
                    .iter()
                    .flat_map(|&n| geo.node_gpus(n))
                    .filter(|&g| {
                        matches!(&warm.gpus[g.index()], GpuUse::Mig { group, layout }
                            if *group == grp
                                && layout.iter().map(|x| x.0).eq(l.placements.iter().copied()))
                    })
                    .count();
                let (y, ycol) = add(&mut self.vars, variable().integer().min(0).max(free as f64));
                self.warm_vals.push((ycol, wy as f64));
                for &q in &profs {
                    let cnt = l.placements.iter().filter(|x| x.profile.0 == q).count();
                    if cnt > 0 {
                        *offer.entry(q).or_insert_with(|| Expression::from(0.0)) += cnt as f64 * y;
                    }
                }
                need.gpus_used += y;
                need.gpus_power += y;
                *stranded += y;
                patterns.push((p, grp, li, ycol));
            }
            for q in profs {
                let asked = mig_need.remove(&(grp, q)).expect("need");
                let off = offer.remove(&q).unwrap_or_else(|| Expression::from(0.0));
                self.constraints.push(constraint!(asked <= off));
            }
        }
    }

    /// Time-sliced GPUs of pool `p` per sharing component (`free` GPUs).
    fn share_rows(
        &mut self,
        p: usize,
        free: u32,
        sgroup: &[u32],
        need: &mut PoolNeed,
        stranded: &mut Expression,
    ) {
        let (geo, d, warm) = (self.geo, self.d, self.warm);
        let pool = &geo.pools[p];
        let model = &geo.models[pool.model];
        for (sg, (milli, mem)) in std::mem::take(&mut need.share_need) {
            let ws = pool
                .nodes
                .iter()
                .flat_map(|&n| geo.node_gpus(n))
                .filter(|&g| {
                    matches!(&warm.gpus[g.index()], GpuUse::Shared { members }
                        if members.iter().any(|x| sgroup[d.workloads[x.0.index()].tenant.index()] == sg))
                })
                .count();
            let s = self.add(variable().integer().min(0).max(free as f64), ws as f64);
            // Compute and GPU memory of the shares within the shared GPUs': a relaxation of
            // per-GPU packing (every named plan satisfies it); what the counts cannot pack
            // on concrete GPUs is placed elsewhere by the naming step's greedy repair.
            self.constraints
                .push(constraint!(milli <= MILLI_PER_GPU as f64 * s));
            if model.memory_mib > 0 {
                self.constraints
                    .push(constraint!(mem <= model.memory_mib as f64 * s));
            }
            need.gpus_used += s;
            need.gpus_power += s;
            *stranded += s;
        }
    }

    /// GPUs, host CPU and memory, and whole nodes of pool `p` (`free` GPUs, `whole` nodes)
    /// within what `base` left. Returns the GPUs that draw power, for the rack rows.
    fn node_rows(&mut self, p: usize, free: u32, whole: &WholeNodes, need: PoolNeed) -> Expression {
        let (geo, base) = (self.geo, self.base);
        let pool = &geo.pools[p];
        let PoolNeed {
            gpus_used,
            nodes_full,
            gpus_power,
            cpu_need,
            mem_need,
            ded_nodes,
            any_ded,
            ..
        } = need;
        self.constraints.push(constraint!(gpus_used <= free as f64));
        let host_left = |cap: fn(&super::state::NodeInfo) -> Option<u64>, used: &[u64]| {
            pool.nodes
                .iter()
                .map(|&n| cap(&geo.nodes[n.index()]).map(|c| c.saturating_sub(used[n.index()])))
                .sum::<Option<u64>>()
        };
        if let Some(cap) = host_left(|n| n.cpu_millicores, &base.cpu_used) {
            self.constraints.push(constraint!(cpu_need <= cap as f64));
        }
        if let Some(cap) = host_left(|n| n.memory_mib, &base.mem_used) {
            self.constraints.push(constraint!(mem_need <= cap as f64));
        }
        // Host-only replicas made some whole nodes one dedicated tenant's or shared:
        // dedicated tenants take the open ones and their own, the others the open and the
        // shared. Each row only where it is not implied by the total (so a pool without such
        // nodes keeps the model it had).
        let owned: u32 = whole.owned.values().sum();
        if any_ded && whole.shared > 0 {
            self.constraints.push(constraint!(
                ded_nodes.clone() <= (whole.open + owned) as f64
            ));
        }
        if owned > 0 {
            let others = nodes_full.clone() - ded_nodes;
            self.constraints
                .push(constraint!(others <= (whole.open + whole.shared) as f64));
        }
        self.constraints
            .push(constraint!(nodes_full <= whole.total() as f64));
        gpus_power
    }
}

/// GPU-equivalents of one unit of a cell's variable.
fn cell_equiv(geo: &Geometry, c: &Cell) -> f64 {
    match c.unit {
        Unit::Gpus(_) => c.chunk_gpus as f64,
        u => unit_equiv(geo, geo.pools[c.pool].model, u),
    }
}

/// A pool's nodes with every GPU free in `base`, by who may take them whole. Without
/// host-only work every such node is `open`; a host-only replica makes its node one
/// dedicated tenant's (`owned`) or leaves it to non-dedicated tenants (`shared`).
/// A dedicated tenant can take the open nodes and its own; another tenant's whole-node chunk
/// the open and the shared ones. Every named plan respects both (`State::node_open`), so the
/// rows built from these counts keep the model a relaxation of the named problem.
struct WholeNodes {
    /// No user at all.
    open: u32,
    /// Used only by non-dedicated tenants' host-only replicas.
    shared: u32,
    /// Owned by a dedicated tenant: count per tenant.
    owned: BTreeMap<TenantId, u32>,
}

impl WholeNodes {
    fn of(pool: &super::state::Pool, base: &State) -> WholeNodes {
        let mut w = WholeNodes {
            open: 0,
            shared: 0,
            owned: BTreeMap::new(),
        };
        for &n in &pool.nodes {
            let n = n.index();
            if base.free_gpus[n] != pool.gpus_per_node {
                continue;
            }
            match (base.owner[n], base.users[n].is_empty()) {
                (Some(t), _) => *w.owned.entry(t).or_default() += 1,
                (None, true) => w.open += 1,
                (None, false) => w.shared += 1,
            }
        }
        w
    }

    fn total(&self) -> u32 {
        self.open + self.shared + self.owned.values().sum::<u32>()
    }
}

/// (level, model) -> (gang nodes, domain, domain binary) of whole-node gangs at their
/// required level.
type GangZ = BTreeMap<(usize, usize), Vec<(u32, u32, Variable)>>;

/// Pattern (cutting-stock) rows for gangs that must stay inside one domain.
///
/// The domain binaries alone have a weak LP relaxation: a fractional gang spreads over
/// several domains, so a 40-node gang and a 64-node gang "share" two 64-node SUs and the
/// bound sits far above any plan (26% gap at 10k GPUs before these rows). Domains with the
/// same number of free whole nodes form a class; `x[class][pattern]` counts the domains of
/// the class whose gangs fit one maximal multiset of gang sizes (in nodes), and the gangs of
/// each size placed in the class cannot outnumber what the patterns offer. Every named plan
/// satisfies these rows (each domain's gangs fit its free nodes, so some maximal pattern
/// dominates them), so the bound stays valid; the relaxation becomes the Gilmore-Gomory
/// configuration LP, tight to within a domain or so.
fn pattern_rows(
    geo: &Geometry,
    base: &State,
    gang_z: GangZ,
    vars: &mut ProblemVariables,
    constraints: &mut Vec<Constraint>,
) {
    for ((lvl, m), entries) in gang_z {
        let mut sizes: Vec<u32> = entries.iter().map(|e| e.0).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes.dedup();
        for class in super::master::pattern_classes(geo, base, Level::ALL[lvl], m, &sizes) {
            // A class with too many patterns just gets no rows (they only tighten).
            let Some(pats) = class.patterns else {
                continue;
            };
            let xs: Vec<Variable> = pats
                .iter()
                .map(|_| vars.add(variable().integer().min(0).max(class.doms.len() as f64)))
                .collect();
            let placed = sizes.iter().filter_map(|&s| {
                let placed: Vec<Variable> = entries
                    .iter()
                    .filter(|e| e.0 == s && class.doms.binary_search(&e.1).is_ok())
                    .map(|e| e.2)
                    .collect();
                (!placed.is_empty()).then(|| (s, placed.into_iter().sum::<Expression>()))
            });
            constraints.extend(super::master::class_rows(
                &class.fit,
                &pats,
                &xs,
                class.doms.len(),
                placed,
            ));
        }
    }
}

/// What HiGHS returned.
pub struct Solved {
    pub status: String,
    pub objective: Option<f64>,
    pub bound: Option<f64>,
    pub values: Vec<f64>,
}

/// Solves `m` with HiGHS, named explicitly; options set on the inner model (good_lp's
/// `solve()` would hide the dual bound).
/// With `relax`, HiGHS solves the LP relaxation: the result then carries only a bound (the
/// LP optimum bounds the MILP), never values to name.
pub fn solve_highs(
    m: PoolModel,
    time_limit: f64,
    gap: f64,
    warm_start: bool,
    relax: bool,
    hooks: super::highs_hooks::Hooks,
) -> Solved {
    let ncols = m.vars.len();
    if ncols == 0 {
        // Nothing to decide (every workload frozen or ineligible).
        return Solved {
            status: "optimal".into(),
            objective: Some(0.0),
            bound: Some(0.0),
            values: Vec::new(),
        };
    }
    let mut problem = highs(m.vars.maximise(m.objective));
    for c in m.constraints {
        problem.add_constraint(c);
    }
    let mut init = vec![0.0; ncols];
    for (v, x) in &m.warm {
        init[*v] = *x;
    }
    let mut model = problem.into_inner();
    // The solver's log (on stderr at `-v`) and its live incumbent (the progress line);
    // kept alive until the solve returns.
    let hooks = super::highs_hooks::attach(&mut model, hooks);
    if hooks.is_none() {
        model.make_quiet();
    }
    model.set_option("time_limit", time_limit.max(0.01));
    model.set_option("mip_rel_gap", gap.max(0.0));
    model.set_option("threads", 1);
    model.set_option("random_seed", 0);
    model.set_option("parallel", "off");
    // Off by default: with HiGHS 1.x via `highs` 2.4, a feasible greedy start was accepted
    // with a wrong objective (+0.1 on tests/plan.rs `mig_instances_pack_onto_one_gpu`) and
    // ended the search early. The greedy plan still competes after naming.
    if warm_start && !relax {
        model.set_solution(Some(&init), None, None, None);
    }
    if relax {
        model.set_option("solve_relaxation", true);
    }
    let solved = match model.try_solve() {
        Ok(s) => s,
        Err(e) => {
            return Solved {
                status: format!("error ({e:?})"),
                objective: None,
                bound: None,
                values: Vec::new(),
            }
        }
    };
    use highs::HighsModelStatus as S;
    let status = match solved.status() {
        S::Optimal => "optimal",
        S::Infeasible | S::UnboundedOrInfeasible => "infeasible",
        S::ReachedTimeLimit => "time-limit",
        S::ReachedIterationLimit
        | S::ReachedSolutionLimit
        | S::ReachedMemoryLimit
        | S::ReachedInterrupt => "limit",
        _ => "error",
    }
    .to_string();
    // The raw info value: the binding panics on -1 (no solution status, e.g. an empty model).
    let has = solved
        .int_info_value(c"primal_solution_status")
        .map(|v| v == 2)
        .unwrap_or(false);
    if relax {
        return Solved {
            bound: (status == "optimal").then(|| solved.objective_value()),
            status,
            objective: None,
            values: Vec::new(),
        };
    }
    let bound = solved
        .double_info_value(c"mip_dual_bound")
        .ok()
        .filter(|b| b.is_finite());
    Solved {
        status,
        objective: has.then(|| solved.objective_value()),
        bound,
        values: if has {
            solved.get_solution().columns().to_vec()
        } else {
            Vec::new()
        },
    }
}

/// The deadline of one `plan` call: `--time-limit` after the command started, less a
/// reserve for rendering and writing the plan (`plan` itself returns by `end`).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub end: Instant,
    /// Seconds the greedy plan took: naming a MILP solution takes about as long.
    pub naming_seconds: f64,
}

impl Deadline {
    /// `gpus` sizes the rendering reserve (about 3 us per GPU for the JSON document,
    /// measured at 100k GPUs; docs/planner-benchmarks.md).
    pub fn new(started: Instant, limit_seconds: f64, gpus: usize) -> Deadline {
        let reserve = (0.02 * limit_seconds + 3e-6 * gpus as f64).min(0.5 * limit_seconds);
        Deadline {
            end: started + Duration::from_secs_f64((limit_seconds - reserve).max(0.0)),
            naming_seconds: 0.0,
        }
    }

    /// Seconds left.
    pub fn left(&self) -> f64 {
        self.end
            .saturating_duration_since(Instant::now())
            .as_secs_f64()
    }

    /// Seconds left for a solve whose solution must still be named.
    pub fn left_to_solve(&self) -> f64 {
        (self.left() - self.naming_seconds - 0.05).max(0.0)
    }
}

/// The best valid bound so far and the relaxation that gave it.
#[derive(Debug, Clone, Copy, Default)]
struct BestBound(Option<(f64, BoundScope)>);

impl BestBound {
    fn offer(&mut self, b: Option<f64>, scope: BoundScope) {
        if let Some(b) = b.filter(|b| b.is_finite()) {
            if self.0.is_none_or(|(x, _)| b < x) {
                self.0 = Some((b, scope));
            }
        }
    }

    fn proves(&self, objective: f64, mip_gap: f64) -> bool {
        self.0
            .is_some_and(|(b, _)| gap_of(b, objective) <= mip_gap + 1e-9)
    }
}

/// Relative gap of `objective` to `bound` (0 when the bound is below it).
fn gap_of(bound: f64, objective: f64) -> f64 {
    ((bound - objective) / bound.abs().max(1e-9)).max(0.0)
}

/// Builds, solves under the deadline, names the solution and keeps the better of it and
/// the greedy plan. The bound is the least of the relaxations of the whole problem that
/// finished (fluid, gang master, full pooled model); a restricted model's bound only ever
/// stops HiGHS, it is never reported.
pub fn solve_and_name(
    geo: &Geometry,
    d: &Demand,
    current: &Current,
    opts: &PlanOptions,
    greedy: PlanResult,
    deadline: &Deadline,
) -> PlanResult {
    let (base, fixed, reasons) = frozen(geo, d, current, opts.freeze);
    let any_fixed = fixed.iter().any(|&f| f);
    // The pooled model and the master leave out frozen work and score disruption as +w per
    // admitted running workload; less w per running workload, their bounds bound the plan
    // (with nothing frozen).
    let running_total = current.running.values().filter(|a| !a.is_empty()).count();
    let offset = -d.weights.disruption * running_total as f64;
    // The pooled models' CPU and memory rows see what host-only work left (`host.rs`): their
    // bounds are then of a restricted problem and not offered; the fluid relaxation, which
    // has no host rows, stays global (`relax.rs`).
    let global = |b: Option<f64>| {
        b.filter(|_| !any_fixed && !geo.host_taken)
            .map(|b| b + offset)
    };
    let timing = std::env::var_os("FABPLAN_TIMING").is_some();
    let t0 = Instant::now();
    let log = |what: &str| {
        if timing {
            eprintln!("milp: {what} after {:.2} s", t0.elapsed().as_secs_f64());
        }
    };
    let mut bound = BestBound::default();
    // Whether the deadline cut the search (a stage ran out of time or was skipped).
    let mut cut = false;
    // Stage 0: the fluid relaxation, a valid bound in milliseconds; when greedy is already
    // within the gap of it, that is the answer.
    let fluid = super::relax::fluid_bound(geo, d, current, &base, &fixed, deadline.left());
    bound.offer(fluid, BoundScope::FluidRelaxation);
    log(&format!("fluid relaxation (bound {fluid:?})"));
    let mut named: Vec<PlanResult> = Vec::new();
    let best = |named: &[PlanResult]| {
        named
            .iter()
            .map(|r| r.objective)
            .fold(greedy.objective, f64::max)
    };
    let done = |bound: &BestBound, named: &[PlanResult]| bound.proves(best(named), opts.mip_gap);
    let phase = |what, bound: &BestBound, named: &[PlanResult]| {
        opts.report(what, Some(best(named)), bound.0.map(|(b, _)| b));
    };
    phase("relaxed bound", &bound, &named);
    // Stage 0b: where nodes limit CPU or memory, a plan packed by balance (pack.rs) is a
    // second incumbent, often far above best fit (openb: 96% of GPUs against 89%).
    if !any_fixed && super::pack::applies(geo, d) && !done(&bound, &named) {
        // At most half of what is left, so the pooled model still gets its turn.
        let stop = Instant::now() + Duration::from_secs_f64(0.5 * deadline.left_to_solve());
        let packed = super::pack::plan_balanced(geo, d, current, stop);
        log(&format!(
            "balanced packing (objective {:?})",
            packed.as_ref().map(|r| r.objective)
        ));
        // `None` only when its share of the deadline ran out: the deadline cut the search
        // (the plan may be far below what packing would have given: `time-limit`, not
        // `feasible`).
        cut |= packed.is_none();
        named.extend(packed);
    }
    // Stage 1: the gang master picks a domain for whole-node gangs on patterns, over a
    // relaxation of everything else, and bounds every plan; stage 2: the pooled model with
    // those gangs fixed in their domains (master.rs).
    // Running workloads that may move are left to the pooled model, which weighs moving them
    // (disruption); the master would place gangs without regard to where they run now.
    let moving = d.workloads.iter().enumerate().any(|(w, wl)| {
        !fixed[w]
            && current
                .running
                .get(&wl.name)
                .map(|a| !a.is_empty())
                .unwrap_or(false)
    });
    let master = if moving || done(&bound, &named) {
        None
    } else {
        phase("gang master", &bound, &named);
        super::master::assign(geo, d, &base, &fixed, deadline.left_to_solve() * 0.15)
    };
    if let Some(m) = &master {
        bound.offer(global(m.bound), BoundScope::GangMaster);
    }
    log(&format!(
        "gang master (bound {:?})",
        master.as_ref().and_then(|m| m.bound)
    ));
    // HiGHS's incumbent for the progress line, in the plan's terms (the offset), never below
    // the greedy plan's; only when nothing is frozen (else the model leaves work out).
    let live = opts.progress.clone().filter(|_| !any_fixed).map(|sink| {
        let floor = greedy.objective;
        super::ProgressSink(std::sync::Arc::new(move |p: &super::Progress| {
            (sink.0)(&super::Progress {
                incumbent: p.incumbent.map(|x| (x + offset).max(floor)),
                ..p.clone()
            })
        }))
    });
    let solve = |model: PoolModel, time: f64, relax: bool| {
        solve_named(
            geo,
            d,
            current,
            opts,
            &base,
            &fixed,
            model,
            time,
            relax,
            &reasons,
            deadline,
            live.clone(),
        )
    };
    let small = d.workloads.len() * geo.pools.len() <= 50_000;
    let mut staged = false;
    if let Some(m) = master.as_ref().filter(|_| !done(&bound, &named)) {
        let model = build(
            geo,
            d,
            current,
            opts,
            &base,
            &fixed,
            &warm(geo, d, &greedy),
            &m.gangs,
        );
        let share = if small { 0.4 } else { 0.85 };
        phase("MILP solving", &bound, &named);
        let (solved, plan) = solve(model, deadline.left_to_solve() * share, false);
        log(&format!("stage 2 ({})", solved.status));
        cut |= solved.status == "time-limit";
        staged = plan.is_some();
        named.extend(plan);
    }
    if (!staged || small) && !done(&bound, &named) {
        let warm = warm(geo, d, &greedy);
        let build_full = || build(geo, d, current, opts, &base, &fixed, &warm, &[]);
        let mut model = Some(build_full());
        let full_pruned = model.as_ref().is_some_and(|m| m.pruned);
        if staged && !full_pruned {
            // A plan exists: the full model's LP relaxation may already prove it.
            let lp = model.take().expect("built");
            phase("LP relaxation", &bound, &named);
            let (solved, _) = solve(lp, deadline.left_to_solve() * 0.5, true);
            log(&format!(
                "full LP relaxation ({}, bound {:?})",
                solved.status, solved.bound
            ));
            cut |= solved.status == "time-limit";
            bound.offer(global(solved.bound), BoundScope::PooledLp);
        }
        if !done(&bound, &named) {
            let model = model.unwrap_or_else(build_full);
            if timing {
                eprintln!(
                    "milp: built {} columns, {} rows in {:.2} s",
                    model.vars.len(),
                    model.constraints.len(),
                    t0.elapsed().as_secs_f64()
                );
            }
            phase("MILP solving", &bound, &named);
            let (solved, plan) = solve(model, deadline.left_to_solve() * 0.85, false);
            log(&format!("full model ({})", solved.status));
            cut |= solved.status == "time-limit";
            if !full_pruned {
                bound.offer(global(solved.bound), BoundScope::PooledMilp);
            }
            named.extend(plan);
        }
    }
    cut |= deadline.left() <= 0.0;
    best_plan(named, greedy, &bound, opts.mip_gap, cut)
}

/// Frozen workloads (`--freeze`: the running ones) placed first and fixed: the state that
/// holds them, which are fixed, and why a frozen one could not be placed.
fn frozen<'a>(
    geo: &'a Geometry,
    d: &'a Demand,
    current: &Current,
    freeze: bool,
) -> (State<'a>, Vec<bool>, Vec<Option<String>>) {
    let mut base = State::new(geo, d);
    let mut fixed = vec![false; d.workloads.len()];
    let mut reasons = vec![None; d.workloads.len()];
    if freeze {
        let order: Vec<usize> = greedy_order(d, current)
            .into_iter()
            .filter(|&w| {
                current
                    .running
                    .get(&d.workloads[w].name)
                    .map(|a| !a.is_empty())
                    .unwrap_or(false)
            })
            .collect();
        run_greedy(&mut base, &order, current, true, &mut reasons);
        for &w in &order {
            fixed[w] = true;
        }
    }
    (base, fixed, reasons)
}

/// The best named plan that is no less feasible than the greedy one, else the greedy plan,
/// with the best bound, gap and status (`cut`: the deadline cut the search).
fn best_plan(
    named: Vec<PlanResult>,
    greedy: PlanResult,
    bound: &BestBound,
    mip_gap: f64,
    cut: bool,
) -> PlanResult {
    let named = named
        .into_iter()
        .filter(|r| r.infeasible.len() <= greedy.infeasible.len())
        .max_by(|a, b| a.objective.total_cmp(&b.objective));
    let g_obj = greedy.objective;
    let mut result = match named {
        Some(r) if r.objective >= g_obj - 1e-9 => r,
        Some(_) => {
            let mut g = greedy;
            g.notes.push(
                "the greedy plan scored better than the named MILP solution and is returned".into(),
            );
            g
        }
        None => greedy,
    };
    result.solver = SolverChoice::Highs;
    if let Some((b, _)) = bound.0 {
        if b + 1e-6 * b.abs().max(1.0) < result.objective {
            // Cannot happen while every relaxation is a relaxation; say so if it does.
            result.notes.push(format!(
                "bound {b:.6} below the plan's objective {:.6}: a modelling gap, the gap shown is 0",
                result.objective
            ));
        }
    }
    result.bound_scope = bound.0.map(|x| x.1).unwrap_or(BoundScope::None);
    result.bound = bound.0.map(|(b, _)| b.max(result.objective));
    result.gap = result.bound.map(|b| gap_of(b, result.objective));
    result.status = PlanStatus::of(!result.infeasible.is_empty(), result.gap, mip_gap, cut);
    if result.status == PlanStatus::Optimal && named_is_greedy(&result, g_obj) {
        result
            .notes
            .push("the greedy plan is within --mip-gap of the bound".into());
    }
    result
}

/// The greedy plan as a State (warm start and candidate pools).
fn warm<'a>(geo: &'a Geometry, d: &'a Demand, greedy: &PlanResult) -> State<'a> {
    State::from_result(geo, d, greedy)
}

fn named_is_greedy(r: &PlanResult, greedy_objective: f64) -> bool {
    (r.objective - greedy_objective).abs() <= 1e-9
}

/// Solves `model` under our own deadline (HiGHS can overrun its limit on big models) and
/// names the solution when there is one.
#[allow(clippy::too_many_arguments)]
fn solve_named(
    geo: &Geometry,
    d: &Demand,
    current: &Current,
    opts: &PlanOptions,
    base: &State,
    fixed: &[bool],
    model: PoolModel,
    time_limit: f64,
    relax: bool,
    reasons: &[Option<String>],
    deadline: &Deadline,
    live: Option<super::ProgressSink>,
) -> (Solved, Option<PlanResult>) {
    let cells = model.cells.clone();
    let classes = model.classes.clone();
    let patterns = model.patterns.clone();
    let admit = model.admit_col.clone();
    let (tx, rx) = mpsc::channel();
    let gap = opts.mip_gap;
    let warm_start = opts.warm_start;
    let hooks = super::highs_hooks::Hooks {
        log: opts.solver_log,
        incumbent: live.filter(|_| !relax),
    };
    std::thread::spawn(move || {
        let _ = tx.send(solve_highs(
            model, time_limit, gap, warm_start, relax, hooks,
        ));
    });
    // HiGHS can overrun its own limit on big models: wait no longer than the deadline allows
    // (the solve thread is left to finish on its own; its result is dropped).
    let wait = deadline.left_to_solve().max(time_limit + 0.05);
    let solved = match rx.recv_timeout(Duration::from_secs_f64(wait)) {
        Ok(s) => s,
        Err(_) => Solved {
            status: "time-limit".into(),
            objective: None,
            bound: None,
            values: Vec::new(),
        },
    };
    let named = (!solved.values.is_empty()).then(|| {
        opts.report("naming", None, None);
        name_solution(
            deadline,
            geo,
            d,
            current,
            opts,
            base,
            fixed,
            &cells,
            &classes,
            &patterns,
            &admit,
            &solved.values,
            reasons.to_vec(),
        )
    });
    let named = named.flatten();
    (solved, named)
}

#[allow(clippy::too_many_arguments)]
fn name_solution(
    deadline: &Deadline,
    geo: &Geometry,
    d: &Demand,
    current: &Current,
    opts: &PlanOptions,
    base: &State,
    fixed: &[bool],
    cells: &[Cell],
    classes: &[Vec<usize>],
    patterns: &[(usize, u32, usize, usize)],
    admit: &[Option<usize>],
    values: &[f64],
    mut reasons: Vec<Option<String>>,
) -> Option<PlanResult> {
    let mut st = State::new(geo, d);
    // Frozen first, exactly as in `base` (in its order: partially frozen work last).
    let frozen: Vec<usize> = greedy_order(d, current)
        .into_iter()
        .filter(|&w| fixed[w] && base.admitted[w])
        .collect();
    run_greedy(&mut st, &frozen, current, true, &mut reasons);
    restore_layouts(&mut st, current, d);
    // MIG patterns: configure the chosen layouts on free GPUs of each pool.
    for &(p, grp, li, col) in patterns {
        let n = values[col].round() as i64;
        if n <= 0 {
            continue;
        }
        let pool = &geo.pools[p];
        let layout = geo.models[pool.model].layouts[li].clone();
        let mut left = n;
        for &node in &pool.nodes {
            for g in geo.node_gpus(node) {
                if left > 0 && st.gpus[g.index()] == GpuUse::Free {
                    st.preconfigure(g, grp, &layout);
                    left -= 1;
                }
            }
        }
    }
    let mut chosen: Vec<bool> = (0..d.workloads.len())
        .map(|w| admit[w].map(|c| values[c] > 0.5).unwrap_or(false))
        .collect();
    let mut pools_of: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut counted: BTreeMap<usize, u32> = BTreeMap::new();
    // The next workload of each class to give a pool.
    let mut next_of_class = vec![0usize; classes.len()];
    for c in cells {
        match c.class {
            Some(k) => {
                // An elastic cell: that many of the class's workloads, in class order.
                let n = values[c.col].round().max(0.0) as usize;
                for _ in 0..n {
                    let Some(&w) = classes[k].get(next_of_class[k]) else {
                        break;
                    };
                    next_of_class[k] += 1;
                    chosen[w] = true;
                    pools_of.entry(w).or_default().push(c.pool);
                }
            }
            None if values[c.col] > 0.5 => {
                pools_of.entry(c.workload).or_default().push(c.pool);
                *counted.entry(c.workload).or_default() += values[c.col].round() as u32;
                *st.model_quota[c.workload]
                    .entry(geo.pools[c.pool].model)
                    .or_default() += values[c.col].round() as u32;
            }
            None => {}
        }
    }
    // An elastic workload gets the replicas the model counted, no more (the rest of the
    // capacity is someone else's in the counted plan).
    for (&w, &n) in &counted {
        let wl = &d.workloads[w];
        if wl.is_elastic() {
            st.replica_target[w] = n.clamp(wl.min_replicas.max(1), wl.replicas);
        }
    }
    let order: Vec<usize> = super::greedy::packing_order(d, current)
        .into_iter()
        .filter(|&w| chosen[w])
        .collect();
    let mut misses = 0usize;
    for (i, &w) in order.iter().enumerate() {
        // Out of time: the greedy plan stands in (`None`).
        if i % 64 == 0 && deadline.left() <= 0.0 {
            return None;
        }
        let pools = pools_of.get(&w).cloned().unwrap_or_default();
        let prefer = current
            .running
            .get(&d.workloads[w].name)
            .cloned()
            .unwrap_or_default();
        let mut scope: Vec<GeoNodeId> = pools
            .iter()
            .flat_map(|&p| geo.pools[p].nodes.iter().copied())
            .collect();
        scope.extend(prefer.iter().map(|a| geo.node_of(a.gpu)));
        scope.sort_unstable();
        scope.dedup();
        st.scope = Some(scope);
        let r = st.place(
            WorkloadId::from_index(w),
            &|n| pools.contains(&(geo.nodes[n.index()].pool as usize)),
            &prefer,
        );
        st.scope = None;
        st.commit();
        if let Err(e) = &r {
            misses += 1;
            if misses <= 8 && std::env::var_os("FABPLAN_TIMING").is_some() {
                eprintln!(
                    "milp: naming miss `{}` in pools {pools:?}: {e}",
                    d.workloads[w].name
                );
            }
            // Anywhere, on any models: the counted split did not name.
            st.model_quota[w].clear();
            let r2 = st.place(WorkloadId::from_index(w), &|_| true, &prefer);
            st.commit();
            reasons[w] = r2.err();
        } else {
            reasons[w] = None;
        }
    }
    if std::env::var_os("FABPLAN_TIMING").is_some() {
        eprintln!(
            "milp: naming placed {} of {} chosen workloads in their pools",
            order.len() - misses,
            order.len()
        );
    }
    st.release_unused_mig();
    // Repair: anything still out gets a greedy try.
    let rest: Vec<usize> = greedy_order(d, current)
        .into_iter()
        .filter(|&w| !st.admitted[w])
        .collect();
    run_greedy(&mut st, &rest, current, opts.freeze, &mut reasons);
    st.release_unused_mig();
    for w in 0..d.workloads.len() {
        st.explain_short(WorkloadId::from_index(w));
    }
    st.commit();
    Some(PlanResult::from_state(st, reasons, current))
}
