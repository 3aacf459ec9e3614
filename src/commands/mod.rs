//! One file per subcommand: wiring from parsed flags to library calls and rendered output.
//! No subcommand reaches into another; wiring several share lives in `inputs`.

pub mod admit;
pub mod asbuilt;
pub mod completions;
pub mod explain;
pub mod export;
pub mod generate;
pub mod import;
pub mod inputs;
pub mod inspect;
pub mod meter;
pub mod mig;
pub mod plan;
pub mod replay;
pub mod report;
pub mod size;
pub mod validate;
pub mod verify;
pub mod whatif;

/// Prints an input file's load diagnostic on stderr, with its file, line and column, and
/// returns the exit-2 error (a plan read by `verify` or `export mig-parted`).
pub(crate) fn reject_input(
    file: &crate::source::SourceFile,
    diag: crate::diag::Diagnostic,
) -> crate::error::Error {
    let color = crate::cli::output::stderr_color();
    eprint!(
        "{}",
        crate::cli::render::human(&[diag], file, &crate::source::Provenance::default(), color)
    );
    crate::error::Error::InputRejected { count: 1 }
}

/// Prints every diagnostic of one input file on stderr (a parser that collects) and returns
/// the exit-2 error.
pub(crate) fn reject_input_all(
    file: &crate::source::SourceFile,
    diags: Vec<crate::diag::Diagnostic>,
) -> crate::error::Error {
    let color = crate::cli::output::stderr_color();
    eprint!(
        "{}",
        crate::cli::render::human(&diags, file, &crate::source::Provenance::default(), color)
    );
    crate::error::Error::InputRejected { count: 1 }
}
