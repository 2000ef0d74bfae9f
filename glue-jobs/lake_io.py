"""Pure-Python parts of the Glue transform job: arguments, run manifests, table specs, lake paths,
and reading small objects (manifests, specs) from the lake.

Nothing here imports pyspark or boto3 (an S3 client is handed in), so it is unit-tested on any
Python 3.9+ (glue-jobs/tests). The lake layout is the one core/ writes (storage keys are the same on
disk and in S3):

    raw/<stream>/dt=<ingest date>/<run id>-<part>.jsonl.gz   raw records, append-only
    _runs/<run id>.json                                       run manifests, written last
    curated/<table>/<partition folders>/part-*.parquet        the tables
    quarantine/<table>/                                       rejected rows, replaced per build

The lake is addressed by a root URI ending in `/` (`s3://bucket/prefix/` in Glue, built from
--lake_bucket and --lake_prefix; `file:///abs/path/` or any Hadoop FS URI with --lake_root), and a
lake key appended to it is the object's URI. file:// URIs are Hadoop-style: the path as it is on
disk, not percent-encoded.
"""

import gzip
import hashlib
import io
import json
import pkgutil
import os
import re
import sys
import zlib

SPEC_VERSION = 1

JOB_ARGS_FILE = "job-args.json"

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
RAW_KEY = re.compile(r"^raw/([a-z][a-z0-9_]*)/[^/]+/([^/]+)-[0-9]+\.jsonl(\.gz)?$")
TABLE = re.compile(r"^[a-z][a-z0-9_]*$")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

# Parquet zstd bytes per row of a typical Spotify table (plays: ~10 columns): only used to turn
# target_file_mb into Spark's maxRecordsPerFile; pass --bytes_per_row to tune it for wide tables.
DEFAULT_BYTES_PER_ROW = 60
DEFAULT_TARGET_FILE_MB = 128


class JobError(ValueError):
    """A problem with the job's input: arguments, manifests or specs. The message says which."""


def job_args_candidates():
    """Where job-args.json may be: next to this module, next to the job script, then the Python path.

    Glue (--extra-py-files) and spark-submit (--py-files) put the extra files on the Python path,
    and spark-submit copies a .py file alone into a temp folder of its own, so "next to this module"
    is not enough; the stack uploads the file next to the script.
    """
    dirs = [os.path.dirname(os.path.abspath(__file__))]
    if sys.argv and sys.argv[0]:
        dirs.append(os.path.dirname(os.path.abspath(sys.argv[0])))
    out = [os.path.join(d, JOB_ARGS_FILE) for d in dirs]
    for entry in sys.path:
        if not entry:
            continue
        # A non-.py file handed to --py-files is put on the path as the file itself.
        out.append(entry if os.path.basename(entry) == JOB_ARGS_FILE else os.path.join(entry, JOB_ARGS_FILE))
    out.append(os.path.join(os.getcwd(), JOB_ARGS_FILE))
    seen = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def _parse_job_args(text, where):
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise JobError("%s: not JSON (%s)" % (where, e))
    lists = [doc.get(k) if isinstance(doc, dict) else None for k in ("required", "optional")]
    if not all(isinstance(l, list) and all(isinstance(a, str) for a in l) for l in lists):
        raise JobError("%s: needs lists of argument names `required` and `optional`" % where)
    return tuple(lists[0]), tuple(lists[1])


def _job_args_from_loader():
    """job-args.json through this module's own loader: inside lake_io.zip, as Glue imports it
    (--extra-py-files puts the zip on the path; `__file__` then points into the zip, so only the
    loader can read the file beside the module). None where the loader has no such file."""
    try:
        raw = pkgutil.get_data(__name__, JOB_ARGS_FILE)
    except (OSError, ValueError):
        return None
    return None if raw is None else raw.decode("utf-8")


