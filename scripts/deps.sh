#!/usr/bin/env bash
# Installs what doorman needs to build (and, with --test, to test) on Debian.
# Only missing packages are installed; nothing is downloaded outside apt and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(gcc make pkg-config meson ninja-build libmicrohttpd-dev libcurl4-openssl-dev
            libjansson-dev libsqlite3-dev libsodium-dev libssl-dev zlib1g-dev libpq-dev
            libutf8proc-dev libpcre2-dev libjs-chart.js)
# libjs-chart.js: Chart.js, embedded into the binary for the statistics page (web/meson.build)
# systemd: systemd-analyze and systemd-sysusers check the installed unit (tests/install/check.sh)
# python3-prometheus-client: a parser we did not write reads GET /metrics
# (tests/integration/observability.test.mjs)
test_pkgs=(nodejs npm chromium python3 python3-telethon sqlite3 clang clang-format libclang-rt-14-dev
           postgresql systemd python3-prometheus-client)

want=("${build_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
    # A nodejs from another apt source (NodeSource) bundles npm and conflicts with Debian's.
    [[ $p == npm ]] && command -v npm >/dev/null && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}"
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo=sudo
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" == "--test" ]]; then
    if [[ ! -d tests/node_modules/playwright-core || tests/package-lock.json -nt tests/node_modules/.installed ]]; then
        (cd tests && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed)
    fi
fi
