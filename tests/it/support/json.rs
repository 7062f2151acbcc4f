//! JSON as the tests read it: a probe's `--json` report and `serve --log
//! json` lines, parsed by a real parser, so that a test asserts on the
//! field of the object it means (request 2's `outcome`, not the first
//! `"outcome":` anywhere in the text).

pub use serde_json::Value;

/// `text` as one JSON value; the test fails, showing the text, if it is not.
pub fn parse(text: &str) -> Value {
    serde_json::from_str(text.trim_end()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A JSON log line's field `key` as a number; the test fails, showing the
/// line, if the line is not JSON or the field not a whole number.
pub fn number(line: &str, key: &str) -> u64 {
    parse(line)[key]
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
