/**
 * The connectors this project ships, by the name `connector.use` gives them. The composition
 * root (bin/main.ts for the CLI, bin/synth.ts for cdktf, the generated extractor entry) hands this registry to core, which
 * knows no connector by name. A connector is added here with its folder; one whose module is not
 * listed is still found by folder or npm name (see core/plugins.ts), but is neither bundled into
 * the extractor Lambda nor listed by `spotify-pipeline sandbox --connector`.
 */
import type { ConnectorRegistry } from '../core/plugin-api.ts';

export const connectors: ConnectorRegistry = {
  spotify: { module: 'connectors/spotify/index.ts', load: async () => (await import('./spotify/index.ts')).default },
  'spotify-history': { module: 'connectors/spotify-history/index.ts', load: async () => (await import('./spotify-history/index.ts')).default },
};
