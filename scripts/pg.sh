#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: no system service, loopback only, trust auth.
#
#   scripts/pg.sh start [DIR]   initdb in DIR (default: a new /tmp/doorman-pg.XXXXXX), start the
#                               server on a free 127.0.0.1 port; prints the URL on stdout (also
#                               kept in DIR/url) and the directory on stderr
#   scripts/pg.sh stop DIR      stop the server and remove DIR
#
# Uses Debian's postgresql package (scripts/deps.sh --test installs it). initdb refuses to run
# as root: as root the cluster belongs to a system user doorman-test, created when missing.
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }

bindir() {
    local d
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return
    fi
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n "$d" && -x "$d/initdb" ]] || die "PostgreSQL is not installed: run scripts/deps.sh --test"
    echo "$d"
}

# Runs a command as the cluster's owner.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u doorman-test -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir="${1:-}" bin port
    bin=$(bindir)
    if [[ -z "$dir" ]]; then
        dir=$(mktemp -d /tmp/doorman-pg.XXXXXX)
    else
        mkdir -p "$dir"
    fi
    [[ ! -e "$dir/data" ]] || die "$dir/data exists already: stop that cluster first"
    if [[ $(id -u) -eq 0 ]]; then
        id -u doorman-test >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin doorman-test
        chown doorman-test "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
        die "initdb failed, see $dir/initdb.log"
    # one line: pg_ctl pastes -o into a shell command
    local opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir' -c fsync=off"
    opts+=" -c synchronous_commit=off -c full_page_writes=off -c max_connections=400"
    # a free port may be taken between asking and binding: try a few
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
            -o "$opts -p $port" >/dev/null; then
            echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/url"
            cat "$dir/url"
            echo "pg.sh: cluster in $dir (stop with: scripts/pg.sh stop $dir)" >&2
            return
        fi
    done
    die "the server did not start, see $dir/server.log"
}

stop() {
    local dir="${1:-}" bin
    [[ -n "$dir" && -d "$dir" ]] || die "usage: pg.sh stop DIR"
    [[ -f "$dir/data/PG_VERSION" || ! -e "$dir/data" ]] || die "$dir is not a pg.sh cluster"
    bin=$(bindir)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ||
            die "could not stop the server in $dir"
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start) start "${2:-}" ;;
stop) stop "${2:-}" ;;
*) die "usage: pg.sh start [DIR] | pg.sh stop DIR" ;;
esac
