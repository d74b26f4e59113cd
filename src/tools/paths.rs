//! Where a file tool's path may lead: inside the working folder, after following `..` and
//! symbolic links; anywhere when `--allow-shell` is on (cli.md, Tool safety).

use super::{ToolContext, ToolError};
use std::path::{Component, Path, PathBuf};

/// The path a file tool acts on, or why it may not.
///
/// Relative paths are taken inside `ctx.working_dir`. `..` that climbs above it, and symbolic
/// links (existing or dangling) that lead out of it, are refused; the part of the path that
/// does not exist yet (a file about to be written) cannot hold a link.
pub(crate) fn resolve(ctx: &ToolContext, raw: &str) -> Result<PathBuf, ToolError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ToolError::InvalidArguments("the path is empty".into()));
    }
    let path = Path::new(trimmed);
    let folder = ctx.working_dir.display();
    if path.is_absolute() {
        if ctx.allow_shell {
            return Ok(path.to_path_buf());
        }
        return Err(ToolError::NotAllowed(format!(
            "`{trimmed}` is an absolute path, and file tools stay inside the working folder {folder}: \
             use a path relative to it, or allow absolute paths with WINDLASS_ALLOW_SHELL=1 or --allow-shell"
        )));
    }
    let outside = || ToolError::NotAllowed(format!("`{trimmed}` leads outside the working folder {folder}"));

    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(part) => parts.push(part),
            Component::ParentDir => {
                parts.pop().ok_or_else(outside)?;
            }
            Component::RootDir | Component::Prefix(_) => return Err(outside()),
        }
    }

    let root = ctx
        .working_dir
        .canonicalize()
        .map_err(|err| ToolError::Failed(format!("the working folder {folder} cannot be used: {err}")))?;
    // Follow the path as far as it exists, resolving links as the OS would.
    let mut resolved = root.clone();
    let mut rest = parts.iter();
    for part in rest.by_ref() {
        let candidate = resolved.join(part);
        match candidate.symlink_metadata() {
            Ok(_) => {
                resolved = candidate.canonicalize().map_err(|_| {
                    ToolError::NotAllowed(format!("`{trimmed}` goes through a symbolic link that leads nowhere"))
                })?;
                if !resolved.starts_with(&root) {
                    return Err(ToolError::NotAllowed(format!(
                        "`{trimmed}` goes through a symbolic link that leads outside the working folder {folder}"
                    )));
                }
            }
            Err(_) => {
                resolved = candidate;
                break;
            }
        }
    }
    resolved.extend(rest);
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::context;

    #[test]
    fn relative_paths_stay_inside() {
        let (ctx, _dir) = context(false);
        let root = ctx.working_dir.canonicalize().unwrap();
        assert_eq!(resolve(&ctx, "a/b.txt").unwrap(), root.join("a/b.txt"));
        assert_eq!(resolve(&ctx, "./a/../b.txt").unwrap(), root.join("b.txt"));
        for escape in ["..", "../x", "a/../../x"] {
            let err = resolve(&ctx, escape).unwrap_err();
            assert!(matches!(err, ToolError::NotAllowed(_)), "{escape}");
            assert!(err.to_string().contains(escape), "{err}");
        }
    }

    #[test]
    fn absolute_paths_need_the_switch() {
        let (ctx, _dir) = context(false);
        let err = resolve(&ctx, "/etc/passwd").unwrap_err();
        assert!(err.to_string().contains("--allow-shell"), "{err}");
        let (ctx, _dir) = context(true);
        assert_eq!(resolve(&ctx, "/etc/passwd").unwrap(), PathBuf::from("/etc/passwd"));
    }

    #[test]
    fn links_out_of_the_folder_are_refused() {
        let (ctx, dir) = context(false);
        std::fs::write(dir.path().join("secret.txt"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path(), ctx.working_dir.join("up")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("nowhere"), ctx.working_dir.join("dangling")).unwrap();
        std::fs::create_dir(ctx.working_dir.join("inner")).unwrap();
        std::os::unix::fs::symlink(ctx.working_dir.join("inner"), ctx.working_dir.join("here")).unwrap();

        assert!(resolve(&ctx, "up/secret.txt").unwrap_err().to_string().contains("outside"));
        assert!(resolve(&ctx, "up").is_err());
        assert!(resolve(&ctx, "dangling").unwrap_err().to_string().contains("leads nowhere"));
        let root = ctx.working_dir.canonicalize().unwrap();
        assert_eq!(resolve(&ctx, "here/new.txt").unwrap(), root.join("inner/new.txt"));
    }
}
