"""The Glue job's functions on a real local SparkSession (pyspark 3.5.4, Glue 5.0's), over small
local lakes (raw gzip JSON Lines + run manifests in a temp folder) and the specs compiled from
pipeline.yaml: the rows and quarantine it writes, --run_id replacing only the partitions that run
delivered rows to, unpartitioned tables, latest_per, and reading a lake through Hadoop's file system.
"""

import gzip
import json
import os

import pytest

import lake_io
import transform_job

R1 = "20261124T101502Z-ab12cd"
R2 = "20261124T111502Z-ef34ab"
R3 = "20261124T121502Z-0a1b2c"


def play(at, track_id, name="Song", artist=("ar1", "Radiohead")):
    return {
        "played_at": at,
        "track": {"id": track_id, "name": name, "duration_ms": 200000, "artists": [{"id": artist[0], "name": artist[1]}], "album": {"id": "al_" + track_id}},
        "context": {"type": "playlist", "uri": "spotify:playlist:pl1"},
    }


def item(playlist, position, track_id):
    return {"playlist_id": playlist, "position": position, "added_at": "2026-01-01T00:00:00Z", "is_local": False, "item": {"id": track_id, "type": "track", "name": "T " + track_id, "artists": [{"id": "ar1"}], "duration_ms": 1000}}


def job_args(lake, specs_dir, *extra):
    return lake_io.parse_job_args(["--lake_root", lake.uri, "--spec_prefix", "file://" + specs_dir] + list(extra))


def run(spark, lake, specs_dir, *extra):
    return transform_job.run_job(spark, job_args(lake, specs_dir, *extra), log=lambda *a: None)


def rows(spark, lake, table, *columns):
    df = spark.read.parquet(lake.uri + "curated/" + table)
    return sorted(tuple(r[c] for c in columns) for r in df.collect())


def test_rows_partitions_and_quarantine_of_a_table(spark, lake, specs_dir):
    lake.commit(R1, {"recently_played": [
        play("2026-11-23T09:30:00Z", "t1"),
        play("2026-11-24T10:00:00+01:00", "t2"),
        play("yesterday", "t3"),
        '{"played_at": "2026-11-24T10:00:00Z", "track": {"id": ',
    ]})
    # The same play delivered again by a later run, and a new one: dedupe keeps one of each.
    lake.commit(R2, {"recently_played": [play("2026-11-24T10:00:00+01:00", "t2"), play("2026-11-24T11:00:00Z", "t4")]})

    [result] = run(spark, lake, specs_dir, "--tables", "plays")
    assert (result["table"], result["rows"], result["quarantined"]) == ("plays", 3, 2)

    got = rows(spark, lake, "plays", "dt", "track_id", "played_at", "artist_name")
    assert [(dt, t, str(at), a) for dt, t, at, a in got] == [
        ("2026-11-23", "t1", "2026-11-23 09:30:00", "Radiohead"),
        ("2026-11-24", "t2", "2026-11-24 09:00:00", "Radiohead"),  # +01:00 converted to UTC
        ("2026-11-24", "t4", "2026-11-24 11:00:00", "Radiohead"),
    ]
    # One Hive folder per day, one file each (small data).
    assert sorted({f.split("/")[0] for f in lake.files("curated/plays")}) == ["dt=2026-11-23", "dt=2026-11-24"]
    assert len(lake.files("curated/plays")) == 2

    key = "raw/recently_played/dt=2026-11-24/%s-00000.jsonl.gz" % R1
    assert lake.quarantine("plays") == [
        {"table": "plays", "reasons": ["played_at: cannot read yesterday as timestamp"], "file": key, "line": 3, "source_run_id": R1, "record": play("yesterday", "t3")},
        {"table": "plays", "reasons": ["record: malformed JSON line"], "file": key, "line": 4, "source_run_id": R1, "record": None},
    ]
    # The shape of the local engine's quarantine lines, key for key and in order.
    with gzip.open(os.path.join(lake.root, "quarantine", "plays", lake.files("quarantine/plays")[0]), "rt", encoding="utf-8") as f:
        first = f.readline()
    assert list(json.loads(first)) == ["table", "reasons", "file", "line", "source_run_id", "record"]

    # A rerun replaces instead of adding (rows and quarantine).
    run(spark, lake, specs_dir, "--tables", "plays")
    assert len(rows(spark, lake, "plays", "track_id")) == 3
    assert len(lake.quarantine("plays")) == 2


