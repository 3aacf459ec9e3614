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
    // A fabric's `gpu_models:` files are inputs too: the loader recorded those it was given.
    let models: Vec<PathBuf> = crate::load::gpu_model_files();
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

/// `--color`: when diagnostics and human output get colours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set; `CLICOLOR_FORCE` forces it off a terminal.
    #[default]
    Auto,
    Always,
    Never,
}

/// The global flags of this run (`configure` sets them once per command line).
#[derive(Debug, Clone, Copy, Default)]
struct Settings {
    color: ColorChoice,
    quiet: bool,
    verbose: bool,
}

static SETTINGS: std::sync::RwLock<Settings> = std::sync::RwLock::new(Settings {
    color: ColorChoice::Auto,
    quiet: false,
    verbose: false,
});

fn settings() -> Settings {
    *SETTINGS.read().unwrap_or_else(|e| e.into_inner())
}

/// Records the global flags (`--color`, `-q`, `-v`) for the output helpers below.
pub fn configure(global: &crate::cli::GlobalArgs) {
    *SETTINGS.write().unwrap_or_else(|e| e.into_inner()) = Settings {
        color: global.color,
        quiet: global.quiet,
        verbose: global.verbose,
    };
}

/// `-q`: only results and errors on stderr.
pub fn quiet() -> bool {
    settings().quiet
}

/// `-v`: the solver's log too.
pub fn verbose() -> bool {
    settings().verbose
}

/// Whether a stream gets colours. `--color always|never` decide; `auto` follows the
/// conventions in the order anstream (clap's terminal crate) applies them: `NO_COLOR` set and
/// not empty turns colour off (no-color.org), `CLICOLOR_FORCE` set and not `0` turns it on
/// (bixense.com/clicolors), otherwise colour only on a terminal.
pub fn color_for(choice: ColorChoice, is_terminal: bool) -> bool {
    let set =
        |name: &str, off: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != off);
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR", "") => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE", "0") => true,
        ColorChoice::Auto => is_terminal,
    }
}

/// Whether stderr should get colours (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`, a terminal).
pub fn stderr_color() -> bool {
    use std::io::IsTerminal;
    color_for(settings().color, std::io::stderr().is_terminal())
}

/// Prints a fatal error (exit 2) with miette's graphical handler.
pub fn print_error(err: &Error) {
    // The theme is chosen here (`--color`), not by miette's own terminal detection.
    let handler = if stderr_color() {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode())
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

/// Whether stdout should get colours (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`, a terminal).
pub fn stdout_color() -> bool {
    use std::io::IsTerminal;
    color_for(settings().color, std::io::stdout().is_terminal())
}
