/** Go text/tabwriter with minwidth 12, tabwidth 1, padding 3, padchar ' ' (what runc list/ps use). */
export function tabwriter(rows: string[][], minwidth = 12, padding = 3): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { if (i < r.length - 1) widths[i] = Math.max(widths[i] ?? 0, Math.max(c.length + padding, minwidth)); });
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('')).join('\n') + '\n';
}
