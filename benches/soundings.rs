//! Soundings of 10 with a 1 s fake latency: wall time of the whole run (target under 1.3 s).
//!
//!     cargo bench --bench soundings

#[path = "../tests/support/fake_llm.rs"]
mod fake_llm;

use fake_llm::{FakeLlm, Reply};
use std::time::{Duration, Instant};

fn main() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        let text = body.to_string();
        if text.contains("Winner:") {
            Reply::text("Winner: 3")
        } else {
            Reply::text("an attempt").with_delay(Duration::from_secs(1))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ten.yaml");
    std::fs::write(
        &file,
        "cascade_id: ten\nphases:\n  - name: explore\n    instructions: 'Attempt {{ sounding_index }}'\n    soundings:\n      factor: 10\n      max_parallel: 10\n      mutate: true\n      mutation_mode: approach\n      evaluator_instructions: Pick one.\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_windlass");
    let mut walls = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let status = std::process::Command::new(bin)
            .args(["run", file.to_str().unwrap(), "-q"])
            .env_clear()
            .env("HOME", dir.path())
            .env("WINDLASS_DATA_DIR", dir.path().join("data"))
            .env("WINDLASS_BASE_URL", llm.url())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        walls.push(started.elapsed());
        assert!(status.success());
    }
    walls.sort();
    println!(
        "soundings x10 with 1 s latency, end to end (5 runs): min {:.3} s median {:.3} s max {:.3} s",
        walls[0].as_secs_f64(),
        walls[2].as_secs_f64(),
        walls[4].as_secs_f64()
    );
}
