// `state` and `list` without Node (native/oci-runtime-query, docs/cli-runtime.md "Native front ends"): the same
// bytes and exit status as Node's commands (OCI_RUNTIME_NATIVE=0) for containers in every status, with
// annotations, owners and formats; what it does not do goes to Node. OCI_RUNTIME_NATIVE=require makes a hand-over
// an error (exit 125), so equal outputs with it prove the front end printed them.
import { spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, busyboxRootfs, bundle as makeBundle, capture, removeTmp, tmp } from './helpers.js';
import type { R } from './helpers.js';

const exec = (args: string[], env: Record<string, string>) => capture(CLI, ['--root', ROOT, ...args], { env });
const native = (args: string[]) => exec(args, { OCI_RUNTIME_NATIVE: 'require' });
const node = (args: string[]) => exec(args, { OCI_RUNTIME_NATIVE: '0' });
/** the commands whose outputs must be the same either way */
const queries = [['list'], ['list', '-q'], ['list', '--quiet'], ['list', '-f', 'json'], ['list', '--format=json'], ['list', '-f=table']];

let ROOT = '';
let rootfs = '';
const started: string[] = [];

const bundle = (args: string[], edit: (c: Record<string, any>) => void = () => {}) => makeBundle(rootfs, args, edit);

/** CLI args, with stdio away from our pipes (a created or detached container keeps what it was given) */
function quiet(args: string[]): number | null {
  return spawnSync(CLI, ['--root', ROOT, ...args], { stdio: 'ignore', env: { ...process.env, OCI_RUNTIME_NATIVE: '0' } }).status;
}

async function same(args: string[]): Promise<R> {
  const n = await native(args);
  const o = await node(args);
  expect(n).toEqual(o);
  return n;
}

beforeAll(() => {
  ROOT = tmp('oci-query-root-');
  rootfs = busyboxRootfs();
});
afterAll(() => {
  for (const id of started) quiet(['delete', '-f', id]);
  removeTmp();
});

