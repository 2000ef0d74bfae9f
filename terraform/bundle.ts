/**
 * Builds the extractor Lambda's code at synth time: an entry generated from the pipeline (the
 * handler, the pipeline and those it includes embedded, their connectors imported statically from
 * the registry) bundled by esbuild (options shared with the bundle tests: core/lambda/bundle.ts)
 * into one `index.mjs`. The result is checked before it can be
 * deployed: it must contain no dev dependency and nothing that looks like a credential.
 *
 * Robust by design: when the entry is missing or does not build, synth still produces a stack
 * whose function code is a placeholder that fails every invocation with the reason, the stack
 * gets an error annotation (so `cdktf synth`/`deploy` stop), and `spotify-pipeline plan` fails
 * check SP017 naming the problem.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { EXTRACTOR_FORBIDDEN_PACKAGES, EXTRACTOR_HANDLER, extractorBuildOptions, extractorEntry, reportBuildOptions } from '../core/lambda/bundle.ts';
import type { ReportSpec } from '../core/lambda/report.ts';
import type { ConnectorRegistry } from '../core/plugin-api.ts';
import { projectRoot } from '../core/root.ts';
import { knownSecretValues } from './secrets.ts';

export const ROOT = projectRoot();

export interface ExtractorBundle {
  /** Folder holding index.mjs (the Lambda asset is a zip of it). */
  dir: string;
  /** sha256 (hex) of the code: names the asset and triggers a function update when it changes. */
  hash: string;
  /** Size of index.mjs in bytes. */
  bytes: number;
  handler: string;
  /** The entry: `generated` (from the pipeline and the registry), or a hand-written file relative to the project root. */
  entry: string;
  /** The connector modules the bundle imports, by `connector.use` name (project-relative paths, or package names). */
  connectors: Record<string, string>;
  /** The pipelines embedded, as messages name them (the synthesized one first, then its includes). */
  pipelines: string[];
  /** Set when the code is a placeholder: why the real extractor could not be bundled. */
  placeholder?: string;
  /** npm packages in the bundle. */
  packages: string[];
  /** Packages in the bundle that are dev dependencies (must be empty). */
  devPackages: string[];
  /** What looks like a credential in the bundle: pattern names and input files, never values. */
  credentialFindings: string[];
}

export interface BundleOptions {
  /** The pipeline.yaml to embed, with the pipelines it includes. */
  pipelineFile: string;
  /** The shipped connectors (connectors/index.ts): where each pipeline's plugin module is. */
  connectors: ConnectorRegistry;
  /** A hand-written entry instead of the generated one (tests' stand-in). */
  entry?: string;
  /** Where bundles are written (one folder per content hash). Default <root>/.tmp/extractor-bundle. */
  outRoot?: string;
  /** Secret values that must not be in the bundle (default: the pipeline's local secrets file and the environment's credential-named variables: terraform/secrets.ts). */
  secretValues?: string[];
}

// Zip entries carry mtimes: a fixed one makes the same code the same archive on every machine.
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

const cache = new Map<string, ExtractorBundle>();

export function buildExtractorBundle(opts: BundleOptions): ExtractorBundle {
  const entry = opts.entry ? resolve(opts.entry) : undefined;
  const pipelineText = readFileSync(opts.pipelineFile, 'utf8');
  let generated: ReturnType<typeof extractorEntry> | undefined;
  let code: string;
  let metafile: Metafile | undefined;
  let placeholder: string | undefined;
  try {
    generated = entry ? undefined : extractorEntry(opts.pipelineFile, opts.connectors);
  } catch (e) {
    placeholder = e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
  const key = `${entry ?? 'generated'}\0${pipelineText}\0${generated?.source ?? ''}`;
  const hit = cache.get(key);
  if (hit && existsSync(join(hit.dir, 'index.mjs'))) return hit;

  if (entry && !existsSync(entry)) {
    placeholder = `${relative(ROOT, entry)} does not exist`;
  } else if (placeholder === undefined) {
    try {
      const result = buildSync({ ...extractorBuildOptions({ pipelineFile: opts.pipelineFile, outfile: join(ROOT, '.tmp', 'index.mjs'), connectors: opts.connectors, entry }), write: false });
      code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
      metafile = result.metafile;
    } catch (e) {
      const errors = (e as { errors?: { text: string; location?: { file: string } | null }[] }).errors;
      const first = errors?.[0];
      placeholder = first ? `${first.location?.file ? `${first.location.file}: ` : ''}${first.text}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}` : String(e);
    }
  }
  if (placeholder !== undefined) {
    code = `export const handler = async () => { throw new Error(${JSON.stringify(`the extractor was not bundled: ${placeholder}`)}); };\n`;
  }

  const hash = createHash('sha256').update(code!).digest('hex');
  const outRoot = opts.outRoot ?? join(ROOT, '.tmp', 'extractor-bundle');
  const dir = join(outRoot, hash.slice(0, 32));
  writeOnce(dir, code!);

  const packages = metafile ? bundledPackages(metafile) : [];
  const bundle: ExtractorBundle = {
    dir,
    hash,
    bytes: Buffer.byteLength(code!),
    handler: EXTRACTOR_HANDLER,
    entry: entry ? relative(ROOT, entry) : 'generated',
    connectors: generated?.plugins ?? {},
    pipelines: generated?.pipelines.map((p) => p.file) ?? [],
    placeholder,
    packages: [...new Set(packages.map((p) => p.name))].sort(),
    devPackages: devOnly(packages),
    credentialFindings: [
      ...scanForCredentials(code!, opts.secretValues ?? knownSecretValues(opts.pipelineFile)),
      ...Object.keys(metafile?.inputs ?? {})
        .filter((f) => /(^|\/)(\.secrets\.json|\.env(\.[\w-]+)?|credentials)$/.test(f))
        .map((f) => `input file ${f}`),
    ],
  };
  cache.set(key, bundle);
  return bundle;
}

/** Writes `<dir>/index.mjs` atomically (parallel synths may build the same bundle). */
function writeOnce(dir: string, code: string): void {
  const file = join(dir, 'index.mjs');
  if (existsSync(file) && statSync(file).size === Buffer.byteLength(code)) return;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'index.mjs'), code);
  // Mode and mtime go into the zip: fix both so the archive does not depend on umask or clock.
  chmodSync(join(tmp, 'index.mjs'), 0o644);
  utimesSync(join(tmp, 'index.mjs'), FIXED_MTIME, FIXED_MTIME);
  utimesSync(tmp, FIXED_MTIME, FIXED_MTIME);
  mkdirSync(dirname(dir), { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process won the race with the same content
  }
}

