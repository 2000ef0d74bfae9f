/**
 * Endpoints without input: one paged read per fan-out unit, incremental where the stream asks
 * and the endpoint declares how. `cursor`: the API filters by the paginator's `cursorParam`, sent
 * the newest `field` of the last run. `field`: the list is newest first, so the read stops at the
 * first item not newer than the last run's newest `field` (an unchanged list costs one request).
 */
import type { JsonRecord, RestEndpoint } from '../plugin-api.ts';
import { records } from './records.ts';
import type { StreamRead } from './read-state.ts';
import type { Query } from './types.ts';

/** The newest value of a time field seen so far: as milliseconds, and as the text the cursor saves. */
class Newest {
  ms: number;
  constructor(
    public text: string | undefined,
    private readonly format: 'text' | 'epoch_ms',
  ) {
    const ms = text === undefined ? NaN : format === 'epoch_ms' ? Number(text) : Date.parse(text);
    this.ms = Number.isFinite(ms) ? ms : 0;
  }

  see(value: unknown): void {
    const t = Date.parse(String(value));
    if (Number.isFinite(t) && t > this.ms) {
      this.ms = t;
      this.text = this.format === 'epoch_ms' ? String(t) : String(value);
    }
  }
}

function windowOf(desc: RestEndpoint): number | undefined {
  const p = desc.paginator;
  return p.type === 'cursor' || p.type === 'next' ? p.window : undefined;
}

export async function* readPlain<C>(r: StreamRead<C>): AsyncGenerator<JsonRecord> {
  const { ctx, desc } = r;
  const inc = r.spec.incremental ? desc.incremental : undefined;
  const field = inc?.field;
  const cursorParam = desc.paginator.type === 'cursor' ? desc.paginator.cursorParam : undefined;
  const after = inc?.kind === 'cursor' && cursorParam ? (ctx.state.cursor as string | undefined) : undefined;
  const saved = inc?.kind === 'field' && field ? (ctx.state[field] as string | undefined) : undefined;
  const savedMs = saved !== undefined ? Date.parse(saved) : NaN;
  const newest = new Newest(inc?.kind === 'cursor' ? after : saved, inc?.kind === 'cursor' ? (inc.format ?? 'text') : 'text');
  const stopAt = Number.isFinite(savedMs) && field ? (it: JsonRecord) => Date.parse(String(it[field])) <= savedMs : undefined;
  let count = 0;
  for (const unit of r.units) {
    const query: Query = { ...r.base, ...unit.query, ...(after && cursorParam ? { [cursorParam]: after } : {}) };
    for await (const rec of records(r, { url: desc.path, query, added: unit.tags, stopAt })) {
      if (field) newest.see(rec[field]);
      count++;
      yield rec;
    }
  }
  if (inc?.kind === 'cursor') {
    const window = windowOf(desc);
    if (after && window !== undefined && count >= window) {
      const instead = desc.gapHint ? ` or ${desc.gapHint}` : '';
      ctx.logger.warn(`${count} new records since the last run: the API only keeps the last ${window}, so records between runs may be missing; run more often (the schedule)${instead}`);
      ctx.note('possible_gap');
    }
    ctx.setState(newest.text !== undefined ? { cursor: newest.text } : {});
  } else if (inc?.kind === 'field' && field) {
    ctx.setState(newest.text !== undefined ? { [field]: newest.text } : {});
  }
}
