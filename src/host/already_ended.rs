//! A claimed session whose last phase was checkpointed before its owner stopped: nothing is
//! left to run, so it is only marked completed (`resume`, `orphans --resume`, `worker`).

use super::log_rows::log_row;
use super::Start;
use crate::runner::event::{Envelope, RunEvent};
use crate::runner::RunStatus;
use crate::session::control;
use crate::store::{SessionStateRow, Store, StoreError};

/// Log the session's end, then write its completed row. The end row carries the id its last
/// owner gave it (`<session>:<epoch>:end`, see [`log_row`]): when that owner logged its end and
/// stopped before its final row, or logs it later while fenced, the two are one row.
pub async fn complete(store: &dyn Store, start: &Start, row: SessionStateRow, owner: String) -> Result<(), StoreError> {
    let state = &start.state;
    let end = Envelope {
        session_id: start.session_id.as_str().into(),
        seq: 0,
        at: store.now().await?,
        depth: 0,
        event: RunEvent::CascadeFinished {
            status: RunStatus::Completed,
            output: state.last_output_text(),
            error: None,
            tokens_in: state.tokens_in,
            tokens_out: state.tokens_out,
            cost: state.cost,
            duration_ms: 0,
        },
    };
    let ended_in = start.ended_in_epoch.unwrap_or(start.epoch);
    store.insert_logs(&[log_row(&end, ended_in, &start.def.cascade.cascade_id, &row.parent_session_id)]).await?;
    control::complete_finished(store, row, owner, start.epoch).await
}