def test_run_id_replaces_only_the_partitions_that_run_delivered_rows_to(spark, lake, specs_dir):
    lake.commit(R1, {"recently_played": [play("2026-11-22T08:00:00Z", "t1"), play("2026-11-23T08:00:00Z", "t2")]})
    run(spark, lake, specs_dir, "--tables", "plays")
    before = lake.files("curated/plays")
    mtimes = {f: os.stat(os.path.join(lake.root, "curated", "plays", f)).st_mtime_ns for f in before}

    # R2 delivers a play on the 23rd only; R3, committed after R2, one on the 25th.
    lake.commit(R2, {"recently_played": [play("2026-11-23T09:00:00Z", "t3")]})
    lake.commit(R3, {"recently_played": [play("2026-11-25T09:00:00Z", "t4")]})
    [result] = run(spark, lake, specs_dir, "--tables", "plays", "--run_id", R2)

    after = lake.files("curated/plays")
    # The 22nd is untouched (same file, same time); the 23rd is rewritten with both runs' rows;
    # the 25th, which only R3 delivered to, is left to R3's own job.
    untouched = [f for f in before if f.startswith("dt=2026-11-22/")]
    assert [f for f in after if f.startswith("dt=2026-11-22/")] == untouched
    assert all(os.stat(os.path.join(lake.root, "curated", "plays", f)).st_mtime_ns == mtimes[f] for f in untouched)
    assert [f for f in after if f.startswith("dt=2026-11-23/")] != [f for f in before if f.startswith("dt=2026-11-23/")]
    assert not [f for f in after if f.startswith("dt=2026-11-25/")]
    assert rows(spark, lake, "plays", "dt", "track_id") == [("2026-11-22", "t1"), ("2026-11-23", "t2"), ("2026-11-23", "t3")]
    assert result["rows"] == 2  # the rows written: those of the partitions R2 touched


def test_a_late_job_for_an_earlier_run_keeps_the_later_runs_rows(spark, lake, specs_dir):
    # R2 and R3 both deliver to the 23rd; R3's job runs first, then R2's (a retry behind it).
    lake.commit(R1, {"recently_played": [play("2026-11-22T08:00:00Z", "t1")]})
    lake.commit(R2, {"recently_played": [play("2026-11-23T08:00:00Z", "t2")]})
    lake.commit(R3, {"recently_played": [play("2026-11-23T09:00:00Z", "t3")]})
    run(spark, lake, specs_dir, "--tables", "plays")
    run(spark, lake, specs_dir, "--tables", "plays", "--run_id", R3)
    run(spark, lake, specs_dir, "--tables", "plays", "--run_id", R2)
    # R2's job rewrote the 23rd from every committed run: R3's play is still there.
    assert rows(spark, lake, "plays", "dt", "track_id") == [("2026-11-22", "t1"), ("2026-11-23", "t2"), ("2026-11-23", "t3")]


def test_unpartitioned_table_with_latest_per_is_replaced_whole(spark, lake, specs_dir):
    lake.commit(R1, {"playlist_items": [item("plA", 0, "t1"), item("plA", 1, "t2"), item("plA", 2, "t3"), item("plB", 0, "t9")]})
    # plA re-read with one track left: its older rows are superseded, plB's stay.
    lake.commit(R2, {"playlist_items": [item("plA", 0, "t3")]})
    expected = [("plA", 0, "t3"), ("plB", 0, "t9")]

    for extra in ([], ["--run_id", R2]):
        # With --run_id too: a table without partitions is written whole.
        [result] = run(spark, lake, specs_dir, "--tables", "playlist_tracks", *extra)
        assert result["rows"] == 2
        assert rows(spark, lake, "playlist_tracks", "playlist_id", "position", "track_id") == expected
        files = lake.files("curated/playlist_tracks")
        assert len(files) == 1 and "/" not in files[0] and files[0].endswith(".parquet")
    assert lake.quarantine("playlist_tracks") == []


def test_a_table_without_committed_data_writes_nothing(spark, lake, specs_dir):
    lake.commit(R1, {"recently_played": [play("2026-11-23T09:30:00Z", "t1")]})
    results = run(spark, lake, specs_dir, "--tables", "plays,playlist_tracks")
    assert [(r["table"], r["rows"]) for r in results] == [("plays", 1), ("playlist_tracks", 0)]
    assert not os.path.exists(os.path.join(lake.root, "curated", "playlist_tracks"))


def test_outputs_go_under_output_root_and_main_prints_the_result_line(spark, lake, specs_dir, tmp_path, capsys):
    lake.commit(R1, {"recently_played": [play("2026-11-23T09:30:00Z", "t1")]})
    out = tmp_path / "staging"
    transform_job.main(["transform_job.py", "--lake_root", lake.uri, "--spec_prefix", "file://" + specs_dir, "--output_root", str(out), "--tables", "plays"], spark=spark)
    assert not os.path.exists(os.path.join(lake.root, "curated"))
    assert [d for d in os.listdir(out / "curated" / "plays") if d.startswith("dt=")] == ["dt=2026-11-23"]
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["tables"][0]["rows"] == 1


def test_the_hadoop_store_reads_what_the_local_store_reads(spark, lake, specs_dir):
    lake.commit(R1, {"recently_played": [play("2026-11-23T09:30:00Z", "t1")]})
    args = job_args(lake, specs_dir)
    hadoop = transform_job.HadoopStore(spark)
    via_hadoop = lake_io.load_inputs(args, lambda uri: hadoop)
    via_files = lake_io.load_inputs(args, lake_io.open_store)
    assert via_hadoop == via_files
    assert [m["run_id"] for m in via_hadoop[0]] == [R1]
    assert "plays" in via_hadoop[1]
    assert hadoop.list(lake.uri + "nothing/") == []


