-- dates and timestamps at the calendar's edges come through as written (proleptic Gregorian, no Julian rebase), offsets converted to UTC, fractions kept to the microsecond; impossible days are quarantined

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'events'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.id') AS `__raw_id`, get_json_object(__rec, '$.day') AS `__raw_day`, get_json_object(__rec, '$.at') AS `__raw_at`, get_json_object(__rec, '$.year') AS `__raw_year`, get_json_object(__rec, '$.precision') AS `__rawp_year`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_id` AS `id`, CASE WHEN trim(`__raw_day`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN try_cast(trim(`__raw_day`) AS DATE) END AS `day`, CASE WHEN trim(`__raw_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `at`, CASE WHEN `__raw_year` IN ('0000', '0000-00', '0000-00-00') THEN NULL WHEN lower(`__rawp_year`) = 'year' AND length(`__raw_year`) = 4 AND `__raw_year` RLIKE '^[0-9]{4}$' THEN try_cast(concat(`__raw_year`, '-01-01') AS DATE) WHEN lower(`__rawp_year`) = 'month' AND length(`__raw_year`) = 7 AND `__raw_year` RLIKE '^[0-9]{4}-[0-9]{2}$' THEN try_cast(concat(`__raw_year`, '-01') AS DATE) WHEN lower(`__rawp_year`) = 'day' AND length(`__raw_year`) = 10 AND `__raw_year` RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN try_cast(`__raw_year` AS DATE) END AS `year` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `id` IS NULL THEN 'id: required value is missing' END,
      CASE WHEN `day` IS NULL AND `__raw_day` IS NOT NULL THEN concat('day: cannot read ', left(CAST(`__raw_day` AS STRING), 200), ' as date') END,
      CASE WHEN `at` IS NULL AND `__raw_at` IS NOT NULL THEN concat('at: cannot read ', left(CAST(`__raw_at` AS STRING), 200), ' as timestamp') END,
      CASE WHEN `year` IS NULL AND (`__raw_year` IS NOT NULL AND `__raw_year` NOT IN ('0000', '0000-00', '0000-00-00')) THEN concat('year: cannot read ', left(CAST(`__raw_year` AS STRING), 200), ' as date of precision ', coalesce(`__rawp_year`, '(none)')) END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `id`, `day`, `at`, `year`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `id`, CAST(NULL AS DATE) AS `day`, CAST(NULL AS TIMESTAMP_NTZ) AS `at`, CAST(NULL AS DATE) AS `year`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
)
SELECT `id`, `day`, `at`, `year`, __run_id AS _source_run_id
FROM `__kept`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'events'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.id') AS `__raw_id`, get_json_object(__rec, '$.day') AS `__raw_day`, get_json_object(__rec, '$.at') AS `__raw_at`, get_json_object(__rec, '$.year') AS `__raw_year`, get_json_object(__rec, '$.precision') AS `__rawp_year`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, `__raw_id` AS `id`, CASE WHEN trim(`__raw_day`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN try_cast(trim(`__raw_day`) AS DATE) END AS `day`, CASE WHEN trim(`__raw_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `at`, CASE WHEN `__raw_year` IN ('0000', '0000-00', '0000-00-00') THEN NULL WHEN lower(`__rawp_year`) = 'year' AND length(`__raw_year`) = 4 AND `__raw_year` RLIKE '^[0-9]{4}$' THEN try_cast(concat(`__raw_year`, '-01-01') AS DATE) WHEN lower(`__rawp_year`) = 'month' AND length(`__raw_year`) = 7 AND `__raw_year` RLIKE '^[0-9]{4}-[0-9]{2}$' THEN try_cast(concat(`__raw_year`, '-01') AS DATE) WHEN lower(`__rawp_year`) = 'day' AND length(`__raw_year`) = 10 AND `__raw_year` RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN try_cast(`__raw_year` AS DATE) END AS `year` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `id` IS NULL THEN 'id: required value is missing' END,
      CASE WHEN `day` IS NULL AND `__raw_day` IS NOT NULL THEN concat('day: cannot read ', left(CAST(`__raw_day` AS STRING), 200), ' as date') END,
      CASE WHEN `at` IS NULL AND `__raw_at` IS NOT NULL THEN concat('at: cannot read ', left(CAST(`__raw_at` AS STRING), 200), ' as timestamp') END,
      CASE WHEN `year` IS NULL AND (`__raw_year` IS NOT NULL AND `__raw_year` NOT IN ('0000', '0000-00', '0000-00-00')) THEN concat('year: cannot read ', left(CAST(`__raw_year` AS STRING), 200), ' as date of precision ', coalesce(`__rawp_year`, '(none)')) END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `id`, `day`, `at`, `year`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS STRING) AS `id`, CAST(NULL AS DATE) AS `day`, CAST(NULL AS TIMESTAMP_NTZ) AS `at`, CAST(NULL AS DATE) AS `year`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'calendar_edges' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
