//! Architecture guards, read from the source text under `src/` (not from the compiled crate):
//!
//! - no import cycle between files: in the file-level graph of `crate::…`, `super::…` and
//!   `self::…` paths and `mod` declarations, no strongly connected component holds two files;
//! - no function in `src/gkr` longer than [`FN_LINE_LIMIT`] lines;
//! - no `too_many_arguments` lint exception anywhere in `src/` (STYLE.md: use param structs).
//!
//! Every check is a function over an in-memory [`Tree`], so the self-checks at the bottom run
//! each one on a small synthetic tree with a known violation: a guard that cannot fail is no
//! guard. The scanners are textual (a small lexer, no parser); their approximations are written
//! next to them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The longest function allowed in `src/gkr`, in lines from signature to closing brace.
const FN_LINE_LIMIT: usize = 100;

// ---------------------------------------------------------------------------------------------
// The source tree
// ---------------------------------------------------------------------------------------------

/// Source files by path relative to `src/` (`/`-separated, e.g. `gkr/advice/mod.rs`).
type Tree = BTreeMap<String, String>;

/// A module as its path below the crate root: `gkr/advice/mod.rs` is `["gkr", "advice"]`,
/// `gkr/plan.rs` is `["gkr", "plan"]`, and `lib.rs` (like `main.rs`) is `[]`.
type ModPath = Vec<String>;

/// Edges of the import graph: each module and the modules it names.
type Graph = BTreeMap<ModPath, BTreeSet<ModPath>>;

/// Every `.rs` file under this crate's `src/`.
fn src_tree() -> Tree {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut tree = Tree::new();
    collect_sources(&root, &root, &mut tree);
    tree
}

fn collect_sources(root: &Path, dir: &Path, tree: &mut Tree) {
    for entry in fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("read a directory entry").path();
        if path.is_dir() {
            collect_sources(root, &path, tree);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let rel = path.strip_prefix(root).expect("a path below src/");
            let rel: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect();
            tree.insert(rel.join("/"), fs::read_to_string(&path).expect("read a source file"));
        }
    }
}

