/**
 * The Spotify personal data export connector: the listening history a user downloads from
 * spotify.com/account/privacy (the only source of history beyond the Web API's last 50 plays).
 * Reads the Extended Streaming History and the Account Data history from a folder or a zip,
 * streaming every file, into one record shape. It depends only on core's public plugin API.
 */
import { definePlugin, PLUGIN_API_VERSION, UserError, type EndpointDescriptor, type PluginIssue } from '../../core/plugin-api.ts';
import { configSchema, policies, type HistoryConfig } from './config.ts';
import { playSchema } from './schema.ts';
import { checkConfig, countHistoryFiles, readPlays } from './read.ts';

export const endpoints: Record<string, EndpointDescriptor> = {
  plays: {
    description: 'Every play of the streaming history files in the export (both formats), one record per play',
    path: 'Streaming_History_{Audio,Video}_*.json, endsong_*.json, endvideo.json, StreamingHistory_{music,podcast,audiobook}_*.json, StreamingHistory*.json',
    auth: 'none',
    scopes: [],
    paginator: { type: 'none' },
    recordPath: '',
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: {
        formats: {
          enum: ['auto', 'extended', 'account', 'both'],
          default: 'auto',
          description:
            'Which history to read. auto (default): the Extended Streaming History when the export has it, else the Account Data history. both reads both; they overlap (the account data repeats the last year without URIs), so plays of the last year count twice.',
        },
      },
    },
    incremental: { kind: 'cursor', description: 'files already imported (same name, size and content hash) are skipped' },
    primaryKey: ['play_id'],
    recordSchema: playSchema,
  },
};

export default definePlugin<HistoryConfig>({
  apiVersion: PLUGIN_API_VERSION,
  name: 'spotify-history',
  displayName: 'Spotify export',
  version: '0.1.0',
  description: 'Spotify personal data export: Extended Streaming History and Account Data listening history, from a folder or zip',
  configSchema,
  secretKeys: ['hash_salt'],
  // In AWS the export is uploaded to the lake bucket: the deployment sets `path` to that prefix.
  uploads: { configKey: 'path', description: 'the zip (or files) of your Spotify data download' },
  endpoints,

  hasCredentials(config) {
    return typeof config.path === 'string' && config.path.length > 0;
  },

  validate(config) {
    const issues: PluginIssue[] = [];
    const hashed = Object.entries(policies(config)).filter(([, v]) => v === 'hash');
    if (hashed.length && config.hash_salt === undefined) {
      issues.push({ path: 'connector.config.personal_data', message: `hashing ${hashed.map(([k]) => k).join(', ')} needs hash_salt (add hash_salt: \${secret:history/hash_salt})` });
    }
    return issues;
  },

  async check(ctx) {
    checkConfig(ctx.config);
    const n = await countHistoryFiles(ctx.config.path);
    if (n.extended + n.account === 0) {
      throw new UserError(
        `spotify-history: no streaming history files under ${ctx.config.path}`,
        'expected Streaming_History_Audio_*.json or endsong_*.json (Extended Streaming History) or StreamingHistory_music_*.json (Account Data), in the folder or zip Spotify sent',
      );
    }
    ctx.logger.info(`export: ${n.extended} extended and ${n.account} account-data history file(s)`);
  },

  read: readPlays,

  async sandbox(options) {
    const { startHistorySandbox } = await import('./sandbox/index.ts');
    return startHistorySandbox(options);
  },
});
