#!/usr/bin/env bash
# `make soak`: the crash soak (tests/soak/soak.mjs), not part of `make test`. Rounds of kill -9 of
# doorman during Approve All, Load Requests and recording under load, each followed by a restart
# and a check against tgsim's records (nothing lost, nothing decided twice), on SQLite and on
# PostgreSQL (a throwaway cluster, scripts/pg.sh). Builds build-test/ with ASan+UBSan as
# scripts/test.sh does, so the sanitizers watch every restart too.
#
# The two halves run at the same time (a round spends much of its time waiting on doorman and
# tgsim, not on the CPU); each line names its backend. Logs: tests/out/soak-sqlite.log,
# tests/out/soak-postgresql.log. Ends with the totals of both and a non-zero exit if a round
# failed.
#
#   SOAK_ROUNDS=N          rounds per backend (default 50)
#   SOAK_SEED=N            the master seed (default random; printed): the same rounds again
#   SOAK_REPLAY=SCEN:SEED  one round as a failed run printed it
#   SOAK_BACKENDS="sqlite postgresql"   which halves to run (default both)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${TESTBUILD:-build-test}
LOGDIR="$ROOT/tests/out"
mkdir -p "$LOGDIR"
die() { echo "soak: $*" >&2; exit 1; }

scripts/deps.sh --test </dev/null || die "installing dependencies failed"

source scripts/asan_build.sh
asan_build "$BUILD" || die "the build failed"

seed=${SOAK_SEED:-$((RANDOM * 32768 + RANDOM))}
backends=${SOAK_BACKENDS:-sqlite postgresql}
pgdir=
pg_url=
if [[ " $backends " == *" postgresql "* ]]; then
    pgdir=$(mktemp -d /tmp/doorman-soak-pg.XXXXXX)
    pg_url=$(scripts/pg.sh start "$pgdir" </dev/null) || die "could not start a PostgreSQL cluster (see $pgdir)"
    trap 'scripts/pg.sh stop "$pgdir" </dev/null' EXIT
fi

# half BACKEND: the soak on one backend, its output on stdout and in its log; returns its status.
half() {
    local backend=$1 log="$LOGDIR/soak-$1.log"
    local env=(env -u DOORMAN_TEST_PG_URL)
    [[ $backend == postgresql ]] && env=(env DOORMAN_TEST_PG_URL="$pg_url")
    "${env[@]}" TGSIM_BIN="$ROOT/$BUILD/src/sim/tgsim" DOORMAN_BIN="$ROOT/$BUILD/src/doorman" \
        SOAK_SEED="$seed" node tests/soak/soak.mjs </dev/null 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
}

pids=()
for b in $backends; do
    [[ $b == sqlite || $b == postgresql ]] || die "SOAK_BACKENDS: unknown backend $b (sqlite, postgresql)"
    half "$b" &
    pids+=($!)
done
failed=0
for p in "${pids[@]}"; do
    wait "$p" || failed=1
done

echo
echo "== soak totals (SOAK_SEED=$seed)"
for b in $backends; do
    grep -E "^$b +[a-z-]+ +rounds=" "$LOGDIR/soak-$b.log" || echo "$b: no totals (see $LOGDIR/soak-$b.log)"
done
if ((failed)); then
    echo "soak: FAILED (see the round marked FAILED above and its replay line)"
    exit 1
fi
echo "soak: passed"
