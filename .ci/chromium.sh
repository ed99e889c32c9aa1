#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the browser test of the HTML pages (tests/ogcapi/test_browser.py).
#
#   .ci/chromium.sh start   install Debian's chromium and chromium-driver when missing (as root) and print
#                           the chromedriver path
#   .ci/chromium.sh stop    nothing to stop (each test starts and ends its own browser)
#
# Not root and not installed: says so on stderr; the browser test then skips, except under CI=true,
# where it fails.
set -euo pipefail

say() { echo "chromium.sh: $*" >&2; }

installed() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

case "${1:-}" in
    start)
        if ! installed; then
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                say "installing chromium and chromium-driver"
                # another apt run (a developer's) may hold the lock for a while: wait for it
                for _ in $(seq 1 60); do
                    if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                            chromium chromium-driver >/dev/null 2>&1; then
                        break
                    fi
                    apt-get update -qq >/dev/null 2>&1 || true
                    sleep 5
                done
            else
                say "chromium or chromedriver missing and not root: the browser test will skip"
                exit 0
            fi
        fi
        installed || { say "chromium could not be installed"; exit 1; }
        command -v chromedriver
        ;;
    stop)
        ;;
    *)
        sed -n '2,9p' "$0"
        exit 2
        ;;
esac
