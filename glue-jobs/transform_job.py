"""AWS Glue 5 (Spark 3.5) job: rebuild curated tables from the committed raw data of the lake.

The SQL is not written here: `spotify-pipeline transform --spark-specs DIR` compiles each table of
pipeline.yaml into <table>.json (core/transform/jobspec.ts), from the same plan the local DuckDB
engine runs, and the deployment uploads those next to this script. This job only
  1. reads the run manifests (_runs/*.json) and lists the raw files they commit (nothing else is
     visible, so a half-written run never leaks in);
  2. reads those files as text lines into the temp view the SQL expects:
        raw_lines(value, _file, _line, _run_id, _stream);
  3. runs the compiled SQL once into a persisted view `__judged`, then the table's rows and its
     quarantine rows from it;
  4. writes the rows as ZSTD Parquet, Hive-partitioned, with dynamic partition overwrite, and
     replaces quarantine/<table>/ with the rejected rows (gzip JSON Lines).

Arguments (see glue-jobs/README.md): --lake_bucket, --lake_prefix, --spec_prefix, and optionally
--tables, --run_id, --target_file_mb, --bytes_per_row.

pyspark and boto3 are imported inside main(): the pure parts (lake_io) are tested without them.
"""

import json
import sys

import lake_io

RAW_KEY_REGEX = r"(raw/[^/]+/[^/]+/[^/]+)$"


def list_keys(s3, bucket, prefix):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def read_text(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def load_inputs(s3, args):
    """Manifests and specs from S3, validated (lake_io raises JobError naming the bad object)."""
    bucket, prefix = args["lake_bucket"], args["lake_prefix"]
    manifests = [
        lake_io.parse_manifest(read_text(s3, bucket, key), key)
        for key in list_keys(s3, bucket, prefix + "_runs/")
        if lake_io.is_manifest_key(key, prefix)
    ]
    names = args["tables"]
    if not names:
        spec_bucket, spec_key = lake_io.spec_location(bucket, args["spec_prefix"], "")
        names = sorted(k[len(spec_key):-len(".json")] for k in list_keys(s3, spec_bucket, spec_key) if k.endswith(".json") and "/" not in k[len(spec_key):])
    specs = {}
    for name in names:
        spec_bucket, key = lake_io.spec_location(bucket, args["spec_prefix"], name)
        specs[name] = lake_io.load_spec(read_text(s3, spec_bucket, key), name)
    return manifests, specs


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
        spark.read.text(plan["uris"])
        .withColumn("_file", F.regexp_extract(F.input_file_name(), RAW_KEY_REGEX, 1))
        # A gzip file is never split, so within a file the ids increase in line order.
        .withColumn("__mid", F.monotonically_increasing_id())
    )
    by_file = Window.partitionBy("_file").orderBy("__mid")
    return (
        lines.withColumn("_line", F.row_number().over(by_file).cast("bigint"))
        .join(F.broadcast(files), "_file")
        .select("value", "_file", "_line", "_run_id", "_stream")
    )


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
    if not plan["files"]:
        log("%s: no committed raw data for %s; nothing to write" % (table, ", ".join(lake_io.spec_streams(spec))))
        return {"table": table, "rows": 0, "quarantined": 0}

    raw_lines(spark, plan).createOrReplaceTempView(spec["input_view"])
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
        return {"table": table, "rows": count, "quarantined": quarantined}
    finally:
        judged.unpersist()


def configure(spark):
    conf = spark.conf
    conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    # Timestamps are UTC wall time, written as TIMESTAMP_MICROS like DuckDB (Athena reads both).
    conf.set("spark.sql.session.timeZone", "UTC")
    conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    # The compiled SQL relies on try_cast for unreadable values; plain casts stay lenient too.
    conf.set("spark.sql.ansi.enabled", "false")


def main(argv=None):
    args = lake_io.parse_job_args(sys.argv if argv is None else argv)
    import boto3
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("spotify-pipeline-transform").getOrCreate()
    configure(spark)
    manifests, specs = load_inputs(boto3.client("s3"), args)
    results = [run_table(spark, plan) for plan in lake_io.plan_tables(args, manifests, specs)]
    print(json.dumps({"run_id": args["run_id"], "tables": results}))
    return results


if __name__ == "__main__":
    main()
