-- with parents, a playlist gone from the latest complete read of my_playlists (unfollowed or deleted) loses its rows; a partial read of my_playlists decides nothing, a playlist not re-read keeps its rows

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlist_items'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.playlist_id') AS `__raw_playlist_id`, get_json_object(__rec, '$.position') AS `__raw_position`, get_json_object(__rec, '$.item.id') AS `__raw_track_id`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_playlist_id` AS `playlist_id`, try_cast(round(try_cast(`__raw_position` AS DECIMAL(38,9))) AS INT) AS `position`, `__raw_track_id` AS `track_id` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `playlist_id` IS NULL THEN 'playlist_id: required value is missing' END,
      CASE WHEN `position` IS NULL AND `__raw_position` IS NOT NULL THEN concat('position: cannot read ', left(CAST(`__raw_position` AS STRING), 200), ' as int') WHEN `position` IS NULL THEN 'position: required value is missing' END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__latest` AS (
  SELECT * FROM (SELECT *, max(__run_id) OVER (PARTITION BY `playlist_id`) AS __newest_run FROM __checked) __l WHERE __run_id <=> __newest_run
),
`__parent_reads` AS (
  SELECT _run_id AS __run_id FROM `complete_reads` WHERE _stream = 'my_playlists'
),
`__parent_run` AS (
  SELECT max(__run_id) AS __run_id FROM __parent_reads
),
`__parent_lines` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'my_playlists'
),
`__parent_keys` AS (
  SELECT DISTINCT get_json_object(__l.__rec, '$.id') AS __k FROM __parent_lines __l JOIN __parent_run __p ON __l.__run_id = __p.__run_id
),
`__current` AS (
  SELECT __c.* FROM __latest __c CROSS JOIN __parent_run __p LEFT JOIN __parent_keys __k ON CAST(__c.`playlist_id` AS STRING) = __k.__k
  WHERE __p.__run_id IS NULL OR __c.`playlist_id` IS NULL OR __k.__k IS NOT NULL
),
`__judged` AS (
  SELECT `playlist_id`, `position`, `track_id`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__current`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `playlist_id`, CAST(NULL AS INT) AS `position`, CAST(NULL AS STRING) AS `track_id`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
),
`__deduped` AS (
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY `playlist_id`, `position` ORDER BY __run_id DESC NULLS LAST, __file DESC, __line DESC) AS __rn FROM __kept) __d WHERE __rn = 1
)
SELECT `playlist_id`, `position`, `track_id`, __run_id AS _source_run_id
FROM `__deduped`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlist_items'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.playlist_id') AS `__raw_playlist_id`, get_json_object(__rec, '$.position') AS `__raw_position`, get_json_object(__rec, '$.item.id') AS `__raw_track_id`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_playlist_id` AS `playlist_id`, try_cast(round(try_cast(`__raw_position` AS DECIMAL(38,9))) AS INT) AS `position`, `__raw_track_id` AS `track_id` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `playlist_id` IS NULL THEN 'playlist_id: required value is missing' END,
      CASE WHEN `position` IS NULL AND `__raw_position` IS NOT NULL THEN concat('position: cannot read ', left(CAST(`__raw_position` AS STRING), 200), ' as int') WHEN `position` IS NULL THEN 'position: required value is missing' END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__latest` AS (
  SELECT * FROM (SELECT *, max(__run_id) OVER (PARTITION BY `playlist_id`) AS __newest_run FROM __checked) __l WHERE __run_id <=> __newest_run
),
`__parent_reads` AS (
  SELECT _run_id AS __run_id FROM `complete_reads` WHERE _stream = 'my_playlists'
),
`__parent_run` AS (
  SELECT max(__run_id) AS __run_id FROM __parent_reads
),
`__parent_lines` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'my_playlists'
),
`__parent_keys` AS (
  SELECT DISTINCT get_json_object(__l.__rec, '$.id') AS __k FROM __parent_lines __l JOIN __parent_run __p ON __l.__run_id = __p.__run_id
),
`__current` AS (
  SELECT __c.* FROM __latest __c CROSS JOIN __parent_run __p LEFT JOIN __parent_keys __k ON CAST(__c.`playlist_id` AS STRING) = __k.__k
  WHERE __p.__run_id IS NULL OR __c.`playlist_id` IS NULL OR __k.__k IS NOT NULL
),
`__judged` AS (
  SELECT `playlist_id`, `position`, `track_id`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__current`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `playlist_id`, CAST(NULL AS INT) AS `position`, CAST(NULL AS STRING) AS `track_id`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'latest_per_parents' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
