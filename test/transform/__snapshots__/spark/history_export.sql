-- records of Spotify's personal data export (the spotify-history connector) with episodes, missing URIs and derived ids, partitioned by month

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'streaming_history'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.ts') AS `__raw_played_at`, get_json_object(__rec, '$.ms_played') AS `__raw_ms_played`, get_json_object(__rec, '$.master_metadata_track_name') AS `__raw_track_name`, get_json_object(__rec, '$.master_metadata_album_artist_name') AS `__raw_artist_name`, get_json_object(__rec, '$.spotify_track_uri') AS `__raw_track_uri`, get_json_object(__rec, '$.episode_name') AS `__raw_episode_name`, get_json_object(__rec, '$.skipped') AS `__raw_skipped`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, try_cast(round(try_cast(`__raw_ms_played` AS DECIMAL(38,9))) AS BIGINT) AS `ms_played`, `__raw_track_name` AS `track_name`, `__raw_artist_name` AS `artist_name`, `__raw_track_uri` AS `track_uri`, `__raw_episode_name` AS `episode_name`, try_cast(`__raw_skipped` AS BOOLEAN) AS `skipped` FROM __values
),
`__derived_7` AS (
  SELECT *, (regexp_extract(track_uri, 'spotify:track:([A-Za-z0-9]+)', 1)) AS `__raw_track_id` FROM `__typed`
),
`__derived_7_typed` AS (
  SELECT *, try_cast(`__raw_track_id` AS STRING) AS `track_id` FROM `__derived_7`
),
`__derived_8` AS (
  SELECT *, (round(ms_played / 60000.0, 1)) AS `__raw_minutes` FROM `__derived_7_typed`
),
`__derived_8_typed` AS (
  SELECT *, try_cast(`__raw_minutes` AS DECIMAL(18,3)) AS `minutes` FROM `__derived_8`
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') WHEN `played_at` IS NULL THEN 'played_at: required value is missing' END,
      CASE WHEN `ms_played` IS NULL AND `__raw_ms_played` IS NOT NULL THEN concat('ms_played: cannot read ', left(CAST(`__raw_ms_played` AS STRING), 200), ' as bigint') END,
      CASE WHEN `skipped` IS NULL AND `__raw_skipped` IS NOT NULL THEN concat('skipped: cannot read ', left(CAST(`__raw_skipped` AS STRING), 200), ' as boolean') END,
      CASE WHEN `track_id` IS NULL AND `__raw_track_id` IS NOT NULL THEN concat('track_id: cannot read ', left(CAST(`__raw_track_id` AS STRING), 200), ' as string') END,
      CASE WHEN `minutes` IS NULL AND `__raw_minutes` IS NOT NULL THEN concat('minutes: cannot read ', left(CAST(`__raw_minutes` AS STRING), 200), ' as decimal') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__derived_8_typed`
),
`__judged` AS (
  SELECT `played_at`, `ms_played`, `track_name`, `artist_name`, `track_uri`, `episode_name`, `skipped`, `track_id`, `minutes`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS BIGINT) AS `ms_played`, CAST(NULL AS STRING) AS `track_name`, CAST(NULL AS STRING) AS `artist_name`, CAST(NULL AS STRING) AS `track_uri`, CAST(NULL AS STRING) AS `episode_name`, CAST(NULL AS BOOLEAN) AS `skipped`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS DECIMAL(18,3)) AS `minutes`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
),
`__deduped` AS (
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY `played_at`, `track_uri` ORDER BY __run_id DESC NULLS LAST, __file DESC, __line DESC) AS __rn FROM __kept) __d WHERE __rn = 1
)
SELECT `played_at`, `ms_played`, `track_name`, `artist_name`, `track_uri`, `episode_name`, `skipped`, `track_id`, `minutes`, date_format(`played_at`, 'yyyy-MM') AS `month`, __run_id AS _source_run_id
FROM `__deduped`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'streaming_history'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.ts') AS `__raw_played_at`, get_json_object(__rec, '$.ms_played') AS `__raw_ms_played`, get_json_object(__rec, '$.master_metadata_track_name') AS `__raw_track_name`, get_json_object(__rec, '$.master_metadata_album_artist_name') AS `__raw_artist_name`, get_json_object(__rec, '$.spotify_track_uri') AS `__raw_track_uri`, get_json_object(__rec, '$.episode_name') AS `__raw_episode_name`, get_json_object(__rec, '$.skipped') AS `__raw_skipped`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, try_cast(round(try_cast(`__raw_ms_played` AS DECIMAL(38,9))) AS BIGINT) AS `ms_played`, `__raw_track_name` AS `track_name`, `__raw_artist_name` AS `artist_name`, `__raw_track_uri` AS `track_uri`, `__raw_episode_name` AS `episode_name`, try_cast(`__raw_skipped` AS BOOLEAN) AS `skipped` FROM __values
),
`__derived_7` AS (
  SELECT *, (regexp_extract(track_uri, 'spotify:track:([A-Za-z0-9]+)', 1)) AS `__raw_track_id` FROM `__typed`
),
`__derived_7_typed` AS (
  SELECT *, try_cast(`__raw_track_id` AS STRING) AS `track_id` FROM `__derived_7`
),
`__derived_8` AS (
  SELECT *, (round(ms_played / 60000.0, 1)) AS `__raw_minutes` FROM `__derived_7_typed`
),
`__derived_8_typed` AS (
  SELECT *, try_cast(`__raw_minutes` AS DECIMAL(18,3)) AS `minutes` FROM `__derived_8`
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') WHEN `played_at` IS NULL THEN 'played_at: required value is missing' END,
      CASE WHEN `ms_played` IS NULL AND `__raw_ms_played` IS NOT NULL THEN concat('ms_played: cannot read ', left(CAST(`__raw_ms_played` AS STRING), 200), ' as bigint') END,
      CASE WHEN `skipped` IS NULL AND `__raw_skipped` IS NOT NULL THEN concat('skipped: cannot read ', left(CAST(`__raw_skipped` AS STRING), 200), ' as boolean') END,
      CASE WHEN `track_id` IS NULL AND `__raw_track_id` IS NOT NULL THEN concat('track_id: cannot read ', left(CAST(`__raw_track_id` AS STRING), 200), ' as string') END,
      CASE WHEN `minutes` IS NULL AND `__raw_minutes` IS NOT NULL THEN concat('minutes: cannot read ', left(CAST(`__raw_minutes` AS STRING), 200), ' as decimal') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__derived_8_typed`
),
`__judged` AS (
  SELECT `played_at`, `ms_played`, `track_name`, `artist_name`, `track_uri`, `episode_name`, `skipped`, `track_id`, `minutes`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS BIGINT) AS `ms_played`, CAST(NULL AS STRING) AS `track_name`, CAST(NULL AS STRING) AS `artist_name`, CAST(NULL AS STRING) AS `track_uri`, CAST(NULL AS STRING) AS `episode_name`, CAST(NULL AS BOOLEAN) AS `skipped`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS DECIMAL(18,3)) AS `minutes`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'history_export' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
