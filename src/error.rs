//! The library's error type: what makes a run stop with exit code 2.
//!
//! Problems *in* an input file (a wrong type, a dangling reference) are `diag::Diagnostic`s,
//! many per run; an `Error` is the one reason a command could not finish.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("reading `{}`", path.display())]
    #[diagnostic(help("check that the file exists and is readable"))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("writing `{}`", path.display())]
    #[diagnostic(help(
        "check that the directory exists and is writable; no partial file was left behind"
    ))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Bad usage that clap cannot see (an unknown GPU model name, a malformed `--need`).
    // No miette code: users see the message and its help, not an internal name.
    #[error("{message}")]
    #[diagnostic()]
    Usage {
        message: String,
        #[help]
        help: Option<String>,
    },

    /// One or more inputs could not be loaded; their diagnostics were already printed.
    #[error("{count} input file(s) could not be loaded")]
    #[diagnostic()]
    InputRejected { count: usize },

    /// A problem inside an input file, shown with its file name and line.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(Box<InputError>),
}

impl Error {
    pub fn usage(message: impl Into<String>, help: impl Into<Option<String>>) -> Self {
        Error::Usage {
            message: message.into(),
            help: help.into(),
        }
    }
}

impl From<InputError> for Error {
    fn from(err: InputError) -> Self {
        Error::Input(Box::new(err))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem inside one input file (a GPU definition, an `nvidia-smi` capture, a mig-parted
/// config), with the file's text so miette can show the line. Built by the parsers in
/// `catalog` and `formats`, which turn a byte offset into a `SourceSpan` through
/// `InputError::at`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// Stable internal name such as `fabplan::gpu_model`, for tests; not shown to users.
    pub code: &'static str,
    pub message: String,
    pub src: miette::NamedSource<String>,
    pub span: Option<miette::SourceSpan>,
    pub label: String,
    pub help: Option<String>,
}

impl InputError {
    /// An error about the file `origin` whose text is `text`, pointing at byte range
    /// `span` (or at the whole file when the position is unknown).
    pub fn at(
        code: &'static str,
        origin: &str,
        text: &str,
        span: Option<std::ops::Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        let span = span.map(|r| {
            let s = crate::source::clamped_span(text, r);
            miette::SourceSpan::new(s.start.into(), s.len)
        });
        InputError {
            code,
            message: message.into(),
            src: miette::NamedSource::new(origin, text.to_string()),
            span,
            label: "here".to_string(),
            help: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// 1-based line of the span's start, for messages and tests.
    pub fn line(&self) -> Option<usize> {
        let offset = self.span?.offset();
        let text = self.src.inner();
        Some(text[..offset.min(text.len())].matches('\n').count() + 1)
    }
}

impl miette::Diagnostic for InputError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(self.label.clone()), span),
        )))
    }
}
