/** A table's docs and row schema (core/transform/docs.ts), from its plan. */
import { describe, expect, it } from 'vitest';
import type { TableSpec } from '../../core/config/types.ts';
import { planTable, rowJsonSchema, tableDoc } from '../../core/transform/index.ts';

const spec: TableSpec = {
  description: 'Artists of every play',
  from: [{ stream: 'recently_played', root: 'track' }, { stream: 'saved', root: 'items[].track' }],
  columns: {
    played_at: { path: 'played_at', type: 'timestamp', required: true },
    artist_id: { path: 'artists[].id', type: 'string', description: 'one row per artist | of the track' },
    n: { sql: '1', type: 'int' },
  },
  filter: 'artist_id IS NOT NULL',
  dedupe: { key: ['artist_id'], order_by: 'played_at ASC' },
  partition_by: [{ name: 'dt', from: 'played_at', as: 'date' }],
};

describe('table docs', () => {
  it('say where the rows come from, what is kept, and every column and partition key with its type', () => {
    // Two roots with [] would be two explodes: the plan allows one, so the second source has none.
    const plan = planTable('artist_plays', { ...spec, from: [spec.from[0]] });
    expect(tableDoc(plan)).toBe(
      [
        '### `artist_plays`',
        '',
        'Artists of every play',
        '',
        'From `recently_played` (each `track`), one row per element of `artists[]`. Keeps the rows where `artist_id IS NOT NULL`. One row per `artist_id` (least `played_at` wins).',
        '',
        '| column | type | notes |',
        '|---|---|---|',
        '| `played_at` | timestamp | required |',
        '| `artist_id` | string | one row per artist \\| of the track |',
        '| `n` | int |  |',
        '| `dt` | string | partition key: date of `played_at` |',
      ].join('\n'),
    );
  });

  it('name a source root list', () => {
    const plan = planTable('saved', { ...spec, from: [spec.from[1]], columns: { played_at: spec.columns.played_at }, dedupe: undefined, filter: undefined });
    expect(tableDoc(plan)).toContain('From `saved` (each `items[].track`).');
  });

  it('give the JSON Schema of a row: registry types, every column present and nullable, partitions as strings', () => {
    const schema = rowJsonSchema(planTable('artist_plays', { ...spec, from: [spec.from[0]] }));
    expect(schema).toMatchObject({
      title: 'artist_plays',
      required: ['played_at', 'artist_id', 'n', 'dt'],
      additionalProperties: false,
      properties: {
        played_at: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
        dt: { type: ['string', 'null'] },
      },
    });
  });
});
