//! Analyses of a loaded fabric: adjacency, the petgraph graph and its metrics.

pub mod power;
pub mod topology;
