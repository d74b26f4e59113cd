#!/usr/bin/env bash
# Debian's Chromium and its WebDriver, for the browser test of the web page (tests/browser.rs).
#
#   scripts/chromium.sh    install chromium and chromium-driver with apt-get if missing, then
#                          print two lines: the chromium binary and the chromedriver binary
#
# The test finds them itself (WINDLASS_TEST_CHROMIUM / WINDLASS_TEST_CHROMEDRIVER override);
# CI runs this first and sets WINDLASS_TEST_REQUIRE_BROWSER=1 so the test is never skipped.
set -euo pipefail

say() { echo "chromium.sh: $*" >&2; }

find_bin() {
    local b
    for b in "$@"; do
        if command -v "$b" >/dev/null 2>&1; then
            command -v "$b"
            return 0
        fi
        if [ -x "$b" ]; then
            echo "$b"
            return 0
        fi
    done
    return 1
}

chromium_bin() { find_bin chromium chromium-browser /usr/lib/chromium/chromium; }
driver_bin() { find_bin chromedriver /usr/lib/chromium/chromedriver; }

if ! chromium_bin >/dev/null || ! driver_bin >/dev/null; then
    say "installing Debian's chromium and chromium-driver"
    sudo_cmd=""
    if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq >&2
    $sudo_cmd apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >&2
fi

chromium_bin
driver_bin
