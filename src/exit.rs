//! Exit codes, documented in `--help` and README.md.

/// The run completed and found nothing to report.
pub const SUCCESS: u8 = 0;
/// The run completed and found problems in the input (design errors, unplaceable layouts,
/// rejected demand in a hard check).
pub const FINDINGS: u8 = 1;
/// The run could not complete: unreadable input, bad usage, I/O failure.
pub const ERROR: u8 = 2;

/// What a subcommand reports back to `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked out.
    Clean,
    /// The command ran and found problems the user asked about.
    Findings,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => SUCCESS,
            Outcome::Findings => FINDINGS,
        }
    }
}
