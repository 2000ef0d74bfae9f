/** SQL text helpers of the renderer (render.ts), whatever the dialect. */

export function indent(sql: string): string {
  return sql
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** `WITH a AS (...), b AS (...)`, names quoted by the dialect's identifier function. */
export function withClause(ctes: [string, string][], ident: (name: string) => string): string {
  return `WITH\n${ctes.map(([n, sql]) => `${ident(n)} AS (\n${indent(sql)}\n)`).join(',\n')}`;
}
