//! `windlass cancel`: ask a running session to stop at its next boundary.

use super::signal::ensure_open;
use super::{store_access, Context};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session::claim;
use crate::session::signals;
use crate::session_id::SessionId;
use crate::store::SessionStatus;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct CancelArgs {
    /// The session to stop
    #[arg(value_name = "SESSION")]
    pub session: SessionId,

    /// Why, recorded with the session
    #[arg(long, value_name = "REASON")]
    pub reason: Option<String>,
}

impl CancelArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let id = self.session.clone();
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let store = crate::store::open(&ctx.settings).await?;
            let row = ensure_open(&*store, &id, "cancel").await?;
            let now = store.now().await?;
            // The request is a fact of its own: a heartbeat can never undo it.
            store.put_signal(&signals::cancel(&id, self.reason.as_deref(), now)).await?;
            let live = row.status.is_live() && !claim::is_orphan(&row, now);
            if live {
                eprintln!(
                    "windlass: cancel requested; session {id} stops at its next step (`windlass sessions show {id}`)"
                );
                return Ok(ExitCode::Success);
            }
            // Nobody runs it (queued, orphaned, released): it is cancelled here and now.
            let mut r = row;
            r.status = SessionStatus::Cancelled;
            r.cancel_requested = true;
            r.error_message = match &self.reason {
                Some(why) => format!("cancelled: {why}"),
                None => "cancelled".into(),
            };
            r.version = claim::final_version(r.owner_epoch).max(r.version + 1);
            r.updated_at = now;
            r.completed_at = now;
            store.put_session_state(&r).await?;
            eprintln!("windlass: session {id} was not running; it is cancelled");
            Ok(ExitCode::Success)
        })
    }
}
