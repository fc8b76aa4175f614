import type { Hook } from '@oci/runtime-spec';
import { RuntimeError } from './errors.js';

/** Run hooks in the runtime namespace with the state JSON on stdin (runtime-spec "Hooks"). */
export function runHooks(phase: string, hooks: readonly Hook[] | undefined, stateJson: string): void {
  if (!hooks?.length) return;
  const { spawnSync } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  for (const h of hooks) {
    const args = h.args ?? [h.path];
    const env: Record<string, string> = {};
    for (const e of h.env ?? []) {
      const i = e.indexOf('=');
      if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
    }
    const r = spawnSync(h.path, args.slice(1), {
      argv0: args[0] ?? h.path,
      env,
      input: stateJson,
      stdio: ['pipe', 'inherit', 'inherit'],
      ...(h.timeout ? { timeout: h.timeout * 1000, killSignal: 'SIGKILL' as const } : {}),
    });
    // a hook that exits without reading its stdin makes our write fail with EPIPE: not its failure
    const epipe = r.error && (r.error as NodeJS.ErrnoException).code === 'EPIPE' && r.status === 0;
    if ((r.error && !epipe) || r.status !== 0) {
      const why = r.error
        ? (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${h.timeout}s` : r.error.message
        : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
      throw new RuntimeError('ERR_HOOK_FAILED', `${phase} hook ${h.path} failed: ${why}`, { hint: 'check the hook program and its arguments in config.json', path: h.path });
    }
  }
}

/** poststart/poststop: a failure is reported as a warning and the next hooks still run (runtime-spec). */
export function runHooksWarn(phase: string, hooks: readonly Hook[] | undefined, stateJson: string, onWarning?: (m: string) => void): void {
  for (const h of hooks ?? []) {
    try {
      runHooks(phase, [h], stateJson);
    } catch (err) {
      onWarning?.((err as Error).message);
    }
  }
}
