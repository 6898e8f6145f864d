#!/usr/bin/env bash
# Run the README's test command in a fresh clone with no .venv, as CI does on a bare machine.
set -euo pipefail
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/course"
cd "$work/course"
start=$(date +%s)
make test
echo "make test in a fresh clone took $(( $(date +%s) - start )) s"
