#!/usr/bin/env bash
# One entry point for the README's two Quickstart commands, on Debian 12 as root (or with sudo):
#   bash tools/quickstart.sh demo   install what is missing, build, run tools/demo.sh
#   bash tools/quickstart.sh test   install what is missing, build, run every test
# .ci/run calls the second one and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
    demo | test) ;;
    *)
        echo "usage: bash tools/quickstart.sh demo|test" >&2
        exit 2
        ;;
esac

jobs=$(nproc 2>/dev/null || echo 2)
packages=(g++ cmake make pkg-config libpq-dev liburing-dev libconcurrentqueue-dev libsimdjson-dev
          libbenchmark-dev catch2 libcli11-dev postgresql-15 zlib1g-dev libzstd-dev libxxhash-dev
          python3-asyncpg golang-go golang-github-jackc-pgx-v4-dev libpqxx-dev
          python3-matplotlib time help2man)

install_missing() {
    local missing=()
    # The engine test of a server whose messages are German needs the de_DE.UTF-8 locale
    # (issue 12): Debian's locales package, the line enabled in /etc/locale.gen, locale-gen.
    if [ "$mode" = test ] && ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
        local sudo_locale=()
        [ "$(id -u)" -ne 0 ] && sudo_locale=(sudo)
        dpkg-query -W -f='${Status}' locales 2>/dev/null | grep -q "install ok installed" ||
            DEBIAN_FRONTEND=noninteractive "${sudo_locale[@]}" apt-get install -y -qq locales \
                >/dev/null
        "${sudo_locale[@]}" sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen
        "${sudo_locale[@]}" locale-gen >/dev/null
    fi
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
    # The pgvector check runs PGlite in Node; Node 20 may come from elsewhere than Debian.
    if [ "$mode" = test ] && ! command -v node >/dev/null; then
        missing+=(nodejs npm)
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        return
    fi
    echo "quickstart: installing ${missing[*]}" >&2
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

build() {  # build <dir> <target|all> <cmake args...>
    local dir=$1 target=$2
    shift 2
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j"$jobs" --target "$target"
}

install_missing
if [ "$mode" = demo ]; then
    # The demo's own options; `test` below sets every option it relies on again, so running
    # the two in any order still builds and runs every test.
    build build all -DPGINGEST_BUILD_TESTS=OFF -DPGINGEST_BUILD_BENCH=ON
    exec bash tools/demo.sh
fi

werror=OFF
if [ "${CI:-}" = true ]; then
    werror=ON
fi
# Tests and benchmarks forced on: a cache left by `demo` (tests off) must not hide any test, and
# a run that finds no test fails (--no-tests=error).
build build all -DPGINGEST_WERROR=$werror -DPGINGEST_BUILD_TESTS=ON -DPGINGEST_BUILD_BENCH=ON
(cd build && ctest --output-on-failure --no-tests=error)
# AddressSanitizer + UndefinedBehaviorSanitizer build of the codec tests.
build build-asan pgingest_codecs_test -DPGINGEST_SANITIZE=address -DPGINGEST_BUILD_BENCH=OFF \
    -DPGINGEST_BUILD_TESTS=ON -DPGINGEST_WERROR=$werror
(cd build-asan && ctest --output-on-failure --no-tests=error -R '^codecs$')
# ThreadSanitizer build of the engine tests (producers, writers, faults).
build build-tsan pgingest_engine_test -DPGINGEST_SANITIZE=thread -DPGINGEST_BUILD_BENCH=OFF \
    -DPGINGEST_BUILD_TESTS=ON -DPGINGEST_WERROR=$werror
(cd build-tsan && ctest --output-on-failure --no-tests=error -R '^engine$')
