-- lower: true stores enum-like strings in lower case (Spotify sent album_type ALBUM/SINGLE/EP in some years, lowercase in others), so one kind groups as one; other columns keep their case

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.track.id') AS `__raw_track_id`, get_json_object(__rec, '$.track.name') AS `__raw_name`, get_json_object(__rec, '$.track.album.album_type') AS `__raw_album_type`, get_json_object(__rec, '$.track.album.release_date_precision') AS `__raw_release_date_precision`, get_json_object(__rec, '$.track.album.release_date') AS `__raw_release_date_typed`, get_json_object(__rec, '$.track.album.release_date_precision') AS `__rawp_release_date_typed`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_track_id` AS `track_id`, `__raw_name` AS `name`, lower(`__raw_album_type`) AS `album_type`, lower(`__raw_release_date_precision`) AS `release_date_precision`, CASE WHEN `__raw_release_date_typed` IN ('0000', '0000-00', '0000-00-00') THEN NULL WHEN lower(`__rawp_release_date_typed`) = 'year' AND length(`__raw_release_date_typed`) = 4 AND `__raw_release_date_typed` RLIKE '^[0-9]{4}$' THEN try_cast(concat(`__raw_release_date_typed`, '-01-01') AS DATE) WHEN lower(`__rawp_release_date_typed`) = 'month' AND length(`__raw_release_date_typed`) = 7 AND `__raw_release_date_typed` RLIKE '^[0-9]{4}-[0-9]{2}$' THEN try_cast(concat(`__raw_release_date_typed`, '-01') AS DATE) WHEN lower(`__rawp_release_date_typed`) = 'day' AND length(`__raw_release_date_typed`) = 10 AND `__raw_release_date_typed` RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN try_cast(`__raw_release_date_typed` AS DATE) END AS `release_date_typed` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `track_id` IS NULL THEN 'track_id: required value is missing' END,
      CASE WHEN `release_date_typed` IS NULL AND (`__raw_release_date_typed` IS NOT NULL AND `__raw_release_date_typed` NOT IN ('0000', '0000-00', '0000-00-00')) THEN concat('release_date_typed: cannot read ', left(CAST(`__raw_release_date_typed` AS STRING), 200), ' as date of precision ', coalesce(`__rawp_release_date_typed`, '(none)')) END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `track_id`, `name`, `album_type`, `release_date_precision`, `release_date_typed`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `album_type`, CAST(NULL AS STRING) AS `release_date_precision`, CAST(NULL AS DATE) AS `release_date_typed`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
),
`__deduped` AS (
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY `track_id` ORDER BY __run_id DESC NULLS LAST, __file DESC, __line DESC) AS __rn FROM __kept) __d WHERE __rn = 1
)
SELECT `track_id`, `name`, `album_type`, `release_date_precision`, `release_date_typed`, __run_id AS _source_run_id
FROM `__deduped`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.track.id') AS `__raw_track_id`, get_json_object(__rec, '$.track.name') AS `__raw_name`, get_json_object(__rec, '$.track.album.album_type') AS `__raw_album_type`, get_json_object(__rec, '$.track.album.release_date_precision') AS `__raw_release_date_precision`, get_json_object(__rec, '$.track.album.release_date') AS `__raw_release_date_typed`, get_json_object(__rec, '$.track.album.release_date_precision') AS `__rawp_release_date_typed`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_track_id` AS `track_id`, `__raw_name` AS `name`, lower(`__raw_album_type`) AS `album_type`, lower(`__raw_release_date_precision`) AS `release_date_precision`, CASE WHEN `__raw_release_date_typed` IN ('0000', '0000-00', '0000-00-00') THEN NULL WHEN lower(`__rawp_release_date_typed`) = 'year' AND length(`__raw_release_date_typed`) = 4 AND `__raw_release_date_typed` RLIKE '^[0-9]{4}$' THEN try_cast(concat(`__raw_release_date_typed`, '-01-01') AS DATE) WHEN lower(`__rawp_release_date_typed`) = 'month' AND length(`__raw_release_date_typed`) = 7 AND `__raw_release_date_typed` RLIKE '^[0-9]{4}-[0-9]{2}$' THEN try_cast(concat(`__raw_release_date_typed`, '-01') AS DATE) WHEN lower(`__rawp_release_date_typed`) = 'day' AND length(`__raw_release_date_typed`) = 10 AND `__raw_release_date_typed` RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN try_cast(`__raw_release_date_typed` AS DATE) END AS `release_date_typed` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `track_id` IS NULL THEN 'track_id: required value is missing' END,
      CASE WHEN `release_date_typed` IS NULL AND (`__raw_release_date_typed` IS NOT NULL AND `__raw_release_date_typed` NOT IN ('0000', '0000-00', '0000-00-00')) THEN concat('release_date_typed: cannot read ', left(CAST(`__raw_release_date_typed` AS STRING), 200), ' as date of precision ', coalesce(`__rawp_release_date_typed`, '(none)')) END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `track_id`, `name`, `album_type`, `release_date_precision`, `release_date_typed`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `track_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `album_type`, CAST(NULL AS STRING) AS `release_date_precision`, CAST(NULL AS DATE) AS `release_date_typed`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'lower_enums' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
