//! Small helpers shared by several rooms: atomic file writes and Slurm-style hostlists.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` without ever leaving a partial or destroyed file:
/// - a regular file (or a new one) is replaced atomically: a temporary file in the same
///   directory, fsync, rename; a replaced file keeps its permissions;
/// - a symlink is written through: its final target is replaced as above, the link stays;
/// - a device, FIFO or socket (`/dev/null`, `/dev/stdout`, a named pipe) is opened and
///   written to, never replaced by a rename (which would turn `/dev/null` into a file);
/// - a directory is refused.
///
/// A failure leaves `path` as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |source: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    // The kernel follows the links here, magic ones included (`/dev/stdout` ->
    // `/proc/self/fd/1` -> `pipe:[...]`), so a device or pipe is recognised as such.
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(fail(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory",
        ))),
        Ok(m) if !m.is_file() => {
            // Not a regular file: write into it, as a shell redirection would.
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(fail)?;
            f.write_all(bytes).and_then(|_| f.flush()).map_err(fail)
        }
        Ok(m) => {
            let target = follow_symlinks(path).map_err(fail)?;
            replace_file(&target, bytes, Some(m.permissions())).map_err(fail)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A new file, or a dangling symlink: the file is created where the link points.
            let target = follow_symlinks(path).map_err(fail)?;
            replace_file(&target, bytes, None).map_err(fail)
        }
        Err(e) => Err(fail(e)),
    }
}

/// The path a chain of symlinks ends at (the path itself when it is no symlink); the last
/// target need not exist. Relative links are resolved against the link's directory.
pub fn follow_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    // Linux gives up after 40 links (ELOOP); so do we.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Replaces regular file `path` through a temporary file in its directory.
fn replace_file(
    path: &Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_string());
    let tmp = dir.join(format!(".{file_name}.fabplan-tmp-{}", std::process::id()));
    // A stale temporary file of an earlier run with the same pid; never write through one.
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if let Some(p) = permissions {
            f.set_permissions(p)?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Why a hostlist could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostlistError(pub String);

/// Largest number of names one hostlist may expand to (a guard against `n[0-999999999]`);
/// `crate::limits::MAX_HOSTLIST_NAMES`, documented in docs/limits.md.
pub const HOSTLIST_MAX: usize = crate::limits::MAX_HOSTLIST_NAMES as usize;

/// How many names a hostlist expands to, computed without expanding it (saturating at
/// `u64::MAX`, so `a[1-999999999]b[1-999999999]` neither overflows nor allocates).
pub fn hostlist_len(pattern: &str) -> Result<u64, HostlistError> {
    let mut total = 0u64;
    for part in split_top_level(pattern)? {
        let part = part.trim();
        if part.is_empty() {
            return Err(HostlistError(format!("empty name in `{pattern}`")));
        }
        total = total.saturating_add(len_one(part)?);
    }
    Ok(total)
}

/// Names of one comma-free part: the product of its bracket sizes.
fn len_one(s: &str) -> Result<u64, HostlistError> {
    let Some(open) = s.find('[') else {
        return Ok(1);
    };
    let close = s[open..]
        .find(']')
        .map(|c| c + open)
        .ok_or_else(|| HostlistError(format!("unbalanced brackets in `{s}`")))?;
    let mut here = 0u64;
    for range in s[open + 1..close].split(',') {
        let (a, b) = parse_range(range, s)?;
        here = here.saturating_add(b - a + 1);
    }
    Ok(here.saturating_mul(len_one(&s[close + 1..])?))
}

/// The bounds of `lo-hi` (or a single number) inside bracket pattern `s`.
fn parse_range(range: &str, s: &str) -> Result<(u64, u64), HostlistError> {
    let (lo, hi) = match range.split_once('-') {
        Some((lo, hi)) => (lo.trim(), hi.trim()),
        None => (range.trim(), range.trim()),
    };
    let parse = |t: &str| {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) || t.len() > 9 {
            Err(HostlistError(format!("`{t}` in `{s}` is not a number")))
        } else {
            Ok(t.parse::<u64>().expect("digits"))
        }
    };
    let (a, b) = (parse(lo)?, parse(hi)?);
    if a > b {
        return Err(HostlistError(format!(
            "range `{range}` in `{s}` runs backwards"
        )));
    }
    Ok((a, b))
}

