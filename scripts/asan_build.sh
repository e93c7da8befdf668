# asan_build.sh: sourced by scripts/test.sh and scripts/soak.sh: the sanitizer settings every
# test process runs with, and asan_build DIR, which sets DIR up (once) with ASan+UBSan and builds
# it (TEST_JOBS at a time, default 2). Prints what failed and returns non-zero on failure.

# Leak checks are off: libraries (curl, sodium, sqlite) keep process-wide state until exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=0}

asan_build() {
    local dir=$1
    if [[ ! -f "$dir/build.ninja" ]] &&
        ! meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug </dev/null; then
        echo "meson setup of $dir failed" >&2
        return 1
    fi
    if ! ninja -C "$dir" -j "${TEST_JOBS:-2}" </dev/null; then
        echo "the build of $dir failed" >&2
        return 1
    fi
}
