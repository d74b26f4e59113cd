//! Features this build parses but does not run: reported as warnings naming them.

use super::Ctx;
use crate::cascade::diagnostic::Diagnostic;
use crate::cascade::tree::join_key;

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let c = ctx.cascade;
    if c.memory.is_some() {
        out.push(ctx.warning(
            "unsupported-feature",
            "memory",
            "`memory` banks need an embeddings service, which this build does not provide; memory tools fail if used".into(),
        ));
    }
    if c.narrator.is_some() {
        out.push(ctx.warning(
            "unsupported-feature",
            "narrator",
            "`narrator` needs text-to-speech, which this build does not provide; it is ignored".into(),
        ));
    }
    if !c.triggers.is_empty() {
        out.push(ctx.warning(
            "unsupported-feature",
            "triggers",
            "`triggers` are parsed but not scheduled by windlass; start runs with `windlass run` or `windlass submit` from your scheduler".into(),
        ));
    }
    for (i, phase) in c.phases.iter().enumerate() {
        if let Some(mode) = &phase.ui_mode {
            let p = join_key(&ctx.phase_path(i), "ui_mode");
            out.push(ctx.warning(
                "unsupported-feature",
                &p,
                format!("`ui_mode: {mode}` asks for generative UI, which this build does not provide; it is ignored"),
            ));
        }
    }
}
