// Lifecycle through the CLI, side by side with runc: detached containers, create/start, exec, kill, delete.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, bundle, cleanupAll, detached, ours, runc, tmp, uid } from './helpers.js';

afterAll(() => cleanupAll());

const sleeper = (c: Record<string, any>) => {
  c['process'].args = ['sleep', '1000'];
};

describe('detached container lifecycle (seeds scenario)', () => {
  it('run -d, list, state, ps, exec, kill, delete — same shapes as runc', async () => {
    const b = await bundle(sleeper);
    const id = uid('life');
    const rid = uid('rlife');
    const o = await detached('ours', ['run', '-d', '--bundle', b, id]);
    const r = await detached('runc', ['run', '-d', '--bundle', b, rid]);

    const list = await ours(['list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+${o.pid}\\s+running\\s+${b}\\s+\\S+\\s+root$`, 'm'));

    const st = JSON.parse((await ours(['state', id])).stdout);
    const rst = JSON.parse((await runc(['state', rid])).stdout);
    expect(Object.keys(st)).toEqual(Object.keys(rst));
    expect(st).toMatchObject({ id, pid: o.pid, status: 'running', bundle: b, ociVersion: rst.ociVersion, rootfs: rst.rootfs });

    const ps = JSON.parse((await ours(['ps', '-f', 'json', id])).stdout);
    expect(ps).toEqual([o.pid]);
    const pst = await ours(['ps', id]);
    expect(pst.stdout.split('\n')[0]).toMatch(/PID/);
    expect(pst.stdout).toMatch(/sleep 1000/);

    const ex = await ours(['exec', id, 'sh', '-c', 'echo from exec; hostname; cat /proc/1/cmdline | tr "\\0" " "']);
    const rex = await runc(['exec', rid, 'sh', '-c', 'echo from exec; hostname; cat /proc/1/cmdline | tr "\\0" " "']);
    expect(ex.stdout).toBe(rex.stdout);
    expect(ex.code).toBe(0);
    const ex7 = await ours(['exec', id, 'sh', '-c', 'exit 7']);
    expect(ex7.code).toBe(7);
    const exenv = await ours(['exec', '-e', 'A=1', '--cwd', '/tmp', '-u', '1000:1000', id, 'sh', '-c', 'echo $A; pwd; id']);
    const rexenv = await runc(['exec', '-e', 'A=1', '--cwd', '/tmp', '-u', '1000:1000', rid, 'sh', '-c', 'echo $A; pwd; id']);
    expect(exenv.stdout).toBe(rexenv.stdout);
    const missing = await ours(['exec', id, 'nosuchcmd']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/executable file not found/);

    // running: delete without -f refuses
    const del = await ours(['delete', id]);
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(/not stopped: running/);

    expect((await ours(['kill', id, 'KILL'])).code).toBe(0);
    expect((await runc(['kill', rid, 'KILL'])).code).toBe(0);
    for (let i = 0; i < 100; i++) {
      if (JSON.parse((await ours(['state', id])).stdout).status === 'stopped') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(JSON.parse((await ours(['state', id])).stdout)).toMatchObject({ status: 'stopped', pid: 0 });
    const k2 = await ours(['kill', id, 'TERM']);
    expect(k2.code).toBe(1);
    expect(k2.stderr).toMatch(/container not running/);
    expect((await ours(['delete', id])).code).toBe(0);
    expect((await runc(['delete', rid])).code).toBe(0);
    expect(existsSync(join(ROOT, id))).toBe(false);
    const gone = await ours(['state', id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/container does not exist/);
    await o.done;
    await r.done;
  });

  it('create waits before the user process until start; hooks see the state', async () => {
    const out = tmp('oci-rt-hooks-');
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}/${name}.json; echo "$X" > ${out}/${name}.env`], env: ['X=' + name] });
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', `echo started > /tmp/started; sleep 1000`];
      c['root'].readonly = false;
      c['mounts'].push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
      c['hooks'] = {
        prestart: [hook('prestart')],
        createRuntime: [hook('createRuntime')],
        createContainer: [hook('createContainer')],
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo sc > /tmp/startContainer'] }],
        poststart: [hook('poststart')],
        poststop: [hook('poststop')],
      };
      c['annotations'] = { 'org.example/key': 'value' };
    });
    const id = uid('cs');
    const c = await detached('ours', ['create', '--bundle', b, id]);
    const st = JSON.parse((await ours(['state', id])).stdout);
    expect(st.status).toBe('created');
    expect(st.annotations).toEqual({ 'org.example/key': 'value' });
    expect(st.pid).toBe(c.pid);
    // not started: the user process has not run
    const ex = await ours(['exec', id, 'cat', '/tmp/started']);
    expect(ex.code).not.toBe(0);
    for (const h of ['prestart', 'createRuntime', 'createContainer']) {
      const s = JSON.parse(readFileSync(join(out, `${h}.json`), 'utf8'));
      expect(s, h + JSON.stringify(s)).toMatchObject({ id, pid: c.pid, bundle: b, annotations: { 'org.example/key': 'value' } });
      expect(readFileSync(join(out, `${h}.env`), 'utf8')).toBe(h + '\n');
    }
    expect(existsSync(join(out, 'poststart.json'))).toBe(false);
    expect((await ours(['start', id])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'poststart.json'), 'utf8'))).toMatchObject({ id, status: 'running' });
    let started = '';
    for (let i = 0; i < 100 && !started.includes('started'); i++) {
      started = (await ours(['exec', id, 'cat', '/tmp/started', '/tmp/startContainer'])).stdout;
      if (!started) await new Promise((r) => setTimeout(r, 20));
    }
    expect(started).toBe('started\nsc\n');
    expect(JSON.parse((await ours(['state', id])).stdout).status).toBe('running');
    const again = await ours(['start', id]);
    expect(again.code).toBe(1);
    expect((await ours(['delete', '-f', id])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'poststop.json'), 'utf8'))).toMatchObject({ id, status: 'stopped' });
    await c.done;
  });

  it('a failing prestart hook aborts create and leaves nothing behind', async () => {
    const b = await bundle((c) => {
      c['hooks'] = { prestart: [{ path: '/bin/false' }] };
    });
    const id = uid('hookfail');
    const r = await ours(['create', '--bundle', b, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/prestart hook \/bin\/false failed/);
    expect(existsSync(join(ROOT, id))).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/pids/oci-runtime/${id}`)).toBe(false);
  });

  it('a hook that outlives its timeout fails create', async () => {
    const b = await bundle((c) => {
      c['hooks'] = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] };
    });
    const id = uid('hooktime');
    const r = await ours(['create', '--bundle', b, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/timed out/);
    expect(existsSync(join(ROOT, id))).toBe(false);
  });

  it('refuses a bad config.json before anything is created (ERR_INVALID_CONFIG)', async () => {
    const bads: [string, (c: any) => void][] = [
      ['ociVersion 2.0.0', (c) => { c.ociVersion = '2.0.0'; }],
      ['no args', (c) => { c.process.args = []; }],
      ['relative cwd', (c) => { c.process.cwd = 'tmp'; }],
      ['bad namespace', (c) => { c.linux.namespaces.push({ type: 'bogus' }); }],
      ['bad rlimit', (c) => { c.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]; }],
      ['no root', (c) => { delete c.root; }],
    ];
    for (const [what, edit] of bads) {
      const b = await bundle(edit);
      const id = uid('bad');
      const r = await ours(['run', '--bundle', b, id]);
      expect(r.code, what).toBe(1);
      expect(r.stderr, what).toMatch(/invalid config.json/);
      expect(existsSync(join(ROOT, id)), what).toBe(false);
    }
    const b = await bundle();
    writeFileSync(join(b, 'config.json'), '{ not json');
    const { run, RuntimeError } = await import('@oci/runtime');
    await expect(run(uid('bad'), { bundle: b, root: ROOT })).rejects.toSatisfy((e: unknown) => RuntimeError.is(e, 'ERR_INVALID_CONFIG'));
    expect(readdirSync(ROOT).filter((n) => n.startsWith('bad-'))).toEqual([]);
  });

  it('rejects a duplicate id and an invalid id', async () => {
    const b = await bundle(sleeper);
    const id = uid('dup');
    const c = await detached('ours', ['run', '-d', '--bundle', b, id]);
    const r = await ours(['run', '-d', '--bundle', b, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/container with id exists/);
    const bad = await ours(['state', '../etc']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid container id/);
    await ours(['delete', '-f', id]);
    await c.done;
  });
});
