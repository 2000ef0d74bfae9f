-- partitions by year, then month, of a timestamp (UTC); a row without the timestamp goes to the Hive default partition

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.played_at') AS `__raw_played_at`, get_json_object(__rec, '$.track.id') AS `__raw_track_id`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, `__raw_track_id` AS `track_id` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `played_at`, `track_id`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS STRING) AS `track_id`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
)
SELECT `played_at`, `track_id`, date_format(`played_at`, 'yyyy') AS `year`, date_format(`played_at`, 'yyyy-MM') AS `month`, __run_id AS _source_run_id
FROM `__kept`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.played_at') AS `__raw_played_at`, get_json_object(__rec, '$.track.id') AS `__raw_track_id`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, `__raw_track_id` AS `track_id` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `played_at`, `track_id`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS STRING) AS `track_id`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'partition_month_year' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
