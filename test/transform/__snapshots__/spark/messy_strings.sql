-- names with commas, quotes, apostrophes, newlines, tabs, backslashes, emoji and non-Latin scripts come through byte for byte, also as partition values

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'artists'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.id') AS `__raw_artist_id`, get_json_object(__rec, '$.name') AS `__raw_name`, get_json_object(__rec, '$.genres') AS `__raw_genres`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_artist_id` AS `artist_id`, `__raw_name` AS `name`, transform(from_json(`__raw_genres`, 'array<string>'), __x -> __x) AS `genres` FROM __values
),
`__derived_3` AS (
  SELECT *, (substr(name, 1, 1)) AS `__raw_initial` FROM `__typed`
),
`__derived_3_typed` AS (
  SELECT *, try_cast(`__raw_initial` AS STRING) AS `initial` FROM `__derived_3`
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `artist_id` IS NULL THEN 'artist_id: required value is missing' END,
      CASE WHEN `genres` IS NULL AND `__raw_genres` IS NOT NULL THEN concat('genres: cannot read ', left(CAST(`__raw_genres` AS STRING), 200), ' as array<string>') END,
      CASE WHEN `initial` IS NULL AND `__raw_initial` IS NOT NULL THEN concat('initial: cannot read ', left(CAST(`__raw_initial` AS STRING), 200), ' as string') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__derived_3_typed`
),
`__judged` AS (
  SELECT `artist_id`, `name`, `genres`, `initial`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS ARRAY<STRING>) AS `genres`, CAST(NULL AS STRING) AS `initial`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
)
SELECT `artist_id`, `name`, `genres`, `initial`, nullif(CAST(`initial` AS STRING), '') AS `first`, __run_id AS _source_run_id
FROM `__kept`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'artists'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.id') AS `__raw_artist_id`, get_json_object(__rec, '$.name') AS `__raw_name`, get_json_object(__rec, '$.genres') AS `__raw_genres`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_artist_id` AS `artist_id`, `__raw_name` AS `name`, transform(from_json(`__raw_genres`, 'array<string>'), __x -> __x) AS `genres` FROM __values
),
`__derived_3` AS (
  SELECT *, (substr(name, 1, 1)) AS `__raw_initial` FROM `__typed`
),
`__derived_3_typed` AS (
  SELECT *, try_cast(`__raw_initial` AS STRING) AS `initial` FROM `__derived_3`
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `artist_id` IS NULL THEN 'artist_id: required value is missing' END,
      CASE WHEN `genres` IS NULL AND `__raw_genres` IS NOT NULL THEN concat('genres: cannot read ', left(CAST(`__raw_genres` AS STRING), 200), ' as array<string>') END,
      CASE WHEN `initial` IS NULL AND `__raw_initial` IS NOT NULL THEN concat('initial: cannot read ', left(CAST(`__raw_initial` AS STRING), 200), ' as string') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__derived_3_typed`
),
`__judged` AS (
  SELECT `artist_id`, `name`, `genres`, `initial`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS ARRAY<STRING>) AS `genres`, CAST(NULL AS STRING) AS `initial`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'messy_strings' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
