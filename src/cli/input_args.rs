//! How a cascade's input is given: `--input` (JSON, `@file.json`, `-`) and `-i key=value`.

use crate::session_id::SessionId;
use clap::Args;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::str::FromStr;

/// The input of a new session.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// The cascade's input: a JSON object, @file.json to read one from a file, or - for stdin
    #[arg(long, value_name = "JSON")]
    pub input: Option<InputSource>,

    /// Set one input field to a string; repeatable, and wins over the same key in --input
    #[arg(short = 'i', value_name = "KEY=VALUE")]
    pub fields: Vec<InputField>,

    /// Id for the new session (default: generated)
    #[arg(long, value_name = "ID")]
    pub session: Option<SessionId>,
}

impl InputArgs {
    /// The input object: `--input` (read now if it names a file or stdin), then `-i` fields.
    pub fn resolve(&self) -> Result<Map<String, Value>, crate::error::Error> {
        use crate::error::Error;
        let mut input = match &self.input {
            None => Map::new(),
            Some(InputSource::Inline(m)) => m.clone(),
            Some(InputSource::File(path)) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::Input { source_name: path.display().to_string(), detail: e.to_string() })?;
                parse_object(&text, &path.display().to_string())?
            }
            Some(InputSource::Stdin) => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .map_err(|e| Error::Input { source_name: "standard input".into(), detail: e.to_string() })?;
                parse_object(&text, "standard input")?
            }
        };
        for f in &self.fields {
            input.insert(f.key.clone(), Value::String(f.value.clone()));
        }
        Ok(input)
    }
}

fn parse_object(text: &str, source_name: &str) -> Result<Map<String, Value>, crate::error::Error> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(crate::error::Error::Input {
            source_name: source_name.into(),
            detail: "expected a JSON object like {\"topic\": \"tides\"}".into(),
        }),
        Err(e) => {
            Err(crate::error::Error::Input { source_name: source_name.into(), detail: format!("not valid JSON: {e}") })
        }
    }
}

/// Where `--input` comes from. Files and stdin are read when the command runs, not while
/// parsing flags, so an unreadable file is a setup error (exit 4) that names the file.
#[derive(Debug, Clone, PartialEq)]
pub enum InputSource {
    Inline(Map<String, Value>),
    File(PathBuf),
    Stdin,
}

impl FromStr for InputSource {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text == "-" {
            return Ok(InputSource::Stdin);
        }
        if let Some(path) = text.strip_prefix('@') {
            if path.is_empty() {
                return Err("@ needs a file name after it, like @input.json".to_owned());
            }
            return Ok(InputSource::File(PathBuf::from(path)));
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(InputSource::Inline(map)),
            Ok(_) => Err("expected a JSON object like '{\"topic\": \"tides\"}', @file.json or -".to_owned()),
            Err(err) => Err(format!(
                "not valid JSON ({err}); expected an object like '{{\"topic\": \"tides\"}}', \
                 @file.json or -"
            )),
        }
    }
}

/// One `-i key=value`: the value is always a string; use `--input` for numbers and lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputField {
    pub key: String,
    pub value: String,
}

impl FromStr for InputField {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok(InputField { key: key.trim().to_owned(), value: value.to_owned() })
            }
            _ => Err(format!("`{text}` is not KEY=VALUE, like -i topic=tides")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_sources() {
        assert_eq!("-".parse(), Ok(InputSource::Stdin));
        assert_eq!("@in.json".parse(), Ok(InputSource::File("in.json".into())));
        let Ok(InputSource::Inline(map)) = r#"{"a": 1}"#.parse() else {
            panic!("expected an inline object");
        };
        assert_eq!(map["a"], 1);
        assert!("[1]".parse::<InputSource>().unwrap_err().contains("object"));
        assert!("{".parse::<InputSource>().unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn input_fields_split_at_the_first_equals_sign() {
        let field: InputField = "q=a=b".parse().unwrap();
        assert_eq!((field.key.as_str(), field.value.as_str()), ("q", "a=b"));
        assert!("=x".parse::<InputField>().is_err());
        assert!("novalue".parse::<InputField>().is_err());
    }
}
