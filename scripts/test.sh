#!/usr/bin/env bash
# `make test`: installs what tests need, builds with ASan+UBSan into build-test/, runs the C unit
# tests, then the node:test integration and browser tests against the real binaries on loopback.
# Ends with one line "N passed, N failed" (unit + node) and a non-zero exit if anything failed.
# Works unattended (CI=true, no stdin) as root on a fresh Debian machine.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${TESTBUILD:-build-test}
LOGDIR="$ROOT/tests/out"
mkdir -p "$LOGDIR"

passed=0
failed=0

finish() {
    echo "$passed passed, $failed failed"
    if ((failed > 0)); then exit 1; fi
    exit 0
}

step() { echo; echo "== $*"; }

step "dependencies"
if ! scripts/deps.sh --test </dev/null; then
    echo "test: installing dependencies failed" >&2
    failed=$((failed + 1)); finish
fi

source scripts/asan_build.sh
step "build ($BUILD, ASan+UBSan)"
if ! asan_build "$BUILD"; then
    failed=$((failed + 1)); finish
fi

step "unit tests"
unit_log="$LOGDIR/unit.log"
meson test -C "$BUILD" --suite unit --print-errorlogs </dev/null 2>&1 | tee "$unit_log"
unit_rc=${PIPESTATUS[0]}
# meson's summary: "Ok: N", "Fail: N", "Unexpected Pass: N", "Timeout: N".
count() { awk -v k="$1" -F: '$1 == k { gsub(/ /, "", $2); n = $2 } END { print n + 0 }' "$unit_log"; }
u_ok=$(count "Ok")
u_fail=$(( $(count "Fail") + $(count "Unexpected Pass") + $(count "Timeout") ))
if ((unit_rc != 0 && u_fail == 0)); then u_fail=1; fi  # meson itself failed
passed=$((passed + u_ok))
failed=$((failed + u_fail))

# Checks that are one test each: the C files are formatted, generated code is fresh, the interop
# vectors still come out of Telethon and GramJS as committed, the fuzz targets survive a short
# run, and `make install` stages what docs/operations.md says with a unit systemd accepts.
check() {
    local name=$1
    shift
    step "$name"
    if "$@" </dev/null; then
        passed=$((passed + 1))
    else
        echo "test: $name FAILED" >&2
        failed=$((failed + 1))
    fi
}
check "C files formatted (scripts/format_check.sh)" scripts/format_check.sh
check "layers use only what their build files name (scripts/layers_check.py)" python3 scripts/layers_check.py
check "TL tables fresh (tools/tlgen/check.sh)" tools/tlgen/check.sh
check "tgsim's layer tables fresh (tests/interop/dc_layers_check.sh)" sh tests/interop/dc_layers_check.sh
check "interop vectors reproduce (tests/interop/check.sh)" tests/interop/check.sh
check "session-file fixtures reproduce (tests/interop/session_check.sh)" sh tests/interop/session_check.sh
check "fuzz targets, short run (scripts/fuzz.sh short)" scripts/fuzz.sh short
check "make install into a staging root, unit verified (tests/install/check.sh)" env BUILD="$BUILD" tests/install/check.sh

# node_suite TAP DIR...: node:test over the dirs, TAP kept in TAP; adds its counts to the totals.
# Three test files at once (NODE_TEST_CONCURRENCY): most of a test's time is waiting on processes
# and deadlines, so a third file keeps the two cores busy (the integration files on SQLite: 4 min
# at three, with a quarter of the CPU still idle, against 7 at two).
node_suite() {
    local tap=$1
    shift
    rm -f "$tap"
    TGSIM_BIN="$ROOT/$BUILD/src/sim/tgsim" DOORMAN_BIN="$ROOT/$BUILD/src/doorman" \
        node --test --test-concurrency="${NODE_TEST_CONCURRENCY:-3}" \
        --test-timeout="${NODE_TEST_TIMEOUT_MS:-300000}" \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$tap" \
        "$@" </dev/null
    local rc=$? n_pass n_fail
    tapcount() { awk -v k="# $1" 'index($0, k " ") == 1 { n = $3 } END { print n + 0 }' "$tap" 2>/dev/null || echo 0; }
    n_pass=$(tapcount pass)
    n_fail=$(( $(tapcount fail) + $(tapcount cancelled) ))
    if ((rc != 0 && n_fail == 0)); then n_fail=1; fi  # the runner itself failed
    passed=$((passed + n_pass))
    failed=$((failed + n_fail))
}

step "integration and browser tests (node:test)"
dirs=()
for d in tests/integration tests/e2e; do
    if [[ -d "$d" ]] && compgen -G "$d/*.test.mjs" >/dev/null; then dirs+=("$d/"); fi
done
if ((${#dirs[@]})); then
    node_suite "$LOGDIR/node.tap" "${dirs[@]}"
else
    echo "no node tests found"
fi

# The same store unit test and integration suite on PostgreSQL: a throwaway cluster (scripts/pg.sh),
# one fresh database per doorman data dir (tests/lib/doorman.mjs). Browser tests stay on SQLite.
step "PostgreSQL: throwaway cluster (scripts/pg.sh)"
pgdir=$(mktemp -d /tmp/doorman-test-pg.XXXXXX)
if pg_url=$(scripts/pg.sh start "$pgdir" </dev/null); then
    trap 'scripts/pg.sh stop "$pgdir" </dev/null' EXIT
    step "PostgreSQL: store unit test"
    pg_unit_log="$LOGDIR/unit-pg.log"
    DOORMAN_TEST_PG_URL=$pg_url meson test -C "$BUILD" --suite unit --print-errorlogs store </dev/null 2>&1 |
        tee "$pg_unit_log"
    unit_rc=${PIPESTATUS[0]}
    unit_log=$pg_unit_log
    u_ok=$(count "Ok")
    u_fail=$(( $(count "Fail") + $(count "Unexpected Pass") + $(count "Timeout") ))
    if ((unit_rc != 0 && u_fail == 0)); then u_fail=1; fi
    # it must have run its PostgreSQL half, not skipped it
    if ((u_fail == 0)) && ! grep -q -- "-- the same against PostgreSQL" "$BUILD/meson-logs/testlog.txt"; then
        echo "test: the store unit test did not run against PostgreSQL" >&2
        u_ok=0 u_fail=1
    fi
    passed=$((passed + u_ok))
    failed=$((failed + u_fail))
    step "PostgreSQL: integration tests (node:test)"
    DOORMAN_TEST_PG_URL=$pg_url node_suite "$LOGDIR/node-pg.tap" tests/integration/
    scripts/pg.sh stop "$pgdir" </dev/null && trap - EXIT
else
    echo "test: could not start a PostgreSQL cluster (see $pgdir)" >&2
    failed=$((failed + 1))
fi

echo
finish
