//! Line and character mutations of a YAML text, for the never-panics properties of the
//! fabric and demand loaders.

use proptest::prelude::*;

#[derive(Debug, Clone)]
pub enum Mutation {
    DeleteLine(prop::sample::Index),
    DuplicateLine(prop::sample::Index),
    ReplaceChar(prop::sample::Index, char),
    Truncate(prop::sample::Index),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    // Characters that change YAML structure or values, plus anything at all.
    let interesting = prop_oneof![
        prop::sample::select(vec![
            ':', '-', '[', ']', '{', '}', ',', '#', '&', '*', '"', '\'', ' ', '\n', '\t', '0', '9',
            '.', '|', '>', '!', '%', '@'
        ]),
        any::<char>(),
    ];
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::DeleteLine),
        any::<prop::sample::Index>().prop_map(Mutation::DuplicateLine),
        (any::<prop::sample::Index>(), interesting).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

pub fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    match m {
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            let k = i.index(lines.len());
            lines
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, l)| *l)
                .collect()
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let k = i.index(lines.len());
            let mut out = String::new();
            for (j, l) in lines.iter().enumerate() {
                out.push_str(l);
                if j == k {
                    out.push_str(l);
                }
            }
            out
        }
        Mutation::ReplaceChar(i, c) if !text.is_empty() => {
            let chars: Vec<char> = text.chars().collect();
            let k = i.index(chars.len());
            chars
                .iter()
                .enumerate()
                .map(|(j, x)| if j == k { *c } else { *x })
                .collect()
        }
        Mutation::Truncate(i) if !text.is_empty() => {
            text.chars().take(i.index(text.chars().count())).collect()
        }
        _ => text.to_string(),
    }
}
