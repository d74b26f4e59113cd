//! Features this build parses but does not run, reported as warnings naming them; and the
//! triggers it runs, checked.

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
    triggers(ctx, out);
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

/// Cron and webhook triggers run (`windlass schedules add`): their schedule, time zone,
/// catch-up policy and auth are checked; sensors and unknown kinds are reported.
fn triggers(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    use crate::cascade::tree::join_index;
    use crate::cascade::triggers::{self as schedules, cron::CronSpec};
    for (i, t) in ctx.cascade.triggers.iter().enumerate() {
        let path = join_index("triggers", i);
        let kind = t.kind.as_deref().unwrap_or_default();
        match kind {
            "cron" => match t.schedule.as_deref() {
                None => out.push(ctx.error("invalid-value", &path, format!("`{path}` is a cron trigger without a `schedule`"))),
                Some(spec) => {
                    if let Err(e) = CronSpec::parse(spec, t.timezone.as_deref()) {
                        out.push(ctx.error("invalid-value", &join_key(&path, "schedule"), e));
                    }
                }
            },
            "webhook" => {
                if let Err(e) = schedules::secret_env(t) {
                    out.push(ctx.error("invalid-value", &join_key(&path, "auth"), e));
                } else if t.auth.is_none() {
                    out.push(ctx.warning(
                        "unsigned-webhook",
                        &path,
                        "a webhook without `auth: hmac:${VARIABLE}` is accepted only with the API token".into(),
                    ));
                }
            }
            "manual" => {}
            "sensor" => out.push(ctx.warning(
                "unsupported-feature",
                &path,
                "sensor triggers call functions of the original Python project, which windlass cannot run; start these runs with `windlass submit`".into(),
            )),
            other => out.push(ctx.warning(
                "unsupported-feature",
                &path,
                format!("`type: {other}` is not a trigger windlass knows (cron, webhook, manual, sensor)"),
            )),
        }
        if let Err(e) = schedules::catch_up(t) {
            out.push(ctx.error("invalid-value", &join_key(&path, "catch_up"), e));
        }
    }
}
