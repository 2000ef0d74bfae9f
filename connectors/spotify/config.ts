/** The connector's `connector.config`: its JSON Schema and type. */
import type { JsonSchema } from '../../core/plugin-api.ts';

export interface SpotifyConfig {
  [key: string]: unknown;
  api_mode?: 'development' | 'extended';
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  api_base_url?: string;
  accounts_base_url?: string;
  rate_limit?: { window_seconds: number; max_requests: number } | null;
  wait_budget_seconds?: number;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    api_mode: {
      enum: ['development', 'extended'],
      default: 'development',
      description: 'Your app\'s Spotify quota mode. Development Mode (almost every app since 2025) lost batch endpoints and some fields in Feb 2026; extended is Extended Quota Mode.',
    },
    client_id: { type: 'string', description: 'The app\'s Client ID (developer.spotify.com/dashboard). Usually ${env:SPOTIFY_CLIENT_ID}.' },
    client_secret: { type: 'string', description: 'The app\'s Client Secret, for Client Credentials (catalog endpoints). Use ${secret:...}; omit for a PKCE-only app.' },
    refresh_token: { type: 'string', description: 'A user refresh token from `spotify-pipeline login` (Authorization Code + PKCE). Needed for /me streams and playlist items. Expires 6 months after the login.' },
    api_base_url: { type: 'string', default: 'https://api.spotify.com/v1', description: 'Web API base URL (the sandbox sets its own).' },
    accounts_base_url: { type: 'string', default: 'https://accounts.spotify.com', description: 'Accounts service base URL (token endpoint).' },
    rate_limit: {
      description: 'Client-side rolling-window limit shared by all requests of a run (Spotify counts a rolling 30 s window per developer account). null disables it.',
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['window_seconds', 'max_requests'],
          properties: {
            window_seconds: { type: 'number', minimum: 1, description: 'Window length in seconds.' },
            max_requests: { type: 'integer', minimum: 1, description: 'Requests allowed per window.' },
          },
        },
      ],
    },
    wait_budget_seconds: {
      type: 'number',
      minimum: 0,
      default: 120,
      description: 'Total seconds a run may sleep on 429 Retry-After before it stops cleanly with its state saved (the next run resumes).',
    },
  },
};
