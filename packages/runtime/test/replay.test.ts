// Recordings of runs (replay.ts; CreateOptions.record): what is recorded, what is not. The native front end that
// replays them is tested through the CLI (cli-runtime/test/replay.test.ts).
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { create, remove, run } from '../src/container.js';
import { fnv1a64, plainPath, REPLAY_BUNDLE, REPLAY_DIR, REPLAY_ID, replayKeyText, stateParts } from '../src/replay.js';
import { bundle, cleanupAll, tmp, uid } from './helpers.js';

afterAll(() => cleanupAll());

const record = { stamps: [] as string[] };
const files = (root: string) => (existsSync(join(root, REPLAY_DIR)) ? readdirSync(join(root, REPLAY_DIR)) : []);

describe('recorded runs', () => {
  it('FNV-1a 64 names the file (the published test vectors), from the key text native/run.c builds too', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
    expect(replayKeyText({ command: 'run', root: '/r', bundle: '*', config: '0123456789abcdef', pidFile: '', noPivot: false, noNewKeyring: true, keep: false }))
      .toBe('run\nroot=/r\nbundle=*\nconfig=0123456789abcdef\npid-file=\nno-pivot=0\nno-new-keyring=1\nkeep=0\n');
  });

  it('a foreground run is recorded once for every id: the id appears only as the stand-in', async () => {
    const root = tmp('oci-rt-rec-');
    const b = await bundle((c) => { c['process'].args = ['true']; c['hostname'] = 'h'; });
    const a = uid('rec');
    expect(await run(a, { root, bundle: b, record })).toBe(0);
    const [name] = files(root);
    const config = fnv1a64(readFileSync(join(b, 'config.json'), 'utf8'));
    expect(files(root)).toEqual([fnv1a64(replayKeyText({ command: 'run', root, bundle: '*', config, pidFile: '', noPivot: false, noNewKeyring: false, keep: false }))]);
    const first = readFileSync(join(root, REPLAY_DIR, name!), 'utf8');
    expect(first).not.toContain(a);
    expect(first).not.toContain(b);
    expect(first).toContain(REPLAY_ID);
    expect(first).toContain(REPLAY_BUNDLE);
    expect(first).toMatch(/^input file \S+config.json /m);
    expect(first).toMatch(/^input in-root \S+ etc\/passwd /m);
    expect(await run(uid('rec'), { root, bundle: b, record })).toBe(0);
    expect(readFileSync(join(root, REPLAY_DIR, name!), 'utf8')).toBe(first);
    // another bundle with the same config.json: the same recording
    const b2 = tmp('oci-rt-rec-b-');
    copyFileSync(join(b, 'config.json'), join(b2, 'config.json'));
    expect(await run(uid('rec'), { root, bundle: b2, record })).toBe(0);
    expect(files(root)).toEqual([name]);
    expect(readFileSync(join(root, REPLAY_DIR, name!), 'utf8')).toBe(first);
  });

  it('create and a detached run are recorded under their own keys; the foreground run of the same config too', async () => {
    const root = tmp('oci-rt-rec-');
    const b = await bundle((c) => { c['process'].args = ['true']; });
    const config = fnv1a64(readFileSync(join(b, 'config.json'), 'utf8'));
    const key = (command: string) => fnv1a64(replayKeyText({ command, root, bundle: '*', config, pidFile: '', noPivot: false, noNewKeyring: false, keep: false }));
    const c = uid('c');
    const d = uid('d');
    await create(c, { root, bundle: b, record });
    expect(files(root)).toEqual([key('create')]);
    expect(await run(d, { root, bundle: b, record, detach: true })).toBe(0);
    for (const id of [c, d]) await remove(id, { root, force: true });
    expect(await run(uid('f'), { root, bundle: b, record })).toBe(0);
    expect(files(root).sort()).toEqual([key('create'), key('run -d'), key('run')].sort());
    expect(readFileSync(join(root, REPLAY_DIR, key('create')), 'utf8')).toMatch(/^plan .*fifo%20\/\S+\/oci-runtime-replay-id\.7f3a9c\/exec\.fifo/m);
  });

  it('the bundle is part of the key when it is not a plain path or config.json has ".."', async () => {
    const root = tmp('oci-rt-rec-');
    const spaced = join(tmp('oci-rt-rec-b-'), 'a bundle');
    mkdirSync(spaced);
    copyFileSync(join(await bundle((c) => { c['process'].args = ['true']; }), 'config.json'), join(spaced, 'config.json'));
    const dotted = await bundle((c) => { c['process'].args = ['true']; c['mounts'].push({ destination: '/m', type: 'bind', source: '../', options: ['rbind', 'ro'] }); });
    for (const b of [spaced, dotted]) {
      expect(await run(uid('k'), { root, bundle: b, record })).toBe(0);
      const config = fnv1a64(readFileSync(join(b, 'config.json'), 'utf8'));
      expect(files(root)).toContain(fnv1a64(replayKeyText({ command: 'run', root, bundle: b, config, pidFile: '', noPivot: false, noNewKeyring: false, keep: false })));
      const text = readFileSync(join(root, REPLAY_DIR, files(root).find((f) => f === fnv1a64(replayKeyText({ command: 'run', root, bundle: b, config, pidFile: '', noPivot: false, noNewKeyring: false, keep: false })))!), 'utf8');
      expect(text).not.toContain(REPLAY_BUNDLE + '/');
    }
    expect(plainPath('/run/containerd/io.containerd.runtime.v2.task/default/c1')).toBe(true);
    expect(plainPath('relative')).toBe(false);
    expect(plainPath('/with space')).toBe(false);
    expect(plainPath('/quote"')).toBe(false);
  });

  it('not recorded: detached, with hooks, a config that names the stand-in, no `record`, debug', async () => {
    const root = tmp('oci-rt-rec-');
    const t = (c: Record<string, any>) => { c['process'].args = ['true']; };
    expect(await run(uid('n'), { root, bundle: await bundle(t) })).toBe(0);
    expect(await run(uid('n'), { root, bundle: await bundle(t), record, onDebug: () => {} })).toBe(0);
    expect(await run(uid('n'), { root, bundle: await bundle((c) => { t(c); c['hooks'] = { poststart: [{ path: '/bin/true' }] }; }), record })).toBe(0);
    expect(await run(uid('n'), { root, bundle: await bundle((c) => { t(c); c['process'].env.push(`X=${REPLAY_ID}`); }), record })).toBe(0);
    expect(files(root)).toEqual([]);
  });

  it('state.json splits around the values only known at run time, or not at all', () => {
    const s = { id: 'a', pid: 12, pidStart: '345', bundle: '/b "q"', rootfs: '/r', created: '2026-12-07T03:00:00.123Z', cgroupPaths: { pids: '/p' }, namespaces: ['pid'], spec: { ociVersion: '1.2.0' } };
    const [head, middle, tail] = stateParts(s)!;
    expect(`${head}12,"pidStart":"345"${middle}2026-12-07T03:00:00.123Z${tail}`).toBe(JSON.stringify(s));
    expect(stateParts({ ...s, created: 'with "quote"' })).toBeUndefined();
  });
});
