//! Analyses of a loaded fabric: adjacency, power, Clos sizing, the petgraph graph and its
//! metrics. No IO here.

pub mod power;
pub mod sizing;
pub mod topology;
