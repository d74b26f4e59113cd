//! Parse YAML or JSON text into a `serde_json::Value` plus a map from field paths
//! (`phases[2].rules.max_turns`) to where each value and key stands in the file.
//!
//! Serde errors carry a field path; this map turns that path back into `line:col`.
//!
//! The parse is bounded: nesting depth, the number of values in the document, and how many
//! values aliases (`*name`) may copy in, so a small hostile file (an "alias bomb": nine levels of
//! nine references is 9^9 values from 1 KB) is refused in milliseconds with the alias's line,
//! not expanded into gigabytes. Every path that loads a cascade parses through here.

use super::diagnostic::{Diagnostic, Severity};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in the source: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    /// The value is a block scalar (`|` or `>`): its text starts on the next line.
    pub block: bool,
}

/// Where every value (and every mapping key) of a document stands.
#[derive(Debug, Default, Clone)]
pub struct SpanMap {
    values: HashMap<String, Span>,
    keys: HashMap<String, Span>,
}

impl SpanMap {
    /// The span of the value at `path`, or of the nearest enclosing value that has one.
    pub fn value(&self, path: &str) -> Option<Span> {
        let mut p = path;
        loop {
            if let Some(s) = self.values.get(p) {
                return Some(*s);
            }
            if p.is_empty() {
                return None;
            }
            p = parent_path(p);
        }
    }

    /// The span of the key that introduces `path` (falls back to the value's span).
    pub fn key(&self, path: &str) -> Option<Span> {
        self.keys.get(path).copied().or_else(|| self.value(path))
    }
}

/// `a.b[2].c` -> `a.b[2]` -> `a.b` -> `a` -> ``.
pub fn parent_path(path: &str) -> &str {
    match path.rfind(['.', '[']) {
        Some(i) => &path[..i],
        None => "",
    }
}

/// Join a child key onto a path.
pub fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Join a sequence index onto a path.
pub fn join_index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// A parsed document.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub spans: SpanMap,
}

/// Parse YAML (JSON is a subset) into a document. Errors carry line and column.
pub fn parse_yaml(text: &str) -> Result<Document, Vec<Diagnostic>> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    // Pull events one by one: the parser's own `load` recurses per nesting level and
    // overflows the stack on deeply nested input.
    let result = loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break Ok(()),
            Ok((ev, mark)) => builder.on_event(ev, mark),
            Err(e) => break Err(e),
        }
        // A size limit was reached: the document is refused, so reading on only costs time.
        if builder.stopped {
            break Ok(());
        }
    };
    if let Err(e) = result {
        let m = e.marker();
        return Err(vec![Diagnostic {
            severity: Severity::Error,
            code: "yaml-syntax",
            message: format!("YAML syntax error: {}", e.info()),
            line: Some(m.line().max(1)),
            column: Some(m.col() + 1),
            field: None,
        }]);
    }
    if !builder.errors.is_empty() {
        return Err(builder.errors);
    }
    match builder.documents.len() {
        0 => Err(vec![Diagnostic {
            severity: Severity::Error,
            code: "empty-file",
            message: "the file holds no document (it is empty or only comments)".into(),
            line: Some(1),
            column: Some(1),
            field: None,
        }]),
        1 => Ok(builder.documents.pop().expect("one document")),
        n => {
            let second = builder.doc_starts.get(1).copied().unwrap_or_default();
            Err(vec![Diagnostic {
                severity: Severity::Error,
                code: "multiple-documents",
                message: format!("the file holds {n} YAML documents; a cascade file holds exactly one"),
                line: Some(second.line),
                column: Some(second.column),
                field: None,
            }])
        }
    }
}

/// Parse JSON strictly (for good error messages), then take spans from the YAML parser.
pub fn parse_json(text: &str) -> Result<Document, Vec<Diagnostic>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        vec![Diagnostic {
            severity: Severity::Error,
            code: "json-syntax",
            message: format!("JSON syntax error: {e}"),
            line: Some(e.line().max(1)),
            column: Some(e.column().max(1)),
            field: None,
        }]
    })?;
    // JSON is YAML 1.2, so the YAML parser gives the spans. Where it disagrees on some
    // corner of JSON, keep the strict JSON value and do without spans.
    let spans = parse_yaml(text).map(|d| d.spans).unwrap_or_default();
    Ok(Document { value, spans })
}