/// The module a file defines: `foo/mod.rs` names its directory, `lib.rs` the crate.
fn module_path(file: &str) -> ModPath {
    let mut parts: ModPath = file.trim_end_matches(".rs").split('/').map(String::from).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// `ancestor` is a strict prefix of `module` (`gkr` of `gkr/plan`; the crate root of all).
fn is_ancestor(ancestor: &[String], module: &[String]) -> bool {
    ancestor.len() < module.len() && module.starts_with(ancestor)
}

// ---------------------------------------------------------------------------------------------
// Lexing: code without comments and literals
// ---------------------------------------------------------------------------------------------

/// `src` with every comment (line, block, doc) and every string and char literal replaced by
/// spaces, newlines kept: what is left is code, at its original line numbers. Lifetimes and
/// labels (`'a`, `'outer:`) stay.
fn code_only(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < chars.len() {
        let end = skip_comment_or_literal(&chars, i);
        if end == i {
            out.push(chars[i]);
            i += 1;
        } else {
            out.extend(chars[i..end].iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
            i = end;
        }
    }
    out
}

/// The end of the comment or literal that starts at `i`, or `i` if none starts there.
fn skip_comment_or_literal(chars: &[char], i: usize) -> usize {
    let at = |k: usize| chars.get(k).copied();
    match (at(i), at(i + 1)) {
        (Some('/'), Some('/')) => {
            (i..chars.len()).find(|&k| chars[k] == '\n').unwrap_or(chars.len())
        }
        (Some('/'), Some('*')) => skip_block_comment(chars, i),
        (Some('"'), _) => skip_quoted(chars, i + 1, '"'),
        // `'\n'`, `'\''`, `'\u{1F600}'`: skip the escaped character, then find the quote
        (Some('\''), Some('\\')) => skip_quoted(chars, i + 3, '\''),
        (Some('\''), Some(_)) if at(i + 2) == Some('\'') => i + 3,
        _ => skip_raw_string(chars, i).unwrap_or(i),
    }
}

/// Block comments nest in Rust: `/* a /* b */ c */` is one comment.
fn skip_block_comment(chars: &[char], start: usize) -> usize {
    let (mut depth, mut k) = (0usize, start);
    while k + 1 < chars.len() {
        match (chars[k], chars[k + 1]) {
            ('/', '*') => (depth, k) = (depth + 1, k + 2),
            ('*', '/') => {
                (depth, k) = (depth - 1, k + 2);
                if depth == 0 {
                    return k;
                }
            }
            _ => k += 1,
        }
    }
    chars.len()
}

/// From `k` (inside a literal), the position just past the closing `quote`; `\x` escapes skip.
fn skip_quoted(chars: &[char], mut k: usize, quote: char) -> usize {
    while k < chars.len() {
        match chars[k] {
            '\\' => k += 2,
            c if c == quote => return k + 1,
            _ => k += 1,
        }
    }
    chars.len()
}

/// `r"…"`, `r#"…"#`, `br##"…"##`, `cr"…"` starting at `i` (at the start of a word): its end.
fn skip_raw_string(chars: &[char], i: usize) -> Option<usize> {
    let word_start = i == 0 || !is_ident_char(chars[i - 1]);
    let prefix = ["r", "br", "cr"]
        .into_iter()
        .find(|p| p.chars().eq(chars[i..].iter().copied().take(p.len())))?;
    let hashes = chars[i + prefix.len()..].iter().take_while(|&&c| c == '#').count();
    let open = i + prefix.len() + hashes;
    if !word_start || chars.get(open) != Some(&'"') {
        return None;
    }
    let closes_at = |k: usize| {
        chars[k] == '"' && chars[k + 1..].iter().take_while(|&&c| c == '#').count() >= hashes
    };
    let close = (open + 1..chars.len()).find(|&k| closes_at(k)).unwrap_or(chars.len());
    Some((close + 1 + hashes).min(chars.len()))
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The position past the bracket that closes the `{`, `[` or `(` at `open`.
fn past_matching_close(code: &[char], open: usize) -> usize {
    let (opening, closing) = match code[open] {
        '{' => ('{', '}'),
        '[' => ('[', ']'),
        _ => ('(', ')'),
    };
    let mut depth = 0usize;
    for (k, &c) in code.iter().enumerate().skip(open) {
        if c == opening {
            depth += 1;
        } else if c == closing {
            depth -= 1;
            if depth == 0 {
                return k + 1;
            }
        }
    }
    code.len()
}

// ---------------------------------------------------------------------------------------------
// Check 1: the import graph and its cycles
// ---------------------------------------------------------------------------------------------

/// The tokens the import scanner needs; everything else is [`Tok::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Other,
}

fn tokenize(code: &str) -> Vec<Tok> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let len = if is_ident_char(c) {
            chars[i..].iter().take_while(|&&c| is_ident_char(c)).count()
        } else {
            1
        };
        match c {
            _ if c.is_whitespace() => {}
            _ if is_ident_char(c) => tokens.push(Tok::Ident(chars[i..i + len].iter().collect())),
            ':' if chars.get(i + 1) == Some(&':') => {
                tokens.push(Tok::PathSep);
                i += 1;
            }
            '{' => tokens.push(Tok::Open),
            '}' => tokens.push(Tok::Close),
            ',' => tokens.push(Tok::Comma),
            ';' => tokens.push(Tok::Semi),
            _ => tokens.push(Tok::Other),
        }
        i += len;
    }
    tokens
}

/// Every path that starts with `crate`, `super` or `self` (in a `use` or in an expression),
/// grouped imports expanded: `use super::{a, b::{c, self}};` names `super::a`, `super::b::c`
/// and `super::b`.
fn rooted_paths(tokens: &[Tok]) -> Vec<Vec<String>> {
    let is_root =
        |t: &Tok| matches!(t, Tok::Ident(s) if s == "crate" || s == "super" || s == "self");
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let starts_path = is_root(&tokens[i])
            && tokens.get(i + 1) == Some(&Tok::PathSep)
            && (i == 0 || tokens[i - 1] != Tok::PathSep);
        if starts_path {
            let (found, next) = use_tree(tokens, i, Vec::new());
            paths.extend(found);
            i = next.max(i + 1);
        } else {
            i += 1;
        }
    }
    paths
}

