//! `read_file`, `write_file`, `list_files`: files inside the working folder (see
//! `paths::resolve` for what a path may reach).

use super::paths::resolve;
use super::{args, Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::io::ErrorKind;
use tokio::io::AsyncReadExt;

/// Larger files are cut: a model's context cannot hold more, and the cut is announced.
const READ_CAP: u64 = 1024 * 1024;
/// Longest listing of one folder.
const LIST_CAP: usize = 500;

/// `read_file(path)`.
pub struct ReadFile;

#[async_trait]
impl Tool for ReadFile {
    fn name(&self) -> &str {
        "read_file"
    }
    fn description(&self) -> &str {
        "Read a text file inside the working folder (path relative to it); large files are cut at 1 MB."
    }
    fn parameters(&self) -> Value {
        path_schema("the file to read")
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let raw = args::text(&args, self.name(), "path")?;
        let path = resolve(ctx, &raw)?;
        let metadata = tokio::fs::metadata(&path).await.map_err(|err| io_error("read", &raw, err))?;
        if metadata.is_dir() {
            return Err(ToolError::InvalidArguments(format!("`{raw}` is a folder; list_files shows what it holds")));
        }
        let file = tokio::fs::File::open(&path).await.map_err(|err| io_error("read", &raw, err))?;
        let mut bytes = Vec::with_capacity(metadata.len().min(READ_CAP) as usize);
        file.take(READ_CAP).read_to_end(&mut bytes).await.map_err(|err| io_error("read", &raw, err))?;
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        let total = metadata.len();
        if total > READ_CAP {
            text.push_str(&format!("\n[cut: showed the first {READ_CAP} of {total} bytes of {raw}]"));
        }
        Ok(ToolOutput::text(text))
    }
}

/// `write_file(path, content)`.
pub struct WriteFile;

#[async_trait]
impl Tool for WriteFile {
    fn name(&self) -> &str {
        "write_file"
    }
    fn description(&self) -> &str {
        "Write a text file inside the working folder (path relative to it), creating folders as needed; \
         an existing file is replaced."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "the file to write, relative to the working folder"},
                "content": {"type": "string", "description": "the whole new content"}
            },
            "required": ["path", "content"]
        })
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let raw = args::text(&args, self.name(), "path")?;
        let content = match &args {
            Value::Object(_) => args::text(&args, self.name(), "content")?,
            _ => return Err(ToolError::InvalidArguments("write_file needs `path` and `content`".into())),
        };
        let path = resolve(ctx, &raw)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(|err| io_error("create the folder of", &raw, err))?;
        }
        tokio::fs::write(&path, content.as_bytes()).await.map_err(|err| io_error("write", &raw, err))?;
        Ok(ToolOutput::text(format!("wrote {} bytes to {raw}", content.len())))
    }
}

/// `list_files(path=".")`.
pub struct ListFiles;

#[async_trait]
impl Tool for ListFiles {
    fn name(&self) -> &str {
        "list_files"
    }
    fn description(&self) -> &str {
        "List the files and folders in a folder inside the working folder (default: the working folder itself)."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"path": {"type": "string", "description": "the folder to list", "default": "."}},
            "required": []
        })
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let raw = args::optional_text(&args, "path").filter(|path| !path.trim().is_empty()).unwrap_or(".".into());
        let path = resolve(ctx, &raw)?;
        let mut reader = tokio::fs::read_dir(&path).await.map_err(|err| io_error("list", &raw, err))?;
        let mut entries = Vec::new();
        while let Some(entry) = reader.next_entry().await.map_err(|err| io_error("list", &raw, err))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Links are reported as links, not followed: where they lead is resolve()'s call.
            let metadata = entry.metadata().await.ok();
            let kind = match entry.file_type().await {
                Ok(kind) if kind.is_symlink() => "link",
                Ok(kind) if kind.is_dir() => "folder",
                _ => "file",
            };
            let size = metadata.filter(|_| kind == "file").map(|metadata| metadata.len());
            entries.push((name, kind, size));
        }
        entries.sort();
        let total = entries.len();
        entries.truncate(LIST_CAP);

        let mut lines: Vec<String> = entries
            .iter()
            .map(|(name, kind, size)| match (kind, size) {
                (&"folder", _) => format!("{name}/"),
                (&"link", _) => format!("{name}@"),
                (_, Some(size)) => format!("{name} ({size} bytes)"),
                (_, None) => name.clone(),
            })
            .collect();
        if total == 0 {
            lines.push(format!("{raw} is empty"));
        } else if total > LIST_CAP {
            lines.push(format!("[and {} more]", total - LIST_CAP));
        }
        let value: Vec<Value> =
            entries.iter().map(|(name, kind, size)| json!({"name": name, "type": kind, "size": size})).collect();
        Ok(ToolOutput { text: lines.join("\n"), value: Value::Array(value), effects: Vec::new() })
    }
}

