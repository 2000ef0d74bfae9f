/**
 * core/auth: the connector-agnostic half of user authorization. PKCE and a loopback callback
 * for a plugin's `login` (re-exported to plugins through core/plugin-api.ts), the secrets file
 * with its `_meta` record of each authorization, expiry warnings, and where secrets are stored.
 */
export { pkceChallenge, pkceVerifier, randomState, PKCE_VERIFIER_ALPHABET } from './pkce.ts';
export { startLoopbackCallback, callbackHtml, type CallbackPage, type CallbackResult, type LoopbackCallback, type LoopbackOptions } from './loopback.ts';
export { addMonths } from './dates.ts';
export {
  SECRETS_META_KEY, persistLocalSecret, readSecretsFile, readSecretsFileSync, secretMeta, storeSecrets, writeSecretsFile,
  type SecretEntry, type SecretMeta, type SecretsFileData,
} from './secrets-file.ts';
export { EXPIRY_WARNING_DAYS, authorizationProblems, authorizationWarnings } from './expiry.ts';
export { awsPutSecretCommand, awsSecretId, defaultSecretName, localSecretUpdater, secretNameFor, type SecretUpdater } from './store.ts';
