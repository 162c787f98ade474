#!/bin/sh
# setup.sh — Gradescope runs this once, as root, when it builds the autograder
# image; the zip (the kit, this script, run_autograder) is unpacked in
# /autograder/source. Installs what is missing and builds the grader.
set -e
cd "${AUTOGRADER_ROOT:-/autograder}/source"
if ! command -v make >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq make >/dev/null
fi
scripts/deps.sh
make -s build/grade
