/** A review as terminal text or as Markdown (a pull-request comment). */
import type { Review } from './index.ts';
import type { ChangeAction } from './plan-json.ts';
import type { CheckovReport } from './checkov.ts';

const bytes = (n: number) => `${n.toLocaleString('en-US')} bytes (${n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(2)} MiB`})`;
const SIGN: Record<ChangeAction, string> = { create: '+', update: '~', replace: '-/+', destroy: '-', read: '<=', 'no-op': ' ' };

function bundleLine(r: Review): string {
  const b = r.bundle;
  if (b.placeholder) return `PLACEHOLDER, ${bytes(b.bytes)}: ${b.placeholder}`;
  const connectors = Object.keys(b.connectors);
  return `${bytes(b.bytes)}, ${b.packages.length} npm packages, entry ${b.entry}${connectors.length ? ` (connectors ${connectors.join(', ')}; pipelines ${b.pipelines.join(', ')})` : ''}, handler ${b.handler}`;
}

function changeCounts(r: Review): string {
  const c = r.changes!.counts;
  return `${c.create} to create, ${c.update} to update, ${c.replace} to replace, ${c.destroy} to destroy (${c['no-op']} unchanged)`;
}

export function renderReview(r: Review, format: 'text' | 'markdown'): string {
  return format === 'markdown' ? markdown(r) : text(r);
}

function text(r: Review): string {
  const out: string[] = [];
  const failed = r.checks.filter((c) => !c.ok);
  out.push(`Plan review of pipeline ${r.pipeline} (${r.file})`);
  out.push(`  region:           ${r.region ?? 'from the AWS environment (aws.region not set)'}`);
  out.push(`  state:            ${r.state}`);
  out.push(`  extractor bundle: ${bundleLine(r)}`);
  out.push('');
  out.push(`Resources (${r.resourceCount})`);
  for (const g of r.groups) {
    out.push(`  ${g.key} (${g.resources.length})`);
    const w = Math.max(...g.resources.map((x) => x.type.length));
    for (const x of g.resources) out.push(`    ${x.type.padEnd(w)}  ${x.name}`);
  }
  out.push('');
  out.push('IAM permissions (actions -> resources)');
  for (const p of r.principals) {
    out.push(`  ${p.name} (assumed by ${p.trusts.join(', ') || 'nobody'})`);
    for (const perm of p.permissions) {
      out.push(`    ${perm.actions.join(', ')}`);
      for (const res of perm.resources) out.push(`      -> ${res}`);
      if (perm.condition) out.push(`      when ${perm.condition}`);
    }
    for (const m of p.managedPolicies) out.push(`    managed policy ${m}`);
  }
  if (r.changes) {
    out.push('');
    out.push(`Changes (terraform plan): ${changeCounts(r)}`);
    for (const g of r.changeGroups ?? []) {
      out.push(`  ${g.key}`);
      for (const c of g.changes) {
        out.push(`    ${SIGN[c.action].padEnd(3)} ${c.action.padEnd(7)} ${c.address}${c.name ? ` (${c.name})` : ''}${c.replacePaths?.length ? `  forced by ${c.replacePaths.join(', ')}` : ''}`);
      }
    }
  }
  out.push('');
  out.push('Policy checks');
  for (const c of r.checks) {
    out.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.id} ${c.title}`);
    for (const v of c.violations) out.push(`         ${v.resource}: ${v.message}`);
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  if (r.checkov) out.push(...checkovText(r.checkov));
  if (r.warnings.length) {
    out.push('');
    out.push('Warnings');
    for (const w of r.warnings) out.push(`  - ${w}`);
  }
  out.push('');
  out.push(failed.length ? `${failed.length} of ${r.checks.length} policy checks FAILED: ${failed.map((c) => `${c.id} ${c.title}`).join('; ')}` : `All ${r.checks.length} policy checks passed.`);
  const ck = checkovFailed(r);
  if (ck.length) out.push(`${ck.length} checkov finding(s) FAILED: ${[...new Set(ck.map((f) => f.id))].join(', ')}`);
  return out.join('\n');
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

