//! A durable session's checkpoints commit in the background (issue 14, the per-phase
//! overhead): a phase that only asks the model starts while the checkpoint before it
//! commits, checkpoints queued meanwhile share the next commit, and nothing else (a tool
//! phase, the session's end) happens before the checkpoints before it are durable. On both
//! store backends, with checkpoint writes held by the test the way a slow commit holds them.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::paused_store::PausedStore;
use support::requests::last_user;
use support::stores;
use support::{FakeLlm, Reply};
use windlass::llm::OpenAiClient;
use windlass::runner::emitter::Emitter;
use windlass::runner::event::{Envelope, RunEvent, RunStatus, Subscriber};
use windlass::runner::{run, CascadeDef, RunOptions, Runner};
use windlass::session::clock::SystemClock;
use windlass::session::Durable;
use windlass::session_id::SessionId;
use windlass::store::Store;

const CASCADE: &str = "cascade_id: overlap
phases:
  - name: one
    instructions: ONE
  - name: two
    instructions: TWO
  - name: three
    instructions: THREE
  - name: mark
    tool: set_state
    inputs:
      key: marked
      value: yes
  - name: five
    instructions: FIVE
";

/// The run's events, as short labels in the order they were emitted.
#[derive(Default)]
struct Events(Mutex<Vec<String>>);

impl Subscriber for Events {
    fn on_event(&self, e: &Envelope) {
        let label = match &e.event {
            RunEvent::PhaseStarted { phase, .. } => format!("start {phase}"),
            RunEvent::PhaseFinished { phase, .. } => format!("finish {phase}"),
            RunEvent::Checkpoint { phase, .. } => format!("checkpoint {phase}"),
            RunEvent::CascadeFinished { .. } => "end".to_string(),
            _ => return,
        };
        self.0.lock().unwrap().push(label);
    }
}

impl Events {
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn position(&self, label: &str) -> usize {
        let all = self.all();
        all.iter().position(|l| l == label).unwrap_or_else(|| panic!("no `{label}` in {all:?}"))
    }

    async fn wait_for(&self, label: &str) {
        let limit = Instant::now() + Duration::from_secs(30);
        while !self.all().iter().any(|l| l == label) {
            assert!(Instant::now() < limit, "no `{label}` in {:?}", self.all());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

struct Session {
    runner: Runner,
    def: Arc<CascadeDef>,
    durable: Arc<Durable>,
    events: Arc<Events>,
    id: String,
}

fn session(llm: &FakeLlm, store: Arc<dyn Store>, dir: &std::path::Path, id: &str) -> Session {
    let file = dir.join("overlap.yaml");
    std::fs::write(&file, CASCADE).unwrap();
    let loaded = windlass::cascade::load_file(&file);
    assert!(!loaded.has_errors());
    let def = Arc::new(CascadeDef { cascade: loaded.cascade.clone().unwrap(), path: file, text: loaded.text.clone() });
    let url: windlass::settings::HttpUrl = llm.url().parse().unwrap();
    let opts = RunOptions::new("test/model", dir.to_path_buf(), dir.join("data"));
    let runner = Runner::new(
        Arc::new(OpenAiClient::new(&url, None, Default::default())),
        windlass::tools::builtin_registry(),
        opts,
    );
    let durable = Durable::new(
        store,
        &SessionId::new(id),
        "overlap",
        "",
        1,
        "hash",
        0,
        Duration::from_secs(60),
        Duration::from_secs(10),
        Arc::new(SystemClock),
    );
    Session { runner, def, durable, events: Arc::new(Events::default()), id: id.to_string() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_phases_overlap_a_slow_checkpoint_and_a_tool_phase_waits_for_it() {
    for (backend, store, dir) in stores::in_process("checkpoint_overlap").await {
        let llm = FakeLlm::start();
        let paused = PausedStore::holding_checkpoints(store.clone());
        // Phase two answers once the first checkpoint's write is in the store (held there), so
        // the writer cannot find two and three queued before it started.
        let held = paused.clone();
        llm.respond_with(move |body| {
            if last_user(body) == "TWO" {
                let limit = Instant::now() + Duration::from_secs(30);
                while held.waiting() == 0 && Instant::now() < limit {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            Reply::text(format!("answer to {}", last_user(body)))
        });
        let s = session(&llm, paused.clone(), dir.path(), &format!("overlap-{backend}"));
        let emitter = Emitter::new(&s.id, 0, vec![s.events.clone()]);
        let (runner, def, durable) = (s.runner, s.def.clone(), s.durable.clone());
        let run = tokio::spawn(async move {
            run::run_durable(&runner, def, serde_json::Map::new(), &emitter, None, Some(durable)).await
        });

        // The first checkpoint is held; the model phases after it run on.
        s.events.wait_for("finish three").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = s.events.all();
        assert!(!before.iter().any(|l| l.starts_with("checkpoint")), "{backend}: nothing is durable yet: {before:?}");
        assert!(!before.contains(&"start mark".to_string()), "{backend}: the tool phase did not wait: {before:?}");
        assert_eq!(paused.checkpoint_writes(), vec![vec!["one".to_string()]], "{backend}: one write in flight");

        paused.release();
        let result = run.await.unwrap();
        assert_eq!(result.status, RunStatus::Completed, "{backend}: {:?}", result.errors);
        s.durable.finish(windlass::store::SessionStatus::Completed, None, (0, 0, 0.0)).await.unwrap();

        // Two and three were queued during the held commit: they went in the next one, together.
        let writes = paused.checkpoint_writes();
        let phases = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            writes,
            vec![phases(&["one"]), phases(&["two", "three"]), phases(&["mark"]), phases(&["five"])],
            "{backend}"
        );
        // The tool phase started only after every checkpoint before it was durable; the end
        // came after the last one.
        for earlier in ["checkpoint one", "checkpoint two", "checkpoint three"] {
            assert!(s.events.position(earlier) < s.events.position("start mark"), "{backend}: {:?}", s.events.all());
        }
        assert!(s.events.position("checkpoint five") < s.events.position("end"), "{backend}: {:?}", s.events.all());
        // Resume reads the last one.
        let latest = store.latest_checkpoint(&SessionId::new(&s.id), 0).await.unwrap().unwrap();
        assert_eq!((latest.phase.as_str(), latest.seq), ("five", 4), "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_refused_in_the_background_fails_the_run() {
    for (backend, store, dir) in stores::in_process("checkpoint_refused").await {
        let llm = FakeLlm::start();
        let refusing = PausedStore::refusing_checkpoints(store.clone());
        let s = session(&llm, refusing.clone(), dir.path(), &format!("refused-{backend}"));
        let emitter = Emitter::new(&s.id, 0, vec![s.events.clone()]);
        let result =
            run::run_durable(&s.runner, s.def.clone(), serde_json::Map::new(), &emitter, None, Some(s.durable.clone()))
                .await;
        assert_eq!(result.status, RunStatus::Error, "{backend}");
        let error = result.errors.join("\n");
        assert!(error.contains("save the checkpoint") && error.contains("the disk is full"), "{backend}: {error}");
        // It stopped at the first phase that waits for the checkpoints: the tool never ran.
        let events = s.events.all();
        assert!(!events.contains(&"start mark".to_string()), "{backend}: {events:?}");
        assert!(!events.iter().any(|l| l.starts_with("checkpoint")), "{backend}: {events:?}");
        assert_eq!(refusing.checkpoint_writes().len(), 1, "{backend}: refused, not retried");
    }
}
