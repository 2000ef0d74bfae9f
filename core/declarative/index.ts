/**
 * The declarative REST reader: a REST connector is endpoint descriptors (`RestEndpoint`, data)
 * plus small hooks. Plugins get it through core/plugin-api.ts; tests may import the page loops.
 */
export { createRestReader } from './reader.ts';
export { batchSize, pageSize } from './sizes.ts';
export { MAX_PAGES, NotFound, pages } from './paginators.ts';
export type { PageRequest, PageSource, Query, RestHooks, RestReader, RestReaderOptions } from './types.ts';