interface BundledPackage {
  name: string;
  /** package-lock.json key, e.g. node_modules/a/node_modules/b */
  lockKey: string;
}

function bundledPackages(meta: Metafile): BundledPackage[] {
  const out = new Map<string, BundledPackage>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /^(.*node_modules\/(@[^/]+\/[^/]+|[^@/][^/]*))\//.exec(input);
    if (m) out.set(m[1], { name: m[2], lockKey: m[1].replace(/^.*?(node_modules\/)/, '$1') });
  }
  return [...out.values()];
}

/** Packages that are dev dependencies: package-lock marks them `dev: true`; plus the known build/test tools. */
function devOnly(packages: BundledPackage[]): string[] {
  type Lockfile = { packages?: Record<string, { dev?: boolean }> };
  let lock: Lockfile = {};
  try {
    lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  } catch {
    // no lockfile: the forbidden list alone decides
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const devDeps = new Set(Object.keys(pkg.devDependencies ?? {}));
  const bad = packages.filter(
    (p) =>
      lock.packages?.[p.lockKey]?.dev === true ||
      devDeps.has(p.name) ||
      EXTRACTOR_FORBIDDEN_PACKAGES.some((f) => (f.endsWith('/') ? p.name.startsWith(f) : p.name === f)),
  );
  return [...new Set(bad.map((p) => p.name))].sort();
}

/** Credential shapes that must never ship in code. */
const CREDENTIAL_PATTERNS: [string, RegExp][] = [
  ['AWS access key id', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['private key block', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['aws_secret_access_key assignment', /aws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9/+=]{40}/i],
  ['Spotify client secret assignment', /client_secret["']?\s*[:=]\s*["'][0-9a-f]{32}["']/i],
];

export function scanForCredentials(text: string, secretValues: string[]): string[] {
  const found = CREDENTIAL_PATTERNS.filter(([, re]) => re.test(text)).map(([name]) => name);
  const leaked = secretValues.filter((v) => v.length >= 8 && text.includes(v)).length;
  if (leaked) found.push(`${leaked} value(s) of local secrets or AWS credentials`);
  return found;
}

/** The report function's code (core/lambda/report.ts): one `index.mjs`, checked like the extractor's. */
export interface ReportBundle {
  dir: string;
  hash: string;
  bytes: number;
  handler: string;
  /** Set when the code is a placeholder: why the report function could not be bundled. */
  placeholder?: string;
  packages: string[];
  devPackages: string[];
  credentialFindings: string[];
}

const reportCache = new Map<string, ReportBundle>();

/** Bundles the report function with the report's spec embedded (cached per spec in this process). */
export function buildReportBundle(opts: { spec: ReportSpec; outRoot?: string; secretValues?: string[] }): ReportBundle {
  const key = `${JSON.stringify(opts.spec)}\0${(opts.secretValues ?? []).join('\0')}`;
  const hit = reportCache.get(key);
  if (hit && existsSync(join(hit.dir, 'index.mjs'))) return hit;
  let code: string;
  let metafile: Metafile | undefined;
  let placeholder: string | undefined;
  try {
    const result = buildSync({ ...reportBuildOptions(opts.spec, join(ROOT, '.tmp', 'report.mjs')), write: false });
    code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
    metafile = result.metafile;
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string } | null }[] }).errors;
    const first = errors?.[0];
    placeholder = first ? `${first.location?.file ? `${first.location.file}: ` : ''}${first.text}` : String(e);
    code = `export const handler = async () => { throw new Error(${JSON.stringify(`the report function was not bundled: ${placeholder}`)}); };\n`;
  }
  const hash = createHash('sha256').update(code).digest('hex');
  const dir = join(opts.outRoot ?? join(ROOT, '.tmp', 'report-bundle'), hash.slice(0, 32));
  writeOnce(dir, code);
  const packages = metafile ? bundledPackages(metafile) : [];
  const bundle: ReportBundle = {
    dir,
    hash,
    bytes: Buffer.byteLength(code),
    handler: EXTRACTOR_HANDLER,
    placeholder,
    packages: [...new Set(packages.map((p) => p.name))].sort(),
    devPackages: devOnly(packages),
    credentialFindings: scanForCredentials(code, opts.secretValues ?? []),
  };
  reportCache.set(key, bundle);
  return bundle;
}
