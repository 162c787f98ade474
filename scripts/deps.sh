#!/bin/sh
# deps.sh — makes sure the Debian packages the kit needs are installed: installs
# them as root, or prints the one command to run. Exit 0 when all are there.
PKGS="gcc make binutils patch pkg-config clang libclang-rt-14-dev check libsubunit-dev \
libjansson-dev libarchive-dev valgrind bubblewrap gnuplot-nox zip unzip bzip2 python3 \
libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0"

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
    echo "deps: missing packages; install them with:" >&2
    echo "    sudo apt-get install -y$missing" >&2
    exit 2
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/tmp/alab-apt.log 2>&1; then
    echo "deps: apt-get failed; see /tmp/alab-apt.log" >&2
    exit 2
fi