enum Frame {
    /// `first_node` is the value count when the container started: its own size (for an
    /// anchor on it) is the count at its end minus this.
    Seq { path: String, items: Vec<Value>, anchor: usize, first_node: usize },
    Map {
        path: String,
        map: Map<String, Value>,
        key: Option<String>,
        anchor: usize,
        key_spans: HashMap<String, Span>,
        first_node: usize,
    },
}

/// Deeper nesting than this is refused: no cascade needs it, and deep values would
/// overflow the stack of whatever walks them later.
const MAX_DEPTH: usize = 64;

/// At most this many values (scalars, keys, lists, mappings, counting what aliases copy in) in
/// one document. The largest corpus file holds a few hundred; this leaves room for generated
/// cascades while keeping a refused file's memory to tens of megabytes.
pub const MAX_NODES: usize = 1_000_000;

/// At most this many values copied in by aliases in one document. Aliases in a cascade share a
/// rules or model block (tens of values each); 9 levels of 9 aliases would copy 9^9.
pub const MAX_ALIAS_NODES: usize = 100_000;

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// Nesting levels below `MAX_DEPTH` being skipped.
    skipping: usize,
    documents: Vec<Document>,
    doc_starts: Vec<Span>,
    spans: SpanMap,
    anchors: HashMap<usize, Value>,
    /// The number of values each anchor holds (what an alias to it copies in).
    anchor_sizes: HashMap<usize, usize>,
    /// Values built so far, and how many of them aliases copied in.
    nodes: usize,
    alias_nodes: usize,
    /// A size limit was reached (its error is in `errors`): the rest of the input is not read.
    stopped: bool,
    errors: Vec<Diagnostic>,
}

fn span_of(mark: &Marker, block: bool) -> Span {
    Span { line: mark.line().max(1), column: mark.col() + 1, block }
}

impl Builder {
    fn error(&mut self, mark: &Marker, code: &'static str, message: String) {
        self.errors.push(Diagnostic {
            severity: Severity::Error,
            code,
            message,
            line: Some(mark.line().max(1)),
            column: Some(mark.col() + 1),
            field: None,
        });
    }

