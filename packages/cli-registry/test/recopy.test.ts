// Replayed re-copies (src/recopy.ts, native/recopy.c): a copy to an oci: layout leaves a recording there, and the
// native front end repeats a copy that would change nothing without Node. Every case runs the real launcher
// against the real registry; OCI_REGISTRY_NATIVE=require makes a hand-over to Node exit 125 with its reason, which
// proves which path answered; =0 is Node's own path, the oracle for what the front end must do.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture } from '@oci/fixtures';
import { run, runOk, startFaultProxy, startRegistry, tmpDir, type RegistryHandle, type RunResult, type TmpDir } from '@oci/testkit';
import { RECOPY_DIR, recopyCommand, recordingName } from '../src/recopy.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const LAUNCHER = join(pkg, 'bin', 'oci-registry');
const NATIVE = join(pkg, 'native', 'oci-registry-recopy');

/**
 * Every file of a layout but our private directory: path -> "mtime size sha256". Not testkit's snapshotTree: its
 * whole-second mtimes would miss a file rewritten with the same bytes within the second of the copy.
 */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const rel = relative(dir, p);
      if (rel === '.oci-ts') continue;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else out[rel] = `${st.mtimeMs} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

describe('oci-registry copy: replayed re-copies', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  let home: string;
  let helloDigest: string;
  let busyboxDigest: string;
  let n = 0;

  beforeAll(async () => {
    [reg, tmp] = await Promise.all([startRegistry({ mode: 'plain' }), tmpDir('cli-reg-recopy-')]);
    const [hello, busybox] = await Promise.all([buildFixture('hello'), buildFixture('busybox')]);
    helloDigest = hello.manifestDigest;
    busyboxDigest = busybox.manifestDigest;
    await Promise.all([
      pushFixture('hello', reg, 'fx/hello', { format: 'oci' }),
      pushFixture('busybox', reg, 'fx/busybox', { format: 'oci' }),
      pushFixture('hello', reg, 'fx/index', { format: 'index' }),
      pushFixture('hello', reg, 'fx/moving', { format: 'oci' }),
    ]);
    home = join(tmp.path, 'home');
    mkdirSync(home);
  }, 300_000);
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  const dest = (): string => join(tmp.path, `layout-${++n}`);

  /** The launcher's copy from `repo` into `dir`; native: the front end's mode ('require', '0' = off, or default). */
  function copy(repo: string, dir: string, opts: { native?: string; args?: string[]; env?: Record<string, string | undefined>; ref?: string } = {}): Promise<RunResult> {
    const args = opts.args ?? ['-q', '--src-tls-verify=false', '--src-no-creds'];
    return run(LAUNCHER, ['copy', ...args, `docker://${reg.host}/${repo}:latest`, `oci:${dir}:${opts.ref ?? 'latest'}`], {
      env: {
        HOME: home, XDG_CONFIG_HOME: undefined, XDG_RUNTIME_DIR: undefined, REGISTRY_AUTH_FILE: undefined, DOCKER_CONFIG: undefined,
        CONTAINERS_REGISTRIES_CONF: undefined, OCI_REGISTRY_NATIVE: opts.native, ...opts.env,
      },
    });
  }

  const recordings = (dir: string): string[] => (existsSync(join(dir, RECOPY_DIR)) ? readdirSync(join(dir, RECOPY_DIR)) : []);
  const indexDigests = (dir: string): string[] =>
    (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest);

  /** A layout with hello copied into it by Node (which leaves the recording). */
  async function recorded(repo = 'fx/hello'): Promise<string> {
    const dir = dest();
    const r = await copy(repo, dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(recordings(dir)).toHaveLength(1);
    return dir;
  }

  it('the front end was built', () => {
    expect(existsSync(NATIVE)).toBe(true);
  });

  it('a re-copy of a present image: no Node, nothing written or printed, exit 0, as Node does it', async () => {
    const dir = await recorded();
    const recDir = join(dir, RECOPY_DIR);
    expect(statSync(recDir).mode & 0o777).toBe(0o700);
    const [file] = recordings(dir);
    expect(statSync(join(recDir, file!)).mode & 0o777).toBe(0o600);
    expect(file).toBe(recordingName(recopyCommand(['copy', '-q', '--src-tls-verify=false', '--src-no-creds', `docker://${reg.host}/fx/hello:latest`, `oci:${dir}:latest`])!.key));
    const before = tree(dir);
    const native = await copy('fx/hello', dir, { native: 'require' });
    expect(native).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(tree(dir)).toEqual(before);
    // Node's own re-copy (the oracle): the same exit, output and layout
    const node = await copy('fx/hello', dir, { native: '0' });
    expect(node).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(tree(dir)).toEqual(before);
    // without -q and without a terminal nothing is printed either way
    const plainArgs = ['--src-tls-verify=false', '--src-no-creds'];
    expect(await copy('fx/hello', dir, { native: '0', args: plainArgs })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await copy('fx/hello', dir, { native: 'require', args: plainArgs })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // skopeo reads the layout as the copy left it
    const inspect = JSON.parse((await runOk('skopeo', ['inspect', `oci:${dir}:latest`])).stdout) as { Digest: string };
    expect(inspect.Digest).toBe(helloDigest);
  });

  it('on a terminal without -q the re-copy draws what Node draws: handed to Node; with -q it is replayed', async () => {
    const dir = await recorded();
    const plainArgs = ['--src-tls-verify=false', '--src-no-creds'];
    expect(await copy('fx/hello', dir, { args: plainArgs })).toMatchObject({ code: 0, stderr: '' });
    const onTty = (args: string[], native: string): Promise<RunResult> => {
      const cmd = [LAUNCHER, 'copy', ...args, `docker://${reg.host}/fx/hello:latest`, `oci:${dir}:latest`].map((a) => `'${a}'`).join(' ');
      return run('script', ['-qec', cmd, '/dev/null'], { env: { HOME: home, OCI_REGISTRY_NATIVE: native } });
    };
    const native = await onTty(plainArgs, 'require');
    expect(native.code).toBe(125);
    expect(native.stdout).toMatch(/progress bars on a terminal/);
    const node = await onTty(plainArgs, '1');
    expect(node.code).toBe(0);
    expect(node.stdout).toMatch(/Copying blob [0-9a-f]{12} \[=+\] already present/);
    expect(node.stdout).toMatch(/Writing manifest to image destination/);
    expect(await onTty(['-q', ...plainArgs], 'require')).toMatchObject({ code: 0, stdout: '' });
  }, 60_000);

  it('a layout skopeo wrote: our first re-copy (Node, which writes nothing to it) records, the next is replayed', async () => {
    const dir = dest();
    await runOk('skopeo', ['copy', '-q', '--src-tls-verify=false', '--src-no-creds', `docker://${reg.host}/fx/hello:latest`, `oci:${dir}:latest`]);
    expect(existsSync(join(dir, '.oci-ts'))).toBe(false);
    const before = tree(dir);
    expect(await copy('fx/hello', dir)).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(tree(dir)).toEqual(before);
    expect(recordings(dir)).toHaveLength(1);
    expect(await copy('fx/hello', dir, { native: 'require' })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(tree(dir)).toEqual(before);
    // a private directory that is a symbolic link is not written through
    const other = dest();
    await runOk('skopeo', ['copy', '-q', '--src-tls-verify=false', '--src-no-creds', `docker://${reg.host}/fx/hello:latest`, `oci:${other}:latest`]);
    const outside = join(tmp.path, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(other, '.oci-ts'));
    expect(await copy('fx/hello', other)).toMatchObject({ code: 0, stderr: '' });
    expect(readdirSync(outside)).toEqual([]);
  }, 60_000);

  it('the tag moved in the registry: handed to Node, which copies the new image; then replayed again', async () => {
    const dir = await recorded('fx/moving');
    expect(indexDigests(dir)).toEqual([helloDigest]);
    await pushFixture('busybox', reg, 'fx/moving', { format: 'oci' });
    try {
      const native = await copy('fx/moving', dir, { native: 'require' });
      expect(native.code).toBe(125);
      expect(native.stderr).toMatch(/other headers|another manifest/);
      expect(indexDigests(dir)).toEqual([helloDigest]);
      expect(await copy('fx/moving', dir)).toMatchObject({ code: 0, stderr: '' });
      expect(indexDigests(dir)).toEqual([busyboxDigest]);
      expect(await copy('fx/moving', dir, { native: 'require' })).toMatchObject({ code: 0, stderr: '' });
    } finally {
      await pushFixture('hello', reg, 'fx/moving', { format: 'oci' });
    }
  }, 120_000);

  it('what changed on this machine hands the copy to Node, which does what it must', async () => {
    // a blob gone: Node downloads it again
    {
      const dir = await recorded();
      const blobDir = join(dir, 'blobs', 'sha256');
      const victim = readdirSync(blobDir).find((b) => `sha256:${b}` !== helloDigest)!;
      unlinkSync(join(blobDir, victim));
      const native = await copy('fx/hello', dir, { native: 'require' });
      expect(native.code).toBe(125);
      expect(native.stderr).toMatch(/is missing/);
      expect(await copy('fx/hello', dir)).toMatchObject({ code: 0, stderr: '' });
      expect(existsSync(join(blobDir, victim))).toBe(true);
      expect(await copy('fx/hello', dir, { native: 'require' })).toMatchObject({ code: 0 });
    }
    // a blob of another size, a blob replaced by a symbolic link
    {
      const dir = await recorded();
      const blobDir = join(dir, 'blobs', 'sha256');
      const victim = readdirSync(blobDir).find((b) => `sha256:${b}` !== helloDigest)!;
      writeFileSync(join(blobDir, victim), 'short');
      expect((await copy('fx/hello', dir, { native: 'require' })).stderr).toMatch(/is missing/);
      unlinkSync(join(blobDir, victim));
      symlinkSync('/etc/hostname', join(blobDir, victim));
      expect((await copy('fx/hello', dir, { native: 'require' })).stderr).toMatch(/is missing/);
    }
    // index.json names another image too: handed over (and Node's re-copy records the new index)
    {
      const dir = await recorded();
      expect(await copy('fx/busybox', dir, { ref: 'other' })).toMatchObject({ code: 0 });
      const native = await copy('fx/hello', dir, { native: 'require' });
      expect(native.code).toBe(125);
      expect(native.stderr).toMatch(/index\.json changed/);
      expect(await copy('fx/hello', dir)).toMatchObject({ code: 0, stderr: '' });
      expect(await copy('fx/hello', dir, { native: 'require' })).toMatchObject({ code: 0 });
      expect(await copy('fx/busybox', dir, { native: 'require', ref: 'other' })).toMatchObject({ code: 0 });
    }
    // oci-layout rewritten (as skopeo writes it)
    {
      const dir = await recorded();
      writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}');
      expect((await copy('fx/hello', dir, { native: 'require' })).stderr).toMatch(/oci-layout changed/);
      expect(await copy('fx/hello', dir)).toMatchObject({ code: 0 });
    }
  }, 120_000);

  it('a trust policy or registries.conf that now refuses the image: Node refuses it', async () => {
    const dir = await recorded();
    const conf = join(home, '.config', 'containers');
    mkdirSync(conf, { recursive: true });
    try {
      writeFileSync(join(conf, 'policy.json'), JSON.stringify({ default: [{ type: 'reject' }] }));
      const native = await copy('fx/hello', dir, { native: 'require' });
      expect(native.code).toBe(125);
      expect(native.stderr).toMatch(/policy\.json exists now/);
      const node = await copy('fx/hello', dir);
      expect(node.code).toBe(1);
      expect(node.stderr).toMatch(/ERR_POLICY_REJECTED/);
      rmSync(join(conf, 'policy.json'));
      expect(await copy('fx/hello', dir, { native: 'require' })).toMatchObject({ code: 0 });

      writeFileSync(join(conf, 'registries.conf'), `[[registry]]\nlocation = "${reg.host}"\nblocked = true\n`);
      expect((await copy('fx/hello', dir, { native: 'require' })).stderr).toMatch(/registries\.conf exists now/);
      const blocked = await copy('fx/hello', dir);
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toMatch(/blocked/);
    } finally {
      rmSync(conf, { recursive: true, force: true });
    }
    // the variables the copy depends on
    expect((await copy('fx/hello', dir, { native: 'require', env: { REGISTRY_AUTH_FILE: join(tmp.path, 'auth.json') } })).stderr).toMatch(/REGISTRY_AUTH_FILE is set/);
    expect((await copy('fx/hello', dir, { native: 'require', env: { HOME: tmp.path } })).stderr).toMatch(/HOME changed/);
    expect(await copy('fx/hello', dir, { native: 'require' })).toMatchObject({ code: 0 });
  }, 120_000);

  it('a registry that does not answer: Node reports it (exit 1)', async () => {
    const other = await startRegistry({ mode: 'plain' });
    const dir = dest();
    try {
      await pushFixture('hello', other, 'fx/hello', { format: 'oci' });
      const args = ['copy', '-q', '--src-tls-verify=false', '--src-no-creds', '--retry-times=0', `docker://${other.host}/fx/hello:latest`, `oci:${dir}:latest`];
      expect(await run(LAUNCHER, args, { env: { HOME: home } })).toMatchObject({ code: 0 });
      expect(await run(LAUNCHER, args, { env: { HOME: home, OCI_REGISTRY_NATIVE: 'require' } })).toMatchObject({ code: 0 });
      await other.stop();
      const native = await run(LAUNCHER, args, { env: { HOME: home, OCI_REGISTRY_NATIVE: 'require' } });
      expect(native.code).toBe(125);
      expect(native.stderr).toMatch(/had no answer/);
      const node = await run(LAUNCHER, args, { env: { HOME: home } });
      expect(node.code).toBe(1);
      expect(node.stderr).toMatch(/ERR_NETWORK/);
    } finally {
      await other.stop();
    }
  }, 120_000);

  it('HTTP as other servers speak it: a chunked manifest is replayed; a cut-off or changed answer is handed to Node', async () => {
    // a small registry of our own (node:http) for the shapes docker-registry never sends: the manifest in chunks
    const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = Buffer.from('not really a layer, but bytes with a digest');
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
    }));
    const blobs = new Map([[sha(config), config], [sha(layer), layer]]);
    let mode: 'chunked' | 'cut' | 'other-type' | 'huge-chunk' = 'chunked';
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      if (req.url === '/v2/') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (req.url === '/v2/fx/chunked/manifests/latest' && mode === 'huge-chunk') {
        // a chunk size that would overflow a careless length check
        req.socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ndocker-content-digest: ${sha(manifest)}\r\n` +
          `transfer-encoding: chunked\r\n\r\nffffffffffffffff\r\n${'x'.repeat(64)}`);
        return;
      }
      if (req.url === '/v2/fx/chunked/manifests/latest') {
        res.writeHead(200, { 'content-type': mode === 'other-type' ? 'application/json' : 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': sha(manifest) });
        if (mode === 'cut') {
          res.write(manifest.subarray(0, 10));
          res.socket?.destroy();
          return;
        }
        res.write(manifest.subarray(0, 7));
        res.write(manifest.subarray(7, 100));
        return res.end(manifest.subarray(100));
      }
      const blob = blobs.get(req.url?.replace('/v2/fx/chunked/blobs/', '') ?? '');
      if (blob) return res.writeHead(200, { 'content-length': blob.length }).end(blob);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const dir = dest();
      const args = ['copy', '-q', '--src-tls-verify=false', '--retry-times=0', `docker://${host}/fx/chunked:latest`, `oci:${dir}:latest`];
      expect(await run(LAUNCHER, args, { env: { HOME: home } })).toMatchObject({ code: 0, stderr: '' });
      expect(await run(LAUNCHER, args, { env: { HOME: home, OCI_REGISTRY_NATIVE: 'require' } })).toMatchObject({ code: 0, stdout: '', stderr: '' });
      mode = 'cut';
      const cut = await run(LAUNCHER, args, { env: { HOME: home, OCI_REGISTRY_NATIVE: 'require' } });
      expect(cut.code).toBe(125);
      expect(cut.stderr).toMatch(/had no answer/);
      mode = 'other-type';
      expect((await run(LAUNCHER, args, { env: { HOME: home, OCI_REGISTRY_NATIVE: 'require' } })).stderr).toMatch(/other headers/);
      mode = 'huge-chunk';
      const huge = await run(LAUNCHER, args, { env: { HOME: home, OCI_REGISTRY_NATIVE: 'require' } });
      expect(huge.signal).toBeNull();
      expect(huge.code).toBe(125);
      expect(huge.stderr).toMatch(/had no answer/);
    } finally {
      server.close();
    }
  }, 60_000);

  it('a retried manifest request leaves no recording; a flipped byte in the manifest is never replayed', async () => {
    const proxy = await startFaultProxy(`http://${reg.host}`);
    try {
      const via = (dir: string): string[] => ['copy', '-q', '--src-tls-verify=false', '--src-no-creds', `docker://${proxy.host}/fx/hello:latest`, `oci:${dir}:latest`];
      // a 503 answered by a retry: the copy succeeds, but its requests were not one plain answer each
      proxy.setFaults([{ kind: 'status', status: 503, path: /\/manifests\//, method: 'GET', times: 1 }]);
      const retried = dest();
      expect(await run(LAUNCHER, via(retried), { env: { HOME: home } })).toMatchObject({ code: 0, stderr: '' });
      expect(recordings(retried)).toEqual([]);
      proxy.setFaults([]);
      const dir = dest();
      expect(await run(LAUNCHER, via(dir), { env: { HOME: home } })).toMatchObject({ code: 0, stderr: '' });
      expect(await run(LAUNCHER, via(dir), { env: { HOME: home, OCI_REGISTRY_NATIVE: 'require' } })).toMatchObject({ code: 0 });
      proxy.setFaults([{ kind: 'flip-byte', offset: 40, path: /\/manifests\//, method: 'GET' }]);
      const native = await run(LAUNCHER, via(dir), { env: { HOME: home, OCI_REGISTRY_NATIVE: 'require' } });
      expect(native.code).toBe(125);
      expect(native.stderr).toMatch(/another manifest/);
      // and a 503 now: the front end does not retry, Node does (and succeeds)
      proxy.setFaults([{ kind: 'status', status: 503, path: /\/manifests\//, method: 'GET', times: 1 }]);
      expect((await run(LAUNCHER, via(dir), { env: { HOME: home, OCI_REGISTRY_NATIVE: 'require' } })).stderr).toMatch(/answered 503/);
      proxy.setFaults([{ kind: 'status', status: 503, path: /\/manifests\//, method: 'GET', times: 1 }]);
      expect(await run(LAUNCHER, via(dir), { env: { HOME: home } })).toMatchObject({ code: 0, stderr: '' });
    } finally {
      await proxy.stop();
    }
  }, 60_000);

  it('an index: every manifest request is repeated (a child manifest gone from the registry: Node fails)', async () => {
    const dir = dest();
    expect(await copy('fx/index', dir)).toMatchObject({ code: 0, stderr: '' });
    const text = readFileSync(join(dir, RECOPY_DIR, recordings(dir)[0]!), 'utf8');
    const gets = text.split('\n').filter((l) => l.startsWith('get '));
    // the probe of /v2/, the index by tag, the chosen image by digest
    expect(gets).toHaveLength(3);
    expect(gets[2]).toMatch(/\/manifests\/sha256:[0-9a-f]{64} /);
    expect(await copy('fx/index', dir, { native: 'require' })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // the child as the registry no longer serves it: the request is answered 404 (its path in the recording
    // changed to a digest the registry does not have, with the recording's other facts intact)
    const file = join(dir, RECOPY_DIR, recordings(dir)[0]!);
    const child = /\/manifests\/(sha256:[0-9a-f]{64}) /.exec(gets[2]!)![1]!;
    writeFileSync(file, text.replace(`/manifests/${child}`, `/manifests/sha256:${'0'.repeat(64)}`), { mode: 0o600 });
    const native = await copy('fx/index', dir, { native: 'require' });
    expect(native.code).toBe(125);
    expect(native.stderr).toMatch(/answered 404/);
  }, 120_000);

  it('a copy that needed credentials, or a command line the front end does not know, leaves no recording', async () => {
    const auth = await startRegistry({ mode: 'htpasswd' });
    try {
      await pushFixture('hello', auth, 'fx/hello', { format: 'oci' });
      const dir = dest();
      const r = await run(LAUNCHER, ['copy', '-q', '--src-tls-verify=false', `--src-creds=${auth.username}:${auth.password}`,
        `docker://${auth.host}/fx/hello:latest`, `oci:${dir}:latest`], { env: { HOME: home } });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(recordings(dir)).toEqual([]);
      const authFile = join(tmp.path, 'auth.json');
      writeFileSync(authFile, JSON.stringify({ auths: { [auth.host]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') } } }));
      const dir2 = dest();
      const r2 = await run(LAUNCHER, ['copy', '-q', '--src-tls-verify=false', `docker://${auth.host}/fx/hello:latest`, `oci:${dir2}:latest`],
        { env: { HOME: home, REGISTRY_AUTH_FILE: authFile } });
      expect(r2).toMatchObject({ code: 0, stderr: '' });
      expect(recordings(dir2)).toEqual([]);
    } finally {
      await auth.stop();
    }
    const dir = dest();
    const digestfile = join(tmp.path, 'digest');
    expect(await copy('fx/hello', dir, { args: ['-q', '--src-tls-verify=false', '--src-no-creds', `--digestfile=${digestfile}`] })).toMatchObject({ code: 0 });
    expect(recordings(dir)).toEqual([]);
  }, 120_000);

  it('the spellings of a command line: the front end finds what Node recorded', async () => {
    const policy = join(tmp.path, 'policy.json');
    writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    for (const args of [
      ['--quiet', '--src-tls-verify=false', '--src-no-creds'],
      ['--src-tls-verify=false', '-q', '--jobs', '2', '--retry-times=1', '--override-arch', 'amd64', '--override-os=linux'],
      ['-q', '--src-tls-verify=false', '--policy', policy, '-f', 'oci', '--preserve-digests', '--src-no-creds=true'],
      ['-q', '--src-tls-verify=false', '--insecure-policy', '--registries-conf', join(tmp.path, 'none.conf'), '--tmpdir', tmp.path],
    ]) {
      if (args.includes('--registries-conf')) writeFileSync(join(tmp.path, 'none.conf'), '');
      const dir = dest();
      expect(await copy('fx/hello', dir, { args }), args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(recordings(dir), args.join(' ')).toHaveLength(1);
      expect(await copy('fx/hello', dir, { args, native: 'require' }), args.join(' ')).toMatchObject({ code: 0, stdout: '', stderr: '' });
    }
  }, 120_000);

  it('hostile or damaged recordings are refused, and Node then does the copy', async () => {
    const dir = await recorded();
    const recDir = join(dir, RECOPY_DIR);
    const file = join(recDir, recordings(dir)[0]!);
    const good = readFileSync(file, 'utf8');
    const refused = async (why: RegExp): Promise<void> => {
      const r = await copy('fx/hello', dir, { native: 'require' });
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(why);
    };
    chmodSync(file, 0o644);
    await refused(/not a file of ours alone/);
    chmodSync(file, 0o600);
    chmodSync(recDir, 0o755);
    await refused(/not ours alone/);
    chmodSync(recDir, 0o700);
    const write = (text: string): void => writeFileSync(file, text, { mode: 0o600 });
    write(good.slice(0, good.indexOf('\nend\n') + 1));
    await refused(/incomplete/);
    write(good.replace('oci-registry-recopy 1', 'oci-registry-recopy 2'));
    await refused(/not a recording of this version/);
    write(good.replace(/^key (.*)$/m, 'key $1 --all'));
    await refused(/another command's recording/);
    write(good.replace(/^bundle [0-9a-f]+$/m, `bundle ${'0'.repeat(64)}`));
    await refused(/oci-registry changed/);
    expect(good).toMatch(new RegExp(`^platform linux ${process.arch}$`, 'm'));
    write(good.replace(/^platform .*$/m, `platform linux ${process.arch === 'arm64' ? 'x64' : 'arm64'}`));
    await refused(/another platform/);
    write(good.replace(/^platform .*\n/m, ''));
    await refused(/incomplete/);
    write(good.replace(/^blob sha256 [0-9a-f]+ /m, 'blob sha256 ../../../etc/passwd '));
    await refused(/malformed/);
    write(good.replace('\nend\n', '\nexec /bin/sh\nend\n'));
    await refused(/does not know: exec/);
    // the recordings' directory as a symbolic link to a copy of itself
    write(good);
    renameSync(recDir, `${recDir}.real`);
    symlinkSync(`${recDir}.real`, recDir);
    await refused(/no recording/);
    unlinkSync(recDir);
    renameSync(`${recDir}.real`, recDir);
    expect(await copy('fx/hello', dir, { native: 'require' })).toMatchObject({ code: 0 });
    // Node, after any refusal, copies and records again
    write('damaged');
    expect(await copy('fx/hello', dir)).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe(good);
  }, 120_000);

  it('OCI_REGISTRY_NATIVE=0 never runs the front end; other copies never wait for it', async () => {
    const dir = await recorded();
    // off: the front end is not asked (a hostile recording it would refuse is not even read)
    const file = join(dir, RECOPY_DIR, recordings(dir)[0]!);
    writeFileSync(file, 'damaged', { mode: 0o600 });
    expect(await copy('fx/hello', dir, { native: '0' })).toMatchObject({ code: 0, stderr: '' });
    // the launcher asks it only when the last argument is an oci: layout holding recordings
    expect(await run(LAUNCHER, ['copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/fx/hello:latest`, `dir:${dest()}`],
      { env: { OCI_REGISTRY_NATIVE: 'require' } })).toMatchObject({ code: 0, stderr: '' });
    expect(await run(LAUNCHER, ['copy', `oci:${dir}:latest`, `oci:${dest()}:latest`], { env: { OCI_REGISTRY_NATIVE: 'require' } })).toMatchObject({ code: 0, stderr: '' });
    // asked, it hands over what it does not do
    const r = await run(LAUNCHER, ['copy', `oci:${dir}:latest`, `oci:${dir}:copied`], { env: { OCI_REGISTRY_NATIVE: 'require' } });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/not a copy from docker:\/\/ to oci:/);
    expect(await run(LAUNCHER, ['copy', `oci:${dir}:latest`, `oci:${dir}:copied`])).toMatchObject({ code: 0, stderr: '' });
  }, 60_000);
});

describe('recopyCommand: which command lines a recording is made for, and its key', () => {
  const src = 'docker://127.0.0.1:5000/fx/hello:latest';
  it('the destination directory is not part of the key; its reference is', () => {
    const a = recopyCommand(['copy', '-q', src, 'oci:/tmp/a:latest'])!;
    const b = recopyCommand(['copy', '-q', src, 'oci:rel/b:latest'])!;
    expect(a).toEqual({ key: ['copy', '-q', src, 'oci:*:latest'], dir: '/tmp/a', ref: 'latest', source: 2 });
    expect(b.dir).toBe('rel/b');
    expect(recordingName(a.key)).toBe(recordingName(b.key));
    expect(recordingName(recopyCommand(['copy', '-q', src, 'oci:/tmp/a:other'])!.key)).not.toBe(recordingName(a.key));
    expect(recopyCommand(['copy', src, 'oci:/tmp/a'])).toEqual({ key: ['copy', src, 'oci:*:'], dir: '/tmp/a', ref: undefined, source: 1 });
    expect(recopyCommand(['copy', src, 'oci:/tmp/a:'])!.ref).toBeUndefined();
    // FNV-1a 64 of "copy" (a known vector: the key's bytes joined by NUL)
    expect(recordingName(['a'])).toBe('af63dc4c8601ec8c');
    expect(recordingName(['copy'])).not.toBe(recordingName(['cop', 'y']));
  });
  it('options in the plain forms are kept as typed, in order', () => {
    const args = ['copy', '--src-tls-verify=false', '-a', '--jobs', '2', '-f', 'oci', '--policy=/p.json', src, '--quiet', 'oci:/x:y'];
    expect(recopyCommand(args)!.key).toEqual(['copy', '--src-tls-verify=false', '-a', '--jobs', '2', '-f', 'oci', '--policy=/p.json', src, '--quiet', 'oci:*:y']);
  });
  it.each([
    [['copy', src, 'dir:/x']],
    [['copy', 'oci:/y:latest', 'oci:/x:latest']],
    [['copy', src, 'oci::latest']],
    [['copy', src]],
    [['copy', src, 'oci:/x', 'extra']],
    [['inspect', src]],
    [['copy', '--digestfile=/d', src, 'oci:/x']],
    [['copy', '--dest-compress-format', 'zstd', src, 'oci:/x']],
    [['copy', '--json', src, 'oci:/x']],
    [['copy', '--debug', src, 'oci:/x']],
    [['copy', '--src-creds=u:p', src, 'oci:/x']],
    [['copy', '-qa', src, 'oci:/x']],
    [['copy', '--quiet', 'true', src, 'oci:/x']],
    [['copy', '--quiet=yes', src, 'oci:/x']],
    [['copy', '--jobs', src, 'oci:/x']],
    [['copy', '--jobs=', src, 'oci:/x']],
    [['copy', '--policy', '-p', src, 'oci:/x']],
    [['copy', '--', src, 'oci:/x']],
    [['copy', '-', src, 'oci:/x']],
    [['copy', '--help', src, 'oci:/x']],
  ])('none for %j', (args) => {
    expect(recopyCommand(args)).toBeUndefined();
  });
});
