#!/usr/bin/env bash
# The runtimes of the data-phase tests (tests/data_phases.rs), installed outside the clone when
# missing:
#
#   scripts/data_runtimes.sh    print four lines: a Python with pandas, matplotlib, plotly and
#                               Pillow (the packages the corpus's data phases import; a virtual environment
#                               under the cache folder), node, a Clojure runner (bb when
#                               installed, else nbb from npm under the cache folder), and the
#                               JVM's clojure (Debian's, with clojure.data.json)
#
# apt-get installs python3-venv, nodejs, npm, clojure and libdata-json-clojure only when they
# are missing; pip installs the packages from PyPI into the virtual environment only when they
# do not import there yet. The cache folder is $WINDLASS_RUNTIME_CACHE, default
# ~/.cache/windlass/runtimes.
set -euo pipefail

say() { echo "data_runtimes.sh: $*" >&2; }
cache="${WINDLASS_RUNTIME_CACHE:-$HOME/.cache/windlass/runtimes}"
mkdir -p "$cache"

apt_install() {
    local sudo_cmd=""
    if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
    say "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq >&2
    $sudo_cmd apt-get install -y -qq --no-install-recommends "$@" >&2
}

missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
# The JVM runner reads Debian's jar of clojure.data.json (src/tools/data/runners.rs).
command -v clojure >/dev/null 2>&1 || missing+=(clojure)
[ -f /usr/share/java/data.json.jar ] || missing+=(libdata-json-clojure)
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi

venv="$cache/pandas-venv"
if ! "$venv/bin/python" -c 'import pandas' >/dev/null 2>&1; then
    say "creating $venv with pandas"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pandas >&2
fi
if ! "$venv/bin/python" -c 'import matplotlib, plotly, PIL' >/dev/null 2>&1; then
    say "installing matplotlib, plotly and Pillow into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check matplotlib plotly pillow >&2
fi

if command -v bb >/dev/null 2>&1; then
    clojure=$(command -v bb)
else
    nbb_dir="$cache/nbb"
    if [ ! -x "$nbb_dir/node_modules/.bin/nbb" ]; then
        say "installing nbb from npm into $nbb_dir (bb is not installed)"
        mkdir -p "$nbb_dir"
        npm install --silent --no-audit --no-fund --prefix "$nbb_dir" nbb >&2
    fi
    clojure="$nbb_dir/node_modules/.bin/nbb"
fi

echo "$venv/bin/python"
command -v node
echo "$clojure"
command -v clojure
