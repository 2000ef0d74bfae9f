"""Unit tests of the pure parts of the Glue job: no pyspark, no boto3, no network.

Run: scripts/test-python.sh (pytest in the project's venv, with the Spark tests next to these);
plain `python3 -m unittest discover -s glue-jobs/tests -t glue-jobs` runs these alone.
"""
import gzip
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import lake_io  # noqa: E402
from lake_io import JobError  # noqa: E402


def manifest(run_id, streams):
    return {
        "run_id": run_id,
        "pipeline": "my-spotify-lake",
        "started_at": "2026-11-24T10:15:02.000Z",
        "committed_at": "2026-11-24T10:15:09.000Z",
        "streams": {
            s: {"endpoint": "x", "records": 0, "requests": {}, "status": "complete", "files": [{"key": k, "records": 3, "bytes": 100} for k in keys]}
            for s, keys in streams.items()
        },
    }


def _has(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


R1 = "20261124T101502Z-ab12cd"
R2 = "20261124T111502Z-ef34ab"


class ParseArgs(unittest.TestCase):
    def test_glue_style_arguments_with_system_ones_ignored(self):
        args = lake_io.parse_job_args([
            "transform_job.py", "--JOB_NAME", "transform", "--lake_bucket", "my-lake", "--lake_prefix", "/lake/",
            "--spec_prefix", "specs", "--tables", "plays, tracks", "--run_id", R1, "--job-bookmark-option", "job-bookmark-disable",
        ])
        self.assertEqual(args["lake_bucket"], "my-lake")
        self.assertEqual(args["lake_prefix"], "lake/")
        self.assertEqual(args["spec_prefix"], "specs/")
        self.assertEqual(args["tables"], ["plays", "tracks"])
        self.assertEqual(args["run_id"], R1)
        self.assertIsNone(args["target_file_mb"])

    def test_optional_arguments_may_be_absent_or_empty(self):
        args = lake_io.parse_job_args(["--lake_bucket=b", "--spec_prefix=s3://other/specs", "--run_id", "", "--tables", "all"])
        self.assertEqual(args["lake_prefix"], "")
        self.assertEqual(args["spec_prefix"], "s3://other/specs/")
        self.assertIsNone(args["run_id"])
        self.assertEqual(args["tables"], [])

    def test_rejects_missing_and_malformed_values(self):
        with self.assertRaisesRegex(JobError, "--lake_bucket"):
            lake_io.parse_job_args(["--spec_prefix", "s"])
        with self.assertRaisesRegex(JobError, "--run_id"):
            lake_io.parse_job_args(["--lake_bucket", "b", "--spec_prefix", "s", "--run_id", "../etc"])
        with self.assertRaisesRegex(JobError, "--tables"):
            lake_io.parse_job_args(["--lake_bucket", "b", "--spec_prefix", "s", "--tables", "Plays;drop"])
        with self.assertRaisesRegex(JobError, "target_file_mb"):
            lake_io.parse_job_args(["--lake_bucket", "b", "--spec_prefix", "s", "--target_file_mb", "-1"])


    def test_a_lake_root_replaces_bucket_and_prefix(self):
        args = lake_io.parse_job_args(["--lake_root", "file:///data/my lake", "--spec_prefix", "file:///tmp/specs"])
        self.assertEqual(args["lake_root"], "file:///data/my lake/")
        self.assertIsNone(args["lake_bucket"])
        self.assertEqual(args["spec_prefix"], "file:///tmp/specs/")
        self.assertEqual(args["output_root"], "file:///data/my lake/")
        # An absolute path is a file:// root; an s3:// root is a bucket and prefix as in Glue.
        self.assertEqual(lake_io.parse_job_args(["--lake_root", "/data/lake", "--spec_prefix", "s"])["lake_root"], "file:///data/lake/")
        s3 = lake_io.parse_job_args(["--lake_root", "s3://b/lake", "--spec_prefix", "specs", "--output_root", "file:///tmp/out"])
        self.assertEqual((s3["lake_bucket"], s3["lake_prefix"], s3["lake_root"]), ("b", "lake/", "s3://b/lake/"))
        self.assertEqual(s3["output_root"], "file:///tmp/out/")
        # A relative spec prefix is a key in the lake's bucket (not under the lake prefix), as in Glue.
        self.assertEqual(lake_io.spec_folder(s3), "s3://b/specs/")
        self.assertEqual(lake_io.spec_folder(args), "file:///tmp/specs/")
        # Without one, the Glue arguments make the same root as before.
        glue = lake_io.parse_job_args(["--lake_bucket", "b", "--lake_prefix", "lake", "--spec_prefix", "s3://assets/specs"])
        self.assertEqual(glue["lake_root"], "s3://b/lake/")
        self.assertEqual(lake_io.spec_folder(glue), "s3://assets/specs/")
        in_bucket = lake_io.parse_job_args(["--lake_bucket", "b", "--lake_prefix", "lake", "--spec_prefix", "glue/specs"])
        self.assertEqual(lake_io.spec_folder(in_bucket), "s3://b/glue/specs/")
        local = lake_io.parse_job_args(["--lake_root", "/data/lake", "--spec_prefix", "specs"])
        self.assertEqual(lake_io.spec_folder(local), "file:///data/lake/specs/")
        with self.assertRaisesRegex(JobError, "--lake_root"):
            lake_io.parse_job_args(["--lake_root", "relative/lake", "--spec_prefix", "s"])
        with self.assertRaisesRegex(JobError, "--spec_prefix"):
            lake_io.parse_job_args(["--lake_root", "/lake"])


class JobArgsFile(unittest.TestCase):
    def test_the_argument_lists_are_job_args_json(self):
        with open(os.path.join(os.path.dirname(__file__), "..", "job-args.json"), encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(lake_io.REQUIRED_ARGS, tuple(doc["required"]))
        self.assertEqual(lake_io.OPTIONAL_ARGS, tuple(doc["optional"]))
        # The listed arguments are exactly the ones the job reads.
        args = lake_io.parse_job_args(["--lake_bucket", "b", "--spec_prefix", "s"])
        self.assertEqual(sorted(args), sorted(doc["required"] + doc["optional"]))

    def test_found_on_the_python_path_as_spark_submit_py_files_puts_it(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "job-args.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"required": ["a"], "optional": ["b", "c"]}, f)
            self.assertNotIn(path, lake_io.job_args_candidates())
            sys.path.append(path)
            try:
                self.assertIn(path, lake_io.job_args_candidates())
            finally:
                sys.path.remove(path)
            self.assertEqual(lake_io.load_job_args([os.path.join(d, "nope.json"), path]), (("a",), ("b", "c")))

    def test_a_missing_or_broken_file_is_a_job_error(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(JobError, "job-args.json not found .*deployed next to transform_job.py"):
                lake_io.load_job_args([os.path.join(d, "job-args.json")])
            bad = os.path.join(d, "job-args.json")
            with open(bad, "w", encoding="utf-8") as f:
                f.write('{"required": "lake_bucket"}')
            with self.assertRaisesRegex(JobError, "needs lists"):
                lake_io.load_job_args([bad])

    def test_parsing_arguments_without_the_file_says_why(self):
        saved = lake_io.JOB_ARGS_PROBLEM
        lake_io.JOB_ARGS_PROBLEM = JobError("job-args.json not found (looked in x)")
        try:
            with self.assertRaisesRegex(JobError, "job-args.json not found"):
                lake_io.parse_job_args(["--lake_bucket", "b", "--spec_prefix", "s"])
        finally:
            lake_io.JOB_ARGS_PROBLEM = saved


class Stores(unittest.TestCase):
    def test_local_store_lists_and_reads_file_uris(self):
        with tempfile.TemporaryDirectory() as d:
            root = "file://" + d + "/my lake/"
            os.makedirs(os.path.join(d, "my lake", "_runs", "old"))
            for rel, text in (("_runs/%s.json" % R1, "{}"), ("_runs/old/x.json", "[]")):
                with open(os.path.join(d, "my lake", rel), "w", encoding="utf-8") as f:
                    f.write(text)
            store = lake_io.open_store(root)
            self.assertEqual(store.list(root + "_runs/"), [root + "_runs/%s.json" % R1, root + "_runs/old/x.json"])
            self.assertEqual(store.read_text(root + "_runs/old/x.json"), "[]")
            self.assertEqual(store.list(root + "nothing/"), [])
            with self.assertRaisesRegex(JobError, "cannot read"):
                store.read_text(root + "missing.json")

    def test_load_inputs_reads_manifests_and_every_spec_of_a_local_lake(self):
        with tempfile.TemporaryDirectory() as d:
            lake, specs = os.path.join(d, "lake"), os.path.join(d, "specs")
            os.makedirs(os.path.join(lake, "_runs"))
            os.makedirs(specs)
            with open(os.path.join(lake, "_runs", R1 + ".json"), "w", encoding="utf-8") as f:
                json.dump(manifest(R1, {"recently_played": ["raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % R1]}), f)
            with open(os.path.join(lake, "_runs", R1 + ".json.tmp"), "w", encoding="utf-8") as f:
                f.write("half written")
            with open(os.path.join(specs, "plays.json"), "w", encoding="utf-8") as f:
                json.dump(SPEC, f)
            args = lake_io.parse_job_args(["--lake_root", lake, "--spec_prefix", "file://" + specs])
            manifests, loaded = lake_io.load_inputs(args, lake_io.open_store)
            self.assertEqual([m["run_id"] for m in manifests], [R1])
            self.assertEqual(list(loaded), ["plays"])
            plan = lake_io.plan_tables(args, manifests, loaded)[0]
            self.assertEqual(plan["uris"], ["file://%s/raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % (lake, R1)])
            self.assertEqual(plan["output"], "file://%s/curated/plays/" % lake)

    @unittest.skipUnless(_has("moto") and _has("boto3"), "moto and boto3 are in the project's venv")
    def test_s3_store_lists_and_reads_through_boto3(self):
        import boto3
        from moto import mock_aws

        with mock_aws():
            client = boto3.client("s3", region_name="us-east-1")
            client.create_bucket(Bucket="lake")
            client.put_object(Bucket="lake", Key="lake/_runs/%s.json" % R1, Body=json.dumps(manifest(R1, {"a": []})).encode())
            # A relative spec prefix is a key prefix in the lake's bucket, beside the lake prefix.
            client.put_object(Bucket="lake", Key="specs/plays.json", Body=json.dumps(SPEC).encode())
            client.put_object(Bucket="lake", Key="other/_runs/x.json", Body=b"{}")
            args = lake_io.parse_job_args(["--lake_bucket", "lake", "--lake_prefix", "lake", "--spec_prefix", "specs"])
            store = lake_io.open_store("s3://lake/", lambda: client)
            self.assertEqual(store.list("s3://lake/lake/_runs/"), ["s3://lake/lake/_runs/%s.json" % R1])
            manifests, specs = lake_io.load_inputs(args, lambda uri: store)
            self.assertEqual([m["run_id"] for m in manifests], [R1])
            self.assertEqual(list(specs), ["plays"])


class Manifests(unittest.TestCase):
    def test_only_files_of_committed_manifests_in_run_order(self):
        m2 = manifest(R2, {"recently_played": ["raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % R2]})
        m1 = manifest(R1, {
            "recently_played": ["raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % R1, "raw/recently_played/dt=2026-11-24/%s-00001.jsonl.gz" % R1],
            "artists": ["raw/artists/dt=2026-11-24/%s-00000.jsonl.gz" % R1],
        })
        files = lake_io.committed_files([m2, m1], {"recently_played"})
        self.assertEqual([f["key"].split("/")[-1] for f in files], ["%s-00000.jsonl.gz" % R1, "%s-00001.jsonl.gz" % R1, "%s-00000.jsonl.gz" % R2])
        self.assertEqual({f["run_id"] for f in files}, {R1, R2})
        self.assertEqual(files[0]["records"], 3)
        # A retried job for run R1 does not see R2, committed after it.
        self.assertEqual(len(lake_io.committed_files([m1, m2], {"recently_played"}, up_to_run=R1)), 2)
        self.assertEqual(len(lake_io.committed_files([m1, m2])), 4)

    def test_manifest_keys_and_validation(self):
        self.assertTrue(lake_io.is_manifest_key("lake/_runs/%s.json" % R1, "lake/"))
        self.assertFalse(lake_io.is_manifest_key("lake/_runs/%s.json.tmp" % R1, "lake/"))
        self.assertFalse(lake_io.is_manifest_key("lake/_runs/old/%s.json" % R1, "lake/"))
        self.assertFalse(lake_io.is_manifest_key("other/_runs/%s.json" % R1, "lake/"))
        m = lake_io.parse_manifest(json.dumps(manifest(R1, {"a": []})), "_runs/x.json")
        self.assertEqual(m["run_id"], R1)
        with self.assertRaisesRegex(JobError, "_runs/x.json: not JSON"):
            lake_io.parse_manifest("{", "_runs/x.json")
        with self.assertRaisesRegex(JobError, "not a run manifest"):
            lake_io.parse_manifest("{}", "_runs/x.json")

    def test_a_manifest_listing_a_foreign_key_is_an_error(self):
        bad = manifest(R1, {"artists": ["raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % R1]})
        with self.assertRaisesRegex(JobError, "not a raw key of stream artists"):
            lake_io.committed_files([bad])

    def test_a_manifest_key_never_leaves_the_raw_zone(self):
        for key in ["raw/../../../x", "raw/s/../s-00000.jsonl.gz", "/etc/passwd", "raw/s/./r-00000.jsonl.gz", "raw//s/r-00000.jsonl.gz", "s3://other/raw/s/d/r-00000.jsonl.gz", "raw/s\\..\\x/r-0.jsonl.gz"]:
            self.assertIsNotNone(lake_io.raw_key_problem(key, "s"), key)
            with self.assertRaisesRegex(JobError, "_runs/x.json: streams.s: "):
                lake_io.parse_manifest(json.dumps(manifest(R1, {"s": [key]})), "_runs/x.json")
            with self.assertRaises(JobError):
                lake_io.committed_files([manifest(R1, {"s": [key]})])
        self.assertIsNone(lake_io.raw_key_problem("raw/s/dt=2026-11-24/%s-00000.jsonl.gz" % R1, "s"))

    def test_committed_files_carry_what_the_manifest_says_of_them(self):
        m = manifest(R1, {"s": ["raw/s/dt=2026-11-24/%s-00000.jsonl.gz" % R1]})
        m["streams"]["s"]["files"][0]["sha256"] = "ab" * 32
        [f] = lake_io.committed_files([m])
        self.assertEqual((f["records"], f["bytes"], f["sha256"]), (3, 100, "ab" * 32))


class Integrity(unittest.TestCase):
    """The checks of core/engine/integrity.ts: size, SHA-256, gzip, record lines."""

    FILE = {"key": "raw/s/dt=2026-11-24/%s-00000.jsonl.gz" % R1, "run_id": R1, "stream": "s", "records": 2}

    def data(self, text='{"a": 1}\n\n  \n{"a": 2}\n'):
        return gzip.compress(text.encode("utf-8"))

    def test_facts_of_a_file(self):
        facts = lake_io.file_facts(self.data())
        self.assertEqual((facts["gzip"], facts["lines"]), (True, 2))
        self.assertEqual(lake_io.file_facts(self.data('{"a": 1}'))["lines"], 1)
        self.assertFalse(lake_io.file_facts(b"plain text")["gzip"])
        self.assertIn("unreadable gzip", lake_io.file_facts(self.data()[:-10])["error"])

    def test_a_file_matching_its_manifest_passes(self):
        data = self.data()
        f = dict(self.FILE, bytes=len(data), sha256=lake_io.file_facts(data)["sha256"])
        lake_io.check_files([f], {f["key"]: lake_io.file_facts(data)})
        # A manifest from before checksums: size, gzip and lines.
        lake_io.check_files([self.FILE], {self.FILE["key"]: lake_io.file_facts(data)})

    def test_every_mismatch_names_the_file(self):
        data = self.data()
        f = dict(self.FILE, bytes=len(data), sha256=lake_io.file_facts(data)["sha256"])
        cases = [
            (f, None, "missing"),
            (f, lake_io.file_facts(data[:-5]), "%d bytes, the manifest says %d" % (len(data) - 5, len(data))),
            (f, dict(lake_io.file_facts(data), sha256="0" * 64), "its SHA-256 is not the one in the manifest"),
            (self.FILE, lake_io.file_facts(b"not gzip"), "not a gzip file"),
            (self.FILE, lake_io.file_facts(data[:-5]), "unreadable gzip"),
            (dict(self.FILE, records=3), lake_io.file_facts(data), r"2 record line\(s\), the manifest says 3"),
        ]
        for entry, facts, message in cases:
            with self.assertRaisesRegex(JobError, r"raw/s/dt=2026-11-24/%s-00000\.jsonl\.gz \(run %s\): %s" % (R1, R1, message)):
                lake_io.check_files([entry], {entry["key"]: facts} if facts is not None else {})


SPEC = {
    "version": 1,
    "table": "plays",
    "input_view": "raw_lines",
    "sql": "WITH ... SELECT ...",
    "quarantine_sql": "WITH ... SELECT ...",
    "judged_sql": "WITH ... SELECT ...",
    "rows_from_judged_sql": "SELECT ...",
    "quarantine_from_judged_sql": "SELECT ...",
    "partition_by": [{"name": "dt", "from": "played_at", "as": "date"}],
    "columns": [{"name": "played_at", "type": "timestamp"}, {"name": "track_id", "type": "string"}],
    "sources": [{"stream": "recently_played", "root": ""}],
}


class Specs(unittest.TestCase):
    def test_loads_a_spec_and_checks_its_version_and_table(self):
        spec = lake_io.load_spec(json.dumps(SPEC), "plays")
        self.assertEqual(lake_io.spec_streams(spec), ["recently_played"])
        with self.assertRaisesRegex(JobError, "version 2"):
            lake_io.load_spec(json.dumps(dict(SPEC, version=2)), "plays")
        with self.assertRaisesRegex(JobError, "describes table 'plays'"):
            lake_io.load_spec(json.dumps(SPEC), "tracks")
        with self.assertRaisesRegex(JobError, "missing judged_sql"):
            lake_io.load_spec(json.dumps({k: v for k, v in SPEC.items() if k != "judged_sql"}), "plays")

    def test_spec_folder_in_the_lake_bucket_or_elsewhere(self):
        args = lake_io.parse_job_args(["--lake_bucket", "lake", "--lake_prefix", "lake/", "--spec_prefix", "glue/specs/"])
        self.assertEqual(lake_io.spec_folder(args), "s3://lake/glue/specs/")
        self.assertEqual(lake_io.spec_folder(dict(args, spec_prefix="s3://assets/specs/")), "s3://assets/specs/")


DERIVED = {
    "version": 1, "kind": "recommendations", "table": "recommendations",
    "inputs": [{"table": "plays", "schema": "`played_at` TIMESTAMP_NTZ, `track_id` STRING, `dt` STRING"}],
    "statements": ["CREATE OR REPLACE TEMP VIEW rec_plays AS SELECT 1 AS t"],
    "now_sql": "SELECT 1 AS now", "now_token": "__RECS_NOW__", "sql": "SELECT __RECS_NOW__ AS x", "columns": [],
}


class DerivedSpecs(unittest.TestCase):
    def test_loads_a_derived_spec_and_names_what_is_wrong(self):
        self.assertEqual(lake_io.load_derived_spec(json.dumps(DERIVED), "recommendations")["kind"], "recommendations")
        with self.assertRaisesRegex(JobError, r"derived/recommendations\.json: kind 'clusters', this job builds recommendations"):
            lake_io.load_derived_spec(json.dumps(dict(DERIVED, kind="clusters")), "recommendations")
        with self.assertRaisesRegex(JobError, "missing now_sql"):
            lake_io.load_derived_spec(json.dumps({k: v for k, v in DERIVED.items() if k != "now_sql"}), "recommendations")
        with self.assertRaisesRegex(JobError, "describes table 'recommendations'"):
            lake_io.load_derived_spec(json.dumps(DERIVED), "recs")
        with self.assertRaisesRegex(JobError, "input .* needs a table name and a schema"):
            lake_io.load_derived_spec(json.dumps(dict(DERIVED, inputs=[{"table": "../plays", "schema": "x STRING"}])), "recommendations")
        with self.assertRaisesRegex(JobError, "not JSON"):
            lake_io.load_derived_spec("{", "recommendations")

    def test_only_a_job_building_every_table_builds_the_derived_ones(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "derived"))
            with open(os.path.join(d, "derived", "recommendations.json"), "w", encoding="utf-8") as f:
                json.dump(DERIVED, f)
            every = lake_io.parse_job_args(["--lake_root", d, "--spec_prefix", "file://" + d])
            self.assertEqual([s["table"] for s in lake_io.load_derived(every, lake_io.open_store)], ["recommendations"])
            some = lake_io.parse_job_args(["--lake_root", d, "--spec_prefix", "file://" + d, "--tables", "plays"])
            self.assertEqual(lake_io.load_derived(some, lake_io.open_store), [])
            # The derived folder is not a table spec: the tables' listing leaves it alone.
            self.assertEqual(lake_io.load_inputs(every, lake_io.open_store)[1], {})

    def test_now_is_a_double_literal_and_nothing_else(self):
        self.assertEqual(lake_io.now_literal(1733000000.0), "CAST(1733000000.0 AS DOUBLE)")
        self.assertEqual(lake_io.now_literal(17), "CAST(17.0 AS DOUBLE)")
        for bad in (None, "1; DROP", float("nan"), float("inf")):
            with self.assertRaisesRegex(JobError, "not a time"):
                lake_io.now_literal(bad)


class Paths(unittest.TestCase):
    def test_s3_uris(self):
        self.assertEqual(lake_io.split_s3_uri("s3://b/a/b"), ("b", "a/b"))
        with self.assertRaises(JobError):
            lake_io.split_s3_uri("https://b/a")

    def test_hive_partition_paths_escape_like_spark(self):
        parts = [{"name": "playlist_id"}, {"name": "kind"}]
        self.assertEqual(lake_io.partition_path(parts, {"playlist_id": "a/b c=d", "kind": None}), "playlist_id=a%2Fb c%3Dd/kind=__HIVE_DEFAULT_PARTITION__/")
        self.assertEqual(lake_io.partition_path([{"name": "dt"}], {"dt": "2026-11-24"}), "dt=2026-11-24/")
        self.assertEqual(lake_io.hive_escape(""), "__HIVE_DEFAULT_PARTITION__")
        self.assertEqual(lake_io.hive_escape("Björk 🎻"), "Björk 🎻")

    def test_rows_per_file_from_target_size(self):
        self.assertEqual(lake_io.rows_per_file(), int(128 * 1024 * 1024 / 60))
        self.assertEqual(lake_io.rows_per_file(64, 128), 64 * 1024 * 1024 // 128)
        self.assertEqual(lake_io.rows_per_file(0.001, 1000), 1000)


class PlanTables(unittest.TestCase):
    def test_plans_each_table_from_its_streams_committed_files(self):
        args = lake_io.parse_job_args(["--lake_bucket", "b", "--lake_prefix", "lake", "--spec_prefix", "specs", "--target_file_mb", "64"])
        m1 = manifest(R1, {
            "recently_played": ["raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % R1],
            "artists": ["raw/artists/dt=2026-11-24/%s-00000.jsonl.gz" % R1],
        })
        artists = dict(SPEC, table="artists", partition_by=[], sources=[{"stream": "artists", "root": ""}], target_file_mb=8)
        plans = lake_io.plan_tables(args, [m1], {"plays": SPEC, "artists": artists})
        self.assertEqual([p["table"] for p in plans], ["artists", "plays"])
        plays = plans[1]
        self.assertEqual(plays["uris"], ["s3://b/lake/raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % R1])
        self.assertEqual(plays["output"], "s3://b/lake/curated/plays/")
        self.assertEqual(plays["partition_columns"], ["dt"])
        self.assertEqual(plays["max_records_per_file"], lake_io.rows_per_file(64))  # the job argument wins
        self.assertIsNone(plays["only_run"])
        self.assertEqual(lake_io.file_table_rows(plays["files"]), [("raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % R1, R1, "recently_played")])
        with self.assertRaisesRegex(JobError, "no spec for table"):
            lake_io.plan_tables(dict(args, tables=["nope"]), [m1], {"plays": SPEC})

    def test_a_run_skips_the_tables_it_delivered_nothing_to(self):
        args = lake_io.parse_job_args(["--lake_bucket", "b", "--lake_prefix", "", "--spec_prefix", "specs", "--run_id", R2])
        m1 = manifest(R1, {"recently_played": ["raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % R1]})
        m2 = manifest(R2, {"artists": ["raw/artists/dt=2026-11-24/%s-00000.jsonl.gz" % R2]})
        artists = dict(SPEC, table="artists", partition_by=[], sources=[{"stream": "artists", "root": ""}])
        plans = {p["table"]: p for p in lake_io.plan_tables(args, [m1, m2], {"plays": SPEC, "artists": artists})}
        self.assertIsNone(plans["artists"]["skip"])
        self.assertEqual(plans["plays"]["skip"], "run %s delivered nothing to recently_played" % R2)
        # Without --run_id (a full rebuild) nothing is skipped.
        full = lake_io.plan_tables(dict(args, run_id=None), [m1, m2], {"plays": SPEC, "artists": artists})
        self.assertEqual([p["skip"] for p in full], [None, None])

    def test_a_table_with_parents_reads_the_parent_stream_and_its_complete_reads(self):
        args = lake_io.parse_job_args(["--lake_bucket", "b", "--lake_prefix", "", "--spec_prefix", "specs", "--run_id", R2])
        m1 = manifest(R1, {"my_playlists": ["raw/my_playlists/dt=2026-11-24/%s-00000.jsonl.gz" % R1], "playlist_items": ["raw/playlist_items/dt=2026-11-24/%s-00000.jsonl.gz" % R1]})
        # Run 2 re-read no playlist (all unchanged) but listed them again: one was unfollowed.
        m2 = manifest(R2, {"my_playlists": ["raw/my_playlists/dt=2026-11-24/%s-00000.jsonl.gz" % R2]})
        m3 = manifest("20261124T120000000Z-cccccc", {"my_playlists": []})
        m3["streams"]["my_playlists"]["status"] = "partial"
        tracks = dict(SPEC, table="playlist_tracks", partition_by=[], sources=[{"stream": "playlist_items", "root": ""}], parents={"stream": "my_playlists", "view": "complete_reads"})
        plan = lake_io.plan_tables(args, [m1, m2, m3], {"playlist_tracks": tracks})[0]
        self.assertIsNone(plan["skip"])  # the parents changed: the table is rebuilt
        self.assertEqual(sorted({f["stream"] for f in plan["files"]}), ["my_playlists", "playlist_items"])
        self.assertEqual(plan["complete_reads"], [("my_playlists", R1), ("my_playlists", R2), ("playlist_items", R1)])
        self.assertIsNone(lake_io.plan_tables(args, [m1, m2], {"plays": SPEC})[0]["complete_reads"])


class CompiledSpecs(unittest.TestCase):
    """Specs compiled by `spotify-pipeline transform --spark-specs` (test/transform/glue.test.ts sets the folder)."""

    @unittest.skipUnless(os.environ.get("GLUE_SPECS_DIR"), "GLUE_SPECS_DIR not set (npm test sets it)")
    def test_every_compiled_spec_loads_and_plans(self):
        d = os.environ["GLUE_SPECS_DIR"]
        names = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".json"))
        self.assertTrue(names)
        specs = {}
        for name in names:
            with open(os.path.join(d, name + ".json"), encoding="utf-8") as f:
                specs[name] = lake_io.load_spec(f.read(), name)
        args = lake_io.parse_job_args(["--lake_bucket", "b", "--spec_prefix", "specs"])
        plans = lake_io.plan_tables(args, [], specs)
        expected = os.environ.get("GLUE_SPECS_EXPECT")
        if expected:
            self.assertEqual([[p["table"], p["partition_columns"]] for p in plans], json.loads(expected))


class JobModule(unittest.TestCase):
    def test_the_entrypoint_imports_without_pyspark(self):
        import transform_job

        self.assertTrue(callable(transform_job.main))
        self.assertNotIn("pyspark", sys.modules)
        with self.assertRaisesRegex(JobError, "--lake_bucket"):
            transform_job.main(["transform_job.py"])


if __name__ == "__main__":
    unittest.main()
