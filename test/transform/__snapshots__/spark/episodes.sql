-- podcast episodes among plays and playlist items have no artists or album but a show; a table of episodes only

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
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.track.id') AS `__raw_episode_id`, get_json_object(__rec, '$.track.name') AS `__raw_name`, get_json_object(__rec, '$.track.type') AS `__raw_item_type`, get_json_object(__rec, '$.track.show.id') AS `__raw_show_id`, get_json_object(__rec, '$.track.show.name') AS `__raw_show_name`, get_json_object(__rec, '$.track.artists[0].id') AS `__raw_artist_id`, get_json_object(__rec, '$.track.release_date') AS `__raw_release_day`, get_json_object(__rec, '$.track.release_date_precision') AS `__rawp_release_day`, get_json_object(__rec, '$.track.duration_ms') AS `__raw_duration_ms`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
  UNION ALL
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.item.id') AS `__raw_episode_id`, get_json_object(__rec, '$.item.name') AS `__raw_name`, get_json_object(__rec, '$.item.type') AS `__raw_item_type`, get_json_object(__rec, '$.item.show.id') AS `__raw_show_id`, get_json_object(__rec, '$.item.show.name') AS `__raw_show_name`, get_json_object(__rec, '$.item.artists[0].id') AS `__raw_artist_id`, get_json_object(__rec, '$.item.release_date') AS `__raw_release_day`, get_json_object(__rec, '$.item.release_date_precision') AS `__rawp_release_day`, get_json_object(__rec, '$.item.duration_ms') AS `__raw_duration_ms`
  FROM `__raw_1`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_episode_id` AS `episode_id`, `__raw_name` AS `name`, `__raw_item_type` AS `item_type`, `__raw_show_id` AS `show_id`, `__raw_show_name` AS `show_name`, `__raw_artist_id` AS `artist_id`, CASE WHEN `__raw_release_day` IN ('0000', '0000-00', '0000-00-00') THEN NULL WHEN lower(`__rawp_release_day`) = 'year' AND length(`__raw_release_day`) = 4 AND `__raw_release_day` RLIKE '^[0-9]{4}$' THEN try_cast(concat(`__raw_release_day`, '-01-01') AS DATE) WHEN lower(`__rawp_release_day`) = 'month' AND length(`__raw_release_day`) = 7 AND `__raw_release_day` RLIKE '^[0-9]{4}-[0-9]{2}$' THEN try_cast(concat(`__raw_release_day`, '-01') AS DATE) WHEN lower(`__rawp_release_day`) = 'day' AND length(`__raw_release_day`) = 10 AND `__raw_release_day` RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN try_cast(`__raw_release_day` AS DATE) END AS `release_day`, try_cast(round(try_cast(`__raw_duration_ms` AS DECIMAL(38,9))) AS BIGINT) AS `duration_ms` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `episode_id` IS NULL THEN 'episode_id: required value is missing' END,
      CASE WHEN `release_day` IS NULL AND (`__raw_release_day` IS NOT NULL AND `__raw_release_day` NOT IN ('0000', '0000-00', '0000-00-00')) THEN concat('release_day: cannot read ', left(CAST(`__raw_release_day` AS STRING), 200), ' as date of precision ', coalesce(`__rawp_release_day`, '(none)')) END,
      CASE WHEN `duration_ms` IS NULL AND `__raw_duration_ms` IS NOT NULL THEN concat('duration_ms: cannot read ', left(CAST(`__raw_duration_ms` AS STRING), 200), ' as bigint') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `episode_id`, `name`, `item_type`, `show_id`, `show_name`, `artist_id`, `release_day`, `duration_ms`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `episode_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `show_id`, CAST(NULL AS STRING) AS `show_name`, CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS DATE) AS `release_day`, CAST(NULL AS BIGINT) AS `duration_ms`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `episode_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `show_id`, CAST(NULL AS STRING) AS `show_name`, CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS DATE) AS `release_day`, CAST(NULL AS BIGINT) AS `duration_ms`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_1` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0 AND (episode_id IS NOT NULL AND item_type = 'episode')
),
`__deduped` AS (
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY `episode_id` ORDER BY __run_id DESC NULLS LAST, __file DESC, __line DESC) AS __rn FROM __kept) __d WHERE __rn = 1
)
SELECT `episode_id`, `name`, `item_type`, `show_id`, `show_name`, `artist_id`, `release_day`, `duration_ms`, __run_id AS _source_run_id
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
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.track.id') AS `__raw_episode_id`, get_json_object(__rec, '$.track.name') AS `__raw_name`, get_json_object(__rec, '$.track.type') AS `__raw_item_type`, get_json_object(__rec, '$.track.show.id') AS `__raw_show_id`, get_json_object(__rec, '$.track.show.name') AS `__raw_show_name`, get_json_object(__rec, '$.track.artists[0].id') AS `__raw_artist_id`, get_json_object(__rec, '$.track.release_date') AS `__raw_release_day`, get_json_object(__rec, '$.track.release_date_precision') AS `__rawp_release_day`, get_json_object(__rec, '$.track.duration_ms') AS `__raw_duration_ms`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
  UNION ALL
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.item.id') AS `__raw_episode_id`, get_json_object(__rec, '$.item.name') AS `__raw_name`, get_json_object(__rec, '$.item.type') AS `__raw_item_type`, get_json_object(__rec, '$.item.show.id') AS `__raw_show_id`, get_json_object(__rec, '$.item.show.name') AS `__raw_show_name`, get_json_object(__rec, '$.item.artists[0].id') AS `__raw_artist_id`, get_json_object(__rec, '$.item.release_date') AS `__raw_release_day`, get_json_object(__rec, '$.item.release_date_precision') AS `__rawp_release_day`, get_json_object(__rec, '$.item.duration_ms') AS `__raw_duration_ms`
  FROM `__raw_1`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_episode_id` AS `episode_id`, `__raw_name` AS `name`, `__raw_item_type` AS `item_type`, `__raw_show_id` AS `show_id`, `__raw_show_name` AS `show_name`, `__raw_artist_id` AS `artist_id`, CASE WHEN `__raw_release_day` IN ('0000', '0000-00', '0000-00-00') THEN NULL WHEN lower(`__rawp_release_day`) = 'year' AND length(`__raw_release_day`) = 4 AND `__raw_release_day` RLIKE '^[0-9]{4}$' THEN try_cast(concat(`__raw_release_day`, '-01-01') AS DATE) WHEN lower(`__rawp_release_day`) = 'month' AND length(`__raw_release_day`) = 7 AND `__raw_release_day` RLIKE '^[0-9]{4}-[0-9]{2}$' THEN try_cast(concat(`__raw_release_day`, '-01') AS DATE) WHEN lower(`__rawp_release_day`) = 'day' AND length(`__raw_release_day`) = 10 AND `__raw_release_day` RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN try_cast(`__raw_release_day` AS DATE) END AS `release_day`, try_cast(round(try_cast(`__raw_duration_ms` AS DECIMAL(38,9))) AS BIGINT) AS `duration_ms` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `episode_id` IS NULL THEN 'episode_id: required value is missing' END,
      CASE WHEN `release_day` IS NULL AND (`__raw_release_day` IS NOT NULL AND `__raw_release_day` NOT IN ('0000', '0000-00', '0000-00-00')) THEN concat('release_day: cannot read ', left(CAST(`__raw_release_day` AS STRING), 200), ' as date of precision ', coalesce(`__rawp_release_day`, '(none)')) END,
      CASE WHEN `duration_ms` IS NULL AND `__raw_duration_ms` IS NOT NULL THEN concat('duration_ms: cannot read ', left(CAST(`__raw_duration_ms` AS STRING), 200), ' as bigint') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `episode_id`, `name`, `item_type`, `show_id`, `show_name`, `artist_id`, `release_day`, `duration_ms`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `episode_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `show_id`, CAST(NULL AS STRING) AS `show_name`, CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS DATE) AS `release_day`, CAST(NULL AS BIGINT) AS `duration_ms`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `episode_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS STRING) AS `item_type`, CAST(NULL AS STRING) AS `show_id`, CAST(NULL AS STRING) AS `show_name`, CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS DATE) AS `release_day`, CAST(NULL AS BIGINT) AS `duration_ms`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_1` WHERE __rec IS NULL
)
SELECT 'episodes' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0 AND (__malformed OR (episode_id IS NOT NULL AND item_type = 'episode') IS NOT FALSE);
