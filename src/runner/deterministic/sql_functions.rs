//! SQL functions that call back into the engine, registered on the session database for
//! deterministic SQL phases (compat with the original's "LLM in SQL"):
//!
//! - `windlass_udf(instructions, value)`: one LLM call per distinct pair, the reply as text;
//! - `windlass_cascade_udf(cascade_path, input_json)`: a child session per distinct input,
//!   its result as JSON `{session_id, status, output, outputs, state}`.
//!
//! DuckDB calls them on its own threads; they block on the engine's async runtime.

use crate::llm::Message;
use crate::runner::children::{self, RunChild};
use crate::runner::emitter::Emitter;
use crate::runner::event::RunStatus;
use crate::runner::llm_call::{self, Caller};
use crate::runner::state::RunState;
use crate::runner::{ids, CascadeDef, Runner};
use crate::tools::sql::SqlFunctions;
use duckdb::core::{DataChunkHandle, Inserter, LogicalTypeId};
use duckdb::types::DuckString;
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;
use futures::stream::{self, StreamExt};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How many engine calls one chunk of rows runs at once.
const PARALLEL: usize = 8;

/// What the functions need from the run, shared by every DuckDB thread.
pub struct UdfEngine {
    pub handle: tokio::runtime::Handle,
    pub runner: Runner,
    pub run_child: RunChild,
    pub emitter: Emitter,
    pub phase: String,
    pub model: String,
    /// Where relative cascade paths are resolved (the cascade's folder, then the working dir).
    pub dir: PathBuf,
    cache: Mutex<HashMap<(String, String), Option<String>>>,
    /// Tokens and cost spent inside SQL, added to the session's totals afterwards.
    pub usage: Mutex<RunState>,
}

impl UdfEngine {
    pub fn new(
        handle: tokio::runtime::Handle,
        runner: Runner,
        run_child: RunChild,
        emitter: Emitter,
        phase: &str,
        model: String,
        dir: PathBuf,
    ) -> Self {
        UdfEngine {
            handle,
            runner,
            run_child,
            emitter,
            phase: phase.to_string(),
            model,
            dir,
            cache: Mutex::new(HashMap::new()),
            usage: Mutex::new(RunState::default()),
        }
    }

    fn llm(&self, instructions: &str, value: &str) -> Option<String> {
        let mut st = RunState::default();
        let messages = [
            Message::system("You transform one value as instructed. Reply with the result only, no explanation."),
            Message::user(format!("{instructions}\n\nValue: {value}")),
        ];
        let caller = Caller { phase: &self.phase, sounding_index: None, fallbacks: &[] };
        let fut = llm_call::call(&self.runner, &self.emitter, &mut st, caller, &self.model, &messages, &[]);
        let r = self.handle.block_on(fut);
        self.add_usage(&st);
        r.ok().map(|resp| {
            let t = resp.content.trim().to_string();
            if t.eq_ignore_ascii_case("null") {
                String::new()
            } else {
                t
            }
        })
    }

    async fn cascade(&self, reference: &str, input: &str) -> Option<String> {
        let path = crate::cascade::resolve::resolve_reference(reference, &self.dir, &self.runner.opts.working_dir)?;
        let loaded = crate::cascade::load_file(&path);
        if loaded.has_errors() {
            return Some(json!({"status": "error", "error": format!("{} does not load", path.display())}).to_string());
        }
        let def = Arc::new(CascadeDef { cascade: loaded.cascade?, path, text: loaded.text });
        if self.emitter.depth() + 1 > children::MAX_DEPTH {
            return None;
        }
        let input: Map<String, Value> = serde_json::from_str(input).unwrap_or_default();
        let id = format!("{}-{}", self.emitter.session_id(), ids::new_session_id().trim_start_matches("s-"));
        let child = self.emitter.child(&id);
        let result =
            children::run(self.run_child, &self.runner, def, input, &child, Some(self.emitter.session_id().into()))
                .await;
        let mut st = RunState::default();
        st.add_usage(result.tokens_in, result.tokens_out, Some(result.cost));
        self.add_usage(&st);
        let outputs: Map<String, Value> = result.lineage.iter().map(|l| (l.phase.clone(), l.output.clone())).collect();
        Some(
            json!({
                "session_id": result.session_id,
                "status": if result.status == RunStatus::Completed { "completed" } else { "error" },
                "output": result.output,
                "outputs": outputs,
                "state": result.state,
                "errors": result.errors,
            })
            .to_string(),
        )
    }