/// Whether `name` is one of the names `pattern` expands to, decided without expanding it (for
/// hostlists refused as too large: their names are known not to be typos).
pub fn hostlist_matches(pattern: &str, name: &str) -> bool {
    let Ok(parts) = split_top_level(pattern) else {
        return false;
    };
    parts.iter().any(|p| part_matches(p.trim(), name))
}

fn part_matches(s: &str, name: &str) -> bool {
    let Some(open) = s.find('[') else {
        return s == name;
    };
    let Some(close) = s[open..].find(']').map(|c| c + open) else {
        return false;
    };
    let Some(after_prefix) = name.strip_prefix(&s[..open]) else {
        return false;
    };
    let digits = after_prefix.bytes().take_while(u8::is_ascii_digit).count();
    s[open + 1..close].split(',').any(|range| {
        let Ok((a, b)) = parse_range(range, s) else {
            return false;
        };
        let width = range.split('-').next().unwrap_or("").trim().len();
        (1..=digits.min(18)).any(|k| {
            let text = &after_prefix[..k];
            let n: u64 = text.parse().expect("digits");
            (a..=b).contains(&n)
                && format!("{n:0width$}") == text
                && part_matches(&s[close + 1..], &after_prefix[k..])
        })
    })
}

/// Expands a Slurm-style hostlist: `dgx[01-04,07]`, `su[1-2]-leaf[1-8]`, `a,b,c`.
/// Zero padding follows the lower bound's width, as Slurm does. The size is computed first
/// (`hostlist_len`): past `HOSTLIST_MAX` names nothing is expanded.
pub fn expand_hostlist(pattern: &str) -> Result<Vec<String>, HostlistError> {
    let len = hostlist_len(pattern)?;
    if len > HOSTLIST_MAX as u64 {
        return Err(HostlistError(format!(
            "`{pattern}` expands to {len} names, more than the limit of {HOSTLIST_MAX}"
        )));
    }
    let mut out = Vec::with_capacity(len as usize);
    for part in split_top_level(pattern)? {
        expand_one(part.trim(), &mut out)?;
    }
    Ok(out)
}

fn split_top_level(s: &str) -> Result<Vec<&str>, HostlistError> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err(HostlistError(format!(
                "unbalanced or nested brackets in `{s}`"
            )));
        }
    }
    if depth != 0 {
        return Err(HostlistError(format!("unbalanced brackets in `{s}`")));
    }
    parts.push(&s[start..]);
    Ok(parts)
}

fn expand_one(s: &str, out: &mut Vec<String>) -> Result<(), HostlistError> {
    let Some(open) = s.find('[') else {
        out.push(s.to_string());
        return Ok(());
    };
    let close = s[open..]
        .find(']')
        .map(|c| c + open)
        .ok_or_else(|| HostlistError(format!("unbalanced brackets in `{s}`")))?;
    let prefix = &s[..open];
    let body = &s[open + 1..close];
    let rest = &s[close + 1..];
    let mut suffixes = Vec::new();
    expand_one(rest, &mut suffixes)?;
    for range in body.split(',') {
        // The size was checked by `hostlist_len` before expanding.
        let (a, b) = parse_range(range, s)?;
        let width = match range.split_once('-') {
            Some((lo, _)) => lo.trim().len(),
            None => range.trim().len(),
        };
        for n in a..=b {
            for suffix in &suffixes {
                out.push(format!("{prefix}{n:0width$}{suffix}"));
            }
        }
    }
    Ok(())
}

