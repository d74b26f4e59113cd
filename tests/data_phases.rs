//! Data phases (cascade-format.md, "Data phases") through the binary: each language reads the
//! table an earlier phase kept in the session database and keeps its own for the next phase.

mod support;

use serde_json::{json, Value};
use support::requests::last_user;
use support::runtimes::{self, Runtimes};
use support::{FakeLlm, Reply, Sandbox};

fn sandbox(r: &Runtimes) -> Sandbox {
    let mut sb = Sandbox::new();
    runtimes::configure(&mut sb, r);
    sb
}

/// Run a cascade with `--format json`; exit 0 expected.
fn run_ok(sb: &Sandbox, file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["run", file, "-q", "--format", "json"];
    args.extend_from_slice(extra);
    let out = sb.run(&args);
    assert_eq!(out.code, 0, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    out.json()
}

/// The rows of the last phase's output (an `sql_data` result, kept as a value).
fn final_rows(doc: &Value) -> Vec<Value> {
    doc["output"]["rows"].as_array().unwrap_or_else(|| panic!("rows in {}", doc["output"])).clone()
}

const NUMBERS: &str = "  - name: numbers\n    tool: sql_data\n    inputs:\n      query: SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) AS t(n, s)\n";

#[test]
fn python_with_pandas_gets_data_frames_and_keeps_one_as_a_table() {
    let Some(r) = runtimes::find() else { return };
    let sb = sandbox(&r);
    sb.write(
        "c.yaml",
        &format!(
            "cascade_id: c\nphases:\n{NUMBERS}  - name: py\n    tool: python_data\n    inputs:\n      code: |\n        df = data.numbers.copy()\n        assert type(df).__name__ == 'DataFrame', type(df)\n        df['squared'] = df['n'] ** 2\n        df['factor'] = int(input['factor'])\n        df['where'] = state['output_numbers']['rows'][0]['s']\n        print('printed lines do not mix with the result')\n        result = df\n  - name: total\n    tool: sql_data\n    inputs:\n      query: SELECT sum(squared * factor) AS total, min(\"where\") AS w FROM _py\n"
        ),
    );
    let doc = run_ok(&sb, "c.yaml", &["-i", "factor=10"]);
    assert_eq!(final_rows(&doc), vec![json!({"total": 140, "w": "a"})], "{doc}");
    let py = &doc["state"]["output_py"];
    assert_eq!(py["type"], "dataframe", "{py}");
    assert_eq!(py["columns"], json!(["n", "s", "squared", "factor", "where"]), "{py}");
    assert_eq!(py["row_count"], 3);
    assert_eq!(py["rows"][2]["squared"], 9);
    assert!(py["stdout"].as_str().unwrap().contains("printed lines"), "{py}");
}

#[test]
fn python_without_pandas_gets_lists_of_dicts() {
    let Some(r) = runtimes::find() else { return };
    let mut sb = sandbox(&r);
    // `-S` leaves site-packages out, so pandas cannot import whatever python3 has installed.
    let plain = sb.write("plain-python", "#!/bin/sh\nexec python3 -S \"$@\"\n");
    std::fs::set_permissions(&plain, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    sb.set("WINDLASS_PYTHON", plain.to_str().unwrap());
    sb.write(
        "c.yaml",
        &format!(
            "cascade_id: c\nphases:\n{NUMBERS}  - name: py\n    tool: python_data\n    inputs:\n      code: |\n        rows = data['numbers']\n        kind = type(rows).__name__\n        has_pandas = 'pd' in globals()\n        return {{'kind': kind, 'pandas': has_pandas, 'count': len(rows), 'items': [dict(r, double=r['n'] * 2) for r in rows]}}\n  - name: from_items\n    tool: sql_data\n    inputs:\n      query: SELECT (SELECT kind FROM _py) AS kind, sum(double) AS doubled FROM _py_items\n"
        ),
    );
    let doc = run_ok(&sb, "c.yaml", &[]);
    assert_eq!(final_rows(&doc), vec![json!({"kind": "list", "doubled": 12})], "{doc}");
    let py = &doc["state"]["output_py"];
    assert_eq!(py["type"], "dict", "{py}");
    assert_eq!(py["result"]["pandas"], false, "{py}");
    assert_eq!(py["result"]["count"], 3, "{py}");
}

#[test]
fn javascript_maps_rows_and_the_next_phase_reads_them() {
    let Some(r) = runtimes::find() else { return };
    let sb = sandbox(&r);
    sb.write(
        "c.yaml",
        &format!(
            "cascade_id: c\nphases:\n{NUMBERS}  - name: js_cube\n    tool: js_data\n    inputs:\n      code: |\n        const rows = data.numbers;\n        console.log('seen', rows.length);\n        result = rows.map(row => ({{ ...row, cubed: row.n ** 3, tag: input.tag }}));\n  - name: scalar\n    tool: js_data\n    inputs:\n      code: |\n        return data.js_cube.reduce((sum, row) => sum + row.cubed, 0);\n  - name: check\n    tool: sql_data\n    inputs:\n      query: SELECT sum(cubed) AS total, min(tag) AS tag, {{{{ outputs.scalar.result }}}} AS from_js FROM _js_cube\n"
        ),
    );
    let doc = run_ok(&sb, "c.yaml", &["-i", "tag=t1"]);
    assert_eq!(final_rows(&doc), vec![json!({"total": 36, "tag": "t1", "from_js": 36})], "{doc}");
    assert_eq!(doc["state"]["output_scalar"], json!({"result": 36, "type": "scalar"}));
    assert_eq!(doc["state"]["output_js_cube"]["stdout"], "seen 3");
}

#[test]
fn clojure_sees_kebab_case_keys_and_its_last_value_is_kept() {
    let Some(r) = runtimes::find() else { return };
    let sb = sandbox(&r);
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: raw_numbers\n    tool: sql_data\n    inputs:\n      query: SELECT * FROM (VALUES (3), (4), (5)) AS t(n)\n  - name: clj_factorial\n    tool: clojure_data\n    inputs:\n      code: |\n        (defn factorial [n] (reduce * 1 (range 1 (inc n))))\n        (mapv (fn [row] (assoc row :factorial (factorial (:n row)))) (:raw-numbers data))\n  - name: check\n    tool: sql_data\n    inputs:\n      query: SELECT sum(factorial) AS total FROM _clj_factorial\n",
    );
    let doc = run_ok(&sb, "c.yaml", &[]);
    assert_eq!(final_rows(&doc), vec![json!({"total": 150})], "{doc}");
    assert_eq!(doc["state"]["output_clj_factorial"]["rows"][2], json!({"n": 5, "factorial": 120}));
}

/// A sandbox whose `clojure_data` phases run the JVM's `clojure` (under the name `program`, a
/// link to it in the sandbox, when given).
fn jvm_sandbox(r: &Runtimes, program: Option<&str>) -> Sandbox {
    let mut sb = sandbox(r);
    let clojure = match program {
        Some(name) => {
            let link = sb.path().join(name);
            std::os::unix::fs::symlink(&r.clojure_jvm, &link).unwrap();
            link
        }
        None => r.clojure_jvm.clone(),
    };
    sb.set("WINDLASS_CLOJURE", clojure.to_str().unwrap());
    sb
}

#[test]
fn clojure_on_the_jvm_calls_java_and_its_value_is_kept() {
    let Some(r) = runtimes::find() else { return };
    let sb = jvm_sandbox(&r, None);
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: raw_codes\n    tool: sql_data\n    inputs:\n      query: SELECT * FROM (VALUES (1, 'NY', 'new york'), (2, 'Ca', 'los angeles')) AS t(n, code, city)\n  - name: clj_check\n    tool: clojure_data\n    inputs:\n      code: |\n        (println \"rows:\" (count (:raw-codes data)))\n        (mapv (fn [row]\n                (assoc row\n                       :upper (every? #(Character/isUpperCase %) (:code row))\n                       :shout (.toUpperCase (:city row))\n                       :initial (first (:city row))\n                       :tag (:tag input)\n                       :vm (System/getProperty \"java.vm.name\")))\n              (:raw-codes data))\n  - name: check\n    tool: sql_data\n    inputs:\n      query: SELECT string_agg(shout, '+' ORDER BY n) AS shouted, count(*) FILTER (WHERE upper) AS upper FROM _clj_check\n",
    );
    let doc = run_ok(&sb, "c.yaml", &["-i", "tag=t1"]);
    assert_eq!(final_rows(&doc), vec![json!({"shouted": "NEW YORK+LOS ANGELES", "upper": 1})], "{doc}");
    let out = &doc["state"]["output_clj_check"];
    let first = &out["rows"][0];
    // A character is written as a one-letter string, as Babashka's cheshire writes it.
    assert_eq!((&first["upper"], &first["initial"], &first["tag"]), (&json!(true), &json!("n"), &json!("t1")), "{out}");
    assert_eq!(out["rows"][1]["upper"], false, "{out}");
    assert!(first["vm"].as_str().is_some_and(|vm| vm.contains("OpenJDK")), "not the JVM: {out}");
    assert_eq!(out["stdout"], "rows: 2", "{out}");
}

#[test]
fn a_clojure_error_on_the_jvm_names_the_phase_and_the_error() {
    let Some(r) = runtimes::find() else { return };
    // `clj` names the JVM runner as `clojure` does.
    let sb = jvm_sandbox(&r, Some("clj"));
    for (code, expected) in [
        ("(throw (ex-info \"bad rows\" {}))", "clojure_data: ExceptionInfo: bad rows"),
        ("(mapv #(/ 10 %) [1 0])", "clojure_data: ArithmeticException: Divide by zero"),
        ("(no-such-fn 1)", "Unable to resolve symbol: no-such-fn"),
        ("{:nan Double/NaN}", "cannot write Double NaN"),
    ] {
        sb.write("c.yaml", &format!("cascade_id: c\nphases:\n  - name: validate\n    tool: clojure_data\n    inputs:\n      code: '{code}'\n"));
        let out = sb.run(&["run", "c.yaml", "-q"]);
        assert_eq!(out.code, 1, "{code}: {}", out.stderr);
        assert!(out.stderr.contains("validate") && out.stderr.contains(expected), "{code}: {}", out.stderr);
    }
}

#[test]
fn bash_reads_the_previous_table_as_csv_and_keeps_variables_between_phases() {
    let Some(r) = runtimes::find() else { return };
    let sb = sandbox(&r);
    sb.write(
        "c.yaml",
        &format!(
            "cascade_id: c\nphases:\n{NUMBERS}  - name: setup\n    tool: bash_data\n    inputs:\n      script: |\n        export FACTOR=7\n        triple() {{ echo $(( $1 * 3 )); }}\n        echo \"n,phase\"\n        tail -n +2 | while IFS=, read -r n s; do echo \"$n,$PHASE_NAME\"; done\n  - name: use\n    tool: bash_data\n    inputs:\n      output_format: auto\n      script: |\n        test -f \"$SESSION_DB\"\n        tail -n +2 | while IFS=, read -r n phase; do echo \"{{\\\"n\\\": $n, \\\"x\\\": $(triple $n), \\\"f\\\": $FACTOR, \\\"from\\\": \\\"$phase\\\"}}\"; done\n  - name: check\n    tool: sql_data\n    inputs:\n      query: SELECT sum(x) AS x, max(f) AS f, min(\"from\") AS src FROM _use\n"
        ),
    );
    let doc = run_ok(&sb, "c.yaml", &[]);
    assert_eq!(final_rows(&doc), vec![json!({"x": 18, "f": 7, "src": "setup"})], "{doc}");
    assert_eq!(doc["state"]["output_setup"]["columns"], json!(["n", "phase"]));
}

#[test]
fn a_bash_phase_without_persistence_starts_clean_and_times_out_as_told() {
    let Some(r) = runtimes::find() else { return };
    let sb = sandbox(&r);
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: one\n    tool: bash_data\n    inputs:\n      script: 'export KEPT=yes; echo a; echo 1'\n  - name: two\n    tool: bash_data\n    inputs:\n      persist_session: false\n      output_format: json\n      script: 'echo \"[{\\\"kept\\\": \\\"${KEPT:-no}\\\"}]\"'\n  - name: slow\n    tool: bash_data\n    inputs:\n      timeout: 1s\n      script: sleep 20\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("slow") && out.stderr.contains("timed out after 1s"), "{}", out.stderr);
    assert!(out.elapsed.as_secs() < 15, "{:?}", out.elapsed);
    let doc = out.json();
    assert_eq!(doc["state"]["output_two"]["rows"], json!([{"kept": "no"}]), "{doc}");
}

