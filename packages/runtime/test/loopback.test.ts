// A new network namespace gets its loopback interface UP, as runc does; a joined one is left alone.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { both, bundle, cleanupAll } from './helpers.js';

afterAll(() => cleanupAll());

const shc = (script: string) => (c: Record<string, any>) => {
  c['process'].args = ['sh', '-c', script];
};

describe('loopback in a new network namespace (runc oracle)', () => {
  it('`ip link show lo` is the same as runc: <LOOPBACK,UP,LOWER_UP>', async () => {
    const b = await bundle(shc('ip link show lo | head -1 | sed "s/^[0-9]*: //"; ip addr show lo | grep -c "inet 127.0.0.1"'));
    const r = await both(b);
    expect(r.runc.code).toBe(0);
    expect(r.ours.code).toBe(0);
    expect(r.ours.stdout).toBe(r.runc.stdout);
    expect(r.ours.stdout).toMatch(/^lo: <LOOPBACK,UP,LOWER_UP>/);
  });

  it('a TCP connection to 127.0.0.1 inside the container works (busybox nc server and client)', async () => {
    const script = [
      // the server's stdin stays open (an async list's stdin is /dev/null, and nc may stop at its EOF)
      'sleep 10 | nc -l -p 8087 > /tmp/got & srv=$!',
      'i=0; while [ $i -lt 50 ] && ! netstat -ltn 2>/dev/null | grep -q ":8087"; do sleep 0.1; i=$((i+1)); done',
      'echo hello | nc -w 2 127.0.0.1 8087; echo "rc=$?"',
      // wait for the server to see the end of the connection (a fixed sleep was flaky under load)
      'i=0; while [ $i -lt 50 ] && kill -0 $srv 2>/dev/null; do sleep 0.1; i=$((i+1)); done; cat /tmp/got',
    ].join('; ');
    const b = await bundle((c) => {
      shc(script)(c);
      c['mounts'].push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
    });
    const r = await both(b);
    expect(r.runc.stdout).toBe('rc=0\nhello\n');
    expect(r.ours.stdout).toBe(r.runc.stdout);
    expect(r.ours.code).toBe(r.runc.code);
  });

  it('a network namespace joined by path is not touched (its lo stays DOWN)', async () => {
    // a bare new network namespace held open by a sleeping process; its lo is DOWN
    const holder = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const nsPath = `/proc/${holder.pid}/ns/net`;
      const b = await bundle((c) => {
        shc('ip link show lo | head -1 | sed "s/^[0-9]*: //" | cut -d" " -f1-2')(c);
        c['linux'].namespaces = (c['linux'].namespaces as { type: string }[]).map((n) => (n.type === 'network' ? { type: 'network', path: nsPath } : n));
      });
      const r = await both(b);
      expect(r.runc.code).toBe(0);
      expect(r.ours.stdout).toBe(r.runc.stdout);
      expect(r.ours.stdout).toBe('lo: <LOOPBACK>\n');
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
  });
});
