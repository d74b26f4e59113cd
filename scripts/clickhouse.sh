#!/usr/bin/env bash
# A private ClickHouse server for windlass's tests: its own config, data and logs, loopback only.
#
#   scripts/clickhouse.sh [start]        install if missing, start (or reuse) the instance, print its URL
#   scripts/clickhouse.sh start --fresh  same, but wipe its data first (only when it is not running)
#   scripts/clickhouse.sh stop           stop it (no-op when it is not running)
#   scripts/clickhouse.sh status         exit 0 and print the URL when it is up, exit 1 otherwise
#   scripts/clickhouse.sh url            alias of status
#   scripts/clickhouse.sh reset          stop it and delete its data and logs
#   scripts/clickhouse.sh client [args]  clickhouse-client connected to it (native protocol)
#
# stdout carries only the URL, so `url=$(scripts/clickhouse.sh)` works; progress goes to stderr.
#
# Environment (all optional):
#   WINDLASS_CLICKHOUSE_DIR    state dir (default: ${XDG_CACHE_HOME:-$HOME/.cache}/windlass/clickhouse)
#   WINDLASS_CH_HTTP_PORT      preferred HTTP port (default 8123; the next free port from 18123 if taken)
#   WINDLASS_CH_TCP_PORT       preferred native port (default 19000, not 9000, to avoid a system server)
#   WINDLASS_CH_START_TIMEOUT  seconds to wait for the server to answer (default 60)
#   WINDLASS_CH_EXTRA_CONFIG   XML elements added to the server's config (scripts/clickhouse_cluster.sh
#                              passes ZooKeeper, macros and interserver ports for a replica)
#
# Written for Debian's clickhouse-server 18.16 (XML config with a <yandex> root); newer servers
# accept the same config. No init system is needed: the server binary is started directly.
set -euo pipefail

STATE_DIR="${WINDLASS_CLICKHOUSE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/windlass/clickhouse}"
CONFIG="$STATE_DIR/config.xml"
USERS="$STATE_DIR/users.xml"
PIDFILE="$STATE_DIR/server.pid"
PORTSFILE="$STATE_DIR/ports" # "HTTP_PORT TCP_PORT" of the running instance
LOGDIR="$STATE_DIR/log"
START_TIMEOUT="${WINDLASS_CH_START_TIMEOUT:-60}"

