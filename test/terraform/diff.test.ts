/**
 * Adding a stream, a table and a query changes exactly the resources that belong to them (plus
 * the extractor's code, which embeds pipeline.yaml) and nothing else: names and logical ids
 * derive only from the pipeline name and the stream/table/query names.
 */
import { describe, expect, it } from 'vitest';
import { SHIPPED, synth, type Synth } from './helpers.ts';

function addAll(base: string, streamSchedule: boolean): string {
  return base
    .replace(
      /\ntables:\n/,
      `\n  saved_tracks:\n    endpoint: me/tracks\n${streamSchedule ? '    schedule: rate(1 day)\n' : ''}\ntables:\n  saved:\n    description: Saved tracks\n    from: saved_tracks\n    columns:\n      track_id: { path: track.id, type: string }\n      added_at: { path: added_at, type: timestamp }\n    partition_by:\n      - { name: month, from: added_at, as: month }\n\n`,
    )
    .replace(/\nqueries:\n/, `\nqueries:\n  saved_per_month:\n    description: Tracks saved per month\n    sql: SELECT month, count(*) AS n FROM saved GROUP BY month\n`);
}

function diff(a: Synth, b: Synth) {
  const before = new Map(a.model.resources.map((r) => [r.address, r]));
  const after = new Map(b.model.resources.map((r) => [r.address, r]));
  const describe = (r: { type: string; owner?: { kind: string; name: string } }) => `${r.type} ${r.owner ? `${r.owner.kind}:${r.owner.name}` : 'shared'}`;
  return {
    added: [...after.values()].filter((r) => !before.has(r.address)).map(describe).sort(),
    removed: [...before.values()].filter((r) => !after.has(r.address)).map(describe).sort(),
    changed: [...after.values()]
      .filter((r) => before.has(r.address) && JSON.stringify(before.get(r.address)!.config) !== JSON.stringify(r.config))
      .map((r) => ({ address: r.address, keys: Object.keys(r.config).filter((k) => JSON.stringify(r.config[k]) !== JSON.stringify(before.get(r.address)!.config[k])) })),
  };
}

describe('adding a stream, a table and a query', () => {
  const base = synth(SHIPPED);

  it('the change text is what the test says it is', () => {
    const text = addAll(SHIPPED, true);
    expect(text).toContain('  saved_tracks:\n    endpoint: me/tracks\n    schedule: rate(1 day)\n');
    expect(text).toContain('\ntables:\n  saved:\n');
    expect(text).toContain('\nqueries:\n  saved_per_month:\n');
  });

  it('adds only their resources; the only other change is the extractor code (it embeds pipeline.yaml)', () => {
    const d = diff(base, synth(addAll(SHIPPED, true)));
    expect(d.added).toEqual([
      'aws_athena_named_query query:saved_per_month',
      'aws_glue_catalog_table table:saved',
      'aws_s3_object table:saved',
      'aws_scheduler_schedule stream:saved_tracks',
    ]);
    expect(d.removed).toEqual([]);
    expect(d.changed).toEqual([{ address: expect.stringMatching(/^aws_lambda_function\.extractor_function_/), keys: ['filename', 'source_code_hash'] }]);
  });

  it('a stream without a schedule of its own joins the default schedule\'s payload instead', () => {
    const d = diff(base, synth(addAll(SHIPPED, false)));
    expect(d.added).toEqual(['aws_athena_named_query query:saved_per_month', 'aws_glue_catalog_table table:saved', 'aws_s3_object table:saved']);
    expect(d.removed).toEqual([]);
    expect(d.changed.map((c) => `${c.address.split('.')[0]} ${c.keys.join(',')}`).sort()).toEqual(['aws_lambda_function filename,source_code_hash', 'aws_scheduler_schedule description,target']);
  });

  it('removing them again restores the original stack exactly', () => {
    const d = diff(synth(addAll(SHIPPED, true)), base);
    expect(d.added).toEqual([]);
    expect(d.removed).toHaveLength(4);
    expect(JSON.stringify(synth(SHIPPED).json)).toBe(JSON.stringify(base.json));
  });
});
