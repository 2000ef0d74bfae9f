/**
 * Fields a connector declares absent in the pipeline's API mode (`EndpointDescriptor.absentFields`
 * under `ConnectorPlugin.apiMode(config)`), per stream: handed to the table build so a column that
 * reads one is not reported as schema drift (e.g. `popularity` in Spotify's Development Mode).
 */
import type { ConnectorPlugin, JsonRecord } from '../plugin-api.ts';

export interface AbsenceSource {
  plugin: Pick<ConnectorPlugin, 'endpoints' | 'apiMode'>;
  /** `connector.config` (references may be unresolved: only the mode is read). */
  connectorConfig: JsonRecord;
  streams: Record<string, { endpoint: string }>;
}

/** Stream name -> record paths expected absent, for each pipeline of a lake. */
export function expectedAbsences(sources: AbsenceSource[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { plugin, connectorConfig, streams } of sources) {
    const mode = plugin.apiMode?.(connectorConfig);
    if (mode === undefined) continue;
    for (const [name, s] of Object.entries(streams)) {
      const absent = plugin.endpoints[s.endpoint]?.absentFields?.[mode];
      if (absent?.length) out[name] = [...absent];
    }
  }
  return out;
}
