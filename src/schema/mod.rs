//! Raw input types: what serde reads, with the spans of the values diagnostics point at.
//! Nothing here is validated; `load` turns these into the span-free `model`.

pub mod admission;
pub mod demand;
pub mod fabric;
pub mod plan;

pub use serde_saphyr::Spanned;
