//! `windlass check` wall time on a 20-phase cascade, end to end (process start to exit),
//! plus the in-process cost of loading and checking the same file.
//!
//!     cargo bench --bench check
//!
//! Target (issue 2): under 20 ms end to end.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn cascade(phases: usize) -> String {
    let mut s = String::from(
        "cascade_id: bench_twenty\ndescription: a 20-phase cascade for the check benchmark\ninputs_schema:\n  topic: what to write about\nphases:\n",
    );
    for i in 0..phases {
        let next = if i + 1 < phases { format!("\n    handoffs: [p{}]", i + 1) } else { String::new() };
        s.push_str(&format!(
            "  - name: p{i}\n    instructions: |\n      Step {i} on {{{{ input.topic }}}}.\n      {{% if outputs.p0 %}}Earlier: {{{{ outputs.p0 | default('none') }}}}{{% endif %}}\n    context:\n      from: [previous]\n    tackle: [set_state]\n    rules:\n      max_turns: 2\n      loop_until: simple_validator\n      retry_instructions: 'Attempt {{{{ attempt }}}}: {{{{ validation_error }}}}'{next}\n"
        ));
    }
    s
}

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let n = samples.len();
    (samples[0], samples[n / 2], samples[(n * 9) / 10])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("twenty.yaml");
    std::fs::write(&file, cascade(20)).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_windlass"));

    // Sanity: the file is valid, so the benchmark measures a real pass.
    let out = Command::new(bin).arg("check").arg(&file).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "check failed: {}", String::from_utf8_lossy(&out.stdout));

    let runs = 100;
    let mut e2e = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(bin).arg("check").arg(&file).current_dir(dir.path()).status().unwrap();
        e2e.push(t.elapsed());
        assert!(status.success());
    }
    let (min, med, p90) = stats(e2e);
    println!("windlass check, 20 phases, end to end ({runs} runs): min {} median {} p90 {}", ms(min), ms(med), ms(p90));

    let opts = windlass::cascade::check::CheckOptions { tool_path: Vec::new(), cwd: dir.path().to_path_buf() };
    let mut inproc = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let report = windlass::cascade::check::check_file(&file, &opts);
        inproc.push(t.elapsed());
        assert_eq!(report.errors(), 0);
    }
    let (min, med, p90) = stats(inproc);
    println!("load + check in process ({runs} runs): min {} median {} p90 {}", ms(min), ms(med), ms(p90));
}