    fn add_usage(&self, st: &RunState) {
        if let Ok(mut u) = self.usage.lock() {
            u.add_usage(st.tokens_in, st.tokens_out, Some(st.cost));
        }
    }

    /// Answer every distinct pair once, a few at a time.
    fn answer(&self, kind: Kind, pairs: Vec<(String, String)>) -> HashMap<(String, String), Option<String>> {
        let todo: Vec<(String, String)> = {
            let cache = self.cache.lock().expect("udf cache");
            let mut seen = std::collections::HashSet::new();
            pairs.into_iter().filter(|p| !cache.contains_key(p) && seen.insert(p.clone())).collect()
        };
        let results: Vec<((String, String), Option<String>)> = match kind {
            Kind::Llm => {
                // Each LLM call blocks its own thread on the runtime; keep a few in flight.
                std::thread::scope(|s| {
                    todo.chunks(PARALLEL)
                        .flat_map(|chunk| {
                            let handles: Vec<_> =
                                chunk.iter().map(|p| s.spawn(move || (p.clone(), self.llm(&p.0, &p.1)))).collect();
                            handles.into_iter().map(|h| h.join().unwrap_or_default()).collect::<Vec<_>>()
                        })
                        .collect()
                })
            }
            Kind::Cascade => self.handle.block_on(
                stream::iter(todo)
                    .map(|p| async move {
                        let r = self.cascade(&p.0, &p.1).await;
                        (p, r)
                    })
                    .buffer_unordered(PARALLEL)
                    .collect(),
            ),
        };
        let mut cache = self.cache.lock().expect("udf cache");
        for (k, v) in results {
            cache.insert(k, v);
        }
        cache.clone()
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Llm,
    Cascade,
}

fn invoke(engine: &UdfEngine, kind: Kind, input: &mut DataChunkHandle, output: &mut dyn WritableVector) {
    let n = input.len();
    let a = input.flat_vector(0);
    let b = input.flat_vector(1);
    // SAFETY: both columns are VARCHAR (the only signature registered) with `n` rows.
    let (sa, sb) = unsafe {
        (a.as_slice_with_len::<duckdb::ffi::duckdb_string_t>(n), b.as_slice_with_len::<duckdb::ffi::duckdb_string_t>(n))
    };
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        if a.row_is_null(i as u64) || b.row_is_null(i as u64) {
            rows.push(None);
            continue;
        }
        let (mut x, mut y) = (sa[i], sb[i]);
        rows.push(Some((DuckString::new(&mut x).as_str().into_owned(), DuckString::new(&mut y).as_str().into_owned())));
    }
    let answers = engine.answer(kind, rows.iter().flatten().cloned().collect());
    let mut out = output.flat_vector();
    for (i, row) in rows.iter().enumerate() {
        match row.as_ref().and_then(|p| answers.get(p).cloned().flatten()) {
            Some(text) => out.insert(i, text.as_str()),
            None => out.set_null(i),
        }
    }
}

fn signature() -> Vec<ScalarFunctionSignature> {
    vec![ScalarFunctionSignature::exact(
        vec![LogicalTypeId::Varchar.into(), LogicalTypeId::Varchar.into()],
        LogicalTypeId::Varchar.into(),
    )]
}

/// `windlass_udf` (`CASCADE = false`) or `windlass_cascade_udf` (`CASCADE = true`).
struct EngineUdf<const CASCADE: bool>;

impl<const CASCADE: bool> VScalar for EngineUdf<CASCADE> {
    type State = Arc<UdfEngine>;
    fn invoke(
        state: &Self::State,
        input: &mut DataChunkHandle,
        output: &mut dyn WritableVector,
    ) -> Result<(), Box<dyn std::error::Error>> {
        invoke(state, if CASCADE { Kind::Cascade } else { Kind::Llm }, input, output);
        Ok(())
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        signature()
    }
    fn volatile() -> bool {
        true
    }
}

/// The engine's SQL functions, for one phase.
pub struct EngineFunctions(pub Arc<UdfEngine>);

impl SqlFunctions for EngineFunctions {
    fn register(&self, conn: &duckdb::Connection) -> Result<(), String> {
        conn.register_scalar_function_with_state::<EngineUdf<false>>("windlass_udf", &self.0)
            .map_err(|e| e.to_string())?;
        conn.register_scalar_function_with_state::<EngineUdf<true>>("windlass_cascade_udf", &self.0)
            .map_err(|e| e.to_string())
    }
}
