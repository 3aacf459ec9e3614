//! `fabplan completions SHELL` and `fabplan man [COMMAND]`: generated from the clap
//! definitions (`cli::completions`).

use std::io::Write;

use crate::cli::completions::{self, CompletionsArgs, ManArgs};
use crate::cli::output::emit;
use crate::error::{Error, Result};
use crate::exit::Outcome;

pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> Result<Outcome> {
    let script = completions::completion_script(args.shell);
    emit(out, args.output.as_deref(), &[], &script)?;
    Ok(Outcome::Clean)
}

pub fn man(args: &ManArgs, out: &mut dyn Write) -> Result<Outcome> {
    let page = completions::man_page(args.command.as_deref()).ok_or_else(|| {
        let name = args.command.as_deref().unwrap_or_default();
        let names = completions::subcommand_names();
        Error::usage(
            format!("no subcommand `{name}`"),
            Some(
                crate::util::did_you_mean(name, names.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`? (`fabplan --help` lists them)"))
                    .unwrap_or_else(|| format!("one of: {}", names.join(", "))),
            ),
        )
    })?;
    emit(out, args.output.as_deref(), &[], &page)?;
    Ok(Outcome::Clean)
}
