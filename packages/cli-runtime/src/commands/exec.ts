import { readFileSync } from 'node:fs';
import type { Parsed } from '../options.js';
import { debugLogger } from '../log.js';

const FORWARD = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

export default async function execCmd(p: Parsed): Promise<number> {
  const { exec, RuntimeError } = await import('@oci/runtime');
  const o = p.opts;
  const id = p.args[0]!;
  let user: { uid: number; gid: number; additionalGids?: number[] } | undefined;
  if (typeof o['user'] === 'string') {
    const m = /^(\d+)(?::(\d+))?$/.exec(o['user']);
    if (!m) throw new RuntimeError('ERR_INVALID_ARGUMENT', `invalid --user ${o['user']}`, { hint: 'use a numeric uid[:gid]' });
    user = { uid: Number(m[1]), gid: Number(m[2] ?? 0) };
  }
  const gids = ((o['additional-gids'] as string[] | undefined) ?? []).map(Number);
  if (gids.length) user = { ...(user ?? { uid: 0, gid: 0 }), additionalGids: gids };
  let processDoc;
  if (typeof o['process'] === 'string') {
    try {
      processDoc = JSON.parse(readFileSync(o['process'], 'utf8'));
    } catch (err) {
      throw new RuntimeError('ERR_INVALID_ARGUMENT', `cannot read process file ${o['process']}: ${(err as Error).message}`, { hint: 'pass a JSON process object (runtime-spec "process")' });
    }
  }
  const onDebug = debugLogger(p.global);
  let pid = 0;
  const handlers = FORWARD.map((sig) => {
    const h = () => { if (pid) try { process.kill(pid, sig); } catch { /* gone */ } };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await exec(id, {
      root: p.global['root'] as string,
      ...(onDebug ? { onDebug } : {}),
      ...(processDoc ? { process: processDoc } : { args: p.args.slice(1) }),
      ...(o['env'] ? { env: o['env'] as string[] } : {}),
      ...(o['cwd'] ? { cwd: o['cwd'] as string } : {}),
      ...(user ? { user } : {}),
      tty: o['tty'] === true,
      ...(o['cap'] ? { caps: o['cap'] as string[] } : {}),
      noNewPrivileges: o['no-new-privs'] === true,
      ...(o['apparmor'] ? { apparmorProfile: o['apparmor'] as string } : {}),
      ...(o['process-label'] ? { selinuxLabel: o['process-label'] as string } : {}),
      detach: o['detach'] === true,
      ...(o['pid-file'] ? { pidFile: o['pid-file'] as string } : {}),
      ...(o['console-socket'] ? { consoleSocket: o['console-socket'] as string } : {}),
      preserveFds: (o['preserve-fds'] as number) ?? 0,
      onStart: (x) => { pid = x; },
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}
