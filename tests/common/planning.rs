//! Helpers for the tests that plan in-process (tests/plan.rs, tests/resources.rs): a demand
//! from text, solver options with a tight gap, the admitted workloads of a plan document.

use fabplan::model::demand::Demand;
use fabplan::model::Fabric;
use fabplan::plan::{PlanOptions, SolverChoice};
use serde_json::Value;

/// Validates demand `text` against `f`; panics with the diagnostics otherwise.
pub fn demand(f: &Fabric, text: &str) -> Demand {
    fabplan::load::demand::demand_from_str("test.yaml", text, f)
        .unwrap_or_else(|d| panic!("demand: {d:?}"))
}

/// `solver` with a 10 s limit and a gap of 1e-6 (small cases solve to optimality).
pub fn opts(solver: SolverChoice) -> PlanOptions {
    PlanOptions {
        solver,
        time_limit_seconds: 10.0,
        mip_gap: 1e-6,
        ..PlanOptions::default()
    }
}

/// Names of the admitted workloads of a plan document (as JSON), in document order.
pub fn admitted(doc: &Value) -> Vec<String> {
    doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["admitted"] == true)
        .map(|w| w["name"].as_str().unwrap().to_string())
        .collect()
}
