-- value partitions, including a column partitioned under its own name (kept only in the folder names), odd characters (escaped) and NULL

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlist_items'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.playlist_id') AS `__raw_playlist_id`, get_json_object(__rec, '$.position') AS `__raw_position`, get_json_object(__rec, '$.item.type') AS `__raw_item_type`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_playlist_id` AS `playlist_id`, try_cast(round(try_cast(`__raw_position` AS DECIMAL(38,9))) AS INT) AS `position`, `__raw_item_type` AS `item_type` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `playlist_id` IS NULL THEN 'playlist_id: required value is missing' END,
      CASE WHEN `position` IS NULL AND `__raw_position` IS NOT NULL THEN concat('position: cannot read ', left(CAST(`__raw_position` AS STRING), 200), ' as int') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `playlist_id`, `position`, `item_type`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `playlist_id`, CAST(NULL AS INT) AS `position`, CAST(NULL AS STRING) AS `item_type`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
)
SELECT `position`, `item_type`, nullif(CAST(`playlist_id` AS STRING), '') AS `playlist_id`, nullif(CAST(`item_type` AS STRING), '') AS `kind`, __run_id AS _source_run_id
FROM `__kept`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'playlist_items'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.playlist_id') AS `__raw_playlist_id`, get_json_object(__rec, '$.position') AS `__raw_position`, get_json_object(__rec, '$.item.type') AS `__raw_item_type`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_playlist_id` AS `playlist_id`, try_cast(round(try_cast(`__raw_position` AS DECIMAL(38,9))) AS INT) AS `position`, `__raw_item_type` AS `item_type` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `playlist_id` IS NULL THEN 'playlist_id: required value is missing' END,
      CASE WHEN `position` IS NULL AND `__raw_position` IS NOT NULL THEN concat('position: cannot read ', left(CAST(`__raw_position` AS STRING), 200), ' as int') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `playlist_id`, `position`, `item_type`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `playlist_id`, CAST(NULL AS INT) AS `position`, CAST(NULL AS STRING) AS `item_type`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'partition_value' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