#[test]
fn windlass_data_runs_an_inline_llm_phase_and_keeps_its_records() {
    let Some(r) = runtimes::find() else { return };
    let llm = FakeLlm::start();
    llm.push(Reply::text("```json\n[{\"n\": 1, \"label\": \"one\"}, {\"n\": 2, \"label\": \"two\"}]\n```"));
    let mut sb = Sandbox::with_llm(&llm.url());
    runtimes::configure(&mut sb, &r);
    sb.write(
        "c.yaml",
        &format!(
            "cascade_id: c\nphases:\n{NUMBERS}  - name: labels\n    tool: windlass_data\n    inputs:\n      code: |\n        instructions: |\n          Label these rows:\n          {{{{ outputs.numbers.rows }}}}\n        output_schema:\n          type: array\n          items:\n            type: object\n            properties:\n              n: {{ type: integer }}\n              label: {{ type: string }}\n            required: [n, label]\n  - name: check\n    tool: sql_data\n    inputs:\n      query: SELECT string_agg(label, '+' ORDER BY n) AS labels FROM _labels\n"
        ),
    );
    let doc = run_ok(&sb, "c.yaml", &[]);
    assert_eq!(final_rows(&doc), vec![json!({"labels": "one+two"})], "{doc}");
    assert_eq!(doc["state"]["output_labels"]["row_count"], 2);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 1);
    let asked = last_user(&reqs[0].body);
    assert!(asked.contains("Label these rows:") && asked.contains("\"s\":\"c\""), "{asked}");
}

