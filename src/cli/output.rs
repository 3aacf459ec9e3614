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

/// Writes the rendered output either to `-o FILE` or to stdout. `inputs` are the files the
/// command read: writing onto one of them is refused (exit 2) before anything is written.
/// The file itself is written by `util::write_atomic` (atomic replace; symlinks written
/// through; devices and FIFOs written to, never replaced).
pub fn emit(
    out: &mut dyn Write,
    file: Option<&Path>,
    inputs: &[&Path],
    bytes: &[u8],
) -> Result<()> {
    match file {
        Some(path) if path != Path::new("-") => {
            refuse_input_as_output(path, inputs)?;
            crate::util::write_atomic(path, bytes)
        }
        _ => write_stdout(out, bytes),
    }
}

/// Refuses an output path that is one of `inputs`: the same file by canonical path or by
/// (device, inode), so `./x.yaml`, `x.yaml`, a hard link or a symlink to an input are all
/// caught. A device, FIFO or socket is never refused (writing to it replaces nothing).
pub fn refuse_input_as_output(output: &Path, inputs: &[&Path]) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if output == Path::new("-") {
        return Ok(());
    }
    let meta = std::fs::metadata(output).ok();
    if meta.as_ref().is_some_and(|m| !m.is_file()) {
        return Ok(());
    }
    let target = crate::util::follow_symlinks(output).unwrap_or_else(|_| output.to_path_buf());
    let canonical = std::fs::canonicalize(&target).ok().or_else(|| {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(target.file_name()?))
    });
    // A fabric's `gpu_models:` files are inputs too.
    let models: Vec<PathBuf> = inputs
        .iter()
        .flat_map(|p| crate::load::gpu_model_files(p))
        .collect();
    let all = inputs
        .iter()
        .copied()
        .chain(models.iter().map(PathBuf::as_path));
    for input in all.filter(|p| *p != Path::new("-")) {
        let same_inode = match (&meta, std::fs::metadata(input)) {
            (Some(o), Ok(i)) => o.dev() == i.dev() && o.ino() == i.ino(),
            _ => false,
        };
        let same_path = canonical.is_some() && std::fs::canonicalize(input).ok() == canonical;
        if same_inode || same_path {
            return Err(Error::usage(
                format!(
                    "refusing to write the output to `{}`: it is the input `{}`",
                    output.display(),
                    input.display()
                ),
                Some(
                    "write the output to another file; `-o` never replaces a file the command reads"
                        .to_string(),
                ),
            ));
        }
    }
    Ok(())
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
