//! Helpers shared by integration tests (`mod support;`).

#![allow(dead_code, unused_imports)] // each test binary uses a different part of this

pub mod fake_llm;

pub use fake_llm::{FakeLlm, RecordedRequest, Reply};
pub mod sandbox;

pub use sandbox::{Outcome, Sandbox};
pub mod clickhouse;
pub mod responder;
pub mod tcp_relay;