#[test]
fn windlass_data_given_a_file_name_says_it_wants_a_phase() {
    let llm = FakeLlm::start();
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: call_child\n    tool: windlass_data\n    inputs:\n      code: examples/child.yaml\n");
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("call_child") && out.stderr.contains("must be an LLM phase"), "{}", out.stderr);
    assert_eq!(llm.request_count(), 0);
}

#[test]
fn a_missing_runtime_names_the_phase_and_the_program() {
    let Some(r) = runtimes::find() else { return };
    let mut sb = sandbox(&r);
    sb.set("WINDLASS_NODE", "/nonexistent/node-for-windlass");
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: shaping\n    tool: js_data\n    inputs:\n      code: result = 1\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("shaping") && out.stderr.contains("js_data needs `/nonexistent/node-for-windlass`"),
        "{}",
        out.stderr
    );
}

#[test]
fn code_errors_and_a_missing_result_fail_the_phase_clearly() {
    let Some(r) = runtimes::find() else { return };
    let sb = sandbox(&r);
    sb.write("raise.yaml", "cascade_id: c\nphases:\n  - name: boom\n    tool: python_data\n    inputs:\n      code: raise ValueError('bad rows')\n");
    let out = sb.run(&["run", "raise.yaml", "-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("boom") && out.stderr.contains("ValueError: bad rows"), "{}", out.stderr);
    sb.write(
        "unset.yaml",
        "cascade_id: c\nphases:\n  - name: quiet\n    tool: js_data\n    inputs:\n      code: const x = 1;\n",
    );
    let out = sb.run(&["run", "unset.yaml", "-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("quiet") && out.stderr.contains("must set the variable `result`"), "{}", out.stderr);
}

#[test]
fn data_phases_need_allow_shell_and_never_see_secrets() {
    let Some(r) = runtimes::find() else { return };
    let mut sb = sandbox(&r);
    sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: env\n    tool: python_data\n    inputs:\n      code: |\n        import os\n        result = {'names': sorted(os.environ)}\n");
    sb.set("WINDLASS_ALLOW_SHELL", "0");
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("python_data"), "{}", out.stderr);

    sb.set("WINDLASS_ALLOW_SHELL", "1");
    sb.set("OPENROUTER_API_KEY", "sk-secret-for-the-test");
    sb.set("WINDLASS_CLICKHOUSE_PASSWORD", "pw-secret-for-the-test");
    sb.set("OTHER_API_KEY", "other-secret");
    let doc = run_ok(&sb, "c.yaml", &[]);
    let names = doc["state"]["output_env"]["result"]["names"].as_array().expect("names").clone();
    assert!(names.iter().any(|n| n == "PATH"), "{names:?}");
    for secret in ["OPENROUTER_API_KEY", "WINDLASS_CLICKHOUSE_PASSWORD", "OTHER_API_KEY"] {
        assert!(!names.iter().any(|n| n == secret), "{secret} reached the child: {names:?}");
    }

    // The variable that holds the cascade's webhook secret, though its name looks harmless;
    // the same name is passed on when no trigger names it.
    sb.set("GITHUB_HOOK", "hook-secret-for-the-test");
    let hooked = format!(
        "cascade_id: c\ntriggers:\n  - name: push\n    type: webhook\n    auth: hmac:${{GITHUB_HOOK}}\n{}",
        "phases:\n  - name: env\n    tool: python_data\n    inputs:\n      code: |\n        import os\n        result = {'names': sorted(os.environ)}\n"
    );
    let names_of = |doc: serde_json::Value| doc["state"]["output_env"]["result"]["names"].as_array().unwrap().clone();
    let plain = names_of(run_ok(&sb, "c.yaml", &[]));
    assert!(plain.iter().any(|n| n == "GITHUB_HOOK"), "{plain:?}");
    sb.write("hooked.yaml", &hooked);
    let names = names_of(run_ok(&sb, "hooked.yaml", &[]));
    assert!(!names.iter().any(|n| n == "GITHUB_HOOK"), "the webhook secret reached the child: {names:?}");
    assert!(names.iter().any(|n| n == "PATH"), "{names:?}");
}
