-- filter keeps Spotify tracks of playlists; local files (null ids), removed items (item null) and episodes are dropped on purpose, never quarantined; a malformed line still is

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlist_items'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.playlist_id') AS `__raw_playlist_id`, get_json_object(__rec, '$.position') AS `__raw_position`, get_json_object(__rec, '$.is_local') AS `__raw_is_local`, get_json_object(__rec, '$.item.type') AS `__raw_item_type`, get_json_object(__rec, '$.item.id') AS `__raw_track_id`, get_json_object(__rec, '$.item.uri') AS `__raw_track_uri`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_playlist_id` AS `playlist_id`, try_cast(round(try_cast(`__raw_position` AS DECIMAL(38,9))) AS INT) AS `position`, try_cast(`__raw_is_local` AS BOOLEAN) AS `is_local`, `__raw_item_type` AS `item_type`, `__raw_track_id` AS `track_id`, `__raw_track_uri` AS `track_uri` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `playlist_id` IS NULL THEN 'playlist_id: required value is missing' END,
      CASE WHEN `position` IS NULL AND `__raw_position` IS NOT NULL THEN concat('position: cannot read ', left(CAST(`__raw_position` AS STRING), 200), ' as int') WHEN `position` IS NULL THEN 'position: required value is missing' END,
      CASE WHEN `is_local` IS NULL AND `__raw_is_local` IS NOT NULL THEN concat('is_local: cannot read ', left(CAST(`__raw_is_local` AS STRING), 200), ' as boolean') END,
      CASE WHEN `track_id` IS NULL THEN 'track_id: required value is missing' END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `playlist_id`, `position`, `is_local`, `item_type`, `track_id`, `track_uri`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `playlist_id`, CAST(NULL AS INT) AS `position`, CAST(NULL AS BOOLEAN) AS `is_local`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS STRING) AS `track_uri`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0 AND (NOT is_local AND track_id IS NOT NULL AND item_type = 'track')
)
SELECT `playlist_id`, `position`, `is_local`, `item_type`, `track_id`, `track_uri`, __run_id AS _source_run_id
FROM `__kept`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlist_items'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.playlist_id') AS `__raw_playlist_id`, get_json_object(__rec, '$.position') AS `__raw_position`, get_json_object(__rec, '$.is_local') AS `__raw_is_local`, get_json_object(__rec, '$.item.type') AS `__raw_item_type`, get_json_object(__rec, '$.item.id') AS `__raw_track_id`, get_json_object(__rec, '$.item.uri') AS `__raw_track_uri`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_playlist_id` AS `playlist_id`, try_cast(round(try_cast(`__raw_position` AS DECIMAL(38,9))) AS INT) AS `position`, try_cast(`__raw_is_local` AS BOOLEAN) AS `is_local`, `__raw_item_type` AS `item_type`, `__raw_track_id` AS `track_id`, `__raw_track_uri` AS `track_uri` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `playlist_id` IS NULL THEN 'playlist_id: required value is missing' END,
      CASE WHEN `position` IS NULL AND `__raw_position` IS NOT NULL THEN concat('position: cannot read ', left(CAST(`__raw_position` AS STRING), 200), ' as int') WHEN `position` IS NULL THEN 'position: required value is missing' END,
      CASE WHEN `is_local` IS NULL AND `__raw_is_local` IS NOT NULL THEN concat('is_local: cannot read ', left(CAST(`__raw_is_local` AS STRING), 200), ' as boolean') END,
      CASE WHEN `track_id` IS NULL THEN 'track_id: required value is missing' END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `playlist_id`, `position`, `is_local`, `item_type`, `track_id`, `track_uri`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `playlist_id`, CAST(NULL AS INT) AS `position`, CAST(NULL AS BOOLEAN) AS `is_local`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS STRING) AS `track_uri`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'filter_local_files' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0 AND (__malformed OR (NOT is_local AND track_id IS NOT NULL AND item_type = 'track') IS NOT FALSE);
