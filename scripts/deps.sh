#!/bin/sh
# deps.sh — makes sure the Debian packages the kit needs are installed: installs
# them as root, or prints the one command to run. Exit 0 when all are there.
PKGS="gcc make binutils patch pkg-config clang libclang-rt-14-dev check libsubunit-dev \
libjansson-dev libarchive-dev valgrind bubblewrap gnuplot-nox zip unzip bzip2 python3 \
libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 llvm-14"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: this kit installs its tools with apt (Debian); missing:$missing" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps: the kit needs Debian packages that are not installed:$missing" >&2
    echo "deps: install them as root, then run your command again:" >&2
    echo "    su -c 'apt-get update && apt-get install -y --no-install-recommends$missing'" >&2
    echo "deps: (or, where you have sudo: sudo apt-get install -y --no-install-recommends$missing)" >&2
    exit 2
fi
n=$(echo $missing | wc -w)
echo "deps: installing $n Debian packages the kit needs (a few minutes on a new machine):" >&2
echo "deps:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
log=/tmp/alab-apt.log
# apt's own progress, one line per step, on standard error; all of it in the log
{ apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } 2>&1 |
    tee "$log" | grep --line-buffered -E '^(Get:|Setting up|E:|Err:)' | sed -u 's/^/  apt: /' >&2
still=""
for p in $missing; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || still="$still $p"
done
if [ -n "$still" ]; then
    echo "deps: apt-get could not install:$still; see $log" >&2
    exit 2
fi
echo "deps: done" >&2
