-- one table unioned from two streams, each with its own root (tracks of plays and of playlist items); the newest run's copy of a track wins

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__raw_1` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlist_items'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.track.id') AS `__raw_track_id`, get_json_object(__rec, '$.track.name') AS `__raw_name`, get_json_object(__rec, '$.track.type') AS `__raw_item_type`, get_json_object(__rec, '$.track.artists[0].id') AS `__raw_artist_id`, get_json_object(__rec, '$.track.album.id') AS `__raw_album_id`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
  UNION ALL
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.item.id') AS `__raw_track_id`, get_json_object(__rec, '$.item.name') AS `__raw_name`, get_json_object(__rec, '$.item.type') AS `__raw_item_type`, get_json_object(__rec, '$.item.artists[0].id') AS `__raw_artist_id`, get_json_object(__rec, '$.item.album.id') AS `__raw_album_id`
  FROM `__raw_1`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_track_id` AS `track_id`, `__raw_name` AS `name`, `__raw_item_type` AS `item_type`, `__raw_artist_id` AS `artist_id`, `__raw_album_id` AS `album_id` FROM __values
),
`__checked` AS (
  SELECT *,
    CAST(array() AS ARRAY<STRING>) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `track_id`, `name`, `item_type`, `artist_id`, `album_id`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS STRING) AS `album_id`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS STRING) AS `album_id`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_1` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0 AND (track_id IS NOT NULL AND item_type = 'track')
),
`__deduped` AS (
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY `track_id` ORDER BY __run_id DESC NULLS LAST, __file DESC, __line DESC) AS __rn FROM __kept) __d WHERE __rn = 1
)
SELECT `track_id`, `name`, `item_type`, `artist_id`, `album_id`, __run_id AS _source_run_id
FROM `__deduped`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__raw_1` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlist_items'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.track.id') AS `__raw_track_id`, get_json_object(__rec, '$.track.name') AS `__raw_name`, get_json_object(__rec, '$.track.type') AS `__raw_item_type`, get_json_object(__rec, '$.track.artists[0].id') AS `__raw_artist_id`, get_json_object(__rec, '$.track.album.id') AS `__raw_album_id`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
  UNION ALL
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.item.id') AS `__raw_track_id`, get_json_object(__rec, '$.item.name') AS `__raw_name`, get_json_object(__rec, '$.item.type') AS `__raw_item_type`, get_json_object(__rec, '$.item.artists[0].id') AS `__raw_artist_id`, get_json_object(__rec, '$.item.album.id') AS `__raw_album_id`
  FROM `__raw_1`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_track_id` AS `track_id`, `__raw_name` AS `name`, `__raw_item_type` AS `item_type`, `__raw_artist_id` AS `artist_id`, `__raw_album_id` AS `album_id` FROM __values
),
`__checked` AS (
  SELECT *,
    CAST(array() AS ARRAY<STRING>) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `track_id`, `name`, `item_type`, `artist_id`, `album_id`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS STRING) AS `album_id`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS STRING) AS `album_id`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_1` WHERE __rec IS NULL
)
SELECT 'union_sources' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0 AND (__malformed OR (track_id IS NOT NULL AND item_type = 'track') IS NOT FALSE);