def load_job_args(candidates=None):
    """(required, optional) argument names from job-args.json: beside this module (its loader, a zip
    included), else the first of `candidates` found; JobError when none is."""
    if candidates is None:
        text = _job_args_from_loader()
        if text is not None:
            return _parse_job_args(text, "%s beside %s" % (JOB_ARGS_FILE, __name__))
    paths = job_args_candidates() if candidates is None else candidates
    for path in paths:
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            return _parse_job_args(f.read(), path)
    raise JobError(
        "%s not found (looked in %s): it lists the job's arguments and must be deployed next to "
        "transform_job.py and lake_io.py (Glue: --extra-py-files; spark-submit: --py-files)" % (JOB_ARGS_FILE, ", ".join(paths[:3]))
    )


# Read once at import, as the stack reads the same file at synth. A missing file does not break the
# import (the pure helpers stay usable); parsing the job's arguments then fails with the reason.
try:
    REQUIRED_ARGS, OPTIONAL_ARGS = load_job_args()
    JOB_ARGS_PROBLEM = None
except JobError as _e:
    REQUIRED_ARGS, OPTIONAL_ARGS = (), ()
    JOB_ARGS_PROBLEM = _e

# With --lake_root the lake is a URI (a local folder, any Hadoop file system) instead of a bucket
# and prefix: those two are then not needed.
LAKE_ROOT_REPLACES = ("lake_bucket", "lake_prefix")