fn path_schema(what: &str) -> Value {
    json!({
        "type": "object",
        "properties": {"path": {"type": "string", "description": format!("{what}, relative to the working folder")}},
        "required": ["path"]
    })
}

/// A failed file operation, naming the path as the model gave it.
fn io_error(action: &str, raw: &str, err: std::io::Error) -> ToolError {
    match err.kind() {
        ErrorKind::NotFound => ToolError::Failed(format!("could not {action} `{raw}`: it does not exist")),
        ErrorKind::PermissionDenied => ToolError::Failed(format!("could not {action} `{raw}`: permission denied")),
        _ => ToolError::Failed(format!("could not {action} `{raw}`: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::context;

    #[tokio::test]
    async fn write_then_read_then_list() {
        let (ctx, _dir) = context(false);
        let output = WriteFile.call(json!({"path": "notes/a.txt", "content": "hello"}), &ctx).await.unwrap();
        assert_eq!(output.text, "wrote 5 bytes to notes/a.txt");
        assert_eq!(ReadFile.call(json!({"path": "notes/a.txt"}), &ctx).await.unwrap().text, "hello");
        assert_eq!(ListFiles.call(json!({}), &ctx).await.unwrap().text, "notes/");
        let listing = ListFiles.call(json!({"path": "notes"}), &ctx).await.unwrap();
        assert_eq!(listing.text, "a.txt (5 bytes)");
        assert_eq!(listing.value, json!([{"name": "a.txt", "type": "file", "size": 5}]));
    }

    #[tokio::test]
    async fn escapes_are_refused_with_the_path_named() {
        let (ctx, dir) = context(false);
        std::fs::write(dir.path().join("outside.txt"), "secret").unwrap();
        let err = ReadFile.call(json!({"path": "../outside.txt"}), &ctx).await.unwrap_err();
        assert!(matches!(err, ToolError::NotAllowed(_)));
        assert!(err.to_string().contains("`../outside.txt`"), "{err}");
        let err = WriteFile.call(json!({"path": "../x.txt", "content": "x"}), &ctx).await.unwrap_err();
        assert!(matches!(err, ToolError::NotAllowed(_)));
        assert!(!dir.path().join("x.txt").exists());
        let absolute = dir.path().join("outside.txt").display().to_string();
        assert!(ReadFile.call(json!({"path": absolute}), &ctx).await.is_err());
        assert!(ListFiles.call(json!({"path": ".."}), &ctx).await.is_err());

        std::os::unix::fs::symlink(dir.path().join("outside.txt"), ctx.working_dir.join("link.txt")).unwrap();
        assert!(ReadFile.call(json!({"path": "link.txt"}), &ctx).await.is_err());
        assert!(WriteFile.call(json!({"path": "link.txt", "content": "x"}), &ctx).await.is_err());
        assert_eq!(std::fs::read_to_string(dir.path().join("outside.txt")).unwrap(), "secret");
    }

    #[tokio::test]
    async fn absolute_paths_with_the_switch() {
        let (ctx, dir) = context(true);
        let absolute = dir.path().join("outside.txt");
        let args = json!({"path": absolute.display().to_string(), "content": "ok"});
        WriteFile.call(args, &ctx).await.unwrap();
        assert_eq!(std::fs::read_to_string(absolute).unwrap(), "ok");
    }

    #[tokio::test]
    async fn clear_errors_and_cut_reads() {
        let (ctx, _dir) = context(false);
        let err = ReadFile.call(json!({"path": "missing.txt"}), &ctx).await.unwrap_err();
        assert_eq!(err.to_string(), "could not read `missing.txt`: it does not exist");
        std::fs::create_dir(ctx.working_dir.join("sub")).unwrap();
        assert!(ReadFile.call(json!({"path": "sub"}), &ctx).await.unwrap_err().to_string().contains("folder"));

        let big = "x".repeat(READ_CAP as usize + 10);
        std::fs::write(ctx.working_dir.join("big.txt"), &big).unwrap();
        let text = ReadFile.call(json!({"path": "big.txt"}), &ctx).await.unwrap().text;
        assert!(text.ends_with(&format!("[cut: showed the first {READ_CAP} of {} bytes of big.txt]", big.len())));
    }
}
