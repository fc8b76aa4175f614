// process.terminal: a pty in the foreground (driven through tmux) and --console-socket (SCM_RIGHTS).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, bundle, cleanupAll, detached, ours, tmp, uid } from './helpers.js';

afterAll(() => cleanupAll());

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn: () => boolean, ms = 10000): Promise<void> {
  for (let t = 0; t < ms && !fn(); t += 50) await sleep(50);
}

describe.runIf(hasTmux)('terminal in the foreground (tmux)', () => {
  it('gives an interactive shell a pty with the caller\'s window size, and exits with its status', async () => {
    const b = await bundle((c) => {
      c['process'].terminal = true;
      c['process'].args = ['sh'];
    });
    const dir = tmp('oci-rt-tty-');
    const session = uid('tty');
    const codeFile = join(dir, 'code');
    const cmd = `${process.execPath} ${CLI} --root ${ROOT} run --bundle ${b} ${session}; echo $? > ${codeFile}`;
    expect(spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '100', '-y', '30', 'sh', '-c', cmd]).status).toBe(0);
    const capture = () => spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout;
    try {
      await waitFor(() => /[#$]\s*$/m.test(capture()));
      spawnSync('tmux', ['send-keys', '-t', session, 'echo hi-$((6*7)); tty; stty size; ls -l /dev/console | cut -c1', 'Enter']);
      await waitFor(() => /^\d+ \d+$/m.test(capture()));
      const out = capture();
      expect(out).toContain('hi-42');
      expect(out).toMatch(/\/dev\/pts\/0/);
      expect(out).toMatch(/^30 100$/m);
      spawnSync('tmux', ['send-keys', '-t', session, 'exit 5', 'Enter']);
      await waitFor(() => existsSync(codeFile) && readFileSync(codeFile, 'utf8').trim() !== '');
      expect(readFileSync(codeFile, 'utf8').trim()).toBe('5');
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
  });
});

describe.runIf(hasTmux)('exec -t in the foreground (tmux)', () => {
  it('gives an exec\'d shell its own pty and exits with its status', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sleep', '1000'];
    });
    const id = uid('exect');
    const c = await detached('ours', ['run', '-d', '--bundle', b, id]);
    const dir = tmp('oci-rt-tty-');
    const codeFile = join(dir, 'code');
    const session = uid('exectty');
    const cmd = `${process.execPath} ${CLI} --root ${ROOT} exec -t ${id} sh; echo $? > ${codeFile}`;
    expect(spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '90', '-y', '20', 'sh', '-c', cmd]).status).toBe(0);
    const capture = () => spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout;
    try {
      await waitFor(() => /[#$]\s*$/m.test(capture()));
      spawnSync('tmux', ['send-keys', '-t', session, 'tty; stty size; echo $((3*4))', 'Enter']);
      await waitFor(() => /^12$/m.test(capture()));
      const out = capture();
      expect(out).toMatch(/^\/dev\/pts\/\d+$/m);
      expect(out).toMatch(/^20 90$/m);
      spawnSync('tmux', ['send-keys', '-t', session, 'exit 4', 'Enter']);
      await waitFor(() => existsSync(codeFile) && readFileSync(codeFile, 'utf8').trim() !== '');
      expect(readFileSync(codeFile, 'utf8').trim()).toBe('4');
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
      await ours(['delete', '-f', id]);
      await c.done;
    }
  });
});

const hasPython = spawnSync('python3', ['-c', 'import socket; socket.recv_fds']).status === 0;

describe.runIf(hasPython)('--console-socket', () => {
  // This once timed out under load: the receiver's 'exit' listener was attached only after `run -d` had
  // returned, and `run -d` returns when its stdio pipes close, which under load came after the receiver had
  // already got the pty, talked to the container and exited: the listener never fired. It is attached at spawn now.
  it('sends the pty master over the socket (SCM_RIGHTS); the container talks through it', { timeout: 60000 }, async () => {
    const b = await bundle((c) => {
      c['process'].terminal = true;
      c['process'].args = ['sh', '-c', 'read line; echo "got:$line"; tty'];
    });
    const dir = tmp('oci-rt-cs-');
    const sock = join(dir, 'console.sock');
    const script = join(dir, 'recv.py');
    writeFileSync(script, `
import socket, os, sys, time, select
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 1024, 1)
m = fds[0]
os.write(m, b"hello\\n")
out = b""
end = time.time() + 10
while time.time() < end and b"/dev/pts" not in out:
    r, _, _ = select.select([m], [], [], 1)
    if not r:
        continue
    try:
        chunk = os.read(m, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
print("name:" + msg.decode())
print(out.decode().replace("\\r", ""))
`);
    const py = spawn('python3', [script, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let pyOut = '';
    py.stdout.setEncoding('utf8').on('data', (d) => (pyOut += d));
    // 'close': the exit and all of its stdout read
    const pyDone = new Promise((res) => py.on('close', res));
    await waitFor(() => pyOut.includes('listening'));
    expect(pyOut, 'the receiver listens').toContain('listening');
    const id = uid('cs');
    const r = await ours(['run', '-d', '--console-socket', sock, '--bundle', b, id]);
    expect(r.code, r.stderr).toBe(0);
    await pyDone;
    expect(pyOut).toMatch(/name:\/dev\/pts\/\d+/);
    expect(pyOut).toContain('got:hello');
    await waitFor(() => JSON.parse(spawnSync(process.execPath, [CLI, '--root', ROOT, 'state', id], { encoding: 'utf8' }).stdout).status === 'stopped', 5000);
    expect((await ours(['delete', id])).code).toBe(0);
  });

  it('refuses a terminal for a detached container without a console socket', async () => {
    const b = await bundle((c) => {
      c['process'].terminal = true;
    });
    const id = uid('nocs');
    const r = await ours(['run', '-d', '--bundle', b, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/console socket/);
    expect(existsSync(join(ROOT, id))).toBe(false);
  });
});
