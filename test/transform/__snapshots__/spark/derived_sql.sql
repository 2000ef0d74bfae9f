-- derived sql columns over earlier columns (chained), and a month partition from a derived date

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.played_at') AS `__raw_played_at`, get_json_object(__rec, '$.track.duration_ms') AS `__raw_duration_ms`, get_json_object(__rec, '$.track.uri') AS `__raw_track_uri`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, try_cast(round(try_cast(`__raw_duration_ms` AS DECIMAL(38,9))) AS BIGINT) AS `duration_ms`, `__raw_track_uri` AS `track_uri` FROM __values
),
`__derived_3` AS (
  SELECT *, (round(duration_ms / 60000.0, 2)) AS `__raw_minutes` FROM `__typed`
),
`__derived_3_typed` AS (
  SELECT *, try_cast(`__raw_minutes` AS DOUBLE) AS `minutes` FROM `__derived_3`
),
`__derived_4` AS (
  SELECT *, (minutes >= 5) AS `__raw_long_play` FROM `__derived_3_typed`
),
`__derived_4_typed` AS (
  SELECT *, try_cast(`__raw_long_play` AS BOOLEAN) AS `long_play` FROM `__derived_4`
),
`__derived_5` AS (
  SELECT *, (regexp_extract(track_uri, 'spotify:track:([A-Za-z0-9]+)', 1)) AS `__raw_track_id` FROM `__derived_4_typed`
),
`__derived_5_typed` AS (
  SELECT *, try_cast(`__raw_track_id` AS STRING) AS `track_id` FROM `__derived_5`
),
`__derived_6` AS (
  SELECT *, (CAST(played_at AS DATE)) AS `__raw_play_day` FROM `__derived_5_typed`
),
`__derived_6_typed` AS (
  SELECT *, try_cast(`__raw_play_day` AS DATE) AS `play_day` FROM `__derived_6`
),
`__derived_7` AS (
  SELECT *, (CASE WHEN long_play THEN 'long' ELSE 'short' END || ' play') AS `__raw_label` FROM `__derived_6_typed`
),
`__derived_7_typed` AS (
  SELECT *, try_cast(`__raw_label` AS STRING) AS `label` FROM `__derived_7`
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') WHEN `played_at` IS NULL THEN 'played_at: required value is missing' END,
      CASE WHEN `duration_ms` IS NULL AND `__raw_duration_ms` IS NOT NULL THEN concat('duration_ms: cannot read ', left(CAST(`__raw_duration_ms` AS STRING), 200), ' as bigint') END,
      CASE WHEN `minutes` IS NULL AND `__raw_minutes` IS NOT NULL THEN concat('minutes: cannot read ', left(CAST(`__raw_minutes` AS STRING), 200), ' as double') END,
      CASE WHEN `long_play` IS NULL AND `__raw_long_play` IS NOT NULL THEN concat('long_play: cannot read ', left(CAST(`__raw_long_play` AS STRING), 200), ' as boolean') END,
      CASE WHEN `track_id` IS NULL AND `__raw_track_id` IS NOT NULL THEN concat('track_id: cannot read ', left(CAST(`__raw_track_id` AS STRING), 200), ' as string') END,
      CASE WHEN `play_day` IS NULL AND `__raw_play_day` IS NOT NULL THEN concat('play_day: cannot read ', left(CAST(`__raw_play_day` AS STRING), 200), ' as date') END,
      CASE WHEN `label` IS NULL AND `__raw_label` IS NOT NULL THEN concat('label: cannot read ', left(CAST(`__raw_label` AS STRING), 200), ' as string') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__derived_7_typed`
),
`__judged` AS (
  SELECT `played_at`, `duration_ms`, `track_uri`, `minutes`, `long_play`, `track_id`, `play_day`, `label`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS BIGINT) AS `duration_ms`, CAST(NULL AS STRING) AS `track_uri`, CAST(NULL AS DOUBLE) AS `minutes`, CAST(NULL AS BOOLEAN) AS `long_play`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS DATE) AS `play_day`, CAST(NULL AS STRING) AS `label`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
)
SELECT `played_at`, `duration_ms`, `track_uri`, `minutes`, `long_play`, `track_id`, `play_day`, `label`, date_format(`play_day`, 'yyyy-MM') AS `month`, __run_id AS _source_run_id
FROM `__kept`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.played_at') AS `__raw_played_at`, get_json_object(__rec, '$.track.duration_ms') AS `__raw_duration_ms`, get_json_object(__rec, '$.track.uri') AS `__raw_track_uri`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, try_cast(round(try_cast(`__raw_duration_ms` AS DECIMAL(38,9))) AS BIGINT) AS `duration_ms`, `__raw_track_uri` AS `track_uri` FROM __values
),
`__derived_3` AS (
  SELECT *, (round(duration_ms / 60000.0, 2)) AS `__raw_minutes` FROM `__typed`
),
`__derived_3_typed` AS (
  SELECT *, try_cast(`__raw_minutes` AS DOUBLE) AS `minutes` FROM `__derived_3`
),
`__derived_4` AS (
  SELECT *, (minutes >= 5) AS `__raw_long_play` FROM `__derived_3_typed`
),
`__derived_4_typed` AS (
  SELECT *, try_cast(`__raw_long_play` AS BOOLEAN) AS `long_play` FROM `__derived_4`
),
`__derived_5` AS (
  SELECT *, (regexp_extract(track_uri, 'spotify:track:([A-Za-z0-9]+)', 1)) AS `__raw_track_id` FROM `__derived_4_typed`
),
`__derived_5_typed` AS (
  SELECT *, try_cast(`__raw_track_id` AS STRING) AS `track_id` FROM `__derived_5`
),
`__derived_6` AS (
  SELECT *, (CAST(played_at AS DATE)) AS `__raw_play_day` FROM `__derived_5_typed`
),
`__derived_6_typed` AS (
  SELECT *, try_cast(`__raw_play_day` AS DATE) AS `play_day` FROM `__derived_6`
),
`__derived_7` AS (
  SELECT *, (CASE WHEN long_play THEN 'long' ELSE 'short' END || ' play') AS `__raw_label` FROM `__derived_6_typed`
),
`__derived_7_typed` AS (
  SELECT *, try_cast(`__raw_label` AS STRING) AS `label` FROM `__derived_7`
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') WHEN `played_at` IS NULL THEN 'played_at: required value is missing' END,
      CASE WHEN `duration_ms` IS NULL AND `__raw_duration_ms` IS NOT NULL THEN concat('duration_ms: cannot read ', left(CAST(`__raw_duration_ms` AS STRING), 200), ' as bigint') END,
      CASE WHEN `minutes` IS NULL AND `__raw_minutes` IS NOT NULL THEN concat('minutes: cannot read ', left(CAST(`__raw_minutes` AS STRING), 200), ' as double') END,
      CASE WHEN `long_play` IS NULL AND `__raw_long_play` IS NOT NULL THEN concat('long_play: cannot read ', left(CAST(`__raw_long_play` AS STRING), 200), ' as boolean') END,
      CASE WHEN `track_id` IS NULL AND `__raw_track_id` IS NOT NULL THEN concat('track_id: cannot read ', left(CAST(`__raw_track_id` AS STRING), 200), ' as string') END,
      CASE WHEN `play_day` IS NULL AND `__raw_play_day` IS NOT NULL THEN concat('play_day: cannot read ', left(CAST(`__raw_play_day` AS STRING), 200), ' as date') END,
      CASE WHEN `label` IS NULL AND `__raw_label` IS NOT NULL THEN concat('label: cannot read ', left(CAST(`__raw_label` AS STRING), 200), ' as string') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__derived_7_typed`
),
`__judged` AS (
  SELECT `played_at`, `duration_ms`, `track_uri`, `minutes`, `long_play`, `track_id`, `play_day`, `label`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS BIGINT) AS `duration_ms`, CAST(NULL AS STRING) AS `track_uri`, CAST(NULL AS DOUBLE) AS `minutes`, CAST(NULL AS BOOLEAN) AS `long_play`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS DATE) AS `play_day`, CAST(NULL AS STRING) AS `label`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'derived_sql' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
