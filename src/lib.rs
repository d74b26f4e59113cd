//! windlass: run declarative LLM workflows ("cascades") with durable, resumable sessions.

pub mod cascade;
