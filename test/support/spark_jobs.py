"""Many runs of the Glue job in one Spark session: the engine equivalence suite's driver.

    spark-submit --py-files glue-jobs/lake_io.py,glue-jobs/job-args.json,glue-jobs/transform_job.py \
        test/support/spark_jobs.py JOBS.json RESULTS.json

JOBS.json is a list of {"id": ..., "args": [transform_job arguments]} (each a lake and its specs,
as core/transform/spark-engine.ts prepareSparkJob makes them). Each job is transform_job.main()
with those arguments on the one session, so Spark starts once for every vector instead of once
each. RESULTS.json gets, per job, its tables' results or the error it raised (one failing vector
must not hide the others' results).
"""

import json
import sys
import traceback

import transform_job
from pyspark.sql import SparkSession


def main(jobs_file, results_file):
    with open(jobs_file, encoding="utf-8") as f:
        jobs = json.load(f)
    spark = SparkSession.builder.appName("spotify-pipeline-engine-equivalence").getOrCreate()
    out = []
    for job in jobs:
        try:
            tables = transform_job.main(["transform_job.py"] + job["args"], spark=spark)
            out.append({"id": job["id"], "tables": tables})
        except Exception:  # noqa: BLE001 - reported per job, the suite fails that vector
            out.append({"id": job["id"], "error": traceback.format_exc()})
    with open(results_file, "w", encoding="utf-8") as f:
        json.dump(out, f)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
