#!/usr/bin/env bash
# `make install` into a temporary root (DESTDIR, PREFIX=/usr), as a packager stages it: every file
# where docs/operations.md (Install) says and nothing else, the unit's paths, every DOORMAN_*
# variable doorman reads in the sample environment file, the unit accepted by
# `systemd-analyze verify`, its exposure by `systemd-analyze security` at most 2.0, and its user
# made by `systemd-sysusers`. BUILD names the build directory to install from (default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-build}

fail() { echo "install check: $*" >&2; exit 1; }
for tool in systemd-analyze systemd-sysusers; do
    command -v "$tool" >/dev/null || fail "$tool is missing (Debian package systemd: scripts/deps.sh --test)"
done

stage=$(mktemp -d /tmp/doorman-install.XXXXXX)
trap 'rm -rf "$stage"' EXIT
make -s -C "$ROOT" install BUILD="$BUILD" DESTDIR="$stage" PREFIX=/usr >"$stage.log" 2>&1 ||
    { cat "$stage.log" >&2; rm -f "$stage.log"; fail "make install failed"; }
rm -f "$stage.log"

expected="etc/doorman/doorman.env.example
usr/bin/doorman
usr/bin/tgsim
usr/lib/systemd/system/doorman.service
usr/lib/sysusers.d/doorman.conf
usr/share/doc/doorman/operations.md"
got=$(cd "$stage" && find . -type f | sed 's#^\./##' | sort)
[[ $got == "$expected" ]] || fail "installed files differ from docs/operations.md:
$(diff <(echo "$expected") <(echo "$got") || true)"
echo "installed: $(echo "$got" | tr '\n' ' ')"

"$stage/usr/bin/doorman" version | grep -q '^doorman ' || fail "the installed doorman does not run"

unit="$stage/usr/lib/systemd/system/doorman.service"
grep -qx 'ExecStart=/usr/bin/doorman serve --data /var/lib/doorman' "$unit" || fail "ExecStart is wrong"
grep -qx 'EnvironmentFile=-/etc/doorman/doorman.env' "$unit" || fail "EnvironmentFile is wrong"
grep -qx 'ReadWritePaths=/var/lib/doorman' "$unit" || fail "ReadWritePaths is not the data dir"
[[ $(stat -c %a "$stage/etc/doorman/doorman.env.example") == 644 ]] || fail "the sample is not 0644"

# every variable doorman reads (a quoted "DOORMAN_…" in src/, tgsim aside) is in the sample
missing=()
for v in $(grep -rhoE '"DOORMAN_[A-Z0-9_]+"' src --exclude-dir=sim | tr -d '"' | sort -u); do
    grep -q "^#$v=" "$stage/etc/doorman/doorman.env.example" || missing+=("$v")
done
((${#missing[@]} == 0)) || fail "doorman.env.example lacks ${missing[*]}"

# verify the unit as installed; only ExecStart's binary is looked up in the staging root, where
# it is (systemd-analyze's --root needs a whole systemd tree, which a staging root is not)
copy=$(mktemp -d /tmp/doorman-unit.XXXXXX)
trap 'rm -rf "$stage" "$copy"' EXIT
sed "s#^ExecStart=/usr/bin/#ExecStart=$stage/usr/bin/#" "$unit" >"$copy/doorman.service"
out=$(systemd-analyze verify --man=no "$copy/doorman.service" 2>&1) || fail "systemd-analyze verify: $out"
[[ -z $out ]] || fail "systemd-analyze verify warns: $out"
echo "systemd-analyze verify: ok"

# exposure on systemd's 0-10 scale; --threshold counts tenths
out=$(systemd-analyze security --offline=true --root="$stage" --threshold=20 doorman.service 2>&1) ||
    fail "systemd-analyze security: exposure over 2.0: $(echo "$out" | tail -1)"
echo "systemd-analyze security: $(echo "$out" | tail -1)"

out=$(systemd-sysusers --root="$stage" --dry-run 2>&1) || fail "systemd-sysusers: $out"
echo "$out" | grep -q "Creating user 'doorman'" || fail "systemd-sysusers makes no user doorman: $out"
echo "systemd-sysusers: makes the user doorman"