describe('oci-runtime state and list without Node', () => {
  it('an empty or missing root: the same header, null, nothing', async () => {
    for (const q of queries) expect((await same(q)).code).toBe(0);
    const missing = ROOT;
    ROOT = join(missing, 'not-there');
    expect((await same(['list'])).stdout).toMatch(/^ID\s+PID\s+STATUS/);
    ROOT = missing;
  });

  it('every status, byte for byte: created, running, paused, stopped, creating, and a creation given up', async () => {
    const sleeper = bundle(['sleep', '1000'], (c) => {
      c.annotations = { 'org.example/plain': 'v', 'quote"and\\back': 'line\nbreak\ttab', 'ünï': 'cödé ✓', empty: '' };
    });
    expect(quiet(['create', '--bundle', sleeper, 'q-created'])).toBe(0);
    expect(quiet(['run', '-d', '--bundle', sleeper, 'q-running'])).toBe(0);
    expect(quiet(['run', '-d', '--bundle', sleeper, 'q-paused'])).toBe(0);
    expect(quiet(['pause', 'q-paused'])).toBe(0);
    expect(quiet(['run', '-d', '--keep', '--bundle', sleeper, 'q-stopped'])).toBe(0);
    expect(quiet(['kill', 'q-stopped', 'KILL'])).toBe(0);
    started.push('q-created', 'q-running', 'q-paused', 'q-stopped');
    for (let i = 0; i < 200 && JSON.parse((await node(['state', 'q-stopped'])).stdout).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    // a creation in progress (no pid yet), and one whose runtime died over a minute ago
    const b = bundle(['true']);
    for (const [id, age] of [['q-creating', 0], ['q-abandoned', 120]] as const) {
      mkdirSync(join(ROOT, id));
      const s = JSON.parse(readFileSync(join(ROOT, 'q-running', 'state.json'), 'utf8'));
      writeFileSync(join(ROOT, id, 'state.json'), JSON.stringify({ ...s, id, pid: 0, pidStart: '', bundle: b, cgroupPaths: {} }));
      if (age) utimesSync(join(ROOT, id, 'state.json'), new Date(Date.now() - age * 1000), new Date(Date.now() - age * 1000));
    }
    const statuses: Record<string, string> = {};
    for (const id of ['q-created', 'q-running', 'q-paused', 'q-stopped', 'q-creating', 'q-abandoned']) {
      const r = await same(['state', id]);
      expect(r.code).toBe(0);
      statuses[id] = JSON.parse(r.stdout).status;
    }
    expect(statuses).toEqual({ 'q-created': 'created', 'q-running': 'running', 'q-paused': 'paused', 'q-stopped': 'stopped', 'q-creating': 'creating', 'q-abandoned': 'stopped' });
    expect(JSON.parse((await native(['state', 'q-running'])).stdout).annotations['quote"and\\back']).toBe('line\nbreak\ttab');
    for (const q of queries) expect((await same(q)).code).toBe(0);
    expect((await native(['list', '-q'])).stdout.split('\n').filter(Boolean)).toHaveLength(6);
    expect(quiet(['resume', 'q-paused'])).toBe(0);
    expect(JSON.parse((await same(['state', 'q-paused'])).stdout).status).toBe('running');
    for (const id of ['q-creating', 'q-abandoned']) rmSync(join(ROOT, id), { recursive: true });
  });

  it('owners from /etc/passwd, or #UID', async () => {
    const b = bundle(['true']);
    expect(quiet(['run', '--keep', '--bundle', b, 'q-owned'])).toBe(0);
    expect(quiet(['run', '--keep', '--bundle', b, 'q-nobody'])).toBe(0);
    started.push('q-owned', 'q-nobody');
    chownSync(join(ROOT, 'q-owned'), 65534, 65534);
    chownSync(join(ROOT, 'q-nobody'), 54321, 54321);
    const l = await same(['list']);
    expect(l.stdout).toMatch(/q-owned .* nobody\n/);
    expect(l.stdout).toMatch(/q-nobody .* #54321\n/);
    await same(['list', '-f', 'json']);
    chownSync(join(ROOT, 'q-owned'), 0, 0);
    chownSync(join(ROOT, 'q-nobody'), 0, 0);
  });

  it('what it does not do goes to Node: errors, usage, help, other formats, non-ASCII cells', async () => {
    for (const args of [['state', 'no-such'], ['state', 'bad/id'], ['state'], ['list', '-f', 'yaml'], ['state', '--x', 'q'], ['--debug', 'list']]) {
      const n = await native(args);
      expect(n.code).toBe(125);
      // (errors carry their time)
      const untimed = (r: R) => ({ ...r, stderr: r.stderr.replace(/time="[^"]*"/g, 'time=T') });
      const viaNode = untimed(await exec(args, {}));
      expect(viaNode).toEqual(untimed(await node(args)));
      expect(viaNode.code).toBe(args[0] === '--debug' ? 0 : 1);
    }
    const help = await exec(['state', '--help'], {});
    expect(help).toEqual(await node(['state', '--help']));
    expect(help.stdout).toMatch(/oci-runtime state/);
    const wide = tmp('oci-query-bündle-');
    copyFileSync(join(bundle(['true']), 'config.json'), join(wide, 'config.json'));
    expect(quiet(['run', '--keep', '--bundle', wide, 'q-wide'])).toBe(0);
    started.push('q-wide');
    expect((await native(['list'])).code).toBe(125);
    expect(await exec(['list'], {})).toEqual(await node(['list']));
    // but its state and JSON are plain bytes: native
    await same(['state', 'q-wide']);
    await same(['list', '-f', 'json']);
  });
});

describe('oci-runtime start, kill, delete, pause and resume without Node', () => {
  const gone = (id: string) => !existsSync(join(ROOT, id)) && !existsSync(`/sys/fs/cgroup/pids/oci-runtime/${id}`) && !existsSync(`/sys/fs/cgroup/freezer/oci-runtime/${id}`);
  const status = async (id: string) => JSON.parse((await node(['state', id])).stdout).status as string;
  const untimed = (r: R) => ({ ...r, stderr: r.stderr.replace(/time="[^"]*"/g, 'time=T') });
  /** refused natively (exit 125), and by default Node's own answer */
  async function handed(args: string[]): Promise<R> {
    expect((await native(args)).code).toBe(125);
    const r = untimed(await exec(args, {}));
    expect(r).toEqual(untimed(await node(args)));
    return r;
  }

  it('start lets a created container run; kill signals it; delete removes it, its cgroups and its state', async () => {
    const b = bundle(['sh', '-c', 'trap "exit 7" USR1; while :; do sleep 0.05; done']);
    expect(quiet(['create', '--bundle', b, 'k-1'])).toBe(0);
    started.push('k-1');
    expect(await status('k-1')).toBe('created');
    // a created container can be killed (as with runc): its waiting init is
    expect(await native(['kill', 'k-1', 'KILL'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await status('k-1')).toBe('stopped');
    expect(await native(['delete', 'k-1'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(gone('k-1')).toBe(true);

    expect(quiet(['create', '--bundle', b, 'k-2'])).toBe(0);
    started.push('k-2');
    expect(await native(['start', 'k-2'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(join(ROOT, 'k-2', 'exec.fifo'))).toBe(false);
    expect(await status('k-2')).toBe('running');
    const again = await handed(['start', 'k-2']);
    expect(again.stderr).toMatch(/cannot start an already running container/);
    // a running container: delete without -f is refused (Node's words), kill names and numbers are taken
    expect((await handed(['delete', 'k-2'])).stderr).toMatch(/not stopped: running/);
    for (const sig of ['CONT', 'sigcont', 'SIGCONT', '18']) expect(await native(['kill', 'k-2', sig])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await handed(['kill', 'k-2', 'NOPE'])).stderr).toMatch(/unknown signal/);
    expect(await native(['kill', 'k-2', 'USR1'])).toEqual({ code: 0, stdout: '', stderr: '' });
    for (let i = 0; i < 200 && (await status('k-2')) !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await status('k-2')).toBe('stopped');
    expect((await handed(['kill', 'k-2'])).stderr).toMatch(/container not running/);
    expect((await native(['delete', 'k-2'])).code).toBe(0);
    expect(gone('k-2')).toBe(true);
  });

  it('pause and resume; delete -f of a running and of a paused container; kill --all; a created container deleted', async () => {
    const b = bundle(['sh', '-c', 'sleep 1000 & sleep 1000']);
    for (const id of ['f-run', 'f-paused', 'f-all']) {
      expect(quiet(['run', '-d', '--bundle', b, id])).toBe(0);
      started.push(id);
    }
    // pause and resume: the same transitions as Node's, and Node's words for what they refuse
    expect(await native(['pause', 'f-paused'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await status('f-paused')).toBe('paused');
    expect((await handed(['pause', 'f-paused'])).stderr).toMatch(/container not running or created/);
    expect(await native(['resume', 'f-paused'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await status('f-paused')).toBe('running');
    expect((await handed(['resume', 'f-paused'])).stderr).toMatch(/container not paused/);
    expect(await native(['pause', 'f-paused'])).toEqual({ code: 0, stdout: '', stderr: '' });
    for (const id of ['f-run', 'f-paused']) {
      const pids = readFileSync(`/sys/fs/cgroup/pids/oci-runtime/${id}/cgroup.procs`, 'utf8').split('\n').filter(Boolean);
      expect(pids.length).toBeGreaterThanOrEqual(2);
      expect(await native(['delete', '-f', id])).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(gone(id)).toBe(true);
      for (const p of pids) expect(existsSync(`/proc/${p}`) && !/\) Z/.test(readFileSync(`/proc/${p}/stat`, 'utf8'))).toBe(false);
    }
    expect(await native(['kill', '--all', 'f-all', 'KILL'])).toEqual({ code: 0, stdout: '', stderr: '' });
    for (let i = 0; i < 200 && (await status('f-all')) !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await native(['delete', 'f-all'])).code).toBe(0);
    expect(gone('f-all')).toBe(true);
    expect(quiet(['create', '--bundle', b, 'f-created'])).toBe(0);
    started.push('f-created');
    expect((await native(['delete', 'f-created'])).code).toBe(0);
    expect(gone('f-created')).toBe(true);
  });

  it('hooks, several ids, a missing container and RTMIN signals are Node\'s', async () => {
    const log = join(tmp('oci-query-hook-'), 'log');
    const b = bundle(['true'], (c) => { c.hooks = { poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${log}`] }], poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststart >> ${log}`] }] }; });
    expect(quiet(['create', '--bundle', b, 'h-1'])).toBe(0);
    started.push('h-1');
    expect((await native(['start', 'h-1'])).code).toBe(125);
    expect((await exec(['start', 'h-1'], {})).code).toBe(0);
    for (let i = 0; i < 200 && (await status('h-1')) !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await native(['delete', 'h-1'])).code).toBe(125);
    expect((await exec(['delete', 'h-1'], {})).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('poststart\npoststop\n');
    await handed(['delete', 'no-such']);
    expect((await native(['delete', '-f', 'no-such'])).code).toBe(125);
    expect((await exec(['delete', '-f', 'no-such'], {})).code).toBe(0);
    const t = bundle(['true']);
    for (const id of ['m-1', 'm-2']) { expect(quiet(['create', '--bundle', t, id])).toBe(0); started.push(id); }
    expect((await native(['delete', 'm-1', 'm-2'])).code).toBe(125);
    expect((await exec(['delete', 'm-1', 'm-2'], {})).code).toBe(0);
    expect(gone('m-1') && gone('m-2')).toBe(true);
    const s = bundle(['sleep', '1000']);
    expect(quiet(['run', '-d', '--bundle', s, 'rt-1'])).toBe(0);
    started.push('rt-1');
    expect((await native(['kill', 'rt-1', 'RTMIN+1'])).code).toBe(125);
    expect((await exec(['kill', 'rt-1', 'KILL'], {})).code).toBe(0);
  });
});
