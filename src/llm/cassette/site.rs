//! Who is calling the model: the phase, sounding and nesting depth of a request, set by the
//! runner around each provider call. The [`Provider`](crate::llm::Provider) trait sees only
//! the request; a cassette needs the call site too, to say where a miss happened and to keep
//! identical requests of parallel soundings apart.

use std::future::Future;

/// Where a model call comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CallSite {
    pub phase: String,
    /// The phase sounding (parallel attempt) making the call, if any.
    pub sounding: Option<u32>,
    /// 0 for the session itself, 1 for its sub-cascades, and so on.
    pub depth: u32,
    /// The cascade-level sounding (a whole run of the phases, in parallel with others) the
    /// call belongs to, if any.
    pub attempt: Option<u32>,
}

tokio::task_local! {
    static SITE: CallSite;
    static ATTEMPT: u32;
}

/// Run `fut` (one provider call) as coming from `site`, inside the attempt it runs in.
pub async fn scope<F: Future>(mut site: CallSite, fut: F) -> F::Output {
    site.attempt = site.attempt.or_else(|| ATTEMPT.try_with(|a| *a).ok());
    SITE.scope(site, fut).await
}

/// Run `fut` (a whole cascade-level sounding) as attempt `index`: its model calls are told
/// apart from the identical calls of the other attempts running at the same time.
pub async fn attempt<F: Future>(index: u32, fut: F) -> F::Output {
    ATTEMPT.scope(index, fut).await
}

/// The call site of the provider call being made, if the runner set one.
pub fn current() -> Option<CallSite> {
    SITE.try_with(Clone::clone).ok()
}
