import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pause, resume } from '@oci/runtime';
import type { Parsed } from '../options.js';
import { out } from '../output.js';

const root = (p: Parsed) => ({ root: p.global['root'] as string });

export async function pauseCmd(p: Parsed): Promise<number> {
  pause(p.args[0]!, root(p));
  return 0;
}

export async function resumeCmd(p: Parsed): Promise<number> {
  resume(p.args[0]!, root(p));
  return 0;
}

function duration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s);
  if (!m) return 5000;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60000 : m[2] === 'h' ? n * 3600000 : n * 1000;
}

export async function eventsCmd(p: Parsed): Promise<number> {
  const { stats, state, RuntimeError } = await import('@oci/runtime');
  const id = p.args[0]!;
  const emit = () => out(JSON.stringify({ type: 'stats', id, data: stats(id, root(p)) }) + '\n');
  if (p.opts['stats']) {
    emit();
    return 0;
  }
  const ms = duration(p.opts['interval'] as string);
  if (ms <= 0) throw new RuntimeError('ERR_INVALID_ARGUMENT', 'duration interval must be greater than 0', {});
  for (;;) {
    try {
      if (state(id, root(p)).status === 'stopped') return 0;
      emit();
    } catch (err) {
      if (RuntimeError.is(err, 'ERR_CONTAINER_NOT_FOUND') || RuntimeError.is(err, 'ERR_CONTAINER_NOT_RUNNING')) return 0;
      throw err;
    }
    await new Promise((r) => setTimeout(r, ms));
  }
}

export async function specCmd(p: Parsed): Promise<number> {
  const bundle = p.opts['bundle'] as string;
  const file = join(bundle, 'config.json');
  const { RuntimeError } = await import('@oci/runtime');
  if (existsSync(file)) throw new RuntimeError('ERR_INVALID_ARGUMENT', 'File config.json exists. Remove it first.', { hint: `remove ${file} or pass another --bundle` });
  const rs = await import('@oci/runtime-spec');
  const spec = rs.defaultSpec(p.opts['rootless'] ? { rootless: true, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 } : {});
  writeFileSync(file, JSON.stringify(spec, null, '\t'));
  return 0;
}

export async function featuresCmd(_p: Parsed): Promise<number> {
  const { features } = await import('@oci/runtime');
  out(JSON.stringify(features(), null, '    ') + '\n');
  return 0;
}
