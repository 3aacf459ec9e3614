//! The library's error type: what makes a run stop with exit code 2.
//!
//! Problems *in* an input file (a wrong type, a dangling reference) are `diag::Diagnostic`s,
//! many per run; an `Error` is the one reason a command could not finish.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("reading `{}`", path.display())]
    #[diagnostic(code(fabplan::io), help("check that the file exists and is readable"))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("writing `{}`", path.display())]
    #[diagnostic(
        code(fabplan::io),
        help("check that the directory exists and is writable; no partial file was left behind")
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Bad usage that clap cannot see (an unknown GPU model name, a malformed `--need`).
    #[error("{message}")]
    #[diagnostic(code(fabplan::usage))]
    Usage {
        message: String,
        #[help]
        help: Option<String>,
    },

    /// One or more inputs could not be loaded; their diagnostics were already printed.
    #[error("{count} input file(s) could not be loaded")]
    #[diagnostic(code(fabplan::input))]
    InputRejected { count: usize },
}

impl Error {
    pub fn usage(message: impl Into<String>, help: impl Into<Option<String>>) -> Self {
        Error::Usage {
            message: message.into(),
            help: help.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
