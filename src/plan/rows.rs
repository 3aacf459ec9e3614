//! Model-building pieces the pooled model (`milp.rs`), the gang master (`master.rs`) and the
//! fluid bound (`relax.rs`) share: a variable with its column, the tenant budget rows and the
//! maximal gang patterns. Here so that `master` does not import `milp` (which imports
//! `master`): the dependency between the two runs one way.

use good_lp::{constraint, Constraint, Expression, ProblemVariables, Variable, VariableDefinition};

use super::state::State;
use crate::model::demand::Demand;

/// Adds a variable and returns it with its column (good_lp keeps the index private).
pub(crate) fn add(vars: &mut ProblemVariables, def: VariableDefinition) -> (Variable, usize) {
    let col = vars.len();
    (vars.add(def), col)
}

/// Tenant budget, GPU and power rows over per-tenant USD/h, GPU-equivalents and kW, net of
/// what `base` already holds (shared by the pooled model and the gang master).
pub(crate) fn tenant_rows(
    d: &Demand,
    base: &State,
    usd: Vec<Expression>,
    gpus: Vec<Expression>,
    kw: Vec<Expression>,
) -> Vec<Constraint> {
    let mut rows = Vec::new();
    for (t, ((ten, u), (g, k))) in d
        .tenants
        .iter()
        .zip(usd)
        .zip(gpus.into_iter().zip(kw))
        .enumerate()
    {
        if let Some(b) = ten.budget_usd_per_hour {
            rows.push(constraint!(u <= b - base.tenant_usd[t]));
        }
        if let Some(b) = ten.max_gpus {
            rows.push(constraint!(g <= b - base.tenant_gpus[t]));
        }
        if let Some(b) = ten.max_power_kw {
            rows.push(constraint!(k <= b - base.tenant_kw[t]));
        }
    }
    rows
}

/// The maximal multisets of `sizes` (descending, distinct) whose sum is at most `capacity`,
/// as counts per size; `None` when there are more than `limit`.
pub fn maximal_patterns(sizes: &[u32], capacity: u32, limit: usize) -> Option<Vec<Vec<u32>>> {
    fn walk(
        sizes: &[u32],
        i: usize,
        left: u32,
        cur: &mut Vec<u32>,
        out: &mut Vec<Vec<u32>>,
        limit: usize,
    ) -> bool {
        if i == sizes.len() {
            // Maximal: no size fits in what is left.
            if sizes.iter().all(|&s| s > left) {
                out.push(cur.clone());
            }
            return out.len() <= limit;
        }
        let most = left / sizes[i];
        for k in (0..=most).rev() {
            cur[i] = k;
            if !walk(sizes, i + 1, left - k * sizes[i], cur, out, limit) {
                return false;
            }
        }
        cur[i] = 0;
        true
    }
    let mut out = Vec::new();
    let mut cur = vec![0; sizes.len()];
    if sizes.is_empty() || walk(sizes, 0, capacity, &mut cur, &mut out, limit) {
        if sizes.is_empty() {
            out.push(Vec::new());
        }
        Some(out)
    } else {
        None
    }
}
