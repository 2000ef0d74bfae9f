-- every declared type, cast from JSON numbers, strings and booleans; values that cannot be read are quarantined with the reason

-- rows
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'samples'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.n') AS `__raw_n`, get_json_object(__rec, '$.big') AS `__raw_big`, get_json_object(__rec, '$.ratio') AS `__raw_ratio`, get_json_object(__rec, '$.flag') AS `__raw_flag`, get_json_object(__rec, '$.day') AS `__raw_day`, get_json_object(__rec, '$.at') AS `__raw_at`, get_json_object(__rec, '$.amount') AS `__raw_amount`, get_json_object(__rec, '$.label') AS `__raw_label`, get_json_object(__rec, '$.nested') AS `__raw_nested`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, try_cast(round(try_cast(`__raw_n` AS DECIMAL(38,9))) AS INT) AS `n`, try_cast(round(try_cast(`__raw_big` AS DECIMAL(38,9))) AS BIGINT) AS `big`, try_cast(`__raw_ratio` AS DOUBLE) AS `ratio`, try_cast(`__raw_flag` AS BOOLEAN) AS `flag`, CASE WHEN trim(`__raw_day`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN try_cast(trim(`__raw_day`) AS DATE) END AS `day`, CASE WHEN trim(`__raw_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `at`, try_cast(`__raw_amount` AS DECIMAL(18,3)) AS `amount`, `__raw_label` AS `label`, `__raw_nested` AS `nested` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `n` IS NULL AND `__raw_n` IS NOT NULL THEN concat('n: cannot read ', left(CAST(`__raw_n` AS STRING), 200), ' as int') WHEN `n` IS NULL THEN 'n: required value is missing' END,
      CASE WHEN `big` IS NULL AND `__raw_big` IS NOT NULL THEN concat('big: cannot read ', left(CAST(`__raw_big` AS STRING), 200), ' as bigint') END,
      CASE WHEN `ratio` IS NULL AND `__raw_ratio` IS NOT NULL THEN concat('ratio: cannot read ', left(CAST(`__raw_ratio` AS STRING), 200), ' as double') END,
      CASE WHEN `flag` IS NULL AND `__raw_flag` IS NOT NULL THEN concat('flag: cannot read ', left(CAST(`__raw_flag` AS STRING), 200), ' as boolean') END,
      CASE WHEN `day` IS NULL AND `__raw_day` IS NOT NULL THEN concat('day: cannot read ', left(CAST(`__raw_day` AS STRING), 200), ' as date') END,
      CASE WHEN `at` IS NULL AND `__raw_at` IS NOT NULL THEN concat('at: cannot read ', left(CAST(`__raw_at` AS STRING), 200), ' as timestamp') END,
      CASE WHEN `amount` IS NULL AND `__raw_amount` IS NOT NULL THEN concat('amount: cannot read ', left(CAST(`__raw_amount` AS STRING), 200), ' as decimal') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `n`, `big`, `ratio`, `flag`, `day`, `at`, `amount`, `label`, `nested`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS INT) AS `n`, CAST(NULL AS BIGINT) AS `big`, CAST(NULL AS DOUBLE) AS `ratio`, CAST(NULL AS BOOLEAN) AS `flag`, CAST(NULL AS DATE) AS `day`, CAST(NULL AS TIMESTAMP_NTZ) AS `at`, CAST(NULL AS DECIMAL(18,3)) AS `amount`, CAST(NULL AS STRING) AS `label`, CAST(NULL AS STRING) AS `nested`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
),
`__kept` AS (
  SELECT * FROM __judged WHERE size(__reasons) = 0
)
SELECT `n`, `big`, `ratio`, `flag`, `day`, `at`, `amount`, `label`, `nested`, __run_id AS _source_run_id
FROM `__kept`;