def parse_job_args(argv):
    """Glue passes `--name value` pairs (plus its own, e.g. --JOB_NAME, --TempDir), which are ignored.

    Unlike awsglue's getResolvedOptions, optional arguments may be left out. Empty values count as absent.
    The required and optional names are job-args.json's.
    """
    if JOB_ARGS_PROBLEM is not None:
        raise JOB_ARGS_PROBLEM
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
    lake_root = values.get("lake_root") or None
    exempt = {"lake_prefix"} | (set(LAKE_ROOT_REPLACES) if lake_root else set())
    missing = [a for a in REQUIRED_ARGS if not values.get(a) and a not in exempt]
    if missing:
        raise JobError("missing job argument(s): " + ", ".join("--" + m for m in missing))
    if lake_root:
        lake_root = normalize_root(lake_root, "--lake_root")
        bucket, prefix = split_s3_uri(lake_root) if lake_root.startswith("s3://") else (None, "")
    else:
        bucket, prefix = values["lake_bucket"], normalize_prefix(values.get("lake_prefix", ""))
        lake_root = "s3://%s/%s" % (bucket, prefix)
    out = {
        "lake_bucket": bucket,
        "lake_prefix": prefix,
        "lake_root": lake_root,
        "output_root": normalize_root(values["output_root"], "--output_root") if values.get("output_root") else lake_root,
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
    """`lake/`, `/lake`, `lake` -> `lake/`; empty stays empty. A full URI (s3://, file://) keeps its scheme."""
    p = prefix.strip()
    if URI.match(p):
        return normalize_root(p, "prefix")
    p = p.strip("/")
    return p + "/" if p else ""


def normalize_root(uri, what="--lake_root"):
    """A folder URI ending in `/`. An absolute path is taken as a file:// URI."""
    u = uri.strip()
    if u.startswith("/"):
        u = "file://" + u
    if not URI.match(u):
        raise JobError("%s: %r is neither a URI (file:///abs/path, s3://bucket/prefix, hdfs://...) nor an absolute path" % (what, uri))
    if u.startswith("s3://"):
        split_s3_uri(u)
    return u.rstrip("/") + "/"


def split_s3_uri(uri):
    """`s3://bucket/a/b` -> (`bucket`, `a/b`)."""
    if not uri.startswith("s3://"):
        raise JobError("not an s3:// URI: %r" % uri)
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise JobError("no bucket in %r" % uri)
    return bucket, key


def spec_folder(args):
    """The URI of the folder of specs: --spec_prefix itself when it is a URI; else a key prefix in the
    lake's bucket when the lake is in S3 (as it has always been, whatever --lake_prefix says), or a
    folder under the lake root for a --lake_root elsewhere."""
    p = args["spec_prefix"]
    if URI.match(p):
        return p
    if args["lake_bucket"]:
        return "s3://%s/%s" % (args["lake_bucket"], p)
    return args["lake_root"] + p


# ---- reading small objects: manifests and specs ----------------------------------------------------
#
# A store lists and reads the objects under a URI. The job picks one per scheme (open_store):
# S3 through boto3 (in Glue), a local folder through the file system (file://), and any other
# Hadoop file system through Spark's own (transform_job.HadoopStore).


class LocalStore:
    """file:// URIs (and plain absolute paths): the local file system."""

    @staticmethod
    def path(uri):
        if uri.startswith("file://"):
            return uri[len("file://"):]
        if uri.startswith("file:"):
            return uri[len("file:"):]
        if uri.startswith("/"):
            return uri
        raise JobError("not a file:// URI: %r" % uri)

    def list(self, prefix):
        """URIs of the files under the folder `prefix` (ends in `/`), sorted; none when it is absent."""
        root = self.path(prefix)
        out = []
        for d, _, files in os.walk(root):
            rel = os.path.relpath(d, root)
            for f in files:
                out.append(prefix + (f if rel == "." else rel.replace(os.sep, "/") + "/" + f))
        return sorted(out)

    def read_text(self, uri):
        try:
            with open(self.path(uri), encoding="utf-8") as f:
                return f.read()
        except OSError as e:
            raise JobError("cannot read %s (%s)" % (uri, e.strerror or e))


class S3Store:
    """s3:// URIs through a boto3 S3 client (handed in: this module imports no boto3)."""

    def __init__(self, client):
        self.client = client

    def list(self, prefix):
        bucket, key = split_s3_uri(prefix)
        out = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            out.extend("s3://%s/%s" % (bucket, o["Key"]) for o in page.get("Contents", []))
        return sorted(out)

    def read_text(self, uri):
        bucket, key = split_s3_uri(uri)
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def open_store(uri, s3_client=None, other=None):
    """The store for a URI's scheme. `s3_client` and `other` are factories (called when needed)."""
    if uri.startswith("s3://"):
        if s3_client is None:
            raise JobError("%s: no S3 client" % uri)
        return S3Store(s3_client())
    if uri.startswith("file:") or uri.startswith("/"):
        return LocalStore()
    if other is None:
        raise JobError("%s: no store for this URI scheme" % uri)
    return other()


def load_inputs(args, store_for):
    """Manifests and specs of the lake, validated (JobError names the bad object).

    `store_for(uri)` gives the store of a URI (open_store with the job's factories).
    """
    root = args["lake_root"]
    runs = root + "_runs/"
    manifests = [
        parse_manifest(store_for(runs).read_text(uri), uri[len(root):])
        for uri in store_for(runs).list(runs)
        if uri.startswith(root) and is_manifest_key(uri[len(root):], "")
    ]
    folder = spec_folder(args)
    names = args["tables"]
    if not names:
        names = sorted(u[len(folder):-len(".json")] for u in store_for(folder).list(folder) if u.endswith(".json") and "/" not in u[len(folder):])
    specs = {name: load_spec(store_for(folder).read_text(folder + name + ".json"), name) for name in names}
    return manifests, specs


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
            problem = raw_key_problem(f["key"], stream)
            if problem:
                raise JobError("%s: streams.%s: %s" % (key, stream, problem))
    return m


def raw_key_problem(key, stream):
    """Why `key` is not a raw file key of `stream` (None when it is), as core/engine/manifest.ts
    says it: relative, no `.` or `..` segment, `raw/<stream>/<folder>/<run id>-<part>.jsonl(.gz)`,
    so a manifest never makes the job read outside the lake's raw zone."""
    parts = key.split("/")
    if key.startswith("/") or "\\" in key or URI.match(key) or any(p in ("", ".", "..") for p in parts):
        return "file key %r is not a relative lake key (no absolute paths, no . or .. segments)" % key
    match = RAW_KEY.match(key)
    if not match or match.group(1) != stream:
        return "%r is not a raw key of stream %s" % (key, stream)
    return None


def committed_files(manifests, streams=None, up_to_run=None):
    """Raw files listed by committed manifests, oldest run first: only these are visible to transforms.

    `streams` limits the streams; `up_to_run` ignores runs committed after it (a run id sorts by
    time). The job itself reads every committed run (see plan_tables).
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
                problem = raw_key_problem(key, stream)
                if problem:
                    raise JobError("_runs/%s.json: %s" % (run, problem))
                if key in seen:
                    continue
                seen.add(key)
                entry = {"stream": stream, "key": key, "run_id": run, "records": int(f.get("records", 0))}
                # What the job verifies before reading (check_files); sha256 since manifest format 2.
                if isinstance(f.get("bytes"), int):
                    entry["bytes"] = f["bytes"]
                if isinstance(f.get("sha256"), str):
                    entry["sha256"] = f["sha256"]
                out.append(entry)
    return out


# ---- integrity: committed raw files against their manifests ----------------------------------------
#
# The same checks as the local engine (core/engine/integrity.ts): a committed file must exist, have
# the manifest's byte size and SHA-256 (of its stored bytes), be gzip, and hold as many record lines
# (lines with anything but blanks) as the manifest says. Any mismatch fails the job naming the files:
# never a table built silently from part of the data.


def file_facts(data):
    """What check_files compares for one stored file: {bytes, sha256, gzip, lines | error}."""
    facts = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "gzip": data[:2] == b"\x1f\x8b"}
    if facts["gzip"]:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                facts["lines"] = sum(1 for line in f if line.strip(b" \t\r\n"))
        except (OSError, EOFError, zlib.error) as e:
            facts["error"] = "unreadable gzip (%s)" % e
    return facts


def file_problem(f, facts):
    """What is wrong with committed file `f` given its facts (None: it is what its manifest says).
    Facts may leave out what was not measured (`lines`, `error`: counted elsewhere)."""
    if facts is None:
        return "missing (listed by its run manifest, not in the lake)"
    if "bytes" in f and facts.get("bytes") is not None and facts["bytes"] != f["bytes"]:
        return "%d bytes, the manifest says %d" % (facts["bytes"], f["bytes"])
    if "sha256" in f and facts.get("sha256") is not None:
        # The bytes its run wrote (and counted the lines of): nothing more to check.
        return None if facts["sha256"] == f["sha256"] else "its SHA-256 is not the one in the manifest (the file was changed after its run)"
    if facts.get("gzip") is False:
        return "not a gzip file"
    if facts.get("error"):
        return facts["error"]
    if facts.get("lines") is not None and facts["lines"] != f["records"]:
        return "%d record line(s), the manifest says %d" % (facts["lines"], f["records"])
    return None


def check_files(files, facts_by_key):
    """JobError naming every committed file whose facts do not match its manifest entry."""
    problems = []
    for f in files:
        problem = file_problem(f, facts_by_key.get(f["key"]))
        if problem:
            problems.append("%s (run %s): %s" % (f["key"], f["run_id"], problem))
    if problems:
        shown = problems[:10] + (["... and %d more" % (len(problems) - 10)] if len(problems) > 10 else [])
        raise JobError(
            "committed raw data failed verification, so no table was built from it: %s; "
            "take those runs out of the lake (move their manifests and files to _quarantine/) and read the streams again"
            % "; ".join(shown)
        )


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


DERIVED_KINDS = ("recommendations",)


def load_derived_spec(text, name=None):
    """A derived table's spec (derived/<name>.json): a table built from the curated tables rather
    than from raw data (core/recs/jobspec.ts writes the recommendations')."""
    where = "derived/%s.json" % name if name else "derived spec"
    try:
        spec = json.loads(text)
    except ValueError as e:
        raise JobError("%s: not JSON (%s)" % (where, e))
    if not isinstance(spec, dict):
        raise JobError("%s: not an object" % where)
    if spec.get("version") != SPEC_VERSION:
        raise JobError("%s: version %r, this job reads version %d" % (where, spec.get("version"), SPEC_VERSION))
    if spec.get("kind") not in DERIVED_KINDS:
        raise JobError("%s: kind %r, this job builds %s" % (where, spec.get("kind"), ", ".join(DERIVED_KINDS)))
    needed = ("table", "inputs", "statements", "now_sql", "now_token", "sql", "columns")
    missing = [k for k in needed if k not in spec]
    if missing:
        raise JobError("%s: missing %s" % (where, ", ".join(missing)))
    if name is not None and spec["table"] != name:
        raise JobError("%s describes table %r" % (where, spec["table"]))
    if not TABLE.match(spec["table"]):
        raise JobError("%s: %r is not a table name" % (where, spec["table"]))
    for i in spec["inputs"]:
        if not isinstance(i, dict) or not TABLE.match(str(i.get("table", ""))) or not isinstance(i.get("schema"), str):
            raise JobError("%s: input %r needs a table name and a schema" % (where, i))
    return spec


def load_derived(args, store_for):
    """The derived tables' specs under <spec folder>derived/, in name order. Only a job building
    every table (no --tables) builds them: they read the tables it has just written."""
    if args["tables"]:
        return []
    folder = spec_folder(args) + "derived/"
    names = sorted(u[len(folder):-len(".json")] for u in store_for(folder).list(folder) if u.endswith(".json") and "/" not in u[len(folder):])
    return [load_derived_spec(store_for(folder).read_text(folder + n + ".json"), n) for n in names]


def now_literal(value):
    """The lake's "now" (seconds since 1970) as the SQL literal put in place of the spec's token."""
    if value is None or not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
        raise JobError("not a time: %r" % (value,))
    return "CAST(%s AS DOUBLE)" % repr(float(value))


def spec_streams(spec):
    """The streams a table reads: its sources, and (with `parents`) the stream listing its parents."""
    parents = spec.get("parents")
    return sorted({s["stream"] for s in spec["sources"]} | ({parents["stream"]} if parents else set()))


def complete_reads(manifests):
    """(stream, run_id) of every stream a committed manifest read completely (status not "partial";
    manifests from before `status` count as complete), as core/engine/manifest.ts completeReads: a
    table with `parents` keeps only the parents of the newest complete read of their stream."""
    return sorted(
        (stream, m["run_id"])
        for m in manifests
        for stream, s in m["streams"].items()
        if s.get("status") != "partial"
    )


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
        # Every committed run, also with --run_id: a job started late for an earlier run (a retry
        # behind a busy job) must not write back partitions without the rows later runs added.
        files = committed_files(manifests, set(spec_streams(spec)))
        plans.append({
            "table": name,
            "spec": spec,
            "files": files,
            "uris": [args["lake_root"] + f["key"] for f in files],
            "output": args["output_root"] + "curated/%s/" % name,
            "quarantine": args["output_root"] + "quarantine/%s/" % name,
            "partition_columns": [p["name"] for p in spec["partition_by"]],
            # A table with `parents` reads the complete reads of its parent stream from this view.
            "complete_reads": complete_reads(manifests) if spec.get("parents") else None,
            "max_records_per_file": rows_per_file(args["target_file_mb"] or spec.get("target_file_mb"), args["bytes_per_row"]),
            # With --run_id only the partitions holding that run's rows are replaced (dynamic overwrite).
            "only_run": args["run_id"],
            # ...and a table none of whose streams that run delivered to is not rebuilt at all: the
            # run cannot have changed it (the export's import leaves the Web API tables alone).
            "skip": (
                "run %s delivered nothing to %s" % (args["run_id"], ", ".join(spec_streams(spec)))
                if args["run_id"] and not any(f["run_id"] == args["run_id"] for f in files)
                else None
            ),
        })
    return plans


def file_table_rows(files):
    """(key, run_id, stream) rows: joined to the lines read so every line knows its run and stream."""
    return [(f["key"], f["run_id"], f["stream"]) for f in files]

