-- quarantine keeps every rejected row with all its reasons, file and line; malformed lines, unreadable values and missing required values

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.played_at') AS `__raw_played_at`, get_json_object(__rec, '$.track.id') AS `__raw_track_id`, get_json_object(__rec, '$.track.duration_ms') AS `__raw_duration_ms`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, `__raw_track_id` AS `track_id`, try_cast(round(try_cast(`__raw_duration_ms` AS DECIMAL(38,9))) AS BIGINT) AS `duration_ms` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') WHEN `played_at` IS NULL THEN 'played_at: required value is missing' END,
      CASE WHEN `track_id` IS NULL THEN 'track_id: required value is missing' END,
      CASE WHEN `duration_ms` IS NULL AND `__raw_duration_ms` IS NOT NULL THEN concat('duration_ms: cannot read ', left(CAST(`__raw_duration_ms` AS STRING), 200), ' as bigint') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `played_at`, `track_id`, `duration_ms`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS BIGINT) AS `duration_ms`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
),
`__deduped` AS (
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY `played_at`, `track_id` ORDER BY __run_id DESC NULLS LAST, __file DESC, __line DESC) AS __rn FROM __kept) __d WHERE __rn = 1
)
SELECT `played_at`, `track_id`, `duration_ms`, date_format(`played_at`, 'yyyy-MM-dd') AS `dt`, __run_id AS _source_run_id
FROM `__deduped`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.played_at') AS `__raw_played_at`, get_json_object(__rec, '$.track.id') AS `__raw_track_id`, get_json_object(__rec, '$.track.duration_ms') AS `__raw_duration_ms`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, `__raw_track_id` AS `track_id`, try_cast(round(try_cast(`__raw_duration_ms` AS DECIMAL(38,9))) AS BIGINT) AS `duration_ms` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') WHEN `played_at` IS NULL THEN 'played_at: required value is missing' END,
      CASE WHEN `track_id` IS NULL THEN 'track_id: required value is missing' END,
      CASE WHEN `duration_ms` IS NULL AND `__raw_duration_ms` IS NOT NULL THEN concat('duration_ms: cannot read ', left(CAST(`__raw_duration_ms` AS STRING), 200), ' as bigint') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `played_at`, `track_id`, `duration_ms`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS BIGINT) AS `duration_ms`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'quarantine_reasons' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
