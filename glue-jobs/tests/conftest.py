"""pytest fixtures of the Glue job's tests: one local SparkSession for the whole run, and the job
specs compiled from pipeline.yaml (the SQL the deployment uploads, not a hand-written copy).

The Spark tests need pyspark (the project's venv has the Glue runtime's); without it they are
skipped and the pure tests still run.
"""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

GLUE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(GLUE)
sys.path.insert(0, GLUE)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark", reason="pyspark is in the project's venv (node scripts/python.mjs)")
    from pyspark.sql import SparkSession

    # Spark's Python workers run this interpreter (the venv's), not whatever python3 is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    local = str(tmp_path_factory.mktemp("spark-local"))
    session = (
        SparkSession.builder.master("local[2]")
        .appName("glue-jobs-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
        # Tiny data: a few shuffle partitions, and the C1 JIT only (these short jobs never repay C2's warm-up).
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.local.dir", local)
        # Reading a table back: partition values as strings, as Athena's projection and DuckDB's views type them.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -Djava.io.tmpdir=" + local)
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def specs_dir(tmp_path_factory):
    """GLUE_SPECS_DIR (npm test sets it), else pipeline.yaml's specs compiled by the CLI."""
    given = os.environ.get("GLUE_SPECS_DIR")
    if given:
        return given
    node = shutil.which("node")
    if not node:
        pytest.skip("GLUE_SPECS_DIR is not set and there is no node to compile pipeline.yaml's specs")
    out = str(tmp_path_factory.mktemp("specs"))
    cli = os.path.join(ROOT, "bin", "spotify-pipeline.mjs")
    subprocess.run([node, cli, "transform", "-c", os.path.join(ROOT, "pipeline.yaml"), "--spark-specs", out], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return out


class Lake:
    """A local lake laid out as the engine writes one: gzip JSON Lines raw files and run manifests."""

    def __init__(self, root):
        self.root = str(root)

    @property
    def uri(self):
        return "file://" + self.root + "/"

    def commit(self, run_id, streams, day="2026-11-24"):
        """Lands each stream's lines (records as dicts, or raw text) and commits the run's manifest."""
        entry = {}
        for stream, lines in streams.items():
            key = "raw/%s/dt=%s/%s-00000.jsonl.gz" % (stream, day, run_id)
            path = os.path.join(self.root, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            text = "".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines)
            data = gzip.compress(text.encode("utf-8"))
            with open(path, "wb") as f:
                f.write(data)
            # What the engine's manifest says of the file (the job verifies it): record lines, size, checksum.
            records = sum(1 for l in text.split("\n") if l.strip(" \t\r"))
            files = [{"key": key, "records": records, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}]
            entry[stream] = {"endpoint": "x", "records": records, "requests": {}, "status": "complete", "files": files}
        os.makedirs(os.path.join(self.root, "_runs"), exist_ok=True)
        manifest = {"run_id": run_id, "pipeline": "tests", "started_at": "2026-11-24T10:00:00.000Z", "committed_at": "2026-11-24T10:00:01.000Z", "streams": entry}
        with open(os.path.join(self.root, "_runs", run_id + ".json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f)

    def files(self, rel):
        """Data files below a folder of the lake, relative and sorted (Spark's .crc and markers left out)."""
        base = os.path.join(self.root, rel)
        out = []
        for d, _, names in os.walk(base):
            for n in names:
                if not n.startswith(".") and not n.startswith("_"):
                    out.append(os.path.relpath(os.path.join(d, n), base))
        return sorted(out)

    def quarantine(self, table):
        rows = []
        for rel in self.files("quarantine/" + table):
            with gzip.open(os.path.join(self.root, "quarantine", table, rel), "rt", encoding="utf-8") as f:
                rows.extend(json.loads(line) for line in f if line.strip())
        return sorted(rows, key=lambda r: (r["file"], r["line"]))


@pytest.fixture
def lake(tmp_path):
    # A space in the path: file:// URIs are Hadoop-style, not percent-encoded.
    root = tmp_path / "my lake"
    root.mkdir()
    return Lake(root)
