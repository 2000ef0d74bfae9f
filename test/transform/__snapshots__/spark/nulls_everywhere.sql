-- JSON nulls, missing keys and empty objects give NULL in every type, without quarantine unless the column is required

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.played_at') AS `__raw_played_at`, get_json_object(__rec, '$.track.id') AS `__raw_track_id`, get_json_object(__rec, '$.track.track_number') AS `__raw_position`, get_json_object(__rec, '$.track.duration_ms') AS `__raw_duration_ms`, get_json_object(__rec, '$.track.popularity') AS `__raw_popularity`, get_json_object(__rec, '$.track.explicit') AS `__raw_explicit`, get_json_object(__rec, '$.track.album.release_date') AS `__raw_release`, get_json_object(__rec, '$.track.price') AS `__raw_price`, get_json_object(__rec, '$.track.artists') AS `__raw_artists`, get_json_object(__rec, '$.track.artists[0].name') AS `__raw_first_artist`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, `__raw_track_id` AS `track_id`, try_cast(round(try_cast(`__raw_position` AS DECIMAL(38,9))) AS INT) AS `position`, try_cast(round(try_cast(`__raw_duration_ms` AS DECIMAL(38,9))) AS BIGINT) AS `duration_ms`, try_cast(`__raw_popularity` AS DOUBLE) AS `popularity`, try_cast(`__raw_explicit` AS BOOLEAN) AS `explicit`, CASE WHEN trim(`__raw_release`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN try_cast(trim(`__raw_release`) AS DATE) END AS `release`, try_cast(`__raw_price` AS DECIMAL(18,3)) AS `price`, transform(from_json(`__raw_artists`, 'array<string>'), __x -> get_json_object(__x, '$.name')) AS `artists`, `__raw_first_artist` AS `first_artist` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') END,
      CASE WHEN `track_id` IS NULL THEN 'track_id: required value is missing' END,
      CASE WHEN `position` IS NULL AND `__raw_position` IS NOT NULL THEN concat('position: cannot read ', left(CAST(`__raw_position` AS STRING), 200), ' as int') END,
      CASE WHEN `duration_ms` IS NULL AND `__raw_duration_ms` IS NOT NULL THEN concat('duration_ms: cannot read ', left(CAST(`__raw_duration_ms` AS STRING), 200), ' as bigint') END,
      CASE WHEN `popularity` IS NULL AND `__raw_popularity` IS NOT NULL THEN concat('popularity: cannot read ', left(CAST(`__raw_popularity` AS STRING), 200), ' as double') END,
      CASE WHEN `explicit` IS NULL AND `__raw_explicit` IS NOT NULL THEN concat('explicit: cannot read ', left(CAST(`__raw_explicit` AS STRING), 200), ' as boolean') END,
      CASE WHEN `release` IS NULL AND `__raw_release` IS NOT NULL THEN concat('release: cannot read ', left(CAST(`__raw_release` AS STRING), 200), ' as date') END,
      CASE WHEN `price` IS NULL AND `__raw_price` IS NOT NULL THEN concat('price: cannot read ', left(CAST(`__raw_price` AS STRING), 200), ' as decimal') END,
      CASE WHEN `artists` IS NULL AND `__raw_artists` IS NOT NULL THEN concat('artists: cannot read ', left(CAST(`__raw_artists` AS STRING), 200), ' as array<string>') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `played_at`, `track_id`, `position`, `duration_ms`, `popularity`, `explicit`, `release`, `price`, `artists`, `first_artist`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS INT) AS `position`, CAST(NULL AS BIGINT) AS `duration_ms`, CAST(NULL AS DOUBLE) AS `popularity`, CAST(NULL AS BOOLEAN) AS `explicit`, CAST(NULL AS DATE) AS `release`, CAST(NULL AS DECIMAL(18,3)) AS `price`, CAST(NULL AS ARRAY<STRING>) AS `artists`, CAST(NULL AS STRING) AS `first_artist`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
)
SELECT `played_at`, `track_id`, `position`, `duration_ms`, `popularity`, `explicit`, `release`, `price`, `artists`, `first_artist`, __run_id AS _source_run_id
FROM `__kept`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.played_at') AS `__raw_played_at`, get_json_object(__rec, '$.track.id') AS `__raw_track_id`, get_json_object(__rec, '$.track.track_number') AS `__raw_position`, get_json_object(__rec, '$.track.duration_ms') AS `__raw_duration_ms`, get_json_object(__rec, '$.track.popularity') AS `__raw_popularity`, get_json_object(__rec, '$.track.explicit') AS `__raw_explicit`, get_json_object(__rec, '$.track.album.release_date') AS `__raw_release`, get_json_object(__rec, '$.track.price') AS `__raw_price`, get_json_object(__rec, '$.track.artists') AS `__raw_artists`, get_json_object(__rec, '$.track.artists[0].name') AS `__raw_first_artist`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, CASE WHEN trim(`__raw_played_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_played_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `played_at`, `__raw_track_id` AS `track_id`, try_cast(round(try_cast(`__raw_position` AS DECIMAL(38,9))) AS INT) AS `position`, try_cast(round(try_cast(`__raw_duration_ms` AS DECIMAL(38,9))) AS BIGINT) AS `duration_ms`, try_cast(`__raw_popularity` AS DOUBLE) AS `popularity`, try_cast(`__raw_explicit` AS BOOLEAN) AS `explicit`, CASE WHEN trim(`__raw_release`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN try_cast(trim(`__raw_release`) AS DATE) END AS `release`, try_cast(`__raw_price` AS DECIMAL(18,3)) AS `price`, transform(from_json(`__raw_artists`, 'array<string>'), __x -> get_json_object(__x, '$.name')) AS `artists`, `__raw_first_artist` AS `first_artist` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `played_at` IS NULL AND `__raw_played_at` IS NOT NULL THEN concat('played_at: cannot read ', left(CAST(`__raw_played_at` AS STRING), 200), ' as timestamp') END,
      CASE WHEN `track_id` IS NULL THEN 'track_id: required value is missing' END,
      CASE WHEN `position` IS NULL AND `__raw_position` IS NOT NULL THEN concat('position: cannot read ', left(CAST(`__raw_position` AS STRING), 200), ' as int') END,
      CASE WHEN `duration_ms` IS NULL AND `__raw_duration_ms` IS NOT NULL THEN concat('duration_ms: cannot read ', left(CAST(`__raw_duration_ms` AS STRING), 200), ' as bigint') END,
      CASE WHEN `popularity` IS NULL AND `__raw_popularity` IS NOT NULL THEN concat('popularity: cannot read ', left(CAST(`__raw_popularity` AS STRING), 200), ' as double') END,
      CASE WHEN `explicit` IS NULL AND `__raw_explicit` IS NOT NULL THEN concat('explicit: cannot read ', left(CAST(`__raw_explicit` AS STRING), 200), ' as boolean') END,
      CASE WHEN `release` IS NULL AND `__raw_release` IS NOT NULL THEN concat('release: cannot read ', left(CAST(`__raw_release` AS STRING), 200), ' as date') END,
      CASE WHEN `price` IS NULL AND `__raw_price` IS NOT NULL THEN concat('price: cannot read ', left(CAST(`__raw_price` AS STRING), 200), ' as decimal') END,
      CASE WHEN `artists` IS NULL AND `__raw_artists` IS NOT NULL THEN concat('artists: cannot read ', left(CAST(`__raw_artists` AS STRING), 200), ' as array<string>') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `played_at`, `track_id`, `position`, `duration_ms`, `popularity`, `explicit`, `release`, `price`, `artists`, `first_artist`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS TIMESTAMP_NTZ) AS `played_at`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS INT) AS `position`, CAST(NULL AS BIGINT) AS `duration_ms`, CAST(NULL AS DOUBLE) AS `popularity`, CAST(NULL AS BOOLEAN) AS `explicit`, CAST(NULL AS DATE) AS `release`, CAST(NULL AS DECIMAL(18,3)) AS `price`, CAST(NULL AS ARRAY<STRING>) AS `artists`, CAST(NULL AS STRING) AS `first_artist`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'nulls_everywhere' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
