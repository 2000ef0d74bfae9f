/**
 * `createRestReader`: one generic `read` driven by endpoint descriptors (path, paginator, page and
 * batch sizes per API mode, fan-out, for_each and ids input, skip-unchanged, incremental cursor or
 * field, the fields it adds) plus the connector's hooks for what data cannot say (mode, auth,
 * normalization, refused parents, error explanations).
 */
import { UserError } from '../errors.ts';
import type { JsonRecord, ReadContext, StreamSpec } from '../plugin-api.ts';
import { readForEach } from './for-each.ts';
import { readIds } from './ids.ts';
import { MAX_PAGES } from './paginators.ts';
import { readPlain } from './plain.ts';
import { queryOf, withDefaults } from './query.ts';
import type { StreamRead } from './read-state.ts';
import type { RestReader, RestReaderOptions } from './types.ts';

export function createRestReader<C = JsonRecord>(options: RestReaderOptions<C>): RestReader<C> {
  const { endpoints, hooks = {} } = options;
  const service = options.service ? `${options.service} ` : '';
  return async function* read(spec: StreamSpec, ctx: ReadContext<C>): AsyncGenerator<JsonRecord> {
    try {
      const desc = Object.hasOwn(endpoints, spec.endpoint) ? endpoints[spec.endpoint] : undefined;
      if (!desc) throw new UserError(`unknown ${service}endpoint "${spec.endpoint}"`);
      const mode = hooks.mode?.(ctx.config) ?? 'default';
      // Before any request: validate() reports this at load time; a caller that skipped it stops here.
      const removed = desc.modes?.[mode]?.removed;
      if (removed) {
        throw new UserError(`endpoint ${spec.endpoint} is not available in ${mode} mode: ${removed.change} (since ${removed.date})`, `use ${removed.instead}`);
      }
      const r: StreamRead<C> = {
        endpoint: spec.endpoint,
        desc,
        mode,
        auth: hooks.auth?.(ctx, desc),
        ctx,
        hooks,
        maxPages: options.maxPages ?? MAX_PAGES,
        spec,
        ...queryOf(spec, desc, withDefaults(desc, spec.params)),
      };
      if (desc.input === 'ids') yield* readIds(r);
      else if (desc.input === 'for_each') yield* readForEach(r);
      else yield* readPlain(r);
    } catch (e) {
      throw hooks.explainError ? hooks.explainError(e) : e;
    }
  };
}
