-- dedupe with order_by keeps the row with the greatest value of that column (NULLs never win), whatever the run order

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlists'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.id') AS `__raw_playlist_id`, get_json_object(__rec, '$.name') AS `__raw_name`, get_json_object(__rec, '$.items.total') AS `__raw_items_total`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_playlist_id` AS `playlist_id`, `__raw_name` AS `name`, try_cast(round(try_cast(`__raw_items_total` AS DECIMAL(38,9))) AS INT) AS `items_total` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `playlist_id` IS NULL THEN 'playlist_id: required value is missing' END,
      CASE WHEN `items_total` IS NULL AND `__raw_items_total` IS NOT NULL THEN concat('items_total: cannot read ', left(CAST(`__raw_items_total` AS STRING), 200), ' as int') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `playlist_id`, `name`, `items_total`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `playlist_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS INT) AS `items_total`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
),
`__deduped` AS (
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY `playlist_id` ORDER BY `items_total` DESC NULLS LAST, __run_id DESC NULLS LAST, __file DESC, __line DESC) AS __rn FROM __kept) __d WHERE __rn = 1
)
SELECT `playlist_id`, `name`, `items_total`, __run_id AS _source_run_id
FROM `__deduped`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlists'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.id') AS `__raw_playlist_id`, get_json_object(__rec, '$.name') AS `__raw_name`, get_json_object(__rec, '$.items.total') AS `__raw_items_total`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_playlist_id` AS `playlist_id`, `__raw_name` AS `name`, try_cast(round(try_cast(`__raw_items_total` AS DECIMAL(38,9))) AS INT) AS `items_total` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `playlist_id` IS NULL THEN 'playlist_id: required value is missing' END,
      CASE WHEN `items_total` IS NULL AND `__raw_items_total` IS NOT NULL THEN concat('items_total: cannot read ', left(CAST(`__raw_items_total` AS STRING), 200), ' as int') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `playlist_id`, `name`, `items_total`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `playlist_id`, CAST(NULL AS STRING) AS `name`, CAST(NULL AS INT) AS `items_total`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'dedupe_order_by' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
