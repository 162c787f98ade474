#!/bin/sh
# build.sh EX — makes build/gradescope-exNN.zip for Gradescope's "zip file
# upload": the kit's tracked files (with hidden tests and reference solutions:
# keep the zip away from students), setup.sh and run_autograder at the top.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
ex=$("$root/build/grade" resolve "$1") || exit 2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cd "$root"
if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -z | xargs -0 cp --parents -t "$stage"
else
    cp -r Makefile README.md exercises grader scripts skeletons solutions docs "$stage/"
fi
echo "$ex" >"$stage/GRADESCOPE_EXERCISE"
cp scripts/gradescope/setup.sh scripts/gradescope/run_autograder "$stage/"
out="$root/build/gradescope-ex$ex.zip"
rm -f "$out"
(cd "$stage" && zip -qr "$out" .)
echo "$out"