say() { echo "clickhouse.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

find_server() {
    local b
    for b in "$(command -v clickhouse-server 2>/dev/null || true)" /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
        if [[ -n "$b" && -x "$b" ]]; then
            echo "$b"
            return 0
        fi
    done
    return 1
}

ensure_installed() {
    if find_server >/dev/null; then
        return 0
    fi
    say "clickhouse-server not found; installing Debian's clickhouse-server and clickhouse-client"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "not root and no sudo: install it yourself with
    apt-get update && apt-get install -y clickhouse-server clickhouse-client"
        sudo=(sudo)
    fi
    local t0=$SECONDS
    # The package's maintainer script may try to start a system-wide server (on 8123/9000) where
    # an init system allows it; that is harmless: this script picks free ports for its own instance.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q >&2 ||
        die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
        --no-install-recommends clickhouse-server clickhouse-client >&2 ||
        die "apt-get install clickhouse-server clickhouse-client failed"
    find_server >/dev/null || die "clickhouse-server still not found after installing it"
    say "installed in $((SECONDS - t0))s"
}

# True when something accepts TCP connections on 127.0.0.1:$1 (also catches 0.0.0.0 listeners).
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints the first free port among: $1, then $2, $2+1, ... (up to 100 tries); skips $3 if given.
pick_port() {
    local preferred=$1 base=$2 avoid=${3:-} p
    for p in "$preferred" $(seq "$base" $((base + 99))); do
        [[ "$p" == "$avoid" ]] && continue
        if ! port_in_use "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

pid_alive() {
    local pid
    [[ -f "$PIDFILE" ]] || return 1
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # A recycled pid belonging to another program is not our server.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONFIG" || return 1
    echo "$pid"
}

http_ok() {
    [[ "$(curl -s --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null)" == "Ok." ]]
}

# Prints the URL when our instance is running and answering.
running_url() {
    local http tcp
    pid_alive >/dev/null || return 1
    [[ -f "$PORTSFILE" ]] || return 1
    read -r http tcp <"$PORTSFILE" || return 1
    http_ok "$http" || return 1
    echo "http://127.0.0.1:$http"
}

log_tail() {
    local f
    for f in "$LOGDIR/clickhouse-server.err.log" "$LOGDIR/clickhouse-server.log" "$LOGDIR/stdout.log"; do
        if [[ -s "$f" ]]; then
            echo "----- last lines of $f -----" >&2
            tail -n 25 "$f" >&2
        fi
    done
}

write_config() {
    local http=$1 tcp=$2
    cat >"$CONFIG" <<EOF
<?xml version="1.0"?>
<!-- Generated by scripts/clickhouse.sh on each start; edit the script, not this file. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$LOGDIR/clickhouse-server.log</log>
        <errorlog>$LOGDIR/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http</http_port>
    <tcp_port>$tcp</tcp_port>
    <path>$STATE_DIR/data/</path>
    <tmp_path>$STATE_DIR/tmp/</tmp_path>
    <user_files_path>$STATE_DIR/user_files/</user_files_path>
    <format_schema_path>$STATE_DIR/format_schemas/</format_schema_path>
    <users_config>$USERS</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
${WINDLASS_CH_EXTRA_CONFIG:-}
</yandex>
EOF
    cat >"$USERS" <<'EOF'
<?xml version="1.0"?>
<!-- Generated by scripts/clickhouse.sh. One user, "default", empty password, loopback only. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

stop_server() {
    local pid i
    if ! pid=$(pid_alive); then
        rm -f "$PIDFILE" "$PORTSFILE"
        return 0
    fi
    say "stopping ClickHouse (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "still running after 30s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$PIDFILE" "$PORTSFILE"
}

# One attempt to launch the server on the given ports; returns 0 once it answers "Ok.",
# 2 when the port was grabbed by someone else in the meantime, 1 on any other failure.
launch() {
    local bin=$1 http=$2 tcp=$3 pid deadline errlog="$LOGDIR/clickhouse-server.err.log" errlines
    write_config "$http" "$tcp"
    : >"$LOGDIR/stdout.log"
    errlines=0
    [[ -f "$errlog" ]] && errlines=$(wc -l <"$errlog")
    # setsid and the redirections let the server outlive this script without holding its
    # stdout/stderr open; 9>&- keeps the lock fd from leaking into the server.
    setsid "$bin" --config-file="$CONFIG" </dev/null >>"$LOGDIR/stdout.log" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"
    echo "$http $tcp" >"$PORTSFILE"
    deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if http_ok "$http"; then
            # The server records its own pid in data/status; prefer it (robust if setsid forked).
            pid=$(sed -n 's/^PID: *//p' "$STATE_DIR/data/status" 2>/dev/null || true)
            [[ "$pid" =~ ^[0-9]+$ ]] && echo "$pid" >"$PIDFILE"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PIDFILE" "$PORTSFILE"
            if tail -n +"$((errlines + 1))" "$errlog" 2>/dev/null | grep -q "Address already in use"; then
                return 2
            fi
            say "error: the server (pid $pid) exited during startup"
            log_tail
            return 1
        fi
        sleep 0.1
    done
    say "error: the server did not answer 'Ok.' on http://127.0.0.1:$http/ within ${START_TIMEOUT}s"
    log_tail
    stop_server
    return 1
}

start_server() {
    local fresh=$1 bin url http tcp attempt rc t0
    if url=$(running_url); then
        say "reusing the running instance (pid $(cat "$PIDFILE"))"
        [[ "$fresh" == 1 ]] && say "--fresh ignored: the instance is running (stop it first)"
        echo "$url"
        return 0
    fi
    if pid_alive >/dev/null; then
        say "our server process is alive but not answering; restarting it"
        stop_server
    fi
    rm -f "$PIDFILE" "$PORTSFILE"
    ensure_installed
    bin=$(find_server)
    if [[ "$fresh" == 1 ]]; then
        say "--fresh: deleting $STATE_DIR/data"
        rm -rf "$STATE_DIR/data" "$STATE_DIR/tmp"
    fi
    mkdir -p "$STATE_DIR"/{data,tmp,user_files,format_schemas} "$LOGDIR"
    for attempt in 1 2 3; do
        http=$(pick_port "${WINDLASS_CH_HTTP_PORT:-8123}" 18123) || die "no free HTTP port found"
        tcp=$(pick_port "${WINDLASS_CH_TCP_PORT:-19000}" 19001 "$http") || die "no free native port found"
        say "starting $bin (HTTP $http, native $tcp, state in $STATE_DIR)"
        t0=$(date +%s%N)
        rc=0
        launch "$bin" "$http" "$tcp" || rc=$?
        if [[ $rc == 0 ]]; then
            say "ClickHouse $(curl -s --max-time 5 "http://127.0.0.1:$http/" --data-binary 'SELECT version()') up in $((($(date +%s%N) - t0) / 1000000)) ms (pid $(cat "$PIDFILE"))"
            echo "http://127.0.0.1:$http"
            return 0
        fi
        [[ $rc == 2 ]] || exit 1
        say "port $http or $tcp was taken meanwhile; trying other ports (attempt $attempt)"
    done
    die "could not bind free ports after 3 attempts"
}

main() {
    local cmd=${1:-start}
    [[ $# -gt 0 ]] && shift
    mkdir -p "$STATE_DIR"
    # Serialise concurrent invocations (two test runs starting at once).
    exec 9>"$STATE_DIR/.lock"
    flock -w 300 9 || die "timed out waiting for the lock $STATE_DIR/.lock"
    case "$cmd" in
    start)
        local fresh=0
        if [[ "${1:-}" == "--fresh" ]]; then
            fresh=1
        elif [[ -n "${1:-}" ]]; then
            die "unknown option for start: $1"
        fi
        start_server "$fresh"
        ;;
    stop) stop_server ;;
    status | url)
        if running_url; then
            return 0
        fi
        say "not running"
        return 1
        ;;
    reset)
        stop_server
        rm -rf "$STATE_DIR/data" "$STATE_DIR/tmp" "$LOGDIR"
        say "deleted data and logs under $STATE_DIR"
        ;;
    client)
        local http tcp
        running_url >/dev/null || die "not running; start it with scripts/clickhouse.sh start"
        read -r http tcp <"$PORTSFILE"
        exec 9>&-
        exec clickhouse-client --host 127.0.0.1 --port "$tcp" "$@"
        ;;
    -h | --help | help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$cmd' (start, stop, status, url, reset, client)" ;;
    esac
}

main "$@"
