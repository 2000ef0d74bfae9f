"""AWS Glue 5 (Spark 3.5) job: rebuild curated tables from the committed raw data of the lake.

The SQL is not written here: `spotify-pipeline transform --spark-specs DIR` compiles each table of
pipeline.yaml into <table>.json (core/transform/jobspec.ts), from the same plan the local DuckDB
engine runs, and the deployment uploads those next to this script. This job only
  1. reads the run manifests (_runs/*.json) and lists the raw files they commit (nothing else is
     visible, so a half-written run never leaks in), and verifies them against their manifests
     (byte size, SHA-256, gzip, and record lines per file): a mismatch fails the job naming the
     files, never a table built from part of the data;
  2. reads those files as text lines into the temp view the SQL expects:
        raw_lines(value, _file, _line, _run_id, _stream);
  3. runs the compiled SQL once into a persisted view `__judged`, then the table's rows and its
     quarantine rows from it;
  4. writes the rows as ZSTD Parquet, Hive-partitioned, with dynamic partition overwrite, and
     replaces quarantine/<table>/ with the rejected rows (gzip JSON Lines);
  5. when it builds every table (no --tables), builds the derived tables whose specs are under
     <spec_prefix>derived/ from the curated tables it has written (the recommendations: the
     same model SQL as `spotify-pipeline recs`, core/recs/jobspec.ts).

Arguments (names in job-args.json, meanings in glue-jobs/README.md): --lake_bucket, --lake_prefix,
--spec_prefix, and optionally --tables, --run_id, --target_file_mb, --bytes_per_row; --lake_root
(a file:// or Hadoop FS URI instead of the bucket) and --output_root (where curated/ and quarantine/
are written) run it outside Glue: `spotify-pipeline transform --engine spark` does, on local Spark.

pyspark and boto3 are imported inside the functions that need them: the pure parts (lake_io) are
tested without them, and boto3 only when the lake or the specs are in S3.
"""

import json
import sys
import time

import lake_io

RAW_KEY_REGEX = r"(raw/[^/]+/[^/]+/[^/]+)$"


class HadoopStore:
    """Manifests and specs on any file system Spark's Hadoop libraries reach (hdfs://, s3a://, ...)."""

    def __init__(self, spark):
        self.jvm = spark._jvm
        self.conf = spark._jsc.hadoopConfiguration()

    def _fs(self, uri):
        path = self.jvm.org.apache.hadoop.fs.Path(uri)
        return path.getFileSystem(self.conf), path

    def list(self, prefix):
        fs, path = self._fs(prefix)
        if not fs.exists(path):
            return []
        # Listed paths come back qualified (file:/x, not file:///x): strip the qualified folder and
        # put the prefix as given back in front, so keys compare with the lake root.
        base = fs.makeQualified(path).toString().rstrip("/") + "/"
        out = []
        files = fs.listFiles(path, True)
        while files.hasNext():
            name = files.next().getPath().toString()
            if name.startswith(base):
                out.append(prefix + name[len(base):])
        return sorted(out)

    def read_text(self, uri):
        fs, path = self._fs(uri)
        stream = fs.open(path)
        try:
            return self.jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()


def store_factory(spark):
    """store_for(uri): one store per scheme, created on first use (boto3 only for s3://)."""
    stores = {}

    def s3_client():
        import boto3

        return boto3.client("s3")

    def store_for(uri):
        scheme = uri.split(":", 1)[0] if ":" in uri else "file"
        if scheme not in stores:
            stores[scheme] = lake_io.open_store(uri, s3_client, lambda: HadoopStore(spark))
        return stores[scheme]

    return store_for


