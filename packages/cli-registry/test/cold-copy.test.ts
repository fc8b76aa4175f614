// Replayed cold copies (src/recopy.ts writeColdRecording, native/recopy.c cold_copy): a copy that makes a new
// layout leaves a recording in the user's cache, and the next copy of the same command line into another new
// directory is made by the native front end. Every case runs the real launcher against the real registry (or a
// fault proxy in front of it); OCI_REGISTRY_NATIVE=require makes a hand-over exit 125 with its reason, which proves
// which path answered; =0 is Node's own path, the oracle for what the front end must make.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture } from '@oci/fixtures';
import { run, runOk, startFaultProxy, startRegistry, tmpDir, type RegistryHandle, type RunResult, type TmpDir } from '@oci/testkit';
import { coldRecordingDir, RECOPY_DIR, recopyCommand, recordingName, rulesForHost } from '../src/recopy.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const LAUNCHER = join(pkg, 'bin', 'oci-registry');

/** Every entry of a layout, our private directory included: path -> "mode size sha256" (directories: "mode dir"). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[relative(dir, p)] = `${mode} dir`;
        walk(p);
      } else {
        out[relative(dir, p)] = `${mode} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      }
    }
  };
  walk(dir);
  return out;
}

const blobNames = (dir: string): string[] => readdirSync(join(dir, 'blobs', 'sha256')).sort();

describe('oci-registry copy: replayed cold copies', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  let home: string;
  let busyboxDigest: string;
  let helloDigest: string;
  let n = 0;

  beforeAll(async () => {
    [reg, tmp] = await Promise.all([startRegistry({ mode: 'plain' }), tmpDir('cli-reg-cold-')]);
    const [hello, busybox] = await Promise.all([buildFixture('hello'), buildFixture('busybox')]);
    helloDigest = hello.manifestDigest;
    busyboxDigest = busybox.manifestDigest;
    await Promise.all([
      pushFixture('busybox', reg, 'fx/busybox', { format: 'oci' }),
      pushFixture('hello', reg, 'fx/hello', { format: 'oci' }),
      pushFixture('hello', reg, 'fx/index', { format: 'index' }),
      pushFixture('hello', reg, 'fx/moving', { format: 'oci' }),
      pushFixture('busybox', reg, 'fx/docker', { format: 'v2s2' }),
    ]);
    home = join(tmp.path, 'home');
    mkdirSync(home);
  }, 300_000);
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  const dest = (): string => join(tmp.path, `layout-${++n}`);
  const cache = (): string => join(home, '.cache', 'oci-registry', 'copies');
  const env = (native?: string, more: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({
    HOME: home, XDG_CACHE_HOME: undefined, XDG_CONFIG_HOME: undefined, XDG_RUNTIME_DIR: undefined, REGISTRY_AUTH_FILE: undefined,
    DOCKER_CONFIG: undefined, CONTAINERS_REGISTRIES_CONF: undefined, OCI_REGISTRY_NATIVE: native, ...more,
  });
  const argsFor = (source: string, dir: string, opts: string[] = ['-q', '--src-tls-verify=false', '--src-no-creds']): string[] =>
    ['copy', ...opts, source, `oci:${dir}:latest`];

  /** The launcher's copy of `repo` from the registry into `dir`; native: 'require', '0' (off) or default. */
  function copy(repo: string, dir: string, opts: { native?: string; args?: string[]; host?: string } = {}): Promise<RunResult> {
    return run(LAUNCHER, argsFor(`docker://${opts.host ?? reg.host}/${repo}:latest`, dir, opts.args), { env: env(opts.native) });
  }

  const coldFile = (repo: string, opts: { args?: string[]; host?: string } = {}): string =>
    join(cache(), recordingName(recopyCommand(argsFor(`docker://${opts.host ?? reg.host}/${repo}:latest`, '/x', opts.args))!.key));

  /** A cold copy by Node, which leaves the cold recording; returns the layout it made. */
  async function recorded(repo: string, opts: { args?: string[]; host?: string } = {}): Promise<string> {
    const dir = dest();
    expect(await copy(repo, dir, { ...opts, native: '0' })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(coldFile(repo, opts))).toBe(true);
    return dir;
  }

  it('Node leaves the recording; the next copy into a new directory makes the same layout without Node', async () => {
    const nodeMade = await recorded('fx/busybox');
    expect(lstatSync(cache()).mode & 0o777).toBe(0o700);
    expect(lstatSync(coldFile('fx/busybox')).mode & 0o777).toBe(0o600);
    const dir = dest();
    const native = await copy('fx/busybox', dir, { native: 'require' });
    expect(native).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // file for file: the same names, modes and bytes, our private directory (the re-copy recording) included
    expect(tree(dir)).toEqual(tree(nodeMade));
    // skopeo reads it, and makes the same blobs from the same source (the oracle)
    const inspect = JSON.parse((await runOk('skopeo', ['inspect', `oci:${dir}:latest`])).stdout) as { Digest: string };
    expect(inspect.Digest).toBe(busyboxDigest);
    const peer = dest();
    await runOk('skopeo', ['copy', '-q', '--src-tls-verify=false', '--src-no-creds', `docker://${reg.host}/fx/busybox:latest`, `oci:${peer}:latest`]);
    expect(blobNames(dir)).toEqual(blobNames(peer));
    for (const b of blobNames(peer)) expect(readFileSync(join(dir, 'blobs', 'sha256', b)).equals(readFileSync(join(peer, 'blobs', 'sha256', b)))).toBe(true);
    // the layout it made holds the re-copy recording: the next copy into it is replayed too
    expect(await copy('fx/busybox', dir, { native: 'require' })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // and Node's own copy into a new directory still makes the same
    const again = dest();
    expect(await copy('fx/busybox', again, { native: '0' })).toMatchObject({ code: 0, stderr: '' });
    expect(tree(again)).toEqual(tree(dir));
  }, 120_000);

  it('without -q and without a terminal nothing is printed, by either path', async () => {
    const args = ['--src-tls-verify=false', '--src-no-creds'];
    await recorded('fx/hello', { args });
    const dir = dest();
    expect(await copy('fx/hello', dir, { native: 'require', args })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).manifests[0].digest).toBe(helloDigest);
  }, 60_000);

  it('a moved tag: made from the recording for any image of the registry, else handed to Node before anything is made', async () => {
    await recorded('fx/moving');
    await pushFixture('busybox', reg, 'fx/moving', { format: 'oci' });
    const any = join(cache(), recordingName(recopyCommand(argsFor(`docker://${reg.host}/*`, '/x'))!.key));
    const anyText = readFileSync(any);
    try {
      // the recording of the command names the old manifest; the one for any image reads the new one
      const made = dest();
      expect(await copy('fx/moving', made, { native: 'require' })).toMatchObject({ code: 0, stdout: '', stderr: '' });
      expect(JSON.parse(readFileSync(join(made, 'index.json'), 'utf8')).manifests[0].digest).toBe(busyboxDigest);
      // without that one: handed over, nothing made; Node copies the new image and records it
      rmSync(any);
      const dir = dest();
      const r = await copy('fx/moving', dir, { native: 'require' });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/another manifest|other headers/);
      expect(existsSync(dir)).toBe(false);
      expect(await copy('fx/moving', dir)).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).manifests[0].digest).toBe(busyboxDigest);
      expect(tree(made)).toEqual(tree(dir));
      const next = dest();
      expect(await copy('fx/moving', next, { native: 'require' })).toMatchObject({ code: 0, stderr: '' });
      expect(tree(next)).toEqual(tree(dir));
    } finally {
      writeFileSync(any, anyText, { mode: 0o600 });
      await pushFixture('hello', reg, 'fx/moving', { format: 'oci' });
    }
  }, 120_000);

  it('a blob damaged or cut off on the way: nothing wrong is stored; Node reports it, or resumes from what was stored', async () => {
    const proxy = await startFaultProxy(`http://${reg.host}`);
    try {
      const oracle = await recorded('fx/busybox', { host: proxy.host });
      // every blob damaged: the front end stores none, removes the directory it made and hands over
      proxy.setFaults([{ kind: 'flip-byte', offset: 100, path: /\/blobs\//, method: 'GET' }]);
      const damaged = dest();
      const r = await copy('fx/busybox', damaged, { host: proxy.host, native: 'require' });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/digest mismatch/);
      expect(existsSync(damaged)).toBe(false);
      // handed to Node: Node's error, and Node's clean-up (a new layout without blobs is removed)
      const node = await copy('fx/busybox', damaged, { host: proxy.host, args: ['-q', '--src-tls-verify=false', '--src-no-creds', '--retry-times=0'] });
      expect(node.code).toBe(1);
      expect(node.stderr).toMatch(/ERR_DIGEST_MISMATCH|digest/i);
      // a layer cut off once: the front end stores the other blobs and hands over; Node fetches the missing one
      proxy.setFaults([{ kind: 'cut', afterBytes: 100, path: /\/blobs\//, method: 'GET', times: 1 }]);
      const cut = dest();
      const required = await copy('fx/busybox', cut, { host: proxy.host, native: 'require' });
      expect(required.code).toBe(125);
      expect(required.stderr).toMatch(/cut off|answered|cannot connect/);
      proxy.setFaults([]);
      if (existsSync(cut)) {
        // what is there is a layout Node can resume from: oci-layout, the empty index, complete blobs only
        expect(JSON.parse(readFileSync(join(cut, 'index.json'), 'utf8')).manifests).toEqual([]);
        expect(readdirSync(join(cut, '.oci-ts', 'ingest'))).toEqual([]);
        expect(existsSync(join(cut, '.oci-ts', 'index.lock'))).toBe(false);
      }
      expect(await copy('fx/busybox', cut, { host: proxy.host })).toMatchObject({ code: 0, stderr: '' });
      const inspect = JSON.parse((await runOk('skopeo', ['inspect', `oci:${cut}:latest`])).stdout) as { Digest: string };
      expect(inspect.Digest).toBe(busyboxDigest);
      expect(blobNames(cut)).toEqual(blobNames(oracle));
      // a cut with the front end in its default mode: handed over, and Node finishes the same command
      proxy.setFaults([{ kind: 'cut', afterBytes: 100, path: /\/blobs\//, method: 'GET', times: 1 }]);
      const resumed = dest();
      expect(await copy('fx/busybox', resumed, { host: proxy.host })).toMatchObject({ code: 0, stderr: '' });
      expect(blobNames(resumed)).toEqual(blobNames(oracle));
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('interrupted (SIGINT, SIGTERM): stops as Node stops, "interrupted" and status 130, a new layout without blobs removed', async () => {
    const proxy = await startFaultProxy(`http://${reg.host}`);
    try {
      await recorded('fx/hello', { host: proxy.host });
      proxy.setFaults([{ kind: 'delay', ms: 5000, path: /\/blobs\//, method: 'GET' }]);
      const seen: Record<string, { code: number | null; stderr: string }> = {};
      for (const [native, signal] of [['0', 'SIGINT'], ['require', 'SIGINT'], ['0', 'SIGTERM'], ['require', 'SIGTERM']] as const) {
        const dir = dest();
        const vars = Object.fromEntries(Object.entries({ ...process.env, ...env(native) }).filter(([, v]) => v !== undefined));
        const child = spawn(LAUNCHER, argsFor(`docker://${proxy.host}/fx/hello:latest`, dir), { env: vars, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        // the blobs are asked for once the layout is made: wait for it, then a little
        for (let i = 0; i < 100 && !existsSync(join(dir, 'oci-layout')); i++) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 300));
        child.kill(signal);
        seen[`${native} ${signal}`] = { code: await closed, stderr };
        expect(existsSync(dir)).toBe(false);
      }
      // Node's words and status (the oracle), from the front end too
      expect(seen['0 SIGINT']).toMatchObject({ code: 130, stderr: expect.stringMatching(/^oci-registry: ERR_INTERRUPTED: interrupted\n/) });
      for (const k of Object.keys(seen)) expect({ k, ...seen[k] }).toEqual({ k, ...seen['0 SIGINT'] });
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('a registry that is gone: handed over before anything is made, and Node says so', async () => {
    const other = await startRegistry({ mode: 'plain' });
    let host: string;
    try {
      await pushFixture('hello', other, 'fx/hello', { format: 'oci' });
      host = other.host;
      await recorded('fx/hello', { host });
    } finally {
      await other.stop();
    }
    const dir = dest();
    const r = await copy('fx/hello', dir, { host: host!, native: 'require' });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/had no answer/);
    expect(existsSync(dir)).toBe(false);
    const node = await copy('fx/hello', dir, { host: host!, args: ['-q', '--src-tls-verify=false', '--src-no-creds', '--retry-times=0'] });
    expect(node.code).toBe(1);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);

  it('only into a directory that does not exist, under one that does', async () => {
    await recorded('fx/hello');
    // an existing empty directory: the launcher does not ask the front end (Node copies)
    const empty = dest();
    mkdirSync(empty);
    expect(await copy('fx/hello', empty, { native: 'require' })).toMatchObject({ code: 0, stderr: '' });
    // a missing parent: Node makes it, the front end does not
    const deep = join(dest(), 'a', 'b');
    const r = await copy('fx/hello', deep, { native: 'require' });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/cannot make/);
    expect(await copy('fx/hello', deep)).toMatchObject({ code: 0, stderr: '' });
    // a dangling symbolic link where the layout would go: not made through it
    const link = dest();
    symlinkSync(join(tmp.path, 'nowhere'), link);
    expect((await copy('fx/hello', link, { native: 'require' })).stderr).not.toMatch(/not done natively/);
  }, 60_000);

  it('an index: the chosen image, or all of them with --all, made without Node', async () => {
    for (const args of [['-q', '--src-tls-verify=false'], ['-q', '--all', '--src-tls-verify=false']]) {
      const nodeMade = await recorded('fx/index', { args });
      const dir = dest();
      expect(await copy('fx/index', dir, { native: 'require', args })).toMatchObject({ code: 0, stdout: '', stderr: '' });
      expect(tree(dir)).toEqual(tree(nodeMade));
    }
  }, 120_000);

  it('no cold recording where the layout is not made of what the registry sent, or was not new', async () => {
    // a Docker image converted to OCI: the manifest written is not the one received
    const converted = dest();
    expect(await copy('fx/docker', converted, { native: '0' })).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(coldFile('fx/docker'))).toBe(false);
    expect(readdirSync(join(converted, RECOPY_DIR))).toHaveLength(1);
    // into a layout that existed: a re-copy recording only
    const existing = dest();
    mkdirSync(existing);
    expect(await copy('fx/hello', existing, { native: '0', args: ['-q', '--src-tls-verify=false', '--jobs=2'] })).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(coldFile('fx/hello', { args: ['-q', '--src-tls-verify=false', '--jobs=2'] }))).toBe(false);
  }, 60_000);

  it('hostile recordings are refused: mode, owner, directory, symbolic links, damage, unknown lines', async () => {
    const args = ['-q', '--src-tls-verify=false', '--jobs', '3'];
    await recorded('fx/hello', { args });
    const file = coldFile('fx/hello', { args });
    const good = readFileSync(file, 'utf8');
    // with the recording for any image of the registry there, a recording of the command that does not hold is
    // passed over for it: the copy is still made without Node
    const any = join(cache(), recordingName(recopyCommand(argsFor(`docker://${reg.host}/*`, '/x', args))!.key));
    const anyText = readFileSync(any);
    writeFileSync(file, good.replace('oci-registry-cold 1', 'oci-registry-cold 2'), { mode: 0o600 });
    const passed = dest();
    expect(await copy('fx/hello', passed, { native: 'require', args })).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(readFileSync(join(passed, 'index.json'), 'utf8')).manifests[0].digest).toBe(helloDigest);
    // without it, each refusal hands the copy to Node
    rmSync(any);
    const attempt = async (why: RegExp, made = false): Promise<void> => {
      const dir = dest();
      const r = await copy('fx/hello', dir, { native: 'require', args });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(why);
      // refused before anything is made; a blob refused later leaves what Node would leave (the blobs stored)
      if (!made) expect(existsSync(dir)).toBe(false);
      else if (existsSync(dir)) expect(readdirSync(join(dir, '.oci-ts', 'ingest'))).toEqual([]);
    };
    const damage = async (text: string, why: RegExp, made = false): Promise<void> => {
      writeFileSync(file, text, { mode: 0o600 });
      await attempt(why, made);
    };
    const restore = (): void => {
      rmSync(file, { force: true });
      writeFileSync(file, good, { mode: 0o600 });
      chmodSync(file, 0o600);
    };
    try {
      chmodSync(file, 0o644);
      await attempt(/not a file of ours alone/);
      restore();
      chownSync(file, 4242, 4242);
      await attempt(/not a file of ours alone/);
      restore();
      chmodSync(cache(), 0o755);
      await attempt(/not ours alone/);
      chmodSync(cache(), 0o700);
      // the copies directory a symbolic link to another: not followed
      const moved = `${cache()}.real`;
      renameSync(cache(), moved);
      symlinkSync(moved, cache());
      await attempt(/no recording/);
      rmSync(cache());
      renameSync(moved, cache());
      await damage(good.slice(0, good.length / 2), /incomplete|malformed|another command/);
      await damage(good.replace('oci-registry-cold 1', 'oci-registry-cold 2'), /not a recording of this version/);
      await damage(good.replace('\nend\n', '\nwrite passwd x\nend\n'), /does not know/);
      await damage(good.replace(/^fetch (\S+) ([0-9a-f]{64})/m, 'fetch $1 ../../etc'), /malformed/);
      // a blob the registry does not have (another digest): asked, answered 404, the directory removed again
      await damage(good.replace(/^(fetch \S+ )[0-9a-f]{64}( \d+ \S+ \S+sha256:)[0-9a-f]{64}/m, `$1${'0'.repeat(64)}$2${'0'.repeat(64)}`), /answered 404/, true);
      // a manifest line naming a body no request returned
      await damage(good.replace(/^blob (\S+) [0-9a-f]{64}/m, `blob $1 ${'1'.repeat(64)}`), /was not among the answers/);
      restore();
      const dir = dest();
      expect(await copy('fx/hello', dir, { native: 'require', args })).toMatchObject({ code: 0, stderr: '' });
    } finally {
      restore();
      writeFileSync(any, anyText, { mode: 0o600 });
    }
  }, 120_000);

  // ---- any image of the registry (src/recopy.ts writeAnyRecording, native/recopy.c any_plan)

  /** The recording for any image of the registry that a copy with `args` leaves (its source as docker://HOST/*). */
  const anyFile = (args: string[], host = reg.host): string =>
    join(cache(), recordingName(recopyCommand(argsFor(`docker://${host}/*`, '/x', args))!.key));
  const copyRef = (ref: string, dir: string, args: string[], native?: string): Promise<RunResult> =>
    run(LAUNCHER, argsFor(`docker://${reg.host}/${ref}`, dir, args), { env: env(native) });

  /** Puts `body` as the manifest `repo:tag`, its blobs mounted from fx/hello (the registry checks they are there). */
  async function putManifest(repo: string, tag: string, body: string): Promise<void> {
    const doc = JSON.parse(body) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [doc.config, ...doc.layers]) {
      const r = await fetch(`http://${reg.host}/v2/${repo}/blobs/uploads/?mount=${d.digest}&from=fx/hello`, { method: 'POST' });
      expect(r.status).toBe(201);
    }
    const r = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT', body, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect({ tag, status: r.status, body: r.status === 201 ? '' : await r.text() }).toEqual({ tag, status: 201, body: '' });
  }
  const helloManifest = async (): Promise<string> =>
    await (await fetch(`http://${reg.host}/v2/fx/hello/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).text();

  it('an image this command line never copied: made without Node from the recording for any image of the registry, as Node makes it', async () => {
    const args = ['-q', '--src-tls-verify=false', '--jobs=5'];
    await recorded('fx/busybox', { args });
    expect(lstatSync(anyFile(args)).mode & 0o777).toBe(0o600);
    // by tag, without a tag (latest), by digest: each the same tree as Node's own copy (made after, as the oracle)
    for (const ref of ['fx/hello:latest', 'fx/hello', `fx/hello@${helloDigest}`]) {
      const dir = dest();
      expect(await copyRef(ref, dir, args, 'require')).toMatchObject({ code: 0, stdout: '', stderr: '' });
      const oracle = dest();
      expect(await copyRef(ref, oracle, args, '0')).toMatchObject({ code: 0, stdout: '', stderr: '' });
      expect(tree(dir)).toEqual(tree(oracle));
      // the re-copy recording it wrote is Node's: the next copy into the layout is replayed
      expect(await copyRef(ref, dir, args, 'require')).toMatchObject({ code: 0, stdout: '', stderr: '' });
      const inspect = JSON.parse((await runOk('skopeo', ['inspect', `oci:${dir}:latest`])).stdout) as { Digest: string };
      expect(inspect.Digest).toBe(helloDigest);
      rmSync(dir, { recursive: true });
    }
    // a manifest written otherwise (spaces, annotations with escapes, no layers): read as JSON.parse reads it
    const doc = JSON.parse(await helloManifest()) as Record<string, unknown>;
    const odd = `{ "schemaVersion" : 2,\n\t"mediaType": "application/vnd.oci.image.manifest.v1+json", "config": ${JSON.stringify(doc.config, null, 1)},` +
      `"layers":${JSON.stringify(doc.layers)}, "annotations": {"a\\u00e9\\"\\n": "x\\\\y\\ud83d\\ude00", "n": "\\/"}}\r\n`;
    JSON.parse(odd);
    await putManifest('fx/odd', 'spaced', odd);
    await putManifest('fx/odd', 'empty', JSON.stringify({ ...doc, layers: [] }));
    for (const tag of ['spaced', 'empty']) {
      const dir = dest();
      expect(await copyRef(`fx/odd:${tag}`, dir, args, 'require')).toMatchObject({ code: 0, stdout: '', stderr: '' });
      const oracle = dest();
      expect(await copyRef(`fx/odd:${tag}`, oracle, args, '0')).toMatchObject({ code: 0, stderr: '' });
      expect(tree(dir)).toEqual(tree(oracle));
    }
  }, 180_000);

  /** Pushes an image of one random layer of `size` bytes as `repo:latest` (blobs uploaded monolithically). */
  async function pushRandom(repo: string, size: number): Promise<{ manifest: string; layer: string }> {
    const upload = async (bytes: Buffer): Promise<string> => {
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const start = await fetch(`http://${reg.host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      expect(start.status).toBe(202);
      const at = new URL(start.headers.get('location')!, `http://${reg.host}`);
      at.searchParams.set('digest', digest);
      const put = await fetch(at, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
      expect(put.status).toBe(201);
      return digest;
    };
    const bytes = randomBytes(size);
    const layer = await upload(bytes);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const manifest = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await upload(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size }],
    });
    const r = await fetch(`http://${reg.host}/v2/${repo}/manifests/latest`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    expect(r.status).toBe(201);
    return { manifest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`, layer };
  }

  it('a layer of several buffers (written behind by a thread of its own): the same layout; a damaged or cut one stores nothing wrong', async () => {
    const size = 5 * (1 << 20) + 12345;
    const { manifest: digest, layer } = await pushRandom('fx/big', size);
    const args = ['-q', '--src-tls-verify=false', '--jobs=10'];
    await recorded('fx/busybox', { args });
    const dir = dest();
    expect(await copyRef('fx/big:latest', dir, args, 'require')).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const oracle = dest();
    expect(await copyRef('fx/big:latest', oracle, args, '0')).toMatchObject({ code: 0, stderr: '' });
    expect(tree(dir)).toEqual(tree(oracle));
    expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).manifests[0].digest).toBe(digest);
    const proxy = await startFaultProxy(`http://${reg.host}`);
    try {
      await recorded('fx/busybox', { args, host: proxy.host });
      const layerPath = new RegExp(`/blobs/${layer}$`);
      for (const fault of [{ kind: 'flip-byte', offset: size - 10 }, { kind: 'cut', afterBytes: 3 << 20 }] as const) {
        proxy.setFaults([{ ...fault, path: layerPath, method: 'GET', ...(fault.kind === 'cut' ? { times: 1 } : {}) }]);
        const bad = dest();
        const r = await run(LAUNCHER, argsFor(`docker://${proxy.host}/fx/big:latest`, bad, args), { env: env('require') });
        expect({ fault: fault.kind, code: r.code }).toEqual({ fault: fault.kind, code: 125 });
        expect(r.stderr).toMatch(fault.kind === 'cut' ? /cut off/ : /digest mismatch/);
        // what is left (if anything): complete blobs under their digests, nothing in ingest, no lock
        if (existsSync(bad)) {
          for (const b of blobNames(bad)) expect(createHash('sha256').update(readFileSync(join(bad, 'blobs', 'sha256', b))).digest('hex')).toBe(b);
          expect(readdirSync(join(bad, '.oci-ts', 'ingest'))).toEqual([]);
          expect(existsSync(join(bad, '.oci-ts', 'index.lock'))).toBe(false);
        }
        proxy.setFaults([]);
      }
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('what the front end does not read goes to Node, which does what it does', async () => {
    const args = ['-q', '--src-tls-verify=false', '--jobs=6'];
    await recorded('fx/busybox', { args });
    const handed = async (ref: string, why: RegExp): Promise<string> => {
      const dir = dest();
      const r = await copyRef(ref, dir, args, 'require');
      expect({ ref, code: r.code, stderr: r.stderr }).toEqual({ ref, code: 125, stderr: expect.stringMatching(why) });
      expect(existsSync(dir)).toBe(false);
      return dir;
    };
    // an index and a Docker manifest: Node chooses or converts
    for (const repo of ['fx/index', 'fx/docker']) {
      const dir = await handed(`${repo}:latest`, /not an OCI image manifest/);
      expect(await copyRef(`${repo}:latest`, dir, args)).toMatchObject({ code: 0, stderr: '' });
    }
    // no such image, a reference Node refuses, a tag and a digest together: Node's errors
    const missing = await handed('fx/nothere:latest', /answered 404/);
    const r = await copyRef('fx/nothere:latest', missing, args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERR_MANIFEST_UNKNOWN|ERR_NAME_UNKNOWN/);
    for (const ref of ['fx/Hello:latest', 'fx//hello', 'fx/hello:.bad', `fx/hello:latest@${helloDigest}`, 'fx/hello@sha256:abc']) {
      await handed(ref, /does not read/);
    }
    expect((await copyRef('fx/Hello:latest', dest(), args)).stderr).toMatch(/ERR_INVALID_REFERENCE/);
    // a digest the registry's manifest does not have
    await handed(`fx/hello@sha256:${'0'.repeat(64)}`, /answered 404|another manifest/);
    // manifests JSON.parse reads but this program does not take: Node copies them
    const doc = JSON.parse(await helloManifest()) as Record<string, unknown>;
    const text = JSON.stringify(doc);
    const odd: Record<string, string> = {
      unknown: JSON.stringify({ ...doc, artifactType: 'application/x.test' }),
      escaped: text.replace('"mediaType":"application/vnd.oci.image.manifest.v1+json"', '"mediaType":"application\\/vnd.oci.image.manifest.v1+json"'),
      twice: text.replace(/}$/, ',"schemaVersion":2}'),
      member: JSON.stringify({ ...doc, layers: (doc.layers as object[]).map((l) => ({ ...l, 'x-member': '1' })) }),
      repeated: JSON.stringify({ ...doc, layers: [...(doc.layers as object[]), ...(doc.layers as object[])] }),
    };
    for (const [tag, body] of Object.entries(odd)) {
      await putManifest('fx/odd2', tag, body);
      const dir = await handed(`fx/odd2:${tag}`, tag === 'repeated' ? /a blob named twice/ : /a manifest this program does not read/);
      const node = await copyRef(`fx/odd2:${tag}`, dir, args);
      expect({ tag, code: node.code }).toEqual({ tag, code: 0 });
    }
  }, 180_000);

  it('a manifest changed on the way (its Docker-Content-Digest no longer its own): handed over, nothing made', async () => {
    const proxy = await startFaultProxy(`http://${reg.host}`);
    try {
      const args = ['-q', '--src-tls-verify=false', '--jobs=7'];
      await recorded('fx/busybox', { args, host: proxy.host });
      proxy.setFaults([{ kind: 'flip-byte', offset: 3, path: /\/manifests\//, method: 'GET' }]);
      const dir = dest();
      const r = await run(LAUNCHER, argsFor(`docker://${proxy.host}/fx/hello:latest`, dir, args), { env: env('require') });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/Docker-Content-Digest is not the manifest's/);
      expect(existsSync(dir)).toBe(false);
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('no recording for any image when the policy or registries.conf has rules for some repositories of the registry', async () => {
    const conf = join(tmp.path, 'conf');
    mkdirSync(conf, { recursive: true });
    const write = (name: string, text: string): string => {
      writeFileSync(join(conf, name), text);
      return join(conf, name);
    };
    const accept = [{ type: 'insecureAcceptAnything' }];
    const cases: [string[], boolean][] = [
      [['--policy', write('scoped.json', JSON.stringify({ default: accept, transports: { docker: { [`${reg.host}/fx/secret`]: [{ type: 'reject' }] } } }))], false],
      [['--policy', write('other.json', JSON.stringify({ default: accept, transports: { docker: { 'example.invalid/x': [{ type: 'reject' }], '': accept } } }))], true],
      [['--registries-conf', write('mirror.conf', `[[registry]]\nprefix = "${reg.host}/fx/mirrored"\nlocation = "${reg.host}/fx/hello"\n`)], false],
      [['--registries-conf', write('elsewhere.conf', '[[registry]]\nprefix = "example.invalid/x"\nlocation = "example.invalid/y"\n')], true],
    ];
    for (const [extra, any] of cases) {
      const args = ['-q', '--src-tls-verify=false', ...extra];
      await recorded('fx/busybox', { args });
      expect({ extra, any: existsSync(anyFile(args)) }).toEqual({ extra, any });
    }
    // rules written after a recording for any image was made: Node's next cold copy removes that recording
    const args = ['-q', '--src-tls-verify=false', '--policy', join(conf, 'later.json')];
    write('later.json', JSON.stringify({ default: accept }));
    await recorded('fx/busybox', { args });
    expect(existsSync(anyFile(args))).toBe(true);
    write('later.json', JSON.stringify({ default: accept, transports: { docker: { [`${reg.host}/fx/secret`]: [{ type: 'reject' }] } } }));
    const r = await copy('fx/hello', dest(), { native: 'require', args });
    expect(r).toMatchObject({ code: 125, stderr: expect.stringMatching(/later\.json changed/) });
    await recorded('fx/busybox', { args });
    expect(existsSync(anyFile(args))).toBe(false);
    // an index leaves none either (the recording is of one OCI image manifest)
    const jobs = ['-q', '--src-tls-verify=false', '--jobs=8'];
    await recorded('fx/index', { args: jobs });
    expect(existsSync(anyFile(jobs))).toBe(false);
  }, 120_000);

  it('rulesForHost: scopes and prefixes that name the host or below it, wildcards matching its name', () => {
    const none = { registries: [], unqualifiedSearchRegistries: [], aliases: {}, files: [] };
    const policy = (scopes: string[]) => ({ default: [], transports: { docker: Object.fromEntries(scopes.map((s) => [s, []])) } });
    const prefixes = (ps: string[]) => ({ ...none, registries: ps.map((prefix) => ({ prefix, location: prefix, insecure: false, blocked: false, mirrorByDigestOnly: false, mirrors: [] })) });
    const h = 'reg.example:5000';
    expect(rulesForHost({ policy: undefined, registries: none }, h)).toBe(false);
    expect(rulesForHost({ policy: policy(['', 'reg.example:50000', 'other:5000/x']), registries: none }, h)).toBe(false);
    for (const s of [h, `${h}/a`, `${h}/a/b:tag`]) expect(rulesForHost({ policy: policy([s]), registries: none }, h)).toBe(true);
    for (const p of [h, `${h}/a`, 'reg.example', '*.example']) expect({ p, r: rulesForHost({ policy: undefined, registries: prefixes([p]) }, h) }).toEqual({ p, r: true });
    for (const p of ['reg.example:50000', 'reg.ex', '*.other', 'other/reg.example:5000']) expect({ p, r: rulesForHost({ policy: undefined, registries: prefixes([p]) }, h) }).toEqual({ p, r: false });
  });

  it('hostile recordings for any image are refused', async () => {
    const args = ['-q', '--src-tls-verify=false', '--jobs=9'];
    await recorded('fx/busybox', { args });
    const file = anyFile(args);
    const good = readFileSync(file, 'utf8');
    const damage = async (text: string, why: RegExp): Promise<void> => {
      writeFileSync(file, text, { mode: 0o600 });
      const dir = dest();
      const r = await copyRef('fx/hello:latest', dir, args, 'require');
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 125, stderr: expect.stringMatching(why) });
      expect(existsSync(dir)).toBe(false);
    };
    try {
      await damage(good.replace('oci-registry-cold-any 1', 'oci-registry-cold 1'), /not a recording of this version/);
      await damage(good.replace(/^template index (.*)%01/m, 'template index $1%01%01'), /malformed/);
      await damage(good.replace(/^template recopy (.*)%05%0A/m, 'template recopy $1'), /malformed/);
      await damage(good.replace(/^template index .*\n/m, ''), /incomplete/);
      await damage(good.replace(/^manifest (\S+)/m, 'manifest $1/x'), /malformed/);
      await damage(good.replace('\nend\n', `\nfetch sha256 ${'0'.repeat(64)} 1 ${reg.host} /x ua\nend\n`), /does not know/);
      await damage(good.replace(/^key (.*)$/m, 'key $1 --all'), /another command/);
      await damage(good.replace(/^(manifest \S+ \S+ \S+ ).*$/m, '$1application/vnd.oci.image.index.v1+json'), /not an OCI image manifest/);
    } finally {
      writeFileSync(file, good, { mode: 0o600 });
    }
    expect(await copyRef('fx/hello:latest', dest(), args, 'require')).toMatchObject({ code: 0, stderr: '' });
  }, 120_000);

  it('the recordings directory: $XDG_CACHE_HOME when absolute, else ~/.cache', () => {
    expect(coldRecordingDir({ HOME: '/home/u' })).toBe('/home/u/.cache/oci-registry/copies');
    expect(coldRecordingDir({ HOME: '/home/u', XDG_CACHE_HOME: '/var/c' })).toBe('/var/c/oci-registry/copies');
    expect(coldRecordingDir({ HOME: '/home/u', XDG_CACHE_HOME: 'rel' })).toBe('/home/u/.cache/oci-registry/copies');
    expect(coldRecordingDir({})).toBeUndefined();
  });
});
