#!/usr/bin/env bash
# make bench: the benchmarks in bench/, on the optimised build. Each prints ratios measured in
# the same run; none of them is part of `make test`. The PostgreSQL one runs on a throwaway
# cluster (scripts/pg.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
export DOORMAN_BIN="$PWD/build/src/doorman" TGSIM_BIN="$PWD/build/src/sim/tgsim"
echo "== approve-all through the bot (bench/approve_bench.mjs)"
node bench/approve_bench.mjs
echo
echo "== list endpoint over 1,000,000 rows vs a static body (bench/list_bench.c)"
./build/bench/list_bench "${ROWS:-1000000}" "${SECONDS_PER_RUN:-10}" 8
echo
echo "== export of ${EXPORT_ROWS:-200000} requests (CSV, JSON Lines): rate, peak RSS, the list's latency meanwhile, then every row read back by Python's csv module and compared with the table (bench/export_bench.c, bench/export_check.py; EXPORT_ROWS=1000000 for a million: 2-4 minutes of seeding)"
./build/bench/export_bench "${EXPORT_ROWS:-200000}" bench/export_check.py
echo
echo "== memory: idle, serving the list, and at the peak of 20 logins at once (bench/login_memory_bench.mjs)"
node bench/login_memory_bench.mjs
echo
echo "== loading 10,000 pending requests over MTProto, 50 ms a call: doorman's client vs Telethon (bench/mtproto_load_bench.c)"
./build/bench/mtproto_load_bench "$TGSIM_BIN" bench/mtproto_load_telethon.py "${MT_REQUESTS:-10000}" "${MT_LATENCY_MS:-50}"
echo
echo "== approve-all of 20,000 through a session (one hideAll, 50 ms a call) vs the bot at tgsim's rate limit (bench/approve_session_bench.mjs)"
node bench/approve_session_bench.mjs
echo
echo "== the same ${PG_N:-20000} requests on SQLite and PostgreSQL: recording, the list endpoint, Approve All (bench/pg_bench.mjs)"
pgdir=$(mktemp -d /tmp/doorman-bench-pg.XXXXXX)
pg_url=$(scripts/pg.sh start "$pgdir")
trap 'scripts/pg.sh stop "$pgdir"' EXIT
N=${PG_N:-20000} node bench/pg_bench.mjs "$pg_url"
echo
echo "== Load Requests of ${LOAD_N:-10000} requests through a session, then again: doorman's (and PostgreSQL's) CPU a request, SQLite and PostgreSQL (bench/load_bench.mjs)"
N=${LOAD_N:-10000} node bench/load_bench.mjs
DOORMAN_TEST_PG_URL="$pg_url" N=${LOAD_N:-10000} node bench/load_bench.mjs
echo
echo "== rules: evaluation rate through 50 rules, and the dry run over ${RULES_PENDING:-100000} pending on SQLite and PostgreSQL (bench/rules_bench.c)"
psql -q "$pg_url" -c 'CREATE DATABASE rules_bench'
./build/bench/rules_bench "${RULES_REQUESTS:-200000}" "${RULES_PENDING:-100000}" "${pg_url%/*}/rules_bench"
echo
echo "== rules deciding on arrival: ${RULES_LATENCY_N:-1000} requests at ${RULES_LATENCY_RATE:-100}/s, time to their decision in tgsim (bench/rules_latency_bench.mjs)"
N=${RULES_LATENCY_N:-1000} RATE=${RULES_LATENCY_RATE:-100} node bench/rules_latency_bench.mjs
echo
echo "== search and every filter at once over ${SEARCH_ROWS:-1000000} requests, SQLite and PostgreSQL (bench/search_bench.c)"
psql -q "$pg_url" -c 'CREATE DATABASE search_bench'
./build/bench/search_bench "${SEARCH_ROWS:-1000000}" "${SECONDS_PER_RUN:-10}" "${pg_url%/*}/search_bench"
echo
echo "== guard mode: ${GUARD_N:-500} join-request queries within a second, tgsim at ${GUARD_LATENCY_MS:-30} ms a call: time to each answer (bench/guard_bench.mjs)"
N=${GUARD_N:-500} LATENCY_MS=${GUARD_LATENCY_MS:-30} node bench/guard_bench.mjs
echo
echo "== the statistics page's data (GET /api/stats: 30 days, one channel, 48 hours, a year) over ${STATS_ROWS:-1000000} requests, SQLite and PostgreSQL (bench/stats_bench.c; STATS_ROWS=10000000 for ten million)"
psql -q "$pg_url" -c 'CREATE DATABASE stats_bench'
./build/bench/stats_bench "${STATS_ROWS:-1000000}" "${STATS_RUNS:-50}" "${pg_url%/*}/stats_bench"
echo
echo "== a join request arriving: recorded through a session's pushed updates vs the bot's long polling, ${UPDATES_N:-300} each at ${UPDATES_RATE:-20}/s (bench/updates_bench.mjs)"
N=${UPDATES_N:-300} RATE=${UPDATES_RATE:-20} node bench/updates_bench.mjs
