//! Declarative tools (`*.tool.json`, `*.tool.yaml`): a shell command or an HTTP request whose
//! templates are filled with the call's arguments. Shell arguments are shell-quoted, so what
//! the model passes arrives literally; shell tools run only with `--allow-shell`, under the
//! subprocess rules (scratch folder, no secrets in the environment, timeout, output cap).

use super::subprocess::{report, require_allowed, run};
use super::{Tool, ToolContext, ToolError, ToolOutput};
use crate::cascade::template;
use crate::cascade::tool_file::{OutputTransform, ToolDef, ToolKind};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::time::Duration;
use tokio::process::Command;

/// A declarative tool ready to call.
pub struct DeclarativeTool {
    def: ToolDef,
}

impl DeclarativeTool {
    pub fn new(def: ToolDef) -> Self {
        DeclarativeTool { def }
    }

    fn timeout(&self, ctx: &ToolContext) -> Duration {
        self.def.timeout.map(Duration::from_secs).unwrap_or(ctx.subprocess_timeout)
    }

    async fn shell(&self, command: &str, args: &Map<String, Value>, ctx: &ToolContext) -> Result<Value, ToolError> {
        require_allowed(ctx, &self.def.tool_id)?;
        let quoted: Map<String, Value> = args.iter().map(|(k, v)| (k.clone(), Value::String(quote(v)))).collect();
        let script = render(command, &quoted).map_err(|e| self.failed(format!("its command template: {e}")))?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        let mut ctx = ctx.clone();
        ctx.subprocess_timeout = self.timeout(&ctx);
        let captured = run(cmd, "sh", &self.def.tool_id, &ctx).await?;
        if !captured.status.success() {
            return Err(ToolError::Failed(report(&captured).text));
        }
        Ok(Value::String(String::from_utf8_lossy(&captured.output).into_owned()))
    }

    async fn http(&self, args: &Map<String, Value>, ctx: &ToolContext) -> Result<Value, ToolError> {
        let ToolKind::Http { method, url, headers, body, response_jq } = &self.def.kind else {
            unreachable!("http() is called for http tools")
        };
        let fill = |t: &str| render(t, args).map_err(|e| self.failed(format!("its templates: {e}")));
        let url = fill(url)?;
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| self.failed(format!("`{method}` is not an HTTP method")))?;
        crate::llm::init_tls();
        let client = reqwest::Client::builder()
            .timeout(self.timeout(ctx))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| self.failed(format!("no HTTP client: {e}")))?;
        let mut request = client.request(method, &url);
        for (name, value) in headers {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            request = request.header(name.as_str(), fill(&text)?);
        }
        if let Some(body) = body {
            let body = fill_value(body, args).map_err(|e| self.failed(format!("its body template: {e}")))?;
            request = match body {
                Value::String(s) => request.body(s),
                other => request.json(&other),
            };
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                ToolError::Timeout { tool: self.def.tool_id.clone(), seconds: self.timeout(ctx).as_secs().max(1) }
            } else {
                self.failed(format!("request to {url} failed: {e}"))
            }
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| self.failed(format!("reading the reply of {url}: {e}")))?;
        if !status.is_success() {
            return Err(self.failed(format!("{url} answered {status}: {}", text.chars().take(500).collect::<String>())));
        }
        match response_jq {
            Some(path) => {
                let reply: Value =
                    serde_json::from_str(&text).map_err(|e| self.failed(format!("the reply is not JSON: {e}")))?;
                Ok(select(&reply, path).cloned().unwrap_or(Value::Null))
            }
            None => Ok(Value::String(text)),
        }
    }

    fn failed(&self, why: String) -> ToolError {
        ToolError::Failed(format!("tool `{}`: {why}", self.def.tool_id))
    }
}

/// Fill a template with the call's arguments.
fn render(source: &str, args: &Map<String, Value>) -> Result<String, String> {
    let ctx = minijinja::Value::from(minijinja::value::Serde(args));
    template::render(template::shared(), source, &ctx).map_err(|e| e.to_string())
}

/// Fill every string inside a JSON body.
fn fill_value(value: &Value, args: &Map<String, Value>) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(render(s, args)?),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_value(v, args)).collect::<Result<_, _>>()?),
        Value::Object(map) => Value::Object(
            map.iter().map(|(k, v)| Ok((k.clone(), fill_value(v, args)?))).collect::<Result<Map<_, _>, String>>()?,
        ),
        other => other.clone(),
    })
}

/// A value as one shell word: strings as they are, anything else as JSON.
fn quote(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // Single quotes keep everything literal; a quote inside closes, escapes and reopens.
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `a.b[0].c` (a leading `.` as in jq is allowed) into a JSON value.
fn select<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for part in path.trim().trim_start_matches('.').split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = part.split_once('[').map(|(k, rest)| (k, Some(rest))).unwrap_or((part, None));
        if !key.is_empty() {
            current = current.get(key)?;
        }
        if let Some(rest) = indices {
            for index in rest.split('[') {
                current = current.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
            }
        }
    }
    Some(current)
}

fn transform(value: Value, how: OutputTransform) -> Value {
    let Value::String(text) = &value else { return value };
    match how {
        OutputTransform::Text => value,
        OutputTransform::Lines => {
            Value::Array(text.lines().filter(|l| !l.trim().is_empty()).map(|l| Value::String(l.into())).collect())
        }
        OutputTransform::Json => serde_json::from_str(text.trim()).unwrap_or(value),
    }
}

#[async_trait]
impl Tool for DeclarativeTool {
    fn name(&self) -> &str {
        &self.def.tool_id
    }
    fn description(&self) -> &str {
        &self.def.description
    }
    fn parameters(&self) -> Value {
        let mut schema = self.def.inputs_schema.clone();
        if !schema.contains_key("type") {
            // `{name: description}` (the original's form) becomes string properties.
            let properties: Map<String, Value> = schema
                .iter()
                .map(|(k, v)| (k.clone(), json!({"type": "string", "description": v.as_str().unwrap_or_default()})))
                .collect();
            let required: Vec<Value> = properties.keys().map(|k| Value::String(k.clone())).collect();
            schema = json!({"type": "object", "properties": properties, "required": required})
                .as_object()
                .cloned()
                .unwrap_or_default();
        }
        Value::Object(schema)
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let args = match args {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(ToolError::InvalidArguments(format!(
                    "tool `{}` takes an object of arguments, not {other}",
                    self.def.tool_id
                )))
            }
        };
        let raw = match &self.def.kind {
            ToolKind::Shell { command } => self.shell(command, &args, ctx).await?,
            ToolKind::Http { .. } => self.http(&args, ctx).await?,
        };
        Ok(ToolOutput::value(transform(raw, self.def.output_transform)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_words_literal() {
        assert_eq!(quote(&json!("it's $(id)")), r"'it'\''s $(id)'");
        assert_eq!(quote(&json!(3)), "'3'");
    }

    #[test]
    fn selecting_into_a_reply() {
        let v = json!({"data": {"items": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(select(&v, ".data.items[1].name"), Some(&json!("b")));
        assert_eq!(select(&v, "data.missing"), None);
    }
}