/// The paths of the use tree at `i` below `prefix`, and the position after it. A path ends at
/// anything but `::` (so `crate::a::B::new(…)` is the path `crate::a::B::new`); `self` inside a
/// group names the prefix; `as alias` is skipped.
fn use_tree(tokens: &[Tok], mut i: usize, mut path: Vec<String>) -> (Vec<Vec<String>>, usize) {
    loop {
        match tokens.get(i) {
            Some(Tok::Ident(name)) => {
                if name != "self" || path.is_empty() {
                    path.push(name.clone());
                }
                i += 1;
            }
            Some(Tok::Open) => return use_group(tokens, i + 1, &path),
            _ => break,
        }
        if tokens.get(i) != Some(&Tok::PathSep) {
            break;
        }
        i += 1;
    }
    if matches!(tokens.get(i), Some(Tok::Ident(kw)) if kw == "as") {
        i += 2;
    }
    (vec![path], i)
}

/// The members of the group `{ … }` whose first member is at `i`, each below `prefix`.
fn use_group(tokens: &[Tok], mut i: usize, prefix: &[String]) -> (Vec<Vec<String>>, usize) {
    let mut paths = Vec::new();
    while let Some(tok) = tokens.get(i) {
        match tok {
            Tok::Close => return (paths, i + 1),
            Tok::Comma | Tok::Other => i += 1, // separators and the glob `*`
            _ => {
                let (found, next) = use_tree(tokens, i, prefix.to_vec());
                paths.extend(found);
                i = next.max(i + 1);
            }
        }
    }
    (paths, i)
}

/// The module file a rooted path from `from` lands in: the longest prefix of the absolute path
/// that is a module of `modules`. `None` for paths into the crate root itself (`crate::Error`).
fn resolve(from: &[String], path: &[String], modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    let (head, mut rest) = path.split_first()?;
    let mut absolute: ModPath = match head.as_str() {
        "crate" => Vec::new(),
        "self" => from.to_vec(),
        _ => from[..from.len().saturating_sub(1)].to_vec(), // super
    };
    if head == "super" {
        while rest.first().is_some_and(|next| next == "super") {
            absolute.pop();
            rest = &rest[1..];
        }
    }
    absolute.extend(rest.iter().cloned());
    (1..=absolute.len()).rev().map(|k| absolute[..k].to_vec()).find(|m| modules.contains(m))
}

/// The file-level import graph of `tree`. An edge `a → b` when `a` declares `mod b;` or names a
/// path that resolves into `b`, except edges to `a` itself or to its ancestors (a child naming
/// `super::X` is ordinary Rust). Comments and literals are not read; `#[cfg(test)]` modules
/// are, since a test module's import ties its file to another as much as any other line does. Approximation: other inline modules (`pub mod kind { … }`) count as their file,
/// so `super::` inside one is read from the file's module.
fn import_graph(tree: &Tree) -> Graph {
    let modules: BTreeSet<ModPath> = tree.keys().map(|file| module_path(file)).collect();
    let mut graph = Graph::new();
    for (file, src) in tree {
        let from = module_path(file);
        let tokens = tokenize(&code_only(src));
        let mut targets: BTreeSet<ModPath> = rooted_paths(&tokens)
            .iter()
            .filter_map(|path| resolve(&from, path, &modules))
            .filter(|to| *to != from && !is_ancestor(to, &from))
            .collect();
        for window in tokens.windows(3) {
            if let [Tok::Ident(kw), Tok::Ident(child), Tok::Semi] = window {
                let child_path = [from.clone(), vec![child.clone()]].concat();
                if kw == "mod" && modules.contains(&child_path) {
                    targets.insert(child_path);
                }
            }
        }
        graph.entry(from).or_default().extend(targets);
    }
    graph
}

