/**
 * Which streams the kit reads: those of a pipeline file (with its fan-out: parents and ids), or
 * one stream per endpoint that can be read on its own.
 */
import { readPipeline } from '../config/index.ts';
import { hasRef } from '../config/refs.ts';
import { parseFieldRef, valuesAt, type FieldRef } from '../engine/fields.ts';
import { streamOrder, streamSpec } from '../engine/run.ts';
import type { ConnectorPlugin, EndpointDescriptor, JsonRecord, StreamSpec } from '../plugin-api.ts';

export interface PlannedStream {
  spec: StreamSpec;
  endpoint: EndpointDescriptor;
  /** For `for_each` streams: the stream whose records are the parents. */
  parent?: string;
  idsFrom: FieldRef[];
  ids: string[];
}

export interface StreamPlan {
  streams: PlannedStream[];
  /** Plain (reference-free) connector config values from the pipeline file. */
  config: JsonRecord;
  notes: string[];
}

export function planFromPipeline(plugin: ConnectorPlugin, file: string): StreamPlan {
  const { loaded } = readPipeline(file);
  const cfg = loaded.config;
  const notes: string[] = [];
  const streams: PlannedStream[] = [];
  for (const name of streamOrder(cfg.streams)) {
    const sc = cfg.streams[name];
    const endpoint = plugin.endpoints[sc.endpoint];
    if (!endpoint) {
      notes.push(`stream ${name}: endpoint "${sc.endpoint}" is not one of this plugin's`);
      continue;
    }
    streams.push({
      spec: streamSpec(name, sc),
      endpoint,
      parent: sc.for_each ? parseFieldRef(sc.for_each).stream : undefined,
      idsFrom: (sc.ids_from ?? []).map(parseFieldRef),
      ids: sc.ids ?? [],
    });
  }
  const config: JsonRecord = {};
  for (const [k, v] of Object.entries(cfg.connector?.config ?? {})) if (!hasRef(v)) config[k] = v;
  return { streams, config, notes };
}

/** One stream per endpoint that needs no parent records, ids or required parameters. */
export function planFromEndpoints(plugin: ConnectorPlugin): StreamPlan {
  const notes: string[] = [];
  const streams: PlannedStream[] = [];
  for (const [name, endpoint] of Object.entries(plugin.endpoints ?? {})) {
    if (endpoint.input) {
      notes.push(`endpoint ${name}: not read (needs ${endpoint.input === 'ids' ? 'ids' : 'parent records'}; give --pipeline to test it)`);
      continue;
    }
    const params = defaults(endpoint.parameters);
    const required = ((endpoint.parameters?.required as string[] | undefined) ?? []).filter((k) => !(k in params));
    if (required.length) {
      notes.push(`endpoint ${name}: not read (needs parameters ${required.join(', ')}; give --pipeline to test it)`);
      continue;
    }
    streams.push({ spec: { name: streamName(name), endpoint: name, params, incremental: false }, endpoint, idsFrom: [], ids: [] });
  }
  return { streams, config: {}, notes };
}

function defaults(schema: unknown): JsonRecord {
  const props = (schema as { properties?: Record<string, { default?: unknown }> } | undefined)?.properties ?? {};
  const out: JsonRecord = {};
  for (const [k, p] of Object.entries(props)) if (p && p.default !== undefined) out[k] = p.default;
  return out;
}

/** `me/player/recently-played` -> `me_player_recently_played`. */
export function streamName(endpoint: string): string {
  const s = endpoint.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return /^[a-z]/.test(s) ? s : `s_${s}`;
}

/** The parents and ids a stream's read gets, from the records its sources yielded. */
export function inputsFor(p: PlannedStream, recordsOf: (stream: string) => JsonRecord[] | undefined): { parents?: JsonRecord[]; ids?: string[] } {
  const out: { parents?: JsonRecord[]; ids?: string[] } = {};
  if (p.parent) out.parents = recordsOf(p.parent) ?? [];
  if (p.endpoint.input === 'ids') {
    const ids = new Set<string>(p.ids);
    for (const ref of p.idsFrom) {
      for (const r of recordsOf(ref.stream) ?? []) for (const v of valuesAt(r, ref.path)) if (typeof v === 'string' && v) ids.add(v);
    }
    out.ids = [...ids];
  }
  return out;
}
