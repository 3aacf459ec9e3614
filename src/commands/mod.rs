//! One file per subcommand: wiring from parsed flags to library calls and rendered output.
//! No subcommand reaches into another.

pub mod import;
pub mod mig;