    /// Count `n` more values (`from_alias`: copied in by an alias); past a limit, report it at
    /// `mark` and stop. Returns whether the values may be built.
    fn count(&mut self, n: usize, from_alias: bool, mark: &Marker) -> bool {
        if from_alias {
            self.alias_nodes = self.alias_nodes.saturating_add(n);
            if self.alias_nodes > MAX_ALIAS_NODES {
                let msg = format!(
                    "this alias would make aliases copy in more than {MAX_ALIAS_NODES} values (an alias bomb?); \
                     a cascade never needs that many, so the file is refused"
                );
                self.error(mark, "alias-limit", msg);
                self.stopped = true;
                return false;
            }
        }
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            let msg = format!("the document holds more than {MAX_NODES} values; a cascade is never this large");
            self.error(mark, "too-large", msg);
            self.stopped = true;
            return false;
        }
        true
    }

    /// Remember an anchored value and its size for the aliases that name it.
    fn anchor(&mut self, anchor: usize, value: &Value, size: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
            self.anchor_sizes.insert(anchor, size);
        }
    }

    /// The path of the value that is about to start, and whether it is a mapping key.
    fn next_path(&self) -> (String, bool) {
        match self.stack.last() {
            None => (String::new(), false),
            Some(Frame::Seq { path, items, .. }) => (join_index(path, items.len()), false),
            Some(Frame::Map { path, key: None, .. }) => (path.clone(), true),
            Some(Frame::Map { path, key: Some(k), .. }) => (join_key(path, k), false),
        }
    }

    /// Attach a finished value to its parent (or finish the document).
    fn push_value(&mut self, value: Value, mark: &Marker) {
        match self.stack.last_mut() {
            None => self.documents.push(Document { value, spans: std::mem::take(&mut self.spans) }),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { map, key, .. }) => {
                let k = key.take().expect("key set before value");
                map.insert(k, value);
            }
        }
        let _ = mark;
    }

    fn on_key(&mut self, text: String, mark: &Marker) {
        let Some(Frame::Map { path, map, key, key_spans, .. }) = self.stack.last_mut() else {
            return;
        };
        let full = join_key(path, &text);
        if map.contains_key(&text) {
            let first = key_spans.get(&text).copied().unwrap_or_default();
            let msg = format!("duplicate key `{text}` (first defined at line {})", first.line);
            self.error(mark, "duplicate-key", msg);
            // Keep the first value: drop this one by parking it under an impossible key.
            if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                *key = Some(format!("\u{0}dup:{text}"));
            }
            return;
        }
        let span = span_of(mark, false);
        key_spans.insert(text.clone(), span);
        *key = Some(text);
        self.spans.keys.insert(full, span);
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.skipping > 0 {
            match ev {
                Event::SequenceStart(..) | Event::MappingStart(..) => self.skipping += 1,
                Event::SequenceEnd | Event::MappingEnd => {
                    self.skipping -= 1;
                    if self.skipping == 0 {
                        self.push_value(Value::Null, &mark);
                    }
                }
                _ => {}
            }
            return;
        }
        if matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..)) && self.stack.len() >= MAX_DEPTH {
            self.error(
                &mark,
                "too-deep",
                format!("nesting deeper than {MAX_DEPTH} levels; a cascade is never this deep"),
            );
            if self.next_path().1 {
                self.on_key(format!("\u{0}deep@{}", mark.index()), &mark);
            }
            self.skipping = 1;
            return;
        }
        match ev {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart => self.doc_starts.push(span_of(&mark, false)),
            Event::Alias(id) => {
                let size = self.anchor_sizes.get(&id).copied().unwrap_or(1);
                if !self.count(size, true, &mark) {
                    return;
                }
                let (path, is_key) = self.next_path();
                let value = self.anchors.get(&id).cloned().unwrap_or(Value::Null);
                if is_key {
                    match value {
                        Value::String(s) => self.on_key(s, &mark),
                        other => self.on_key(other.to_string(), &mark),
                    }
                } else {
                    self.spans.values.insert(path, span_of(&mark, false));
                    self.push_value(value, &mark);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                if !self.count(1, false, &mark) {
                    return;
                }
                let (path, is_key) = self.next_path();
                if is_key {
                    self.anchor(anchor, &Value::String(text.clone()), 1);
                    self.on_key(text, &mark);
                    return;
                }
                let forced_string = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style == TScalarStyle::Plain && !forced_string {
                    resolve_plain(&text)
                } else {
                    Value::String(text)
                };
                self.anchor(anchor, &value, 1);
                let block = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
                self.spans.values.insert(path, span_of(&mark, block));
                self.push_value(value, &mark);
            }
            Event::SequenceStart(anchor, _) => {
                let first_node = self.nodes;
                if !self.count(1, false, &mark) {
                    return;
                }
                let (path, is_key) = self.next_path();
                if is_key {
                    self.error(&mark, "complex-key", "a list cannot be a mapping key".into());
                    self.on_key(format!("\u{0}complex@{}", mark.index()), &mark);
                }
                let (path, _) = if is_key { self.next_path() } else { (path, false) };
                self.spans.values.insert(path.clone(), span_of(&mark, false));
                self.stack.push(Frame::Seq { path, items: Vec::new(), anchor, first_node });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, anchor, first_node, .. }) = self.stack.pop() {
                    let value = Value::Array(items);
                    self.anchor(anchor, &value, self.nodes - first_node);
                    self.push_value(value, &mark);
                }
            }
            Event::MappingStart(anchor, _) => {
                let first_node = self.nodes;
                if !self.count(1, false, &mark) {
                    return;
                }
                let (path, is_key) = self.next_path();
                if is_key {
                    self.error(&mark, "complex-key", "a mapping cannot be a mapping key".into());
                    self.on_key(format!("\u{0}complex@{}", mark.index()), &mark);
                }
                let (path, _) = if is_key { self.next_path() } else { (path, false) };
                self.spans.values.insert(path.clone(), span_of(&mark, false));
                self.stack.push(Frame::Map {
                    path,
                    map: Map::new(),
                    key: None,
                    anchor,
                    key_spans: HashMap::new(),
                    first_node,
                });
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { mut map, anchor, first_node, .. }) = self.stack.pop() {
                    map.retain(|k, _| !k.starts_with('\u{0}'));
                    merge_keys(&mut map);
                    let value = Value::Object(map);
                    self.anchor(anchor, &value, self.nodes - first_node);
                    self.push_value(value, &mark);
                }
            }
        }
    }
}

/// YAML merge keys (`<<: *base`): the mapping's own keys win.
fn merge_keys(map: &mut Map<String, Value>) {
    let Some(merged) = map.remove("<<") else { return };
    let sources = match merged {
        Value::Array(items) => items,
        other => vec![other],
    };
    for source in sources {
        if let Value::Object(src) = source {
            for (k, v) in src {
                map.entry(k).or_insert(v);
            }
        }
    }
}

