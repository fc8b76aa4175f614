import { readFileSync } from 'node:fs';
import type { Parsed } from '../options.js';

/** docker's RAMInBytes: 512, 512k, 64m, 1g (base 1024); -1 for unlimited. */
export function ramInBytes(s: string): number {
  if (s === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(s.trim());
  if (!m) throw Object.assign(new Error(`invalid size: ${s}`), { code: 'ERR_INVALID_ARGUMENT', hint: 'use bytes or a k, m, g suffix' });
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't' | 'p'];
  return Math.floor(Number(m[1]) * mult);
}

export default async function updateCmd(p: Parsed): Promise<number> {
  const { update, RuntimeError } = await import('@oci/runtime');
  const o = p.opts;
  let r: Record<string, any> = {};
  if (typeof o['resources'] === 'string') {
    try {
      r = JSON.parse(readFileSync(o['resources'] === '-' ? 0 : o['resources'], 'utf8'));
    } catch (err) {
      throw new RuntimeError('ERR_INVALID_ARGUMENT', `cannot read resources ${o['resources']}: ${(err as Error).message}`, { hint: 'pass a JSON runtime-spec linux.resources object' });
    }
  }
  const set = (k: string, sub: string, v: unknown) => { if (v !== undefined) (r[k] ??= {})[sub] = v; };
  const n = (v: unknown) => (v === undefined ? undefined : Number(v));
  set('memory', 'limit', o['memory'] !== undefined ? ramInBytes(String(o['memory'])) : undefined);
  set('memory', 'reservation', o['memory-reservation'] !== undefined ? ramInBytes(String(o['memory-reservation'])) : undefined);
  set('memory', 'swap', o['memory-swap'] !== undefined ? ramInBytes(String(o['memory-swap'])) : undefined);
  set('cpu', 'period', n(o['cpu-period']));
  set('cpu', 'quota', n(o['cpu-quota']));
  set('cpu', 'realtimePeriod', n(o['cpu-rt-period']));
  set('cpu', 'realtimeRuntime', n(o['cpu-rt-runtime']));
  set('cpu', 'shares', n(o['cpu-share']));
  set('cpu', 'cpus', o['cpuset-cpus']);
  set('cpu', 'mems', o['cpuset-mems']);
  set('blockIO', 'weight', n(o['blkio-weight']));
  set('pids', 'limit', n(o['pids-limit']));
  update(p.args[0]!, r, { root: p.global['root'] as string });
  return 0;
}
