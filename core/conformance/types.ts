/** The conformance kit's vocabulary: suites, rules, failures and the report. */
import type { PluginSource } from '../plugins.ts';
import type { ConnectorPlugin, JsonRecord, Logger } from '../plugin-api.ts';

/** Named so authors from other connector frameworks recognise them (Airbyte's acceptance tests). */
export const SUITES = ['spec', 'check', 'discovery', 'basic_read', 'incremental', 'rerun', 'faults', 'secrets', 'abort'] as const;
export type SuiteName = (typeof SUITES)[number];

/** Every rule the kit judges, by suite, with what it asks of a plugin (README and `--help` print this). */
export const RULES: Record<SuiteName, Record<string, string>> = {
  spec: {
    loads: 'the module loads and its default export implements the plugin API (check, read)',
    'api-version': 'apiVersion equals the engine\'s PLUGIN_API_VERSION',
    name: 'name is lowercase letters, digits and dashes',
    version: 'version is semver (1.2.3)',
    description: 'description is a non-empty line',
    'config-schema': 'configSchema compiles (ajv) and describes an object',
    'record-schema': 'every endpoint\'s recordSchema compiles and describes an object',
    'parameters-schema': 'every endpoint\'s parameters schema compiles',
    'secret-keys': 'every secretKeys entry is a property of configSchema',
    sandbox: 'the plugin has a sandbox() (or the kit was given a config)',
    'sandbox-config': 'the sandbox\'s config passes the plugin\'s own configSchema',
  },
  check: {
    'check-passes': 'check() resolves against the sandbox',
    'check-rejects-bad-secrets': 'check() rejects altered secrets with an Error that has a message',
  },
  discovery: {
    endpoints: 'at least one endpoint; each has a description and an object recordSchema',
    'incremental-field': 'an incremental endpoint\'s cursor field is a property of its recordSchema',
    'primary-key': 'primaryKey fields are required properties of the recordSchema',
    streams: 'the streams under test name known endpoints and pass the plugin\'s validate()',
  },
  basic_read: {
    'read-completes': 'a full read ends without an error within the time limit',
    records: 'the sandbox gives every stream under test at least one record',
    'record-object': 'every record is a plain JSON object (survives JSON.stringify/parse unchanged)',
    'record-schema': 'every record is valid against its endpoint\'s recordSchema',
    'matches-sandbox': 'the records equal the sandbox\'s ground truth (SandboxHandle.expected)',
  },
  incremental: {
    'read-completes': 'every incremental read ends without an error',
    'state-saved': 'an incremental read calls setState()',
    'state-json': 'the state survives JSON.stringify/parse unchanged (the engine stores it as JSON)',
    'no-duplicate': 'a read from the saved state yields no record the previous read yielded',
    'no-loss': 'the reads from saved state together yield every record a full read yields',
    'caught-up': 'a read from the latest state, with nothing new at the source, yields nothing',
  },
  rerun: {
    'read-completes': 'every re-read ends without an error',
    'same-records': 'reading again (whole, or from the same state) yields the same records',
    'state-unchanged': 'read() does not modify the state object it is given',
  },
  faults: {
    'survives-faults': 'a read completes through 429 storms, 5xx answers, resets and token expiry',
    'same-records': 'and yields the same records as without faults',
  },
  secrets: {
    'secret-in-record': 'no secretKeys value appears in any record',
    'secret-in-log': 'no secretKeys value appears in any log line',
    'secret-in-error': 'no secretKeys value appears in any error message',
    'undeclared-secret': 'config keys named like secrets (secret, token, password, api_key, salt) are in secretKeys',
  },
  abort: {
    'before-start': 'a read started with an aborted signal yields no record and ends promptly',
    'stops-promptly': 'a read aborted after its first record ends within the time limit (default 2 s) of the abort',
  },
};

export interface Failure {
  suite: SuiteName;
  rule: string;
  /** The stream the failure is about (for spec/discovery rules: the endpoint). */
  stream?: string;
  /** Index of the record in the read the rule judged (0-based, in yield order). */
  record?: number;
  message: string;
}

export interface SuiteResult {
  suite: SuiteName;
  status: 'passed' | 'failed' | 'skipped';
  failures: Failure[];
  /** What was judged or why the suite was skipped. */
  notes: string[];
  seconds: number;
}

export interface ConformanceReport {
  /** The plugin's name (or what was asked for, when it did not load). */
  plugin: string;
  version?: string;
  ok: boolean;
  streams: string[];
  suites: SuiteResult[];
}

export interface ConformanceOptions {
  /** Resolves a name or relative path (default: the working directory). */
  baseDir?: string;
  /** Where a plugin named by a string comes from (the CLI's connector registry); default discovery. */
  plugins?: PluginSource;
  /** A pipeline.yaml whose streams (and plain connector config values) the kit reads; default: one stream per endpoint that needs no parent or ids. */
  pipeline?: string;
  /** Only these suites (the others are reported as skipped). */
  suites?: SuiteName[];
  /** Config merged under the sandbox's (e.g. a personal-data policy to exercise). */
  config?: JsonRecord;
  /** Options passed to the plugin's sandbox() (besides config and seed). */
  sandboxOptions?: Record<string, unknown>;
  seed?: number;
  /** A read must end this long after its abort (default 2000 ms). */
  abortTimeoutMs?: number;
  /** A whole read or check must end within this (default 60 s). */
  readTimeoutMs?: number;
  /** Progress lines ("basic_read: stream items: 45 records"). */
  progress?: Logger;
}

export type PluginTarget = string | ConnectorPlugin;

export function formatFailure(f: Failure): string {
  const where = [f.stream !== undefined ? `stream "${f.stream}"` : '', f.record !== undefined ? `record #${f.record}` : ''].filter(Boolean).join(', ');
  return `${f.suite}: ${where ? `${where}: ` : ''}${f.rule}: ${f.message}`;
}