function markdown(r: Review): string {
  const out: string[] = [];
  const failed = r.checks.filter((c) => !c.ok);
  out.push(`### Plan review: \`${r.pipeline}\` ${failed.length ? `— ❌ ${failed.length} policy check(s) failed` : '— ✅ all policy checks passed'}${checkovFailed(r).length ? `, ❌ ${checkovFailed(r).length} checkov finding(s)` : ''}`);
  out.push('');
  out.push(`- **Region:** ${r.region ?? 'from the AWS environment'}`);
  out.push(`- **State:** ${r.state}`);
  out.push(`- **Extractor bundle:** ${bundleLine(r)}`);
  out.push(`- **Resources:** ${r.resourceCount}`);
  if (r.changes) out.push(`- **Changes:** ${changeCounts(r)}`);
  out.push('');
  out.push('#### Policy checks');
  out.push('');
  out.push('| | id | check | violations |');
  out.push('|---|---|---|---|');
  for (const c of r.checks) {
    out.push(`| ${c.ok ? '✅' : '❌'} | ${c.id} | ${cell(c.title)} | ${c.violations.map((v) => `${code(v.resource)}: ${cell(v.message)}`).join('<br>')} |`);
  }
  if (r.checkov) out.push('', ...checkovMarkdown(r.checkov));
  if (r.changes) {
    out.push('');
    out.push('#### Changes');
    for (const g of r.changeGroups ?? []) {
      out.push('');
      out.push(`**${g.key}**`);
      out.push('');
      out.push('| action | resource | name |');
      out.push('|---|---|---|');
      for (const c of g.changes) out.push(`| ${c.action} | ${code(c.address)} | ${cell(c.name ?? '')}${c.replacePaths?.length ? ` (forced by ${cell(c.replacePaths.join(', '))})` : ''} |`);
    }
  }
  out.push('');
  out.push('<details><summary>Resources by stream, table and query</summary>');
  out.push('');
  for (const g of r.groups) {
    out.push(`**${g.key}** (${g.resources.length})`);
    out.push('');
    for (const x of g.resources) out.push(`- ${code(x.type)} ${cell(x.name)}`);
    out.push('');
  }
  out.push('</details>');
  out.push('');
  out.push('<details><summary>IAM permissions per principal</summary>');
  out.push('');
  for (const p of r.principals) {
    out.push(`**${p.name}** (assumed by ${p.trusts.join(', ')})`);
    out.push('');
    out.push('| actions | resources |');
    out.push('|---|---|');
    for (const perm of p.permissions) out.push(`| ${perm.actions.map(code).join(' ')} | ${perm.resources.map(code).join('<br>')}${perm.condition ? `<br>when ${code(perm.condition)}` : ''} |`);
    out.push('');
  }
  out.push('</details>');
  if (r.notes.length) out.push('', ...r.notes.map((n) => `> **Note:** ${cell(n)}`));
  if (r.warnings.length) {
    out.push('');
    out.push('#### Warnings');
    out.push('');
    for (const w of r.warnings) out.push(`- ${cell(w)}`);
  }
  return out.join('\n');
}

/** Skipped findings by check id: one line per check, however many resources. */
function byCheck(skipped: { id: string; resource: string; reason?: string }[]): { id: string; resources: string[]; reason: string }[] {
  const m = new Map<string, { id: string; resources: string[]; reason: string }>();
  for (const s of skipped) {
    const g = m.get(s.id) ?? { id: s.id, resources: [], reason: s.reason ?? '' };
    g.resources.push(s.resource);
    m.set(s.id, g);
  }
  return [...m.values()];
}

function checkovText(c: CheckovReport): string[] {
  if (c.status !== 'ran') return [`  ${c.message}`];
  const out = [`  checkov ${c.version} (profile ${c.profile}): ${c.passed} passed, ${c.failed.length} failed, ${c.skipped.length} skipped by design`];
  for (const f of c.failed) out.push(`  FAIL ${f.id} ${f.title}: ${f.resource}`);
  for (const g of byCheck(c.skipped)) out.push(`  skip ${g.id} (${g.resources.length}): ${g.reason}`);
  return out;
}

function checkovMarkdown(c: CheckovReport): string[] {
  if (c.status !== 'ran') return [`**checkov:** ${cell(c.message)}`];
  const out = [`**checkov ${c.version}** (profile ${c.profile}): ${c.passed} passed, ${c.failed.length} failed, ${c.skipped.length} skipped by design`];
  if (c.failed.length) {
    out.push('', '| | check | resource |', '|---|---|---|');
    for (const f of c.failed) out.push(`| ❌ | ${f.id} ${cell(f.title)} | ${code(f.resource)} |`);
  }
  if (c.skipped.length) {
    out.push('', '<details><summary>checkov checks skipped by design</summary>', '', '| check | resources | why |', '|---|---|---|');
    for (const g of byCheck(c.skipped)) out.push(`| ${g.id} | ${g.resources.length} | ${cell(g.reason)} |`);
    out.push('', '</details>');
  }
  return out;
}

const checkovFailed = (r: Review) => (r.checkov?.status === 'ran' ? r.checkov.failed : []);
