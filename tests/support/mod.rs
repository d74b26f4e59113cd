//! Helpers shared by integration tests (`mod support;`).

#![allow(dead_code, unused_imports)] // each test binary uses a different part of this

pub mod backends;
pub mod clickhouse;
pub mod corpus;
pub mod fake_llm;
pub mod http;
pub mod invariants;
pub mod open_store;
pub mod paused_store;
pub mod requests;
pub mod responder;
pub mod runtimes;
pub mod sandbox;
pub mod stores;
pub mod tcp_relay;
pub mod waiting;

pub use fake_llm::{FakeLlm, RecordedRequest, Reply};
pub use sandbox::{Outcome, Sandbox};
