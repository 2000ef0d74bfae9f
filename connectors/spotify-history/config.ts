/** The connector's `connector.config`: its JSON Schema and type. */
import type { JsonSchema } from '../../core/plugin-api.ts';

/** What happens to one personal field of the export: left out, kept as is, or a salted SHA-256. */
export type PersonalDataPolicy = 'drop' | 'keep' | 'hash';

/** The personal fields of the export and the record field each becomes when not dropped. */
export const PERSONAL_FIELDS = ['ip_addr', 'conn_country', 'user_agent', 'username'] as const;
export type PersonalField = (typeof PERSONAL_FIELDS)[number];

export interface HistoryConfig {
  [key: string]: unknown;
  path: string;
  personal_data?: Partial<Record<PersonalField, PersonalDataPolicy>>;
  hash_salt?: string;
}

const policy = (what: string): JsonSchema => ({
  enum: ['drop', 'keep', 'hash'],
  default: 'drop',
  description: `${what}. drop (default): not in any record; keep: as in the export; hash: SHA-256 of hash_salt + value (needs hash_salt).`,
});

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: {
      type: 'string',
      minLength: 1,
      description:
        'Where the export is: a folder (searched recursively; zips inside it are read too) or a .zip as downloaded from spotify.com/account/privacy. `~` is your home folder. In AWS: s3://bucket/prefix (the AWS deployment points it at imports/<pipeline>/ of the lake bucket, where you upload the zip).',
    },
    personal_data: {
      type: 'object',
      additionalProperties: false,
      description: 'Personal fields of the export, dropped unless you say otherwise here.',
      properties: {
        ip_addr: policy('ip_addr / ip_addr_decrypted: the IP address of each play'),
        conn_country: policy('conn_country: the country the connection came from'),
        user_agent: policy('user_agent_decrypted: the client\'s user agent'),
        username: policy('username: the Spotify account of each play'),
      },
    },
    hash_salt: {
      type: 'string',
      minLength: 8,
      description: 'Salt for personal_data: hash (a secret: write ${secret:history/hash_salt}). Required when any field is hashed.',
    },
  },
};

export function policies(config: Partial<HistoryConfig>): Record<PersonalField, PersonalDataPolicy> {
  const p = config.personal_data ?? {};
  return Object.fromEntries(PERSONAL_FIELDS.map((f) => [f, p[f] ?? 'drop'])) as Record<PersonalField, PersonalDataPolicy>;
}
