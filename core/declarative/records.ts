/**
 * Records out of pages: one paged read's items as normalized records with their rank and
 * position, and every record of one parent or id, buffered, with a 404 skipped.
 */
import type { JsonRecord } from '../plugin-api.ts';
import { fill } from './json.ts';
import { NotFound, Rejected, pages } from './paginators.ts';
import { toRecord, type StreamRead } from './read-state.ts';
import type { PageRequest } from './types.ts';

export interface Scope extends PageRequest {
  /** Fields every record of this read gets (parent id, fan-out values). */
  added: JsonRecord;
  /** Stop the read at the first item for which this holds (no further request). */
  stopAt?: (item: JsonRecord) => boolean;
}

/** The records of one paged read, with rank/position counted across its pages. */
export async function* records<C>(r: StreamRead<C>, scope: Scope): AsyncGenerator<JsonRecord> {
  const { desc } = r;
  let index = 0;
  for await (const items of pages(r, scope)) {
    for (const it of items) {
      if (it === null || typeof it !== 'object') {
        // APIs leave null holes in some result lists (Spotify's search): keep positions, skip the hole.
        r.ctx.note('null_result');
        index++;
        continue;
      }
      if (scope.stopAt?.(it as JsonRecord)) return;
      const added: JsonRecord = { ...scope.added };
      if (desc.positionField) added[desc.positionField] = index;
      if (desc.rankField) added[desc.rankField] = index + 1;
      index++;
      yield toRecord(r, it as JsonRecord, added);
    }
  }
}

/**
 * Every record of one parent or id (all fan-out units), or undefined when it answered 404 (then
 * skipped with a warning, naming why the endpoint's `notFound` says it happens). With `onRejected`
 * (ids input), a 400 on the id's first request is the API refusing the id itself: handed there,
 * and the id is skipped too.
 */
export async function readOne<C>(
  r: StreamRead<C>,
  id: string,
  added: JsonRecord,
  etag: boolean,
  onRejected?: (id: string, apiMessage: string) => void,
): Promise<JsonRecord[] | undefined> {
  const buffer: JsonRecord[] = [];
  try {
    for (const unit of r.units) {
      const scope: Scope = { url: fill(r.desc.path, { id }), query: { ...r.base, ...unit.query }, added: { ...added, ...unit.tags }, missingOk: true, invalidOk: !!onRejected, etag };
      for await (const rec of records(r, scope)) buffer.push(rec);
    }
  } catch (e) {
    if (e instanceof Rejected && onRejected) {
      onRejected(id, e.apiMessage);
      return undefined;
    }
    if (!(e instanceof NotFound)) throw e;
    const why = r.desc.notFound?.[r.mode];
    r.ctx.logger.warn(`${r.endpoint}: ${id} not found (404), skipped${why ? ` (${why})` : ''}`);
    r.ctx.note('not_found');
    return undefined;
  }
  return buffer;
}
