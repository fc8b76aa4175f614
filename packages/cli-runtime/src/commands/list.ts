import { list, RuntimeError } from '@oci/runtime';
import type { Parsed } from '../options.js';
import { tabwriter } from '../table.js';
import { out } from '../output.js';

/** Go's RFC3339Nano: trailing zeros of the fraction trimmed. */
export function rfc3339nano(iso: string): string {
  return iso.replace(/\.(\d*?)0+Z$/, (_m, f: string) => (f ? `.${f}Z` : 'Z'));
}

export default async function listCmd(p: Parsed): Promise<number> {
  const all = list({ root: p.global['root'] as string });
  const fmt = p.opts['format'] as string;
  if (p.opts['quiet']) {
    for (const s of all) out(s.id + '\n');
    return 0;
  }
  if (fmt === 'json') {
    out((all.length ? JSON.stringify(all) : 'null') + '\n');
    return 0;
  }
  if (fmt !== 'table') throw new RuntimeError('ERR_INVALID_ARGUMENT', `invalid format option: ${fmt}`, { hint: 'use --format table or --format json' });
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
  for (const s of all) rows.push([s.id, String(s.pid), s.status, s.bundle, rfc3339nano(s.created), s.owner]);
  out(tabwriter(rows));
  return 0;
}
