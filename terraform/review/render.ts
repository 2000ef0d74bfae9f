/** A review as terminal text or as Markdown (a pull-request comment). */
import type { Review } from './index.ts';
import type { AttributeChange, PlanChanges, ResourceChange } from './plan-json.ts';
import type { CheckovReport } from './checkov.ts';

const bytes = (n: number) => `${n.toLocaleString('en-US')} bytes (${n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(2)} MiB`})`;

/** GitHub refuses comments longer than this (characters); the Markdown stays below it. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** Room kept below the limit (UTF-16 length counts an emoji twice, so this is already conservative). */
const MARKDOWN_BUDGET = GITHUB_COMMENT_LIMIT - 1_536;
/** Attribute lines shown per resource in text output. */
const MAX_ATTRIBUTES = 40;

/** Terraform's own symbols: -/+ destroy then create, +/- create then destroy, . forget. */
function sign(c: ResourceChange): string {
  switch (c.action) {
    case 'create':
      return '+';
    case 'update':
      return '~';
    case 'replace':
      return c.replaceOrder === 'create-before-destroy' ? '+/-' : '-/+';
    case 'destroy':
      return '-';
    case 'read':
      return '<=';
    case 'forget':
      return '.';
    default:
      return c.importing ? '<-' : c.previousAddress ? '->' : ' ';
  }
}

/** The verb of a change: its action, or import/move for a no-op that imports or moves. */
const verb = (c: ResourceChange) => (c.action !== 'no-op' ? c.action : c.importing ? 'import' : c.previousAddress ? 'move' : 'no-op');

/** What the action list alone does not say: the replace order, the import, the move, Terraform's reason. */
function extras(c: ResourceChange): string[] {
  const out: string[] = [];
  if (c.replacePaths?.length) out.push(`forced by ${c.replacePaths.join(', ')}`);
  if (c.replaceOrder) out.push(c.replaceOrder === 'delete-before-create' ? 'delete before create: the old object is gone before the new one exists' : 'create before destroy');
  if (c.action === 'forget') out.push('removed from state only: the object is kept in AWS, unmanaged');
  if (c.deposed) out.push(`deposed object ${c.deposed} (left by a failed create-before-destroy)`);
  if (c.importing) out.push(`imported${c.importing.id ? ` from id ${c.importing.id}` : ''}`);
  if (c.previousAddress) out.push(`moved from ${c.previousAddress}`);
  if (c.reason) out.push(c.reason.replace(/_/g, ' '));
  if (c.deferredReason) out.push(`deferred: ${c.deferredReason.replace(/_/g, ' ')}`);
  return out;
}

const attributeText = (c: ResourceChange, a: AttributeChange) =>
  a.before !== undefined && a.after !== undefined ? `${a.path}: ${a.before} -> ${a.after}` : `${a.path} = ${a.after ?? a.before}${a.after === undefined && c.action !== 'destroy' && c.action !== 'forget' ? ' -> null' : ''}`;

function changeCounts(c: PlanChanges): string {
  const n = c.counts;
  const more = [n.forget && `${n.forget} to forget`, n.import && `${n.import} to import`, n.move && `${n.move} moved`, n.read && `${n.read} to read`].filter(Boolean);
  return `${n.create} to create, ${n.update} to update, ${n.replace} to replace, ${n.destroy} to destroy${more.length ? `, ${more.join(', ')}` : ''} (${n['no-op']} unchanged)`;
}

/** `+3 ~1 -0 ±1`, then what the four symbols do not cover. */
function shortCounts(c: PlanChanges): string {
  const n = c.counts;
  const more = [n.forget && `${n.forget} forget`, n.import && `${n.import} import`, n.move && `${n.move} moved`, c.drift.length && `${c.drift.length} drifted`, c.deferred.length && `${c.deferred.length} deferred`].filter(Boolean);
  return `+${n.create} ~${n.update} -${n.destroy} ±${n.replace}${more.length ? ` (${more.join(', ')})` : ''}`;
}

const usd = (n: number) => `$${Math.abs(n).toFixed(2)}`;
function costShort(r: Review): string | undefined {
  if (!r.cost) return undefined;
  const { monthlyUsd: m, previousMonthlyUsd: p } = r.cost;
  const delta = p === undefined ? '' : ` (${m - p < 0 ? '-' : '+'}${usd(m - p)})`;
  return `est. ${usd(m)}/mo${delta}`;
}

/** ` (name)`, or ` (name sensitive)` where the plan marks it so. */
const nameText = (c: ResourceChange) => (!c.name ? '' : c.name === '(sensitive)' ? ' (name sensitive)' : ` (${c.name})`);

function dataAtRiskLine(c: ResourceChange): string {
  const what = c.action === 'replace' ? `REPLACE (${c.replaceOrder})` : c.deposed ? `DESTROY (deposed object ${c.deposed})` : 'DESTROY';
  return `${what} ${c.lakeBucket ? 'the lake bucket ' : ''}${c.name ? `${c.name} ` : ''}(${c.address}): ${c.dataAtRisk}`;
}

function staleLine(r: Review): string | undefined {
  const s = r.stale;
  if (!s?.checked || (!s.missing.length && !s.extra.length && !s.changed.length)) return undefined;
  const few = (xs: string[]) => `${xs.slice(0, 3).join(', ')}${xs.length > 3 ? `, … (${xs.length})` : ''}`;
  return `STALE PLAN: it was made from another synth than the current one${s.missing.length ? `; not in the plan: ${few(s.missing)}` : ''}${s.extra.length ? `; in the plan, not in the synth: ${few(s.extra)}` : ''}${s.changed.length ? `; changed since: ${few(s.changed)}` : ''}. Synthesize and plan again.`;
}
const ERRORED_LINE = 'PLAN ERRORED: Terraform could not finish this plan (errored, or not applyable); what it shows is not what an apply would do.';

function bundleLine(r: Review): string {
  const b = r.bundle;
  if (b.placeholder) return `PLACEHOLDER, ${bytes(b.bytes)}: ${b.placeholder}`;
  const connectors = Object.keys(b.connectors);
  return `${bytes(b.bytes)}, ${b.packages.length} npm packages, entry ${b.entry}${connectors.length ? ` (connectors ${connectors.join(', ')}; pipelines ${b.pipelines.join(', ')})` : ''}, handler ${b.handler}`;
}

export function renderReview(r: Review, format: 'text' | 'markdown'): string {
  return format === 'markdown' ? markdown(r) : text(r);
}

function changeLines(c: ResourceChange, indent: string): string[] {
  const x = extras(c);
  const out = [`${indent}${sign(c).padEnd(3)} ${verb(c).padEnd(7)} ${c.address}${nameText(c)}${x.length ? `  ${x.join('; ')}` : ''}`];
  for (const a of c.attributes.slice(0, MAX_ATTRIBUTES)) out.push(`${indent}      ${attributeText(c, a)}`);
  if (c.attributes.length > MAX_ATTRIBUTES) out.push(`${indent}      … ${c.attributes.length - MAX_ATTRIBUTES} more attributes`);
  return out;
}

function text(r: Review): string {
  const out: string[] = [];
  const failed = r.checks.filter((c) => !c.ok);
  const ch = r.changes;
  // What a reviewer must not miss comes first: the data a change destroys (the lake bucket on
  // the very first line), an errored plan, a plan made from another synth.
  if (ch?.dataAtRisk.length) {
    out.push(`DATA AT RISK: ${dataAtRiskLine(ch.dataAtRisk[0])}`);
    for (const c of ch.dataAtRisk.slice(1)) out.push(`  also ${dataAtRiskLine(c)}`);
    out.push('');
  }
  if (ch?.errored) out.push(ERRORED_LINE, '');
  const stale = staleLine(r);
  if (stale) out.push(stale, '');
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
  if (ch) {
    out.push('');
    out.push(`Changes (terraform plan): ${changeCounts(ch)}`);
    for (const g of r.changeGroups ?? []) {
      out.push(`  ${g.key}`);
      for (const c of g.changes) out.push(...changeLines(c, '    '));
    }
    if (ch.drift.length) {
      out.push('');
      out.push(`Drift: ${ch.drift.length} resource(s) changed outside Terraform since the last apply (the plan reverts or keeps them)`);
      for (const c of ch.drift) out.push(...changeLines(c, '  '));
    }
    if (ch.deferred.length || (ch.incomplete && !ch.errored)) {
      out.push('');
      out.push(`Deferred: ${ch.deferred.length} change(s) Terraform will plan in a later run${ch.incomplete ? ' (the plan is incomplete: apply, then plan again)' : ''}`);
      for (const c of ch.deferred) out.push(...changeLines(c, '  '));
    }
    if (r.stale && !r.stale.checked) {
      out.push('');
      out.push('(the plan has no `configuration`: whether it was made from the current synth is not checked)');
    }
  }
  if (r.cost) {
    out.push('');
    out.push(`Cost estimate: ${costShort(r)}`);
    out.push(...r.cost.text.split('\n').map((l) => `  ${l}`));
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
const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A fenced block that no backtick run inside it can close. */
function fence(lang: string, lines: string[]): string {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
  const f = '`'.repeat(longest + 1);
  return [`${f}${lang}`, ...lines, f].join('\n');
}

