//! One file per subcommand: wiring from parsed flags to library calls and rendered output.
//! No subcommand reaches into another.

pub mod explain;
pub mod export;
pub mod generate;
pub mod import;
pub mod inspect;
pub mod mig;
pub mod plan;
pub mod report;
pub mod size;
pub mod validate;
pub mod verify;
