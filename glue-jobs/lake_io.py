"""Pure-Python parts of the Glue transform job: arguments, run manifests, table specs, lake paths.

Nothing here imports pyspark or boto3, so it is unit-tested on any Python 3.9+ (glue-jobs/tests).
The lake layout is the one core/ writes (storage keys are the same on disk and in S3):

    raw/<stream>/dt=<ingest date>/<run id>-<part>.jsonl.gz   raw records, append-only
    _runs/<run id>.json                                       run manifests, written last
    curated/<table>/<partition folders>/part-*.parquet        the tables
    quarantine/<table>/                                       rejected rows, replaced per build
"""

import json
import re

SPEC_VERSION = 1

REQUIRED_ARGS = ("lake_bucket", "lake_prefix", "spec_prefix")
OPTIONAL_ARGS = ("tables", "run_id", "target_file_mb", "bytes_per_row")

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
RAW_KEY = re.compile(r"^raw/([a-z][a-z0-9_]*)/[^/]+/([^/]+)-[0-9]+\.jsonl(\.gz)?$")
TABLE = re.compile(r"^[a-z][a-z0-9_]*$")

# Parquet zstd bytes per row of a typical Spotify table (plays: ~10 columns): only used to turn
# target_file_mb into Spark's maxRecordsPerFile; pass --bytes_per_row to tune it for wide tables.
DEFAULT_BYTES_PER_ROW = 60
DEFAULT_TARGET_FILE_MB = 128


class JobError(ValueError):
    """A problem with the job's input: arguments, manifests or specs. The message says which."""


def parse_job_args(argv):
    """Glue passes `--name value` pairs (plus its own, e.g. --JOB_NAME, --TempDir), which are ignored.

    Unlike awsglue's getResolvedOptions, optional arguments may be left out. Empty values count as absent.
    """
    values = {}
    i = 1 if argv and not argv[0].startswith("--") else 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--"):
            i += 1
            continue
        name, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                value = argv[i + 1]
                i += 1
            else:
                value = ""
        values[name] = value
        i += 1
    missing = [a for a in REQUIRED_ARGS if not values.get(a) and a != "lake_prefix"]
    if missing:
        raise JobError("missing job argument(s): " + ", ".join("--" + m for m in missing))
    out = {
        "lake_bucket": values["lake_bucket"],
        "lake_prefix": normalize_prefix(values.get("lake_prefix", "")),
        "spec_prefix": normalize_prefix(values["spec_prefix"]),
        "tables": [t.strip() for t in values.get("tables", "").split(",") if t.strip() and t.strip() != "all"],
        "run_id": values.get("run_id") or None,
        "target_file_mb": _positive(values, "target_file_mb", float),
        "bytes_per_row": _positive(values, "bytes_per_row", int),
    }
    for t in out["tables"]:
        if not TABLE.match(t):
            raise JobError("--tables: %r is not a table name" % t)
    if out["run_id"] is not None and not RUN_ID.match(out["run_id"]):
        raise JobError("--run_id: %r is not a run id" % out["run_id"])
    return out


def _positive(values, name, kind):
    raw = values.get(name)
    if not raw:
        return None
    try:
        v = kind(raw)
    except ValueError:
        raise JobError("--%s: %r is not a number" % (name, raw))
    if v <= 0:
        raise JobError("--%s must be positive" % name)
    return v


def normalize_prefix(prefix):
    """`lake/`, `/lake`, `lake` -> `lake/`; empty stays empty. A full s3:// URI keeps its bucket."""
    p = prefix.strip()
    if p.startswith("s3://"):
        return p.rstrip("/") + "/"
    p = p.strip("/")
    return p + "/" if p else ""


def split_s3_uri(uri):
    """`s3://bucket/a/b` -> (`bucket`, `a/b`)."""
    if not uri.startswith("s3://"):
        raise JobError("not an s3:// URI: %r" % uri)
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise JobError("no bucket in %r" % uri)
    return bucket, key


def lake_uri(bucket, prefix, key):
    return "s3://%s/%s%s" % (bucket, prefix, key)


def table_uri(bucket, prefix, table):
    return lake_uri(bucket, prefix, "curated/%s/" % table)


def quarantine_uri(bucket, prefix, table):
    return lake_uri(bucket, prefix, "quarantine/%s/" % table)


def spec_location(lake_bucket, spec_prefix, table):
    """(bucket, key) of a table spec: spec_prefix is a key prefix in the lake bucket or an s3:// URI."""
    if spec_prefix.startswith("s3://"):
        bucket, key = split_s3_uri(spec_prefix)
        return bucket, key + table + ".json"
    return lake_bucket, spec_prefix + table + ".json"


def is_manifest_key(key, prefix):
    rest = key[len(prefix):] if key.startswith(prefix) else None
    return rest is not None and rest.startswith("_runs/") and rest.endswith(".json") and "/" not in rest[len("_runs/"):]