def test_raw_lines_end_at_newlines_only_and_blank_lines_are_not_numbered(spark, lake, specs_dir):
    # As the local engine reads a raw file: a bare \r does not end a line, a blank line is no line.
    lake.commit(R1, {"recently_played": [
        play("2026-11-23T09:30:00Z", "t1"),
        "",
        "  \t",
        json.dumps(play("2026-11-23T09:31:00Z", "t2")) + "\r" + json.dumps(play("2026-11-23T09:32:00Z", "t3")),
        json.dumps(play("2026-11-23T09:33:00Z", "t4")) + " trailing",
        play("2026-11-23T09:34:00Z", "t5"),
    ]})
    [result] = run(spark, lake, specs_dir, "--tables", "plays")
    assert rows(spark, lake, "plays", "track_id") == [("t1",), ("t5",)]
    assert [(q["line"], q["reasons"], q["record"]) for q in lake.quarantine("plays")] == [
        (2, ["record: malformed JSON line"], None),
        (3, ["record: malformed JSON line"], None),
    ]
    assert result["quarantined"] == 2


def _manifest_path(lake, run_id):
    return os.path.join(lake.root, "_runs", run_id + ".json")


def _raw_path(lake, stream, run_id):
    return os.path.join(lake.root, "raw", stream, "dt=2026-11-24", "%s-00000.jsonl.gz" % run_id)


def test_a_truncated_or_replaced_raw_file_fails_the_job_naming_it_and_writes_nothing(spark, lake, specs_dir):
    # As the local engine does (core/engine/integrity.ts): never a table missing the file's rows.
    lake.commit(R1, {"recently_played": [play("2026-11-23T09:%02d:00Z" % i, "t%d" % i) for i in range(40)]})
    path = _raw_path(lake, "recently_played", R1)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    with pytest.raises(lake_io.JobError, match=r"raw/recently_played/dt=2026-11-24/%s-00000\.jsonl\.gz \(run %s\): \d+ bytes, the manifest says %d" % (R1, R1, len(data))):
        run(spark, lake, specs_dir, "--tables", "plays")
    assert not os.path.exists(os.path.join(lake.root, "curated"))

    # Same size, other bytes: the checksum tells.
    with open(path, "wb") as f:
        f.write(bytes(len(data)))
    with pytest.raises(lake_io.JobError, match="SHA-256 is not the one in the manifest"):
        run(spark, lake, specs_dir, "--tables", "plays")
    os.remove(path)
    with pytest.raises(lake_io.JobError, match="missing"):
        run(spark, lake, specs_dir, "--tables", "plays")


def test_a_manifest_from_before_checksums_is_checked_for_gzip_and_record_lines(spark, lake, specs_dir):
    lake.commit(R1, {"recently_played": [play("2026-11-23T09:30:00Z", "t1"), play("2026-11-23T09:31:00Z", "t2")]})
    with open(_manifest_path(lake, R1), encoding="utf-8") as f:
        m = json.load(f)
    entry = m["streams"]["recently_played"]["files"][0]
    del entry["sha256"], entry["bytes"]
    entry["records"] = 3
    with open(_manifest_path(lake, R1), "w", encoding="utf-8") as f:
        json.dump(m, f)
    with pytest.raises(lake_io.JobError, match=r"2 record line\(s\), the manifest says 3"):
        run(spark, lake, specs_dir, "--tables", "plays")
    entry["records"] = 2
    with open(_manifest_path(lake, R1), "w", encoding="utf-8") as f:
        json.dump(m, f)
    [result] = run(spark, lake, specs_dir, "--tables", "plays")
    assert result["rows"] == 2
    with open(_raw_path(lake, "recently_played", R1), "wb") as f:
        f.write(b'{"not": "gzip"}\n')
    with pytest.raises(lake_io.JobError, match="not a gzip file"):
        run(spark, lake, specs_dir, "--tables", "plays")


def test_a_manifest_key_outside_the_raw_zone_is_refused(spark, lake, specs_dir):
    lake.commit(R1, {"recently_played": [play("2026-11-23T09:30:00Z", "t1")]})
    with open(_manifest_path(lake, R1), encoding="utf-8") as f:
        m = json.load(f)
    m["streams"]["recently_played"]["files"][0]["key"] = "raw/../../../etc/passwd"
    with open(_manifest_path(lake, R1), "w", encoding="utf-8") as f:
        json.dump(m, f)
    with pytest.raises(lake_io.JobError, match=r"_runs/%s\.json: streams\.recently_played: file key 'raw/\.\./\.\./\.\./etc/passwd' is not a relative lake key" % R1):
        run(spark, lake, specs_dir, "--tables", "plays")
