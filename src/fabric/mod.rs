//! Fabric analyses: Clos sizing (and, later, the fabric graph, metrics and the synthetic
//! generator). No IO here.

pub mod sizing;