/// Resolve a plain scalar by the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let bytes = text.as_bytes();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Number(i.into());
        }
        if let Ok(u) = text.trim_start_matches('+').parse::<u64>() {
            return Value::Number(u.into());
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Number(i.into());
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Number(i.into());
        }
    }
    let looks_float = bytes.iter().any(|b| b.is_ascii_digit())
        && bytes.iter().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && !text.contains("..");
    if looks_float {
        if let Ok(f) = text.parse::<f64>() {
            if let Some(n) = Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values_and_keys() {
        let doc = parse_yaml("a: 1\nphases:\n  - name: x\n    rules:\n      max_turns: abc\n").unwrap();
        assert_eq!(doc.value["phases"][0]["rules"]["max_turns"], "abc");
        let s = doc.spans.value("phases[0].rules.max_turns").unwrap();
        assert_eq!((s.line, s.column), (5, 18));
        let k = doc.spans.key("phases[0].rules.max_turns").unwrap();
        assert_eq!((k.line, k.column), (5, 7));
        // A missing path falls back to its nearest parent.
        let p = doc.spans.value("phases[0].rules.nothing").unwrap();
        assert_eq!(p.line, 5);
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let doc = parse_yaml("a: yes\nb: true\nc: 3\nd: 1.5\ne: ~\nf: '3'\ng: 0x10\nh: 1.2.3\n").unwrap();
        let v = &doc.value;
        assert_eq!(v["a"], "yes");
        assert_eq!(v["b"], true);
        assert_eq!(v["c"], 3);
        assert_eq!(v["d"], 1.5);
        assert!(v["e"].is_null());
        assert_eq!(v["f"], "3");
        assert_eq!(v["g"], 16);
        assert_eq!(v["h"], "1.2.3");
    }

    #[test]
    fn duplicate_keys_and_syntax_errors_have_lines() {
        let errs = parse_yaml("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(errs[0].code, "duplicate-key");
        assert_eq!(errs[0].line, Some(3));
        let errs = parse_yaml("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(errs[0].code, "yaml-syntax");
        assert!(errs[0].line.is_some());
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let doc = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b]\n").unwrap();
        assert_eq!(doc.value["use"]["x"], 1);
        assert_eq!(doc.value["use"]["y"], 3);
        assert_eq!(doc.value["list"][0]["y"], 2);
    }

    /// Nine levels of nine references: 9^9 values from a few hundred bytes.
    fn alias_bomb() -> String {
        let mut text = String::from("cascade_id: bomb\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() {
        let started = std::time::Instant::now();
        let errs = parse_yaml(&alias_bomb()).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].code, "alias-limit");
        // `e` copies in 66k values in all, the first `*e` on line 7 (`f:`) crosses 100k.
        assert_eq!(errs[0].line, Some(7));
        assert!(errs[0].message.contains(&MAX_ALIAS_NODES.to_string()), "{}", errs[0].message);
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn aliases_below_the_limit_still_expand() {
        // Seven levels of four: aliases copy in 29k values, within the limit.
        let mut text = String::from("a0: &a0 [x, x, x, x]\n");
        for i in 1..7 {
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 4].join(", ")));
        }
        let doc = parse_yaml(&text).unwrap();
        assert_eq!(doc.value["a6"][3][3][3][3][3][3][3], "x");
    }

    #[test]
    fn too_many_values_are_refused() {
        let text = format!("x: [{}]\n", "0,".repeat(MAX_NODES));
        let errs = parse_yaml(&text).unwrap_err();
        assert_eq!(errs[0].code, "too-large");
        assert_eq!(errs[0].line, Some(1));
    }

    #[test]
    fn documents_are_counted() {
        assert_eq!(parse_yaml("").unwrap_err()[0].code, "empty-file");
        assert_eq!(parse_yaml("# only a comment\n").unwrap_err()[0].code, "empty-file");
        assert_eq!(parse_yaml("a: 1\n---\nb: 2\n").unwrap_err()[0].code, "multiple-documents");
    }

    #[test]
    fn json_errors_name_the_line() {
        let errs = parse_json("{\n  \"cascade_id\": \"x\",\n  \"phases\": [\n").unwrap_err();
        assert_eq!(errs[0].code, "json-syntax");
        assert!(errs[0].line.unwrap() >= 3);
        let doc = parse_json("{\"a\": {\"b\": 1}}").unwrap();
        assert!(doc.spans.value("a.b").is_some());
    }
}
