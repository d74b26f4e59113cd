//! `windlass cancel`: ask a running session to stop at its next boundary.

use super::signal::control_error;
use super::{store_access, Context};
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::session::control::{self, Cancelled};
use crate::session_id::SessionId;
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
        let id = self.session;
        let rt = store_access::runtime()?;
        rt.block_on(async {
            let store = crate::store::open(&ctx.settings).await?;
            match control::cancel(&*store, &id, self.reason.as_deref()).await.map_err(|e| control_error(e, "cancel"))? {
                Cancelled::Requested => eprintln!(
                    "windlass: cancel requested; session {id} stops at its next step (`windlass sessions show {id}`)"
                ),
                Cancelled::Now => eprintln!("windlass: session {id} was not running; it is cancelled"),
            }
            Ok(ExitCode::Success)
        })
    }
}
