//! Output plumbing shared by the subcommands: the `--format` choices, writing to stdout or
//! to a file atomically, and printing errors and diagnostics to stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Output formats; each subcommand accepts the subset it documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Yaml,
}

/// Writes `bytes` to `out` (stdout), mapping a failure to `Error::Write`.
pub fn write_stdout(out: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes).map_err(|source| Error::Write {
        path: PathBuf::from("<stdout>"),
        source,
    })
}

/// Writes the rendered output either to `-o FILE` (atomically) or to stdout.
pub fn emit(out: &mut dyn Write, file: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match file {
        Some(path) if path != Path::new("-") => crate::util::write_atomic(path, bytes),
        _ => write_stdout(out, bytes),
    }
}

/// Whether stderr should get colours: a terminal, and no `NO_COLOR`.
pub fn stderr_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Prints a fatal error (exit 2) with miette's graphical handler.
pub fn print_error(err: &Error) {
    let handler = if stderr_color() {
        miette::GraphicalReportHandler::new()
    } else {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
    }
    .with_context_lines(crate::source::excerpt::CONTEXT_LINES);
    let mut s = String::new();
    // A problem inside an input file is drawn from an excerpt (see `source::excerpt`):
    // miette panics on a label past column 65,535 of the full text.
    let _ = match err {
        Error::Input(e) => {
            handler.render_report(&mut s, &crate::source::Rendered::of_input_error(e))
        }
        _ => handler.render_report(&mut s, err),
    };
    eprintln!("{s}");
}

/// Whether stdout should get colours: a terminal, and no `NO_COLOR`.
pub fn stdout_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}
