//! Opening the store from a command and running one async piece of work on it.

use super::Context;
use crate::error::Error;
use crate::store::{self, Store, StoreError};
use std::future::Future;
use std::sync::Arc;

/// A runtime for a command that talks to the store.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(Error::Runtime)
}

/// Open the store (creating its tables) and run `f` on it; store errors become exit 6.
pub fn block_on<T, F, Fut>(ctx: &Context, f: F) -> Result<T, Error>
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let rt = runtime()?;
    rt.block_on(async {
        let s = store::open(&ctx.settings).await?;
        f(s).await
    })
    .map_err(Error::from)
}