/// Strongly connected components of more than one module (Tarjan 1972), each sorted.
fn cycles(graph: &Graph) -> Vec<Vec<ModPath>> {
    let mut tarjan = Tarjan {
        graph,
        next_index: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        components: Vec::new(),
    };
    for module in graph.keys() {
        if !tarjan.index.contains_key(module) {
            tarjan.visit(module);
        }
    }
    tarjan.components
}

/// Tarjan's state: DFS order, lowest reachable index, and the stack of the open component.
struct Tarjan<'g> {
    graph: &'g Graph,
    next_index: usize,
    index: BTreeMap<&'g ModPath, usize>,
    low: BTreeMap<&'g ModPath, usize>,
    stack: Vec<&'g ModPath>,
    components: Vec<Vec<ModPath>>,
}

impl<'g> Tarjan<'g> {
    fn visit(&mut self, v: &'g ModPath) {
        self.index.insert(v, self.next_index);
        self.low.insert(v, self.next_index);
        self.next_index += 1;
        self.stack.push(v);
        for w in self.graph.get(v).into_iter().flatten() {
            if !self.index.contains_key(w) {
                self.visit(w);
                self.low.insert(v, self.low[v].min(self.low[w]));
            } else if self.stack.contains(&w) {
                self.low.insert(v, self.low[v].min(self.index[w]));
            }
        }
        if self.low[v] == self.index[v] {
            let at = self.stack.iter().rposition(|m| *m == v).expect("v is on the stack");
            let mut component: Vec<ModPath> = self.stack.drain(at..).cloned().collect();
            if component.len() > 1 {
                component.sort();
                self.components.push(component);
            }
        }
    }
}

/// One paragraph per cycle: its files, then the edges inside it.
fn cycle_report(tree: &Tree) -> Vec<String> {
    let graph = import_graph(tree);
    let file_of: BTreeMap<ModPath, &str> =
        tree.keys().rev().map(|f| (module_path(f), f.as_str())).collect();
    cycles(&graph)
        .iter()
        .map(|component| {
            let files: Vec<&str> = component.iter().map(|m| file_of[m]).collect();
            let mut lines = vec![format!("import cycle between {}:", files.join(", "))];
            for from in component {
                for to in graph[from].iter().filter(|to| component.contains(to)) {
                    lines.push(format!("    {} -> {}", file_of[from], file_of[to]));
                }
            }
            lines.join("\n")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Check 2: function length
// ---------------------------------------------------------------------------------------------

/// Functions in `src` as (1-based line, name, length in lines from signature to closing brace).
/// Braces inside comments and literals do not count; a declaration without a body (`fn f();`)
/// ends at its `;`.
fn function_lengths(src: &str) -> Vec<(usize, String, usize)> {
    let code = code_only(src);
    let lines: Vec<&str> = code.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            fn_name(line).map(|name| (i + 1, name.to_string(), fn_length(&lines[i..])))
        })
        .collect()
}

/// The name of the function whose signature starts `line`: `[pub[(…)]] [const] [async]
/// [unsafe] [extern] fn name`.
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    if let Some(after_pub) = rest.strip_prefix("pub") {
        rest = match after_pub.strip_prefix('(') {
            Some(scope) => scope.split_once(')')?.1.trim_start(),
            None => after_pub.trim_start(),
        };
    }
    for qualifier in ["const", "async", "unsafe", "extern"] {
        rest = strip_word(rest, qualifier).unwrap_or(rest);
    }
    let rest = strip_word(rest, "fn")?;
    let name = &rest[..rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len())];
    (!name.is_empty()).then_some(name)
}

/// `text` without its leading `word` and the whitespace after it.
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(word)?;
    rest.starts_with(char::is_whitespace).then(|| rest.trim_start())
}

