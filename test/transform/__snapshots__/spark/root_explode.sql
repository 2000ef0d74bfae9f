-- a source root with [] makes one row per element of that list (every artist of every played track)

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__item, '$.id') AS `__raw_artist_id`, get_json_object(__item, '$.name') AS `__raw_name`
  FROM `__raw_0`
  LATERAL VIEW explode(from_json(get_json_object(__rec, '$.track.artists'), 'array<string>')) __each_0 AS __item
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_artist_id` AS `artist_id`, `__raw_name` AS `name` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `artist_id` IS NULL THEN 'artist_id: required value is missing' END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `artist_id`, `name`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS STRING) AS `name`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
),
`__deduped` AS (
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY `artist_id` ORDER BY __run_id DESC NULLS LAST, __file DESC, __line DESC) AS __rn FROM __kept) __d WHERE __rn = 1
)
SELECT `artist_id`, `name`, __run_id AS _source_run_id
FROM `__deduped`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'recently_played'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__item, '$.id') AS `__raw_artist_id`, get_json_object(__item, '$.name') AS `__raw_name`
  FROM `__raw_0`
  LATERAL VIEW explode(from_json(get_json_object(__rec, '$.track.artists'), 'array<string>')) __each_0 AS __item
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_artist_id` AS `artist_id`, `__raw_name` AS `name` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `artist_id` IS NULL THEN 'artist_id: required value is missing' END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `artist_id`, `name`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS STRING) AS `name`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'root_explode' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
