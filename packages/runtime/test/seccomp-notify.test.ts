// linux.seccomp.listenerPath: the seccomp notify fd and the container process state go to the listener in one
// message (runtime-spec config-linux.md), runc 1.1.5 as the oracle. The listener (Python: Node cannot receive fds)
// records the message and closes the fd, so the notified syscall fails with ENOSYS inside the container.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIMES, Runtimes, generatorDefault, makeBundle, removeTemps, tmp } from './conformance-helpers.js';
import type { Config } from './conformance-helpers.js';

const LISTENER = `
import json, os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
print('ready', flush=True)
c, _ = s.accept()
msg, fds, _flags, _addr = socket.recv_fds(c, 65536, 4)
with open(out, 'w') as f:
    json.dump({'msg': json.loads(msg), 'nfds': len(fds)}, f)
for fd in fds:
    os.close(fd)
c.close()
`;

// the same, for N connections (create, then each exec), one JSON line per message
const MULTI_LISTENER = `
import json, os, socket, sys
path, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
print('ready', flush=True)
with open(out, 'w') as f:
    for _ in range(n):
        c, _ = s.accept()
        msg, fds, _flags, _addr = socket.recv_fds(c, 65536, 4)
        f.write(json.dumps({'msg': json.loads(msg), 'nfds': len(fds)}) + '\\n')
        f.flush()
        for fd in fds:
            os.close(fd)
        c.close()
`;

let rt: Runtimes;
beforeAll(() => {
  rt = new Runtimes('seccomp-notify');
});
afterAll(async () => {
  await rt.close();
  removeTemps();
});

async function listen(dir: string): Promise<{ path: string; out: string; done: Promise<void> }> {
  const path = join(dir, 'listener.sock');
  const out = join(dir, 'message.json');
  const p = spawn('python3', ['-c', LISTENER, path, out], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    p.stdout.once('data', () => resolve());
    p.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
  return { path, out, done: new Promise((resolve) => p.once('exit', () => resolve())) };
}

describe('seccomp notify listener (runc oracle)', () => {
  it('sends the notify fd with the container process state; the notified syscall fails once the listener closes it', async () => {
    const got: Record<string, { code: number; stdout: string; message: any }> = {};
    for (const which of RUNTIMES) {
      const dir = tmp('oci-notify-');
      const l = await listen(dir);
      const c: Config = generatorDefault(['sh', '-c', 'mkdir /tmp/x 2>/dev/null && echo made || echo refused; echo ok']);
      c['annotations'] = { 'org.example.test': 'yes' };
      c['linux']['seccomp'] = {
        defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], listenerPath: l.path, listenerMetadata: 'hello=world',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      };
      const b = await makeBundle(c, { copy: true });
      const r = await rt.cmd(which, ['run', '--bundle', b.dir, rt.id(which)]);
      await l.done;
      got[which] = { code: r.code, stdout: r.stdout, message: JSON.parse(readFileSync(l.out, 'utf8')) };
    }
    const shape = (m: any) => ({
      nfds: m.nfds, keys: Object.keys(m.msg).sort(), fds: m.msg.fds, metadata: m.msg.metadata, samePid: m.msg.pid === m.msg.state.pid,
      stateKeys: Object.keys(m.msg.state).sort(), status: m.msg.state.status, annotations: m.msg.state.annotations,
    });
    expect(got.runc!.code).toBe(0);
    expect({ code: got.ours!.code, stdout: got.ours!.stdout }).toEqual({ code: got.runc!.code, stdout: got.runc!.stdout });
    expect(shape(got.ours!.message)).toEqual(shape(got.runc!.message));
    expect(got.ours!.message.msg.pid).toBeGreaterThan(1);
    expect(got.ours!.stdout).toContain('refused');
  });

  it('an exec\'d process gets the profile too: its notify fd and state go to the listener, as with runc', async () => {
    const got: Record<string, { exec: { code: number; stdout: string }; messages: any[]; pid: number }> = {};
    for (const which of RUNTIMES) {
      const dir = tmp('oci-notify-x-');
      const path = join(dir, 'listener.sock');
      const out = join(dir, 'messages.jsonl');
      const p = spawn('python3', ['-c', MULTI_LISTENER, path, out, '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        p.stdout.once('data', () => resolve());
        p.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
      });
      const done = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      const c: Config = generatorDefault(['sleep', '30']);
      c['linux']['seccomp'] = {
        defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], listenerPath: path, listenerMetadata: 'x',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      };
      const b = await makeBundle(c, { copy: true });
      const id = rt.id(which);
      expect((await rt.cmd(which, ['run', '-d', '--bundle', b.dir, id])).code).toBe(0);
      const exec = await rt.cmd(which, ['exec', id, 'sh', '-c', 'mkdir /tmp/y 2>/dev/null && echo made || echo refused']);
      await done;
      const st = await rt.state(which, id);
      await rt.cmd(which, ['delete', '-f', id]);
      const messages = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      got[which] = { exec: { code: exec.code, stdout: exec.stdout }, messages, pid: st?.['pid'] as number };
    }
    const shape = (m: any) => ({ nfds: m.nfds, fds: m.msg.fds, metadata: m.msg.metadata, samePid: m.msg.pid === m.msg.state.pid, status: m.msg.state.status, id: typeof m.msg.state.id });
    expect(got.ours!.exec).toEqual(got.runc!.exec);
    expect(got.ours!.exec.stdout).toBe('refused\n');
    expect(got.ours!.messages.map(shape)).toEqual(got.runc!.messages.map(shape));
    for (const which of RUNTIMES) {
      const [create, exec] = got[which]!.messages;
      expect(create.msg.pid).toBe(got[which]!.pid);
      // the exec'd process, and the running container's state with its init's pid
      expect(exec.msg.pid).not.toBe(got[which]!.pid);
      expect(exec.msg.pid).toBeGreaterThan(1);
      expect(exec.msg.state).toMatchObject({ status: 'running', pid: got[which]!.pid });
    }
  });

  it('a listener path nobody listens on fails the create with a clear error', async () => {
    const c: Config = generatorDefault(['true']);
    c['linux']['seccomp'] = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: join(tmp('oci-notify-'), 'none.sock'), syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
    const b = await makeBundle(c);
    const r = await rt.cmd('ours', ['run', '--bundle', b.dir, rt.id('ours')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/seccomp listener/);
  });
});