/// Lines from `lines[0]` (a signature) to the line where its body's braces balance.
fn fn_length(lines: &[&str]) -> usize {
    let (mut depth, mut opened) = (0i64, false);
    for (k, line) in lines.iter().enumerate() {
        for c in line.chars() {
            match c {
                '{' => (depth, opened) = (depth + 1, true),
                '}' => depth -= 1,
                _ => {}
            }
        }
        if (opened && depth == 0) || (!opened && line.trim_end().ends_with(';')) {
            return k + 1;
        }
    }
    lines.len()
}

/// `file:line: fn name: N lines` for each function under `dir` longer than `limit`.
fn long_functions(tree: &Tree, dir: &str, limit: usize) -> Vec<String> {
    let in_dir = tree.iter().filter(|(file, _)| file.starts_with(&format!("{dir}/")));
    in_dir
        .flat_map(|(file, src)| {
            function_lengths(src)
                .into_iter()
                .filter(|&(_, _, len)| len > limit)
                .map(move |(line, name, len)| format!("src/{file}:{line}: fn {name}: {len} lines"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Check 3: lint exceptions for too many arguments
// ---------------------------------------------------------------------------------------------

/// `src/file:line` of each attribute (`#[…]` or `#![…]`, also inside `cfg_attr`) that allows or
/// expects `too_many_arguments`. Comments and the `reason = "…"` text are not read.
fn too_many_arguments_allows(tree: &Tree) -> Vec<String> {
    let mut found = Vec::new();
    for (file, src) in tree {
        let code: Vec<char> = code_only(src).chars().collect();
        for start in (0..code.len()).filter(|&k| code[k] == '#') {
            let open = start + 1 + usize::from(code.get(start + 1) == Some(&'!'));
            if code.get(open) != Some(&'[') {
                continue;
            }
            let attr: String = code[open..past_matching_close(&code, open)]
                .iter()
                .filter(|c| !c.is_whitespace())
                .collect();
            let exempts = attr.contains("allow(") || attr.contains("expect(");
            if exempts && attr.contains("too_many_arguments") {
                let line = 1 + code[..start].iter().filter(|&&c| c == '\n').count();
                found.push(format!("src/{file}:{line}"));
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// The guards
// ---------------------------------------------------------------------------------------------

#[test]
fn no_import_cycle_between_files() {
    let report = cycle_report(&src_tree());
    assert!(
        report.is_empty(),
        "files of src/ import each other in a cycle:\n{}",
        report.join("\n")
    );
}

#[test]
fn no_function_in_gkr_longer_than_limit() {
    let long = long_functions(&src_tree(), "gkr", FN_LINE_LIMIT);
    assert!(
        long.is_empty(),
        "functions in src/gkr longer than {FN_LINE_LIMIT} lines:\n{}",
        long.join("\n")
    );
}

#[test]

fn no_too_many_arguments_allow() {
    let allows = too_many_arguments_allows(&src_tree());
    assert!(
        allows.is_empty(),
        "`too_many_arguments` allowed (use a param struct):\n{}",
        allows.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Self-checks: each guard on a synthetic tree with a known answer
// ---------------------------------------------------------------------------------------------

/// A tree from `(file, source)` pairs.
fn synthetic_tree(files: &[(&str, &str)]) -> Tree {
    files.iter().map(|(file, src)| (file.to_string(), src.to_string())).collect()
}

fn module(path: &str) -> ModPath {
    path.split('/').filter(|s| !s.is_empty()).map(String::from).collect()
}

#[test]
fn cycle_finder_reports_a_cycle_through_grouped_imports() {
    let tree = synthetic_tree(&[
        ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n"),
        ("a.rs", "use crate::b::Bee;\n"),
        ("b.rs", "use crate::{c::{self, Sea}};\n"),
        ("c/mod.rs", "mod inner;\n"),
        ("c/inner.rs", "use super::super::{a::Ay, b};\n"),
    ]);
    assert_eq!(
        cycles(&import_graph(&tree)),
        vec![vec![module("a"), module("b"), module("c"), module("c/inner")]]
    );
    let report = cycle_report(&tree);
    assert_eq!(report.len(), 1);
    assert!(
        report[0].starts_with("import cycle between a.rs, b.rs, c/mod.rs, c/inner.rs:"),
        "{}",
        report[0]
    );
    assert!(report[0].contains("    c/inner.rs -> a.rs"), "{}", report[0]);
}

#[test]
fn cycle_finder_ignores_parents_comments_and_literals_but_reads_test_modules() {
    let tree = synthetic_tree(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a/mod.rs", "mod child;\npub use self::child::Thing;\n"),
        ("a/child.rs", "use super::Parent;\nuse crate::a::Other;\n"),
        ("b.rs", "use crate::a::Thing;\n"),
        (
            "a/child2.rs",
            "// use crate::b::X;\n/// [`crate::b::X`]\n/* crate::b::X */\nconst S: &str = \"crate::b::X\";\n\
             #[cfg(test)]\nmod tests {\n    use crate::b::X;\n    fn f() { let _ = '{'; }\n}\n",
        ),
    ]);
    let graph = import_graph(&tree);
    assert_eq!(graph[&module("a")], BTreeSet::from([module("a/child")]));
    assert!(graph[&module("a/child")].is_empty());
    // only the test module's `use crate::b::X` counts: a → child2 is not declared here, so no
    // cycle, but the edge is read
    assert_eq!(graph[&module("a/child2")], BTreeSet::from([module("b")]));
    assert_eq!(graph[&module("b")], BTreeSet::from([module("a")]));
    assert!(cycles(&graph).is_empty(), "{graph:?}");
}

#[test]
fn use_trees_expand_to_full_paths() {
    let paths =
        rooted_paths(&tokenize("use super::{a, b::{c, self as d, *}}; crate::x::Y::new();"));
    let expected: Vec<Vec<String>> = [
        vec!["super", "a"],
        vec!["super", "b", "c"],
        vec!["super", "b"],
        vec!["crate", "x", "Y", "new"],
    ]
    .iter()
    .map(|p| p.iter().map(ToString::to_string).collect())
    .collect();
    assert_eq!(paths, expected);
}

#[test]
fn long_function_finder_counts_only_code_braces() {
    let body = "    let x = 1;\n".repeat(FN_LINE_LIMIT - 5);
    let src = format!(
        "trait T {{\n    fn declared(&self);\n}}\n\
         pub(crate) fn long() -> u8 {{\n    let open = \"{{\";\n    let close = '}}';\n    /* }} */ // }}\n{body}    0\n}}\n\
         fn short() {{}}\n"
    );
    let lengths = function_lengths(&src);
    let summary: Vec<(usize, &str, usize)> =
        lengths.iter().map(|(l, n, len)| (*l, n.as_str(), *len)).collect();
    assert_eq!(
        summary,
        vec![
            (2, "declared", 1),
            (4, "long", FN_LINE_LIMIT + 1),
            (4 + FN_LINE_LIMIT + 1, "short", 1)
        ]
    );
    let tree = synthetic_tree(&[("gkr/x.rs", &src), ("other/y.rs", &src)]);
    assert_eq!(
        long_functions(&tree, "gkr", FN_LINE_LIMIT),
        vec![format!("src/gkr/x.rs:4: fn long: {} lines", FN_LINE_LIMIT + 1)]
    );
}

#[test]
fn too_many_arguments_finder_reads_attributes_only() {
    let tree = synthetic_tree(&[(
        "x.rs",
        "#![expect(\n    clippy::too_many_arguments,\n    reason = \"x\"\n)]\n\
         // #[allow(clippy::too_many_arguments)]\n\
         #[cfg_attr(test, allow(clippy::too_many_arguments))]\n\
         #[deny(clippy::too_many_arguments)]\n\
         #[allow(clippy::unwrap_used, reason = \"too_many_arguments\")]\n",
    )]);
    assert_eq!(too_many_arguments_allows(&tree), vec!["src/x.rs:1", "src/x.rs:6"]);
}