def raw_lines(spark, plan):
    """The view the SQL reads: one row per line of every committed raw file of the table's streams."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    files = spark.createDataFrame(
        lake_io.file_table_rows(plan["files"]),
        StructType([StructField("_file", StringType()), StructField("_run_id", StringType()), StructField("_stream", StringType())]),
    )
    lines = (
        # Lines end at \n only, as the local engine reads them (Hadoop's default also ends one at a
        # bare \r); blank lines are skipped, not numbered, as there.
        spark.read.option("lineSep", "\n")
        .text(plan["uris"])
        .select("value", F.regexp_extract(F.col("_metadata.file_path"), RAW_KEY_REGEX, 1).alias("_file"), F.col("_metadata.file_block_start").alias("__block"))
        .where(~F.col("value").rlike(r"^[ \t\r]*$"))
        # Within a split of a file the ids increase in line order; a gzip file is never split, and
        # the splits of an uncompressed one are ordered by where they start.
        .withColumn("__mid", F.monotonically_increasing_id())
    )
    by_file = Window.partitionBy("_file").orderBy("__block", "__mid")
    return (
        lines.withColumn("_line", F.row_number().over(by_file).cast("bigint"))
        .join(F.broadcast(files), "_file")
        .select("value", "_file", "_line", "_run_id", "_stream")
    )


def verify_raw(spark, files, lake_root, store_for):
    """JobError naming every committed file that is not what its manifest says (lake_io.check_files):
    missing (not listed under raw/), another size or SHA-256, not gzip, or (for files of manifests
    from before checksums) another number of record lines. Sizes and checksums are computed where
    the data is (Spark's binaryFile source and SQL functions, no Python on the executors). A file
    whose SHA-256 matches holds the bytes its run wrote, so its lines are counted only when its
    manifest has no checksum."""
    from pyspark.sql import functions as F

    if not files:
        return
    raw = lake_root + "raw/"
    present = set(store_for(raw).list(raw))
    uris = sorted({lake_root + f["key"] for f in files} & present)
    facts = {}
    if uris:
        df = spark.read.format("binaryFile").load(uris).select(
            F.regexp_extract(F.col("path"), RAW_KEY_REGEX, 1).alias("key"),
            F.col("length"),
            F.sha2(F.col("content"), 256).alias("sha256"),
            F.hex(F.substring(F.col("content"), 1, 2)).alias("magic"),
        )
        for row in df.collect():
            facts[row["key"]] = {"bytes": row["length"], "sha256": row["sha256"], "gzip": row["magic"] == "1F8B"}
    lake_io.check_files(files, facts)
    unsummed = [f for f in files if "sha256" not in f]
    if unsummed:
        # Record lines as the tables read them (raw_lines: blank lines are no record).
        lines = raw_lines(spark, {"files": unsummed, "uris": [lake_root + f["key"] for f in unsummed]})
        counts = {r["_file"]: r["n"] for r in lines.groupBy("_file").agg(F.count(F.lit(1)).alias("n")).collect()}
        lake_io.check_files(unsummed, {f["key"]: {"lines": counts.get(f["key"], 0)} for f in unsummed})


def quarantine_lines(df):
    """Rows of the quarantine query as JSON lines shaped like the local engine's (record nested)."""
    from pyspark.sql import functions as F

    return df.withColumn("__head", F.to_json(F.struct("table", "reasons", "file", "line", "source_run_id"))).select(
        F.concat(
            F.expr("substr(__head, 1, length(__head) - 1)"),
            F.lit(',"record":'),
            F.coalesce(F.col("record"), F.lit("null")),
            F.lit("}"),
        ).alias("value")
    )


def run_table(spark, plan, log=print):
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    spec = plan["spec"]
    table = plan["table"]
    started = time.time()
    if not plan["files"]:
        log("%s: no committed raw data for %s; nothing to write" % (table, ", ".join(lake_io.spec_streams(spec))))
        return {"table": table, "rows": 0, "quarantined": 0, "seconds": 0.0}
    if plan.get("skip"):
        log("%s: %s; left as it is" % (table, plan["skip"]))
        return {"table": table, "rows": 0, "quarantined": 0, "seconds": 0.0, "skipped": plan["skip"]}

    raw_lines(spark, plan).createOrReplaceTempView(spec["input_view"])
    if spec.get("parents"):
        from pyspark.sql.types import StringType, StructField, StructType

        spark.createDataFrame(
            plan["complete_reads"] or [],
            StructType([StructField("_stream", StringType()), StructField("_run_id", StringType())]),
        ).createOrReplaceTempView(spec["parents"]["view"])
    judged = spark.sql(spec["judged_sql"]).persist(StorageLevel.MEMORY_AND_DISK)
    judged.createOrReplaceTempView("__judged")
    try:
        rows = spark.sql(spec["rows_from_judged_sql"])
        pcols = plan["partition_columns"]
        if plan["only_run"] and pcols:
            # Replace only the partitions this run delivered rows to (dynamic overwrite leaves the rest).
            # (Renamed: a self-join on unrenamed columns would compare each column with itself.)
            touched = rows.where(F.col("_source_run_id") == plan["only_run"]).select(*[F.col(c).alias("__t_" + c) for c in pcols]).distinct()
            cond = [rows[c].eqNullSafe(touched["__t_" + c]) for c in pcols]
            rows = rows.join(touched, cond, "left_semi")
        rows = rows.drop("_source_run_id")
        count = rows.count()
        # Small data: one file per partition (one writer task each). maxRecordsPerFile splits a
        # large partition near target_file_mb.
        if pcols:
            rows = rows.repartition(*pcols)
        else:
            rows = rows.coalesce(max(1, -(-count // plan["max_records_per_file"])))
        writer = rows.write.mode("overwrite").option("compression", "zstd").option("maxRecordsPerFile", plan["max_records_per_file"])
        if pcols:
            writer = writer.partitionBy(*pcols)
        writer.parquet(plan["output"])

        quarantine = spark.sql(spec["quarantine_from_judged_sql"])
        quarantined = quarantine.count()
        quarantine_lines(quarantine).coalesce(1).write.mode("overwrite").option("compression", "gzip").text(plan["quarantine"])
        log("%s: %d row(s) written to %s, %d quarantined" % (table, count, plan["output"], quarantined))
        return {"table": table, "rows": count, "quarantined": quarantined, "seconds": round(time.time() - started, 3)}
    finally:
        judged.unpersist()


def has_parquet(store_for, folder):
    return any(u.endswith(".parquet") for u in store_for(folder).list(folder))


def run_recommendations(spark, spec, args, store_for, log=print):
    """The recommendations (core/recs: the same statements and model SQL as `recs` on DuckDB) from
    the curated tables under --output_root, written as curated/<table>/ (one Parquet file)."""
    started = time.time()
    table = spec["table"]
    root = args["output_root"]
    read = []
    for i in spec["inputs"]:
        folder = root + "curated/%s/" % i["table"]
        if has_parquet(store_for, folder):
            spark.read.schema(i["schema"]).parquet(folder).createOrReplaceTempView(i["table"])
            read.append(i["table"])
        else:
            spark.createDataFrame([], i["schema"]).createOrReplaceTempView(i["table"])
    for statement in spec["statements"]:
        spark.sql(statement)
    now = spark.sql(spec["now_sql"]).collect()[0]["now"]
    if now is None:
        log("%s: no plays in %s; left as it is" % (table, ", ".join(read) or "the lake"))
        return {"table": table, "rows": 0, "quarantined": 0, "seconds": 0.0, "skipped": "no plays"}
    rows = spark.sql(spec["sql"].replace(spec["now_token"], lake_io.now_literal(now))).coalesce(1)
    output = root + "curated/%s/" % table
    rows.write.mode("overwrite").option("compression", "zstd").parquet(output)
    count = spark.read.parquet(output).count()
    log("%s: %d row(s) written to %s from %s" % (table, count, output, ", ".join(read)))
    return {"table": table, "rows": count, "quarantined": 0, "seconds": round(time.time() - started, 3)}


def run_derived(spark, args, store_for, log=print):
    """The derived tables (derived/*.json beside the table specs), after every table is written."""
    return [run_recommendations(spark, spec, args, store_for, log) for spec in lake_io.load_derived(args, store_for)]


def configure(spark):
    conf = spark.conf
    conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    # Timestamps are UTC wall time, written as TIMESTAMP_MICROS like DuckDB (Athena reads both).
    conf.set("spark.sql.session.timeZone", "UTC")
    conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    # The compiled SQL relies on try_cast for unreadable values; plain casts stay lenient too.
    conf.set("spark.sql.ansi.enabled", "false")
    # Dates and timestamps are written as they are (proleptic Gregorian, like DuckDB, Athena and
    # every Spark 3 reader), not rebased to the Julian calendar; by default one date before
    # 1582-10-15 (say 0001-01-01 in a release date) fails the whole write.
    conf.set("spark.sql.parquet.datetimeRebaseModeInWrite", "CORRECTED")
    conf.set("spark.sql.parquet.int96RebaseModeInWrite", "CORRECTED")


def run_job(spark, args, store_for=None, log=print):
    """Every table the arguments name (all specs by default), built on `spark`. Returns the results."""
    configure(spark)
    store_for = store_for or store_factory(spark)
    manifests, specs = lake_io.load_inputs(args, store_for)
    plans = lake_io.plan_tables(args, manifests, specs)
    # Every file a table will read is verified first: a bad one fails the job before anything is written.
    read = {f["key"]: f for p in plans if p["files"] and not p.get("skip") for f in p["files"]}
    verify_raw(spark, list(read.values()), args["lake_root"], store_for)
    results = [run_table(spark, plan, log) for plan in plans]
    return results + run_derived(spark, args, store_for, log)


def main(argv=None, spark=None):
    args = lake_io.parse_job_args(sys.argv if argv is None else argv)
    if spark is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.appName("spotify-pipeline-transform").getOrCreate()
    results = run_job(spark, args)
    # The last line of the job's output: what `transform --engine spark` reads back.
    print(json.dumps({"run_id": args["run_id"], "tables": results}))
    return results


if __name__ == "__main__":
    main()
