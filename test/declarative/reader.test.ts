/**
 * The declarative reader through the engine, on the descriptor-only fixture connector and its
 * sandbox, in both plans (API modes): each stream yields the sandbox's data with the fields the
 * descriptors add, spending exactly the requests its page and batch sizes allow; a second run
 * reads only what changed (skip-unchanged parents cost nothing, incremental streams one request);
 * after new data arrives, exactly that is read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import plugin from '../fixtures/connectors/descriptor-rest/index.ts';
import { startLibrarySandbox, type LibrarySandbox } from '../fixtures/connectors/descriptor-rest/sandbox.ts';
import { checkPipeline, parsePipeline } from '../../core/config/index.ts';
import { runPipeline, type RunSummary } from '../../core/engine/run.ts';
import { listManifests } from '../../core/engine/manifest.ts';
import { LocalStorage } from '../../core/storage/local.ts';
import { memoryLogger } from '../../core/log.ts';
import { batchSize, pageSize, type ConnectorPlugin, type JsonRecord } from '../../core/plugin-api.ts';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'connectors', 'descriptor-rest');
const lib = plugin as unknown as ConnectorPlugin;
const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));

describe.each(['basic', 'pro'] as const)('the %s plan', (plan) => {
  let sb: LibrarySandbox;
  let dir: string;
  let storage: LocalStorage;
  const size = (endpoint: string) => pageSize(lib.endpoints[endpoint], plan);

  beforeAll(async () => {
    sb = await startLibrarySandbox({ seed: 11, plan });
    dir = await mkdtemp(join(tmpdir(), 'declarative-'));
    storage = new LocalStorage(dir);
  });
  afterAll(async () => {
    await sb?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(edit: (text: string) => string = (t) => t, into = storage): Promise<{ summary: RunSummary; records: Record<string, JsonRecord[]>; lines: string[] }> {
    const text = edit((await readFile(join(FIXTURE, 'pipeline.yaml'), 'utf8')).replace('plan: pro', `plan: ${plan}`));
    const read = parsePipeline(text, 'pipeline.yaml');
    expect(checkPipeline(read, lib).filter((p) => p.severity === 'error')).toEqual([]);
    const logger = memoryLogger();
    const summary = await runPipeline({ pipeline: read.loaded, plugin: lib, connectorConfig: sb.config, storage: into, logger, skipTransform: true });
    expect(summary.ok, summary.error).toBe(true);
    const manifest = (await listManifests(into)).find((m) => m.run_id === summary.runId)!;
    const records: Record<string, JsonRecord[]> = {};
    for (const [name, s] of Object.entries(manifest.streams)) {
      records[name] = [];
      for (const f of s.files) for (const line of gunzipSync((await into.get(f.key))!).toString('utf8').split('\n')) if (line) records[name].push(JSON.parse(line) as JsonRecord);
    }
    return { summary, records, lines: logger.lines };
  }
  const requests = (s: RunSummary, endpoint: string) => s.requestsByEndpoint[endpoint] ?? 0;
  const notes = (s: RunSummary, stream: string) => s.streams.find((x) => x.stream === stream)!.notes;

  it('a first run reads everything, with the fewest requests the descriptors allow', async () => {
    const d = sb.data;
    const { summary, records } = await run();
    const books = [...d.books.keys()];

    expect(records.authors.map((a) => a.id)).toEqual(d.authors.map((a) => a.id));
    expect(requests(summary, 'authors')).toBe(pages(d.authors.length, size('authors')));

    // for_each: every author's books in order, tagged with the author, its version and the position.
    expect(records.author_books.map((b) => `${String(b.author_id)}/${String(b.author_version)}/${String(b.position)}/${String(b.id)}`)).toEqual(
      d.authors.flatMap((a) => a.books.map((id, i) => `${a.id}/v1/${i}/${id}`)),
    );
    expect(requests(summary, 'authors/{id}/books')).toBe(d.authors.reduce((n, a) => n + pages(a.books.length, size('authors/{id}/books')), 0));

    // ids: every book once, in batches on pro, one per request on basic.
    expect(records.books.map((b) => b.id).sort()).toEqual(books.sort());
    const batch = batchSize(lib.endpoints.books, plan);
    expect(batch).toBe(plan === 'pro' ? 20 : 1);
    expect(requests(summary, 'books')).toBe(Math.ceil(books.length / batch));
    expect(sb.requests.some((p) => p === '/books')).toBe(plan === 'pro');

    expect(records.events.map((e) => e.id)).toEqual(d.events.map((e) => e.id));
    expect(requests(summary, 'events')).toBe(pages(d.events.length, size('events')));
    expect(records.reviews.map((r) => r.id)).toEqual(d.reviews.map((r) => r.id));
    expect(requests(summary, 'reviews')).toBe(pages(d.reviews.length, size('reviews')));

    // fan-out: one request per genre, each record tagged with its genre and 1-based rank.
    expect(requests(summary, 'rankings')).toBe(2);
    expect(records.rankings.filter((r) => r.genre === 'poetry').map((r) => r.rank)).toEqual(records.rankings.filter((r) => r.genre === 'poetry').map((_r, i) => i + 1));
    expect(new Set(records.rankings.map((r) => r.genre))).toEqual(new Set(['fiction', 'poetry']));
  });

  it('a second run skips unchanged parents and reads incremental streams from their state', async () => {
    const { summary, records } = await run();
    expect(records.author_books ?? []).toEqual([]);
    expect(requests(summary, 'authors/{id}/books')).toBe(0);
    expect(notes(summary, 'author_books').skipped_unchanged).toBe(sb.data.authors.length);
    // No parent read, so no book ids gathered: no book request.
    expect(requests(summary, 'books')).toBe(0);
    expect(records.events ?? []).toEqual([]);
    expect(requests(summary, 'events')).toBe(1);
    // Newest first: the first review is one it has, so one request ends the read.
    expect(records.reviews ?? []).toEqual([]);
    expect(requests(summary, 'reviews')).toBe(1);
  });

  it('after new data arrives, a run reads exactly it', async () => {
    const before = { events: sb.data.events.length, reviews: sb.data.reviews.length };
    await sb.advance!();
    const changed = sb.data.authors[2];
    const { summary, records } = await run();
    expect(records.author_books.map((b) => b.id)).toEqual(changed.books);
    expect(records.author_books.every((b) => b.author_version === changed.version)).toBe(true);
    expect(notes(summary, 'author_books').skipped_unchanged).toBe(sb.data.authors.length - 1);
    expect(requests(summary, 'authors/{id}/books')).toBe(pages(changed.books.length, size('authors/{id}/books')));
    expect(records.books.map((b) => b.id).sort()).toEqual([...changed.books].sort());
    expect(records.events.map((e) => e.id)).toEqual(sb.data.events.slice(before.events).map((e) => e.id));
    expect(records.reviews.map((r) => r.id)).toEqual(sb.data.reviews.slice(0, sb.data.reviews.length - before.reviews).map((r) => r.id));
  });

  it('skips an unknown id with a warning: a 404 alone, a null in a batch', async () => {
    const other = new LocalStorage(join(dir, 'unknown-id'));
    const { summary, records, lines } = await run((t) => t.replace('ids_from: [author_books.id]', 'ids: [bk-0001, bk-9999, bk-0002]'), other);
    expect(records.books.map((b) => b.id)).toEqual(['bk-0001', 'bk-0002']);
    expect(notes(summary, 'books').not_found).toBe(1);
    expect(lines.some((l) => /warn: .*books: (id )?bk-9999 not found/.test(l)), lines.join('\n')).toBe(true);
    expect(requests(summary, 'books')).toBe(plan === 'pro' ? 1 : 3);
  });

  it('drops an id the API rejects as malformed (HTTP 400) with a warning, and reads the others (a refused batch one by one)', async () => {
    const other = new LocalStorage(join(dir, 'rejected-id'));
    await other.put('_state/books.json', JSON.stringify({ _pending_ids: ['urn:book:bk-0003'] }));
    const { summary, records, lines } = await run((t) => t.replace('ids_from: [author_books.id]', 'ids: [bk-0001, "urn:book:bk-0002", bk-0002]'), other);
    expect(records.books.map((b) => b.id).sort()).toEqual(['bk-0001', 'bk-0002']);
    expect(notes(summary, 'books').rejected).toBe(2);
    for (const id of ['urn:book:bk-0002', 'urn:book:bk-0003']) {
      expect(lines.some((l) => l.startsWith(`warn: books: dropped id "${id}": the API rejects it as invalid (HTTP 400 invalid book id)`)), lines.join('\n')).toBe(true);
    }
    // pro: the batch was refused (400), then each id alone; basic: one request per id.
    expect(requests(summary, 'books')).toBe(plan === 'pro' ? 1 + 4 : 4);
    // Nothing is owed any more: the next run asks for nothing but what pipeline.yaml names.
    expect(JSON.parse((await other.get('_state/books.json'))!.toString('utf8'))).not.toHaveProperty('_pending_ids');
  });

  it('when every id is refused alike, the request is wrong, not the ids: the stream fails and nothing is dropped', async () => {
    const other = new LocalStorage(join(dir, 'all-rejected'));
    const text = (await readFile(join(FIXTURE, 'pipeline.yaml'), 'utf8')).replace('plan: pro', `plan: ${plan}`).replace('ids_from: [author_books.id]', 'ids: ["x:1", "x:2"]');
    const read = parsePipeline(text, 'pipeline.yaml');
    const summary = await runPipeline({ pipeline: read.loaded, plugin: lib, connectorConfig: sb.config, storage: other, logger: memoryLogger(), skipTransform: true });
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatch(/books: the API refused all 2 ids alike \(HTTP 400 invalid book id\): the request is wrong, not the ids; none is dropped/);
    expect(JSON.parse((await other.get('_state/books.json'))!.toString('utf8'))._pending_ids).toEqual(['x:1', 'x:2']);
  });
});