/// Compresses names into a Slurm hostlist (`gb-a01,gb-a02,gb-a03` -> `gb-a[01-03]`).
/// Names keep their order of first appearance per prefix; names without a numeric
/// suffix are listed as they are.
pub fn compress_hostlist(names: &[String]) -> String {
    // Group runs of (prefix, width) with consecutive numbers, preserving order.
    let mut groups: Vec<(String, usize, Vec<u64>)> = Vec::new();
    let mut plain: Vec<(usize, String)> = Vec::new();
    let mut order: Vec<(usize, bool)> = Vec::new(); // (index, is_group)
    for name in names {
        let digits = name
            .bytes()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 9 {
            order.push((plain.len(), false));
            plain.push((0, name.clone()));
            continue;
        }
        let (prefix, num) = name.split_at(name.len() - digits);
        let n: u64 = num.parse().expect("digits");
        // A zero-padded number fixes its group's width; an unpadded one joins a padded group
        // of its own length (`10` after `01..09`) or the unpadded group.
        let padded = num.starts_with('0') && num.len() > 1;
        let width = if padded { num.len() } else { 0 };
        let found = groups
            .iter()
            .position(|(p, w, _)| p == prefix && *w == num.len() && !padded)
            .or_else(|| {
                groups
                    .iter()
                    .position(|(p, w, _)| p == prefix && *w == width)
            });
        if let Some(g) = found.map(|i| &mut groups[i]) {
            g.2.push(n);
        } else {
            order.push((groups.len(), true));
            groups.push((prefix.to_string(), width, vec![n]));
        }
    }
    let mut parts = Vec::new();
    for (idx, is_group) in order {
        if !is_group {
            parts.push(plain[idx].1.clone());
            continue;
        }
        let (prefix, width, nums) = &groups[idx];
        let mut nums = nums.clone();
        nums.sort_unstable();
        nums.dedup();
        if nums.len() == 1 {
            parts.push(format!("{prefix}{:0width$}", nums[0], width = *width));
            continue;
        }
        let mut ranges = Vec::new();
        let mut start = nums[0];
        let mut prev = nums[0];
        for &n in &nums[1..] {
            if n == prev + 1 {
                prev = n;
                continue;
            }
            ranges.push((start, prev));
            start = n;
            prev = n;
        }
        ranges.push((start, prev));
        let body: Vec<String> = ranges
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    format!("{a:0width$}", width = *width)
                } else {
                    format!("{a:0width$}-{b:0width$}", width = *width)
                }
            })
            .collect();
        parts.push(format!("{prefix}[{}]", body.join(",")));
    }
    parts.join(",")
}

