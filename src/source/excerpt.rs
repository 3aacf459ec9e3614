//! The lines miette shows for one diagnostic, with long lines cut around the labels.
//!
//! miette formats every underline with a `{:width$}` padding, and a width past 65,535 panics
//! ("Formatting argument out of range"): a label far to the right of one long line (minified
//! JSON) took the whole run down. Beyond that, a 70 KB line is no help to anyone. So a
//! diagnostic is rendered from an `Excerpt`: only the lines its labels touch (plus context),
//! each line longer than `MAX_LINE_CHARS` cut to windows around the label ends with a `…`
//! marker where text was left out. The labels are moved into the excerpt; the
//! `file:line:col` header still gives the real line and column (in characters, as the JSON
//! and SARIF output do).

use std::ops::Range;

use super::SourceFile;

/// Lines up to this many characters are shown whole.
pub const MAX_LINE_CHARS: usize = 160;
/// Characters kept before and after each label end on a cut line.
const WINDOW_BEFORE: usize = 40;
const WINDOW_AFTER: usize = 60;
/// Bytes shown of one cut line at most, whatever the number of labels on it (far below
/// miette's 65,535 limit even in 4-byte characters).
const MAX_SHOWN_BYTES: usize = 8_000;
/// What stands for the text left out of a cut line.
pub const CUT_MARKER: &str = "…";
/// Lines of context before and after a label (the handlers are set to the same).
pub const CONTEXT_LINES: usize = 1;

/// Longest label text shown (labels are printed inline after the underline).
pub const MAX_LABEL_CHARS: usize = 200;
/// Longest message or help shown in human output (JSON keeps the whole text).
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// `s` cut to `max` characters, saying how much was left out.
pub fn clip_text(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => {
            let rest = s[i..].chars().count();
            format!("{}{CUT_MARKER} ({rest} more characters)", &s[..i])
        }
    }
}

/// One shown line: pieces of the original line, in order, each `(excerpt offset, original
/// byte range)`; between two pieces (and before or after them) a cut marker.
#[derive(Debug, Clone)]
struct ShownLine {
    /// 0-based line in the file.
    line: usize,
    /// Excerpt offset where the line starts.
    start: usize,
    /// Original byte range of the line's text (without the newline).
    orig: Range<usize>,
    pieces: Vec<(usize, Range<usize>)>,
    /// Excerpt offset of the line's newline.
    end: usize,
}

/// Consecutive lines of the file.
#[derive(Debug, Clone)]
struct Region {
    lines: Vec<ShownLine>,
}

/// The source miette reads for one diagnostic.
#[derive(Debug, Clone)]
pub struct Excerpt {
    name: String,
    text: String,
    regions: Vec<Region>,
    /// Excerpt offset of each label start -> real (0-based line, 0-based column in chars).
    starts: Vec<(usize, (usize, usize))>,
}

/// Which end of a label an offset is: a start in cut text moves to the marker's start, an
/// end to the marker's end, so the label still covers the marker.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Start,
    End,
}

impl Excerpt {
    /// The excerpt for labels on byte ranges of `file` (clamped to the text), and the labels'
    /// ranges in the excerpt, in the same order.
    pub fn new(file: &SourceFile, spans: &[Range<usize>]) -> (Excerpt, Vec<Range<usize>>) {
        let text = file.text.as_str();
        let spans: Vec<Range<usize>> = spans
            .iter()
            .map(|r| {
                let start = floor_boundary(text, r.start.min(text.len()));
                let end = ceil_boundary(text, r.end.clamp(start, text.len()));
                start..end
            })
            .collect();
        // The empty "line" after a final newline is shown only when a label is on it.
        let mut last_line = file.line_starts.len() - 1;
        if last_line > 0 && file.line_starts[last_line] == text.len() {
            last_line -= 1;
        }
        // Lines each label touches, widened by the context.
        let wanted: Vec<(usize, usize)> = spans
            .iter()
            .map(|r| {
                let first = file.line_index(r.start);
                let last = file.line_index(if r.end > r.start { r.end - 1 } else { r.start });
                (
                    first.saturating_sub(CONTEXT_LINES),
                    (last + CONTEXT_LINES).min(last_line).max(last),
                )
            })
            .collect();
        // miette joins the snippets of all labels of a report into one (its merge test
        // compares a line count that its own reader gives as an absolute line number), so
        // the excerpt is one region from the first label's context to the last one's.
        let merged: Vec<(usize, usize)> = match (
            wanted.iter().map(|w| w.0).min(),
            wanted.iter().map(|w| w.1).max(),
        ) {
            (Some(a), Some(b)) => vec![(a, b)],
            _ => Vec::new(),
        };
        let mut out = String::new();
        let mut regions = Vec::new();
        for (a, b) in merged {
            let mut lines = Vec::new();
            for line in a..=b {
                let range = file.line_range(line, line);
                let mut orig = range.clone();
                if text[orig.clone()].ends_with('\n') {
                    orig.end -= 1;
                }
                let points: Vec<usize> = spans
                    .iter()
                    .flat_map(|r| [r.start, r.end])
                    .filter(|p| orig.start <= *p && *p <= orig.end)
                    .collect();
                lines.push(shown_line(text, line, orig, &points, &mut out));
            }
            regions.push(Region { lines });
        }
        let mut excerpt = Excerpt {
            name: file.name.clone(),
            text: out,
            regions,
            starts: Vec::new(),
        };
        let mapped: Vec<Range<usize>> = spans
            .iter()
            .map(|r| {
                let start = excerpt.map(file, r.start, End::Start);
                let end = excerpt.map(file, r.end, End::End).max(start);
                start..end
            })
            .collect();
        excerpt.starts = spans
            .iter()
            .zip(&mapped)
            .map(|(r, m)| {
                let (line, col) = file.line_col(r.start);
                (m.start, (line - 1, col - 1))
            })
            .collect();
        (excerpt, mapped)
    }

