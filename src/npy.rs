//! A guard run on a `.npy` file before `npyz` reads it: `npyz` multiplies the declared shape out
//! unchecked (a panic in a debug build, a wrapped element count in a release one), so a hostile
//! shape such as (2^32, 2^32, 16) is refused here first, by the file's own header.

use std::io::Read;
use std::path::Path;

/// The longest header read (format 1.0 headers are below 64 KiB; 2.0 ones may be longer).
const MAX_HEADER: u64 = 1 << 20;

/// Checks that the shape `path`'s header declares has a number of elements that fits a usize.
/// A file that cannot be read or has a header this guard does not parse passes: `npyz` reports
/// what is wrong with it.
///
/// # Errors
/// The reason, without the path: the declared shape and that its product overflows.
pub fn check_shape(path: &Path) -> Result<(), String> {
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(MAX_HEADER).read_to_end(&mut head));
    if read.is_err() {
        return Ok(());
    }
    if let Some(text) = header_text(&head) {
        check_nesting(text)?;
    }
    let Some(shape) = declared_shape(&head) else { return Ok(()) };
    let fits = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(usize::try_from(d).ok()?));
    match fits {
        Some(_) => Ok(()),
        None => {
            Err(format!("shape {shape:?} has more elements than a usize counts (it overflows)"))
        }
    }
}

/// The deepest bracket nesting a header may have: a dict holding a tuple, or a structured dtype's
/// list of tuples (gkrnet reads neither deeper).
const MAX_NESTING: usize = 4;

/// `npyz` parses a header's Python literal recursively, and a few hundred unclosed `[` or `{`
/// take it tens of seconds (found by the `input` fuzz target): brackets that nest deeper than
/// [`MAX_NESTING`] or do not close are refused before it sees them.
fn check_nesting(text: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!("the header's brackets nest deeper than {MAX_NESTING}"));
                }
            }
            (None, ')' | ']' | '}') => {
                depth =
                    depth.checked_sub(1).ok_or("the header closes a bracket it never opened")?;
            }
            _ => {}
        }
    }
    match depth {
        0 => Ok(()),
        _ => Err("the header's brackets do not close".into()),
    }
}

/// The header's text (format 1.0, 2.0 or 3.0), if the file has one.
fn header_text(file: &[u8]) -> Option<&str> {
    let rest = file.strip_prefix(b"\x93NUMPY")?;
    let (&major, rest) = rest.split_first()?;
    let rest = rest.get(1..)?;
    let (len, rest) = match major {
        1 => (u16::from_le_bytes(rest.get(..2)?.try_into().ok()?) as usize, rest.get(2..)?),
        2 | 3 => (u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize, rest.get(4..)?),
        _ => return None,
    };
    std::str::from_utf8(rest.get(..len.min(rest.len()))?).ok()
}

/// The dimensions in the `'shape': (…)` entry of a `.npy` header (format 1.0, 2.0 or 3.0).
fn declared_shape(file: &[u8]) -> Option<Vec<u128>> {
    let text = header_text(file)?;
    let tuple = &text[text.find("'shape'")?..];
    let inner = tuple.get(tuple.find('(')? + 1..tuple.find(')')?)?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_end_matches('L').parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(shape: &str) -> Vec<u8> {
        let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}\n");
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out
    }

    #[test]
    fn the_declared_shape_is_read_from_the_header() {
        assert_eq!(declared_shape(&header("(1, 1, 8, 8)")), Some(vec![1, 1, 8, 8]));
        assert_eq!(declared_shape(&header("(5,)")), Some(vec![5]));
        assert_eq!(declared_shape(&header("()")), Some(vec![]));
        let huge = "(4294967296, 4294967296, 16)";
        assert_eq!(declared_shape(&header(huge)), Some(vec![1 << 32, 1 << 32, 16]));
        assert_eq!(declared_shape(b"not a npy file"), None);
        assert_eq!(declared_shape(&header("(1, 1")[..12]), None);
    }

    /// The two headers that hung npyz (fuzz/known/input/, whose first byte selects the `input`
    /// target's reader): refused by their nesting.
    #[test]
    fn headers_nesting_deep_or_unclosed_are_refused_before_npyz() {
        for name in ["npy-header-nested-braces-hang", "npy-header-nested-brackets-hang"] {
            let known = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/known/input").join(name);
            let bytes = std::fs::read(known).unwrap();
            let path =
                std::env::temp_dir().join(format!("gkrnet-{name}-{}.npy", std::process::id()));
            std::fs::write(&path, bytes.get(1..).unwrap()).unwrap();
            let err = check_shape(&path).unwrap_err();
            assert!(err.contains("nest deeper") || err.contains("do not close"), "{name}: {err}");
        }
        assert_eq!(check_nesting("{'descr': '<f4', 'shape': (1, 2), }"), Ok(()));
        assert_eq!(check_nesting("{'descr': [('a', '<f4')], 'shape': (1,), }"), Ok(()));
        assert!(check_nesting("{'descr': '<f4', 'shape': (1, 2, }").is_err());
        assert!(check_nesting(&"[".repeat(300)).is_err());
        assert!(check_nesting("{'shape': ((((((1,),),),),),)}").is_err());
        // brackets inside quotes do not count
        assert_eq!(check_nesting("{'descr': '[[[[[[', 'shape': (1,), }"), Ok(()));
    }
}
