//! JSON as the tests read it: a probe's `--json` report and `serve --log
//! json` lines, parsed by a real parser, so that a test asserts on the
//! field of the object it means (request 2's `outcome`, not the first
//! `"outcome":` anywhere in the text).

pub use serde_json::Value;

/// `text` as one JSON value; the test fails, showing the text, if it is not.
pub fn parse(text: &str) -> Value {
    serde_json::from_str(text.trim_end()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The JSON log lines among `lines` whose `event` is `event`, parsed, in
/// order. Lines that are not JSON objects (a warning hangup prints as
/// text) are not among them.
pub fn events(lines: &[String], event: &str) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["event"] == event)
        .collect()
}

/// Whether `line` is a JSON log line whose `event` is `event`.
pub fn is_event(line: &str, event: &str) -> bool {
    serde_json::from_str::<Value>(line).is_ok_and(|line| line["event"] == event)
}

/// The first of [`events`], which must be there.
pub fn event(lines: &[String], event: &str) -> Value {
    events(lines, event)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {event} line in:\n{}", lines.join("\n")))
}

/// A JSON log line's field `key` as a number; the test fails, showing the
/// line, if the line is not JSON or the field not a whole number.
pub fn number(line: &str, key: &str) -> u64 {
    parse(line)[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no whole number {key} in {line}"))
}

/// A parsed line's field `key` as a whole number; the test fails, showing
/// the line, if it is not one.
pub fn whole(line: &Value, key: &str) -> u64 {
    line[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no whole number {key} in {line}"))
}

/// A JSON log line's field `key` as text (a string's content, or any
/// other value as JSON writes it).
pub fn field(line: &str, key: &str) -> String {
    match &parse(line)[key] {
        Value::Null => panic!("no {key} in {line}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