def parse_manifest(text, key="manifest"):
    """A run manifest as the engine writes it; raises JobError naming the key when it is not one."""
    try:
        m = json.loads(text)
    except ValueError as e:
        raise JobError("%s: not JSON (%s)" % (key, e))
    if not isinstance(m, dict) or not isinstance(m.get("run_id"), str) or not isinstance(m.get("streams"), dict):
        raise JobError("%s: not a run manifest (needs run_id and streams)" % key)
    if not RUN_ID.match(m["run_id"]):
        raise JobError("%s: invalid run id %r" % (key, m["run_id"]))
    for stream, s in m["streams"].items():
        if not isinstance(s, dict) or not isinstance(s.get("files", []), list):
            raise JobError("%s: streams.%s.files must be a list" % (key, stream))
        for f in s.get("files", []):
            if not isinstance(f, dict) or not isinstance(f.get("key"), str):
                raise JobError("%s: streams.%s.files has an entry without a key" % (key, stream))
    return m


def committed_files(manifests, streams=None, up_to_run=None):
    """Raw files listed by committed manifests, oldest run first: only these are visible to transforms.

    `streams` limits the streams; `up_to_run` ignores runs committed after it (a run id sorts by time),
    so a retried job sees the same data as its first attempt.
    """
    out = []
    seen = set()
    for m in sorted(manifests, key=lambda m: m["run_id"]):
        run = m["run_id"]
        if up_to_run is not None and run > up_to_run:
            continue
        for stream, s in sorted(m["streams"].items()):
            if streams is not None and stream not in streams:
                continue
            for f in s.get("files", []):
                key = f["key"]
                match = RAW_KEY.match(key)
                if not match or match.group(1) != stream:
                    raise JobError("_runs/%s.json: %r is not a raw key of stream %s" % (run, key, stream))
                if key in seen:
                    continue
                seen.add(key)
                out.append({"stream": stream, "key": key, "run_id": run, "records": int(f.get("records", 0))})
    return out


def load_spec(text, table=None):
    """A table spec written by `spotify-pipeline transform --spark-specs` (core/transform/jobspec.ts)."""
    try:
        spec = json.loads(text)
    except ValueError as e:
        raise JobError("spec %s: not JSON (%s)" % (table or "", e))
    if not isinstance(spec, dict):
        raise JobError("spec %s: not an object" % (table or ""))
    if spec.get("version") != SPEC_VERSION:
        raise JobError("spec %s: version %r, this job reads version %d" % (table or spec.get("table"), spec.get("version"), SPEC_VERSION))
    needed = ("table", "input_view", "judged_sql", "rows_from_judged_sql", "quarantine_from_judged_sql", "partition_by", "columns", "sources")
    missing = [k for k in needed if k not in spec]
    if missing:
        raise JobError("spec %s: missing %s" % (table or spec.get("table"), ", ".join(missing)))
    if table is not None and spec["table"] != table:
        raise JobError("spec %s.json describes table %r" % (table, spec["table"]))
    return spec


def spec_streams(spec):
    return sorted({s["stream"] for s in spec["sources"]})


def hive_escape(value):
    """A partition value as Hive/Spark write it in a folder name; None is Hive's default partition."""
    if value is None or value == "":
        return "__HIVE_DEFAULT_PARTITION__"
    return "".join(c if _safe(c) else "%%%02X" % ord(c) for c in value)


def _safe(c):
    # Hive's FileUtils.escapePathName escapes control characters and these; everything else stays.
    return ord(c) >= 0x20 and ord(c) != 0x7F and c not in '"#%\'*/:=?\\{[]^'


def partition_path(partition_by, values):
    """`dt=2026-11-24/` for partition_by [{name: dt}] and values {dt: '2026-11-24'}."""
    return "".join("%s=%s/" % (p["name"], hive_escape(values.get(p["name"]))) for p in partition_by)


def rows_per_file(target_file_mb=None, bytes_per_row=None):
    """Spark's maxRecordsPerFile for files of about target_file_mb."""
    mb = target_file_mb or DEFAULT_TARGET_FILE_MB
    per_row = bytes_per_row or DEFAULT_BYTES_PER_ROW
    return max(1000, int(mb * 1024 * 1024 / per_row))


def plan_tables(args, manifests, specs):
    """What the job does for each table, decided without Spark: files to read, where to write.

    `specs` maps table name -> spec (already loaded). Returns a list of dicts, one per table, in order.
    """
    plans = []
    names = args["tables"] or sorted(specs)
    unknown = [t for t in names if t not in specs]
    if unknown:
        raise JobError("no spec for table(s) %s under %s" % (", ".join(unknown), args["spec_prefix"]))
    for name in names:
        spec = specs[name]
        files = committed_files(manifests, set(spec_streams(spec)), args["run_id"])
        plans.append({
            "table": name,
            "spec": spec,
            "files": files,
            "uris": [lake_uri(args["lake_bucket"], args["lake_prefix"], f["key"]) for f in files],
            "output": table_uri(args["lake_bucket"], args["lake_prefix"], name),
            "quarantine": quarantine_uri(args["lake_bucket"], args["lake_prefix"], name),
            "partition_columns": [p["name"] for p in spec["partition_by"]],
            "max_records_per_file": rows_per_file(args["target_file_mb"] or spec.get("target_file_mb"), args["bytes_per_row"]),
            # With --run_id only the partitions holding that run's rows are replaced (dynamic overwrite).
            "only_run": args["run_id"],
        })
    return plans


def file_table_rows(files):
    """(key, run_id, stream) rows: joined to the lines read so every line knows its run and stream."""
    return [(f["key"], f["run_id"], f["stream"]) for f in files]

