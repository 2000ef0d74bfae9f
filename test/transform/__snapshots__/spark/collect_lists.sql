-- array<string> columns keep lists as lists (no explode), from a list of strings or a field of every element

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'artists'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.id') AS `__raw_artist_id`, get_json_object(__rec, '$.genres') AS `__raw_genres`, get_json_object(__rec, '$.images') AS `__raw_image_urls`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_artist_id` AS `artist_id`, transform(from_json(`__raw_genres`, 'array<string>'), __x -> __x) AS `genres`, transform(from_json(`__raw_image_urls`, 'array<string>'), __x -> get_json_object(__x, '$.url')) AS `image_urls` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `artist_id` IS NULL THEN 'artist_id: required value is missing' END,
      CASE WHEN `genres` IS NULL AND `__raw_genres` IS NOT NULL THEN concat('genres: cannot read ', left(CAST(`__raw_genres` AS STRING), 200), ' as array<string>') END,
      CASE WHEN `image_urls` IS NULL AND `__raw_image_urls` IS NOT NULL THEN concat('image_urls: cannot read ', left(CAST(`__raw_image_urls` AS STRING), 200), ' as array<string>') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `artist_id`, `genres`, `image_urls`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS ARRAY<STRING>) AS `genres`, CAST(NULL AS ARRAY<STRING>) AS `image_urls`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
),
`__deduped` AS (
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY `artist_id` ORDER BY __run_id DESC NULLS LAST, __file DESC, __line DESC) AS __rn FROM __kept) __d WHERE __rn = 1
)
SELECT `artist_id`, `genres`, `image_urls`, __run_id AS _source_run_id
FROM `__deduped`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'artists'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.id') AS `__raw_artist_id`, get_json_object(__rec, '$.genres') AS `__raw_genres`, get_json_object(__rec, '$.images') AS `__raw_image_urls`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_artist_id` AS `artist_id`, transform(from_json(`__raw_genres`, 'array<string>'), __x -> __x) AS `genres`, transform(from_json(`__raw_image_urls`, 'array<string>'), __x -> get_json_object(__x, '$.url')) AS `image_urls` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `artist_id` IS NULL THEN 'artist_id: required value is missing' END,
      CASE WHEN `genres` IS NULL AND `__raw_genres` IS NOT NULL THEN concat('genres: cannot read ', left(CAST(`__raw_genres` AS STRING), 200), ' as array<string>') END,
      CASE WHEN `image_urls` IS NULL AND `__raw_image_urls` IS NOT NULL THEN concat('image_urls: cannot read ', left(CAST(`__raw_image_urls` AS STRING), 200), ' as array<string>') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `artist_id`, `genres`, `image_urls`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `artist_id`, CAST(NULL AS ARRAY<STRING>) AS `genres`, CAST(NULL AS ARRAY<STRING>) AS `image_urls`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'collect_lists' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
