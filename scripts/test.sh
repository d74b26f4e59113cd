#!/usr/bin/env bash
# The test command of windlass: starts (or reuses) a private ClickHouse server on loopback, then
# runs the whole test suite against it (installing Debian's chromium for the browser test when it
# is missing). Extra arguments go to `cargo test`, e.g.
#   scripts/test.sh store          # only tests whose name contains "store"
#   scripts/test.sh -- --nocapture
#
# Exported for the tests:
#   WINDLASS_TEST_CLICKHOUSE_URL=http://127.0.0.1:<port>   the server (user "default", no password)
#   WINDLASS_TEST_REQUIRE_CLICKHOUSE=1                     fail, don't skip, when it (or the cluster) is unreachable
#   WINDLASS_TEST_CLICKHOUSE_REPLICAS=http://..:P1,http://..:P2  two replicas and a ZooKeeper
#   WINDLASS_TEST_CLICKHOUSE_CLUSTER=windlass              (scripts/clickhouse_cluster.sh)
#   WINDLASS_TEST_REQUIRE_BROWSER=1                        fail, don't skip, without chromium
#   WINDLASS_TEST_PANDAS_PYTHON, WINDLASS_TEST_NODE, WINDLASS_TEST_CLOJURE,
#   WINDLASS_TEST_CLOJURE_JVM                              the data-phase runtimes (a virtual
#                                                          environment with pandas, node, bb or nbb,
#                                                          the JVM's clojure)
#   WINDLASS_TEST_REQUIRE_DATA_RUNTIMES=1                  fail, don't skip, without them
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The build directory is cargo's own choice (./target, or $CARGO_TARGET_DIR when set), the same
# one `cargo run` uses, so the README's two commands build the bundled DuckDB (slow) once.
# .ci/run sets a persistent one outside the clone.

url=$(scripts/clickhouse.sh start)
export WINDLASS_TEST_CLICKHOUSE_URL="$url"
export WINDLASS_TEST_REQUIRE_CLICKHOUSE=1
echo "test.sh: WINDLASS_TEST_CLICKHOUSE_URL=$WINDLASS_TEST_CLICKHOUSE_URL WINDLASS_TEST_REQUIRE_CLICKHOUSE=1 CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-./target}" >&2

# Two replicas and a ZooKeeper for the replicated store (tests/replicated.rs); set -e fails the
# run when they cannot start.
replicas=$(scripts/clickhouse_cluster.sh start)
export WINDLASS_TEST_CLICKHOUSE_REPLICAS="$replicas"
export WINDLASS_TEST_CLICKHOUSE_CLUSTER=windlass
echo "test.sh: WINDLASS_TEST_CLICKHOUSE_REPLICAS=$replicas WINDLASS_TEST_CLICKHOUSE_CLUSTER=windlass" >&2

# Debian's Chromium and chromedriver for the browser test of the web page (apt-installed when
# missing); the test must then run, not skip.
scripts/chromium.sh >/dev/null
export WINDLASS_TEST_REQUIRE_BROWSER=1

# The data-phase runtimes (tests/data_phases.rs): a virtual environment with pandas from PyPI,
# node, and bb or else nbb from npm, installed under ~/.cache/windlass/runtimes when missing, and
# Debian's JVM clojure with clojure.data.json (apt-get).
runtimes=$(scripts/data_runtimes.sh)
mapfile -t runtime_paths <<<"$runtimes"
export WINDLASS_TEST_PANDAS_PYTHON="${runtime_paths[0]}"
export WINDLASS_TEST_NODE="${runtime_paths[1]}"
export WINDLASS_TEST_CLOJURE="${runtime_paths[2]}"
export WINDLASS_TEST_CLOJURE_JVM="${runtime_paths[3]}"
export WINDLASS_TEST_REQUIRE_DATA_RUNTIMES=1

# `--all-targets` leaves out doctests, so run those first (only for a full run: `--doc` can't be
# combined with target filters); the last lines of output stay the main suite's summary.
if [[ $# -eq 0 ]]; then
    cargo test --locked --doc
fi
cargo test --locked --all-targets "$@"