    /// The excerpt offset of original byte offset `o` (which is on a shown line).
    fn map(&self, file: &SourceFile, o: usize, end: End) -> usize {
        let line = file.line_index(o);
        let Some(shown) = self
            .regions
            .iter()
            .flat_map(|r| r.lines.iter())
            .find(|l| l.line == line)
        else {
            return 0;
        };
        if o >= shown.orig.end {
            return shown.end;
        }
        let mut prev_end = shown.start;
        for (at, piece) in &shown.pieces {
            if o < piece.start {
                // In the cut text before this piece: on the marker.
                return match end {
                    End::Start => prev_end,
                    End::End => *at,
                };
            }
            if o <= piece.end {
                return at + (o - piece.start);
            }
            prev_end = at + piece.len();
        }
        match end {
            End::Start => prev_end,
            End::End => shown.end,
        }
    }

    fn locate(&self, offset: usize) -> Option<(usize, usize)> {
        for (ri, r) in self.regions.iter().enumerate() {
            let (first, last) = (r.lines.first()?, r.lines.last()?);
            if first.start <= offset && offset <= last.end {
                let li = r
                    .lines
                    .partition_point(|l| l.start <= offset)
                    .saturating_sub(1);
                return Some((ri, li));
            }
        }
        None
    }
}

