//! fabplan: an offline planner for GPU clusters.
//!
//! Data flows one way: YAML text -> raw types with spans (`schema`) -> validated, span-free
//! model (`model`) -> analyses (`fabric`, `checks`, `mig`) -> rendered output (`cli`).
//! See ARCHITECTURE.md for the code map and the invariants.

pub mod admit;
pub mod asbuilt;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod error;
pub mod exit;
pub mod fabric;
pub mod formats;
pub mod limits;
pub mod load;
pub mod meter;
pub mod mig;
pub mod model;
pub mod plan;
pub mod replay;
pub mod report;
pub mod schema;
pub mod source;
pub mod util;
pub mod whatif;
