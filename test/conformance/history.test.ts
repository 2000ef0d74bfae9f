/**
 * The spotify-history connector passes the conformance kit against its sandbox (a generated
 * export): as folders, and as zips with a personal-data policy that keeps and hashes fields.
 */
import { conformanceSuite } from '../../core/conformance/vitest.ts';

conformanceSuite('spotify-history', { sandboxOptions: { plays: 600 } });

conformanceSuite('spotify-history', {
  sandboxOptions: { plays: 400, zip: true },
  config: { personal_data: { ip_addr: 'hash', user_agent: 'hash', conn_country: 'keep', username: 'drop' } },
});
