//! `fabplan explain`: print a rule's documentation from the registry.

use std::io::Write;

use serde_json::json;

use crate::checks::{rule, RULES};
use crate::cli::explain::{ExplainArgs, ExplainFormat};
use crate::cli::output::emit;
use crate::error::{Error, Result};
use crate::exit::Outcome;

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> Result<Outcome> {
    let text = if args.list {
        match args.format {
            ExplainFormat::Human => RULES
                .iter()
                .map(|r| {
                    format!(
                        "{}  {:<8} {:<24} {}\n",
                        r.code,
                        r.severity.as_str(),
                        r.name,
                        r.summary
                    )
                })
                .collect(),
            ExplainFormat::Md => {
                let mut md = String::from(
                    "# Rules\n\nEvery code fabplan reports, generated from the registry \
                     (`fabplan explain --list --format md -o docs/rules.md`); \
                     `fabplan explain CODE` prints one. Sources: docs/sources.md.\n",
                );
                for r in RULES {
                    md.push('\n');
                    md.push_str(&markdown(r));
                }
                md
            }
            ExplainFormat::Json => {
                let v: Vec<_> = RULES.iter().map(|r| json!({"code": r.code, "name": r.name, "severity": r.severity.as_str(), "summary": r.summary})).collect();
                serde_json::to_string_pretty(&v).expect("json") + "\n"
            }
        }
    } else {
        let code = args.code.as_deref().unwrap_or_default();
        let r = rule(code).ok_or_else(|| {
            let names = RULES.iter().flat_map(|r| [r.code, r.name]);
            let list = "`fabplan explain --list` lists every code";
            Error::usage(
                format!("unknown code `{code}`"),
                Some(match crate::util::did_you_mean(code, names) {
                    Some(m) => format!("did you mean `{m}`? {list}"),
                    None => list.to_string(),
                }),
            )
        })?;
        match args.format {
            ExplainFormat::Human => format!("{} {} ({})\n\n{}\n\n{}\n", r.code, r.name, r.severity.as_str(), r.summary, r.doc),
            ExplainFormat::Md => markdown(r),
            ExplainFormat::Json => {
                serde_json::to_string_pretty(&json!({"code": r.code, "name": r.name, "severity": r.severity.as_str(), "summary": r.summary, "doc": r.doc})).expect("json") + "\n"
            }
        }
    };
    emit(out, args.output.as_deref(), &[], text.as_bytes())?;
    Ok(Outcome::Clean)
}

/// One rule as Markdown: an anchor (`#fp101`), a heading, severity and summary, the doc.
fn markdown(r: &crate::checks::Rule) -> String {
    format!(
        "<a id=\"{}\"></a>\n## {} {}\n\n{}: {}\n\n{}\n",
        r.code.to_ascii_lowercase(),
        r.code,
        r.name,
        r.severity.as_str(),
        r.summary,
        r.doc
    )
}