-- quarantine
WITH
`__raw_0` AS (
  SELECT CASE WHEN json_array_length(concat('[', value, ']')) = 1 THEN value END AS __rec, _file AS __file, _line AS __line, _run_id AS __run_id
  FROM `raw_lines` WHERE _stream = 'samples'
),
`__values` AS (
  SELECT __rec, __file, __line, __run_id, get_json_object(__rec, '$.n') AS `__raw_n`, get_json_object(__rec, '$.big') AS `__raw_big`, get_json_object(__rec, '$.ratio') AS `__raw_ratio`, get_json_object(__rec, '$.flag') AS `__raw_flag`, get_json_object(__rec, '$.day') AS `__raw_day`, get_json_object(__rec, '$.at') AS `__raw_at`, get_json_object(__rec, '$.amount') AS `__raw_amount`, get_json_object(__rec, '$.label') AS `__raw_label`, get_json_object(__rec, '$.nested') AS `__raw_nested`
  FROM `__raw_0`
  WHERE __rec IS NOT NULL
),
`__typed` AS (
  SELECT *, try_cast(round(try_cast(`__raw_n` AS DECIMAL(38,9))) AS INT) AS `n`, try_cast(round(try_cast(`__raw_big` AS DECIMAL(38,9))) AS BIGINT) AS `big`, try_cast(`__raw_ratio` AS DOUBLE) AS `ratio`, try_cast(`__raw_flag` AS BOOLEAN) AS `flag`, CASE WHEN trim(`__raw_day`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN try_cast(trim(`__raw_day`) AS DATE) END AS `day`, CASE WHEN trim(`__raw_at`) RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([ T].*)?$' THEN CAST(try_cast(trim(`__raw_at`) AS TIMESTAMP) AS TIMESTAMP_NTZ) END AS `at`, try_cast(`__raw_amount` AS DECIMAL(18,3)) AS `amount`, `__raw_label` AS `label`, `__raw_nested` AS `nested` FROM __values
),
`__checked` AS (
  SELECT *,
    filter(array(CASE WHEN `n` IS NULL AND `__raw_n` IS NOT NULL THEN concat('n: cannot read ', left(CAST(`__raw_n` AS STRING), 200), ' as int') WHEN `n` IS NULL THEN 'n: required value is missing' END,
      CASE WHEN `big` IS NULL AND `__raw_big` IS NOT NULL THEN concat('big: cannot read ', left(CAST(`__raw_big` AS STRING), 200), ' as bigint') END,
      CASE WHEN `ratio` IS NULL AND `__raw_ratio` IS NOT NULL THEN concat('ratio: cannot read ', left(CAST(`__raw_ratio` AS STRING), 200), ' as double') END,
      CASE WHEN `flag` IS NULL AND `__raw_flag` IS NOT NULL THEN concat('flag: cannot read ', left(CAST(`__raw_flag` AS STRING), 200), ' as boolean') END,
      CASE WHEN `day` IS NULL AND `__raw_day` IS NOT NULL THEN concat('day: cannot read ', left(CAST(`__raw_day` AS STRING), 200), ' as date') END,
      CASE WHEN `at` IS NULL AND `__raw_at` IS NOT NULL THEN concat('at: cannot read ', left(CAST(`__raw_at` AS STRING), 200), ' as timestamp') END,
      CASE WHEN `amount` IS NULL AND `__raw_amount` IS NOT NULL THEN concat('amount: cannot read ', left(CAST(`__raw_amount` AS STRING), 200), ' as decimal') END), __r -> __r IS NOT NULL) AS __reasons
  FROM `__typed`
),
`__judged` AS (
  SELECT `n`, `big`, `ratio`, `flag`, `day`, `at`, `amount`, `label`, `nested`, __reasons, __file, __line, __run_id, CASE WHEN size(__reasons) > 0 THEN __rec END AS __rec, false AS __malformed FROM `__checked`
  UNION ALL
  SELECT CAST(NULL AS INT) AS `n`, CAST(NULL AS BIGINT) AS `big`, CAST(NULL AS DOUBLE) AS `ratio`, CAST(NULL AS BOOLEAN) AS `flag`, CAST(NULL AS DATE) AS `day`, CAST(NULL AS TIMESTAMP_NTZ) AS `at`, CAST(NULL AS DECIMAL(18,3)) AS `amount`, CAST(NULL AS STRING) AS `label`, CAST(NULL AS STRING) AS `nested`, array('record: malformed JSON line') AS __reasons, __file, __line, __run_id, CAST(NULL AS STRING) AS __rec, true AS __malformed FROM `__raw_0` WHERE __rec IS NULL
)
SELECT 'types_all' AS `table`, __reasons AS reasons, __file AS file, __line AS line, __run_id AS source_run_id, __rec AS record
FROM __judged WHERE size(__reasons) > 0;
