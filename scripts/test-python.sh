#!/usr/bin/env sh
# The Glue job's Python: byte-compile every script, then run the pure-Python unit tests
# (no pyspark needed; pytest is not needed either, unittest runs them).
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
# Compiled files go to a temp folder, not into the repository.
export PYTHONPYCACHEPREFIX="${TMPDIR:-/tmp}/spotify-pipeline-pycache"
"$PYTHON" -m py_compile glue-jobs/*.py
"$PYTHON" -B -m unittest discover -s glue-jobs/tests -t glue-jobs "$@"