/**
 * A Markdown section the truncation treats as a unit: `head` and `tail` are kept or dropped
 * together (a `<details>` is never left open), `items` (table rows, list entries, whole fenced
 * blocks) are cut from the end. Lower `priority` numbers are kept first.
 */
interface Section {
  name: string;
  priority: number;
  head: string[];
  items: string[];
  tail: string[];
}

const joinLen = (lines: string[]) => lines.reduce((n, l) => n + l.length + 1, 0);

/** Joins the sections, cutting whole items and then whole sections to stay within `budget`; says what it cut. */
export function fitSections(sections: Section[], budget: number): string {
  const NOTE_ROOM = 1_200;
  const kept = new Map<Section, number>(); // section -> items kept
  let used = 0;
  const byPriority = [...sections].sort((a, b) => a.priority - b.priority);
  for (const s of byPriority) {
    const frame = joinLen(s.head) + joinLen(s.tail);
    if (used + frame > budget - NOTE_ROOM) continue; // dropped whole
    kept.set(s, 0);
    used += frame;
  }
  // Two passes in priority order: first each section takes at most 60% of what is left (so a
  // huge table leaves room for the diffs after it), then each fills up what remains.
  for (const share of [0.6, 1]) {
    for (const s of byPriority) {
      let n = kept.get(s);
      if (n === undefined) continue;
      const cap = used + (budget - NOTE_ROOM - used) * share;
      for (; n < s.items.length; n++) {
        const len = s.items[n].length + 1;
        if (used + len > cap) break;
        used += len;
      }
      kept.set(s, n);
    }
  }
  const cut: string[] = [];
  const out: string[] = [];
  for (const s of sections) {
    const n = kept.get(s);
    if (n === undefined) {
      if (s.items.length || s.head.length) cut.push(`the section "${s.name}"`);
      continue;
    }
    out.push(...s.head, ...s.items.slice(0, n));
    if (n < s.items.length) {
      cut.push(`${(s.items.length - n).toLocaleString('en-US')} of ${s.items.length.toLocaleString('en-US')} entries of "${s.name}"`);
      if (s.tail.length) out.push(`_… ${(s.items.length - n).toLocaleString('en-US')} more cut (comment size limit)_`);
    }
    out.push(...s.tail);
  }
  if (cut.length) {
    let note = `> ✂️ Truncated to stay under GitHub's ${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')}-character comment limit: cut ${cut.join('; ')}. Run \`spotify-pipeline plan\` for the whole review.`;
    if (note.length > NOTE_ROOM - 4) note = `${note.slice(0, NOTE_ROOM - 120)}… (and more). Run \`spotify-pipeline plan\` for the whole review.`;
    out.push('', note);
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

function headline(r: Review): string {
  const ch = r.changes;
  // SP checks and checkov findings beyond the documented exceptions.
  const failed = r.checks.filter((c) => !c.ok).length + checkovFailed(r).length;
  const parts = [ch ? shortCounts(ch) : `${r.resourceCount} resources (no plan given)`, costShort(r), `${failed} policy failure${failed === 1 ? '' : 's'}`].filter(Boolean);
  const flags = [
    ch?.errored && '⛔ plan errored',
    ch?.dataAtRisk[0]?.lakeBucket && `⚠️ ${ch.dataAtRisk[0].action === 'replace' ? 'replaces' : 'destroys'} the lake bucket`,
    ch?.dataAtRisk.length && !ch.dataAtRisk[0].lakeBucket && `⚠️ ${ch.dataAtRisk.length} data-bearing resource(s) at risk`,
    staleLine(r) && '⚠️ stale plan',
  ].filter(Boolean);
  // The success mark only when there is nothing to look at twice.
  const mark = failed || ch?.errored ? ' ❌' : flags.length ? '' : ' ✅';
  return `### ${code(r.pipeline)}: ${flags.length ? `${flags.join(' · ')} · ` : ''}${parts.join(', ')}${mark}`;
}

function markdownDetails(c: ResourceChange): string {
  const lines: string[] = [];
  for (const a of c.attributes) {
    if (a.before !== undefined && a.after !== undefined) lines.push(`- ${a.path} = ${a.before}`, `+ ${a.path} = ${a.after}`);
    else if (a.after !== undefined) lines.push(`+ ${a.path} = ${a.after}`);
    else lines.push(`- ${a.path} = ${a.before}`);
  }
  const x = extras(c);
  return [`<details><summary>${html(`${sign(c)} ${verb(c)}`)} <code>${html(c.address)}</code>${c.name ? ` ${html(c.name)}` : ''}${x.length ? ` — ${html(x.join('; '))}` : ''}</summary>`, '', fence('diff', lines.length ? lines : ['(no attribute changes)']), '', '</details>'].join('\n');
}

function markdown(r: Review): string {
  const sections: Section[] = [];
  const add = (name: string, priority: number, head: string[], items: string[] = [], tail: string[] = []) => sections.push({ name, priority, head, items, tail });
  const failed = r.checks.filter((c) => !c.ok);
  const ch = r.changes;
  add('headline', 0, [headline(r), '']);
  if (ch?.dataAtRisk.length) {
    add('Data at risk', 1, ['> [!CAUTION]', `> **Data at risk:** ${ch.dataAtRisk.length} data-bearing resource(s) destroyed or replaced`, '>'], ch.dataAtRisk.map((c) => `> - ${cell(dataAtRiskLine(c))}`), ['']);
  }
  if (ch?.errored) add('errored', 1, ['> [!CAUTION]', `> ${ERRORED_LINE}`, '']);
  const stale = staleLine(r);
  if (stale) add('stale', 1, ['> [!WARNING]', `> ${cell(stale)}`, '']);
  const facts = [
    `- **Region:** ${r.region ?? 'from the AWS environment'}`,
    `- **State:** ${r.state}`,
    `- **Extractor bundle:** ${bundleLine(r)}`,
    `- **Resources:** ${r.resourceCount}`,
    ...(ch ? [`- **Changes:** ${changeCounts(ch)}`] : []),
    `- **Policy checks:** ${failed.length ? `❌ ${failed.length} of ${r.checks.length} failed (${failed.map((c) => c.id).join(', ')})` : `✅ all ${r.checks.length} passed`}`,
  ];
  add('summary', 2, [...facts, '']);
  if (ch) {
    add('Changes', 3, ['#### Changes']);
    for (const g of r.changeGroups ?? []) {
      add(`Changes: ${g.key}`, 5, ['', `**${g.key}**`, '', '| action | resource | name |', '|---|---|---|'], g.changes.map((c) => {
        const x = extras(c);
        return `| ${sign(c)} ${verb(c)} | ${code(c.address)} | ${cell(c.name ?? '')}${x.length ? ` (${cell(x.join('; '))})` : ''} |`;
      }));
    }
    add('Changes', 3, ['']);
    const withAttributes = ch.changes.filter((c) => c.attributes.length);
    if (withAttributes.length) add('Attribute changes', 6, [`<details><summary>Attribute changes of ${withAttributes.length} resource(s) (sensitive values masked)</summary>`, ''], withAttributes.map(markdownDetails), ['', '</details>', '']);
    if (ch.drift.length) add('Drift', 4, [`<details open><summary>Drift: ${ch.drift.length} resource(s) changed outside Terraform since the last apply</summary>`, ''], ch.drift.map(markdownDetails), ['', '</details>', '']);
    if (ch.deferred.length || (ch.incomplete && !ch.errored)) add('Deferred', 4, [`<details open><summary>Deferred: ${ch.deferred.length} change(s) Terraform will plan in a later run${ch.incomplete ? ' (incomplete plan)' : ''}</summary>`, ''], ch.deferred.map(markdownDetails), ['', '</details>', '']);
  }
  if (r.cost) add('Cost estimate', 4, [`<details><summary>Cost estimate: ${html(costShort(r)!)}</summary>`, ''], [r.cost.markdown], ['', '</details>', '']);
  add('Policy checks', 3, ['<details' + (failed.length ? ' open' : '') + `><summary>Policy checks: ${failed.length ? `${failed.length} failed` : 'all passed'}</summary>`, '', '| | id | check | violations |', '|---|---|---|---|'], r.checks.map((c) => `| ${c.ok ? '✅' : '❌'} | ${c.id} | ${cell(c.title)} | ${c.violations.map((v) => `${code(v.resource)}: ${cell(v.message)}`).join('<br>')} |`), ['', '</details>', '']);
  if (r.checkov) add('checkov', 3, [...checkovMarkdown(r.checkov), '']);
  if (r.notes.length) add('Notes', 3, r.notes.map((n) => `> **Note:** ${cell(n)}`), [], ['']);
  if (r.warnings.length) add('Warnings', 3, ['#### Warnings', ''], r.warnings.map((w) => `- ${cell(w)}`), ['']);
  add('Resources by stream, table and query', 8, ['<details><summary>Resources by stream, table and query</summary>', ''], r.groups.map((g) => [`**${g.key}** (${g.resources.length})`, '', ...g.resources.map((x) => `- ${code(x.type)} ${cell(x.name)}`), ''].join('\n')), ['</details>', '']);
  add('IAM permissions per principal', 7, ['<details><summary>IAM permissions per principal</summary>', ''], r.principals.map((p) => [
    `**${p.name}** (assumed by ${p.trusts.join(', ')})`,
    '',
    '| actions | resources |',
    '|---|---|',
    ...p.permissions.map((perm) => `| ${perm.actions.map(code).join(' ')} | ${perm.resources.map(code).join('<br>')}${perm.condition ? `<br>when ${code(perm.condition)}` : ''} |`),
    '',
  ].join('\n')), ['</details>']);
  return fitSections(sections, MARKDOWN_BUDGET);
}
