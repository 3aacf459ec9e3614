//! Analyses of a loaded fabric: adjacency, power, Clos sizing, the petgraph graph and its
//! metrics. No IO here.

pub mod generate;
pub mod graph;
pub mod levels;
pub mod power;
pub mod sizing;
pub mod topology;