/// Shows line `line` (original text `orig`), cut to windows around `points` when long;
/// appends it and a newline to `out`.
fn shown_line(
    text: &str,
    line: usize,
    orig: Range<usize>,
    points: &[usize],
    out: &mut String,
) -> ShownLine {
    let start = out.len();
    let body = &text[orig.clone()];
    let mut pieces = Vec::new();
    if body.chars().nth(MAX_LINE_CHARS).is_none() {
        out.push_str(body);
        pieces.push((start, orig.clone()));
    } else {
        // Windows in bytes, found by walking characters from each point: the cost does not
        // grow with the line (a 50 MB minified file is one line).
        let back = |p: usize, n: usize| {
            text[orig.start..p]
                .char_indices()
                .rev()
                .nth(n.saturating_sub(1))
                .map_or(orig.start, |(i, _)| orig.start + i)
        };
        let ahead = |p: usize, n: usize| {
            text[p..orig.end]
                .char_indices()
                .nth(n)
                .map_or(orig.end, |(i, _)| p + i)
        };
        let mut windows: Vec<(usize, usize)> = if points.is_empty() {
            vec![(orig.start, ahead(orig.start, WINDOW_BEFORE + WINDOW_AFTER))]
        } else {
            points
                .iter()
                .map(|&p| (back(p, WINDOW_BEFORE), ahead(p, WINDOW_AFTER)))
                .collect()
        };
        windows.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        let mut shown = 0;
        for (a, b) in windows {
            match merged.last_mut() {
                Some((_, lb)) if a <= *lb => {
                    if b > *lb {
                        shown += b - *lb;
                        *lb = b;
                    }
                }
                _ => {
                    shown += b - a;
                    merged.push((a, b));
                }
            }
            if shown > MAX_SHOWN_BYTES {
                break;
            }
        }
        let mut cursor = orig.start;
        for (a, b) in merged {
            if a > cursor {
                out.push_str(CUT_MARKER);
            }
            let piece = a..b;
            pieces.push((out.len(), piece.clone()));
            out.push_str(&text[piece]);
            cursor = b;
        }
        if cursor < orig.end {
            out.push_str(CUT_MARKER);
        }
    }
    let end = out.len();
    out.push('\n');
    ShownLine {
        line,
        start,
        orig,
        pieces,
        end,
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let start = span.offset();
        let (ri, li) = self.locate(start).ok_or(miette::MietteError::OutOfBounds)?;
        let region = &self.regions[ri];
        let end = (start + span.len()).min(region.lines.last().map_or(start, |l| l.end + 1));
        // A span ending right after a newline ends on the previous line.
        let last_offset = if end > start { end - 1 } else { end };
        let last = region
            .lines
            .partition_point(|l| l.start <= last_offset)
            .saturating_sub(1);
        let first = li.saturating_sub(context_lines_before);
        let last = (last + context_lines_after).min(region.lines.len() - 1);
        let mut range = region.lines[first].start..region.lines[last].end + 1;
        let (line, column) = if context_lines_before == 0 {
            // As miette's own reader: without leading context the contents start at the
            // span; the column is what the `file:line:col` header shows: the real one.
            range.start = start;
            match self.starts.iter().find(|(at, _)| *at == start) {
                Some((_, pos)) => *pos,
                None => (region.lines[li].line, 0),
            }
        } else {
            (region.lines[first].line, 0)
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[range.clone()],
            miette::SourceSpan::new(range.start.into(), range.len()),
            line,
            column,
            // As miette's own reader: the line count up to the end of the contents.
            region.lines[last].line + 1,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::SourceCode;

    fn excerpt(text: &str, spans: &[Range<usize>]) -> (Excerpt, Vec<Range<usize>>) {
        Excerpt::new(&SourceFile::new("f", text), spans)
    }

    #[test]
    fn short_lines_are_shown_whole_with_one_line_of_context() {
        let text = "a: 1\nb: 2\nc: 3\nd: 4\n";
        let (e, m) = excerpt(text, std::slice::from_ref(&(10..14)));
        assert_eq!(e.text, "b: 2\nc: 3\nd: 4\n");
        assert_eq!(&e.text[m[0].clone()], "c: 3");
    }

    #[test]
    fn a_long_line_is_cut_around_the_label_and_the_header_keeps_the_real_column() {
        let text = format!("{}BAD{}\n", "x".repeat(100_000), "y".repeat(100_000));
        let (e, m) = excerpt(&text, std::slice::from_ref(&(100_000..100_003)));
        assert_eq!(&e.text[m[0].clone()], "BAD");
        assert!(e.text.starts_with(CUT_MARKER) && e.text.trim_end().ends_with(CUT_MARKER));
        assert!(e.text.chars().count() < 200, "{}", e.text.len());
        let span = miette::SourceSpan::new(m[0].start.into(), m[0].len());
        let c = e.read_span(&span, 0, 0).unwrap();
        assert_eq!((c.line(), c.column()), (0, 100_000));
    }

    #[test]
    fn two_labels_far_apart_on_one_line_get_two_windows() {
        let text = format!("A{}B{}\n", "x".repeat(70_000), "y".repeat(70_000));
        let (e, m) = excerpt(&text, &[0..1, 70_001..70_002]);
        assert_eq!(&e.text[m[0].clone()], "A");
        assert_eq!(&e.text[m[1].clone()], "B");
        assert_eq!(e.text.matches(CUT_MARKER).count(), 2);
    }

    #[test]
    fn multibyte_characters_at_the_cut_and_spans_inside_them_are_safe() {
        let text = format!("{}🚀é{}\r\n", "日".repeat(50_000), "本".repeat(50_000));
        let rocket = "日".len() * 50_000;
        // Spans starting and ending inside characters, past the end, and empty.
        let spans = [
            rocket + 1..rocket + 5,
            3..4,
            text.len() + 10..text.len() + 20,
            7..7,
        ];
        let (e, m) = excerpt(&text, &spans);
        for r in &m {
            assert!(e.text.is_char_boundary(r.start) && e.text.is_char_boundary(r.end));
        }
        assert_eq!(&e.text[m[0].clone()], "🚀é");
        let c = e
            .read_span(&miette::SourceSpan::new(m[0].start.into(), 1), 0, 0)
            .unwrap();
        assert_eq!(c.column(), 50_000);
    }

    #[test]
    fn long_texts_are_clipped_with_a_count() {
        assert_eq!(clip_text("abc", 3), "abc");
        assert_eq!(clip_text("abcdé", 3), "abc… (2 more characters)");
    }
}
