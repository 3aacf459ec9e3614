//! Flags of `fabplan completions` and `fabplan man`, and the two generators: both read the
//! clap definition of every command, so completions, man pages and `--help` cannot disagree.

use std::path::PathBuf;

use clap::CommandFactory;

/// Print a shell completion script (bash, zsh, fish, elvish, powershell).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fabplan completions bash > ~/.local/share/bash-completion/completions/fabplan
  fabplan completions zsh > ~/.zfunc/_fabplan      # with fpath+=(~/.zfunc) in ~/.zshrc
  fabplan completions fish > ~/.config/fish/completions/fabplan.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Print a man page (roff): fabplan(1), or fabplan-COMMAND(1) for one subcommand.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  fabplan man | man -l -
  fabplan man plan -o fabplan-plan.1
  fabplan man -o /usr/local/share/man/man1/fabplan.1")]
pub struct ManArgs {
    /// A subcommand (`plan`, `export`, `mig`...): its own page instead of fabplan(1).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
    /// Write to FILE instead of stdout (atomically; through a symlink to its target;
    /// a device or FIFO is written to; never onto an input, see docs/exit-codes.md).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The completion script for `shell`.
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = crate::cli::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "fabplan", &mut out);
    out
}

/// The subcommands' names, for the error on an unknown one.
pub fn subcommand_names() -> Vec<String> {
    crate::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

/// The man page of fabplan, or of one subcommand (`None` when there is no such subcommand).
pub fn man_page(command: Option<&str>) -> Option<Vec<u8>> {
    let mut top = crate::cli::Cli::command();
    top.build();
    let (cmd, title) = match command {
        None => (top, "fabplan".to_string()),
        Some(name) => {
            let sub = top.find_subcommand(name)?.clone();
            // The page is `fabplan-plan(1)`, its synopsis `fabplan plan ...`.
            let title = format!("fabplan-{}", sub.get_name());
            let bin = format!("fabplan {}", sub.get_name());
            (sub.bin_name(bin), title)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .title(title)
        .date("2026-12")
        .source(format!("fabplan {}", env!("CARGO_PKG_VERSION")))
        .manual("fabplan manual")
        .render(&mut out)
        .expect("rendering into memory");
    Some(out)
}
