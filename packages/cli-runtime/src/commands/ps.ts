import { spawnSync } from 'node:child_process';
import type { Parsed } from '../options.js';
import { out } from '../output.js';

export default async function psCmd(p: Parsed): Promise<number> {
  const { ps, RuntimeError } = await import('@oci/runtime');
  const pids = ps(p.args[0]!, { root: p.global['root'] as string });
  const fmt = p.opts['format'] as string;
  if (fmt === 'json') {
    out(JSON.stringify(pids) + '\n');
    return 0;
  }
  if (fmt !== 'table') throw new RuntimeError('ERR_INVALID_ARGUMENT', `invalid format option: ${fmt}`, { hint: 'use --format table or --format json' });
  const psArgs = p.args.length > 1 ? p.args.slice(1) : ['-ef'];
  const r = spawnSync('ps', psArgs, { encoding: 'utf8' });
  if (r.status !== 0) throw new RuntimeError('ERR_INVALID_ARGUMENT', `ps ${psArgs.join(' ')} failed: ${r.stderr.trim()}`, { hint: 'pass options ps understands after the container id' });
  const lines = r.stdout.split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new RuntimeError('ERR_INVALID_ARGUMENT', "couldn't find PID field in ps output", { hint: 'include the pid column (-o pid,...)' });
  const set = new Set(pids);
  let text = header + '\n';
  for (const l of lines.slice(1)) {
    const f = l.trim().split(/\s+/);
    if (f[col] !== undefined && set.has(Number(f[col]))) text += l + '\n';
  }
  out(text);
  return 0;
}