/// The candidate closest to `given` (case-insensitive Jaro-Winkler, as clap and cargo
/// suggest), when one is close enough to be what was meant (`FP3O1` -> `FP301`,
/// `h100-80g` -> `h100-80gb`); the first of equally close candidates.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let given = given.to_ascii_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&given, &c.to_ascii_lowercase());
        if score >= 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z]` as Unix seconds. A time without a zone is UTC
/// (the Azure trace has none; its README: "There is no time zone").
pub fn parse_timestamp(s: &str) -> Option<f64> {
    let s = s.trim();
    let s = s.strip_suffix('Z').unwrap_or(s);
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = &s[r];
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hh, mm, ss) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let frac = match &s[19..] {
        "" => 0.0,
        f if f.starts_with('.') && f.len() > 1 && f[1..].bytes().all(|c| c.is_ascii_digit()) => {
            format!("0{f}").parse::<f64>().ok()?
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64 + frac)
}

/// YAML text of `v` through serde-saphyr, the one way fabplan's writers emit YAML (exports,
/// imports' skeletons, `generate`): long strings stay single-line scalars (no folded `>-`
/// blocks, which some readers mishandle).
pub fn to_yaml<T: serde::Serialize>(v: &T) -> String {
    let opts = serde_saphyr::ser_options! { prefer_block_scalars: false };
    serde_saphyr::to_string_with_options(v, opts).expect("plain data serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_ranges_with_padding() {
        assert_eq!(
            expand_hostlist("dgx[01-03,07]").unwrap(),
            ["dgx01", "dgx02", "dgx03", "dgx07"]
        );
        assert_eq!(
            expand_hostlist("su[1-2]-leaf[1-2]").unwrap(),
            ["su1-leaf1", "su1-leaf2", "su2-leaf1", "su2-leaf2"]
        );
        assert_eq!(expand_hostlist("a,b").unwrap(), ["a", "b"]);
    }

    #[test]
    fn rejects_malformed_hostlists() {
        assert!(expand_hostlist("dgx[01-").is_err());
        assert!(expand_hostlist("dgx[5-1]").is_err());
        assert!(expand_hostlist("dgx[a-b]").is_err());
        assert!(expand_hostlist("dgx[0-999999999]").is_err());
        assert!(expand_hostlist("a,,b").is_err());
    }

    #[test]
    fn sizes_are_computed_before_expanding() {
        assert_eq!(hostlist_len("dgx[01-03,07],mgmt").unwrap(), 5);
        assert_eq!(hostlist_len("su[1-2]-leaf[1-8]").unwrap(), 16);
        // 10^18 names: counted, never expanded (the old guard multiplied by the suffixes
        // after checking only the first range).
        assert_eq!(
            hostlist_len("a[1-999999999]b[0-999999999]").unwrap(),
            999_999_999 * 1_000_000_000
        );
        let e = expand_hostlist("a[1-999999999]b[0-999999999]").unwrap_err();
        assert!(e.0.contains("999999999000000000 names"), "{}", e.0);
        assert!(expand_hostlist("a[1-2048]b[1-2048]").is_ok());
        assert!(expand_hostlist("a[1-2048]b[1-2049]").is_err());
    }

    #[test]
    fn matches_names_without_expanding() {
        assert!(hostlist_matches("dgx[01-99999999]", "dgx07"));
        assert!(hostlist_matches("dgx[01-99999999]", "dgx12345678"));
        assert!(!hostlist_matches("dgx[01-99999999]", "dgx7"));
        assert!(!hostlist_matches("dgx[01-99999999]", "dgx00"));
        assert!(hostlist_matches("su[1-2]-leaf[1-8],spine1", "su2-leaf8"));
        assert!(hostlist_matches("su[1-2]-leaf[1-8],spine1", "spine1"));
        assert!(!hostlist_matches("su[1-2]-leaf[1-8],spine1", "su3-leaf1"));
        assert!(hostlist_matches("a[1-99999999]x[1-99999999]", "a5x12"));
        assert!(!hostlist_matches("a[1-9]", "a[1-9]"));
        // Every name the expansion gives matches, and only those.
        let names = expand_hostlist("n[08-11,20]m[1-3]").unwrap();
        for n in &names {
            assert!(hostlist_matches("n[08-11,20]m[1-3]", n), "{n}");
        }
        assert!(!hostlist_matches("n[08-11,20]m[1-3]", "n12m1"));
    }

    #[test]
    fn compresses_back() {
        let names = expand_hostlist("gb-a[01-18],gb-b[01-02],mgmt").unwrap();
        assert_eq!(compress_hostlist(&names), "gb-a[01-18],gb-b[01-02],mgmt");
        let names = expand_hostlist("n[1-3,5]").unwrap();
        assert_eq!(compress_hostlist(&names), "n[1-3,5]");
    }

    #[test]
    fn did_you_mean_picks_the_close_one_or_none() {
        let codes = ["FP301", "FP302", "FP101"];
        assert_eq!(super::did_you_mean("FP3O1", codes), Some("FP301"));
        assert_eq!(super::did_you_mean("fp101", codes), Some("FP101"));
        assert_eq!(super::did_you_mean("vlan", codes), None);
    }
}
