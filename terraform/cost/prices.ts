/**
 * The versioned price tables the estimate reads, one JSON file per region in prices/ (each states
 * its date and the AWS pricing pages it was transcribed from). Imported, not read from disk, so
 * they travel with any bundle of the CLI.
 */
import usEast1 from './prices/us-east-1.json' with { type: 'json' };
import usWest2 from './prices/us-west-2.json' with { type: 'json' };
import euWest1 from './prices/eu-west-1.json' with { type: 'json' };
import euCentral1 from './prices/eu-central-1.json' with { type: 'json' };

export type PriceTable = typeof usEast1;

const TABLES: Record<string, PriceTable> = { 'us-east-1': usEast1, 'us-west-2': usWest2, 'eu-west-1': euWest1, 'eu-central-1': euCentral1 };

/** The regions a price table exists for. */
export const PRICED_REGIONS = Object.keys(TABLES).sort();

/** Thrown for a region without a price table (the CLI prints it and exits 2). */
export class NoPricesError extends Error {
  constructor(readonly region: string) {
    super(`no prices for region ${region}: the cost estimate has price tables for ${PRICED_REGIONS.join(', ')} (terraform/cost/prices/)`);
    this.name = 'NoPricesError';
  }
}

export function pricesFor(region: string): PriceTable {
  const t = TABLES[region];
  if (!t) throw new NoPricesError(region);
  return t;
}
