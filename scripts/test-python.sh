#!/usr/bin/env sh
# The Glue job's Python: byte-compile every script, then pytest over glue-jobs/tests: the pure unit
# tests of lake_io and the job's functions on a local SparkSession (pyspark in the project's venv,
# created by scripts/python.mjs on first use). PYTHON overrides the interpreter; extra arguments go
# to pytest (e.g. -k run_id, -x).
set -eu
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  PYTHON="$(node scripts/python.mjs)/bin/python"
fi
# Compiled files go to a temp folder, not into the repository.
export PYTHONPYCACHEPREFIX="${TMPDIR:-/tmp}/spotify-pipeline-pycache"
"$PYTHON" -m py_compile glue-jobs/*.py test/support/*.py
"$PYTHON" -B -m pytest -p no:cacheprovider glue-jobs/tests "$@"
