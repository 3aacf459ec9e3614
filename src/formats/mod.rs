//! Adapters between fabplan's model and other tools' formats.

pub mod sarif;
