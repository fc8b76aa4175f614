// `oci run` end to end against the real registry and the real runtime, with runc as the oracle
// for what the container prints.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture, HELLO_OUTPUT } from '@oci/fixtures';
import { getRegistry, run, startFaultProxy, type RegistryHandle } from '@oci/testkit';

const bin = join(import.meta.dirname, '..', 'bin', 'oci.js');
const work = mkdtempSync(join(tmpdir(), 'oci-cli-'));
const cache = join(work, 'cache');
let registry: RegistryHandle;
let busybox: string;
let hello: string;

const oci = (args: string[], timeoutMs = 120_000) => run(process.execPath, [bin, ...args], { timeoutMs });

beforeAll(async () => {
  registry = await getRegistry('plain');
  busybox = (await pushFixture('busybox', registry, 'cli-test/busybox', { format: 'oci' })).reference;
  hello = (await pushFixture('hello', registry, 'cli-test/hello', { format: 'v2s2' })).reference;
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('oci run', () => {
  it('oci --version prints the package version', async () => {
    const r = await run(process.execPath, [bin, '--version']);
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`oci version ${version}\n`);
  });

  it('pulls, unpacks and runs hello (a Docker v2s2 image), printing what runc prints for the same image', async () => {
    const ours = await oci(['run', '--tls-verify=false', '--cache', cache, `docker://${hello}`]);
    expect(ours.stderr).toBe('');
    expect(ours.code).toBe(0);
    expect(ours.stdout).toBe(HELLO_OUTPUT);

    // The oracle: umoci unpack + runc run of the same image.
    const fx = await buildFixture('hello');
    const bundle = join(work, 'runc-hello');
    expect((await run('umoci', ['unpack', '--image', `${fx.layout}:latest`, bundle])).code).toBe(0);
    // umoci writes terminal: true; runc needs a tty for that, so turn it off as `oci run` does.
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    config.process.terminal = false;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const theirs = await run('runc', ['run', '--bundle', bundle, `oci-cli-oracle-${process.pid}`]);
    expect(theirs.code).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
  });

  it('replaces Cmd with the arguments after --, and exits with the container status', async () => {
    const r = await oci(['run', '--tls-verify=false', '--cache', cache, `docker://${busybox}`, '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.code).toBe(7);
  });

  it('uses the cache: --pull=never runs without the registry', async () => {
    const r = await oci(['run', '--pull=never', '--cache', cache, `docker://${busybox}`, '--', 'sh', '-c', 'echo a-b | tr - +']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('a+b\n');
    // No bundle and no container state is left behind after a run without --keep.
    expect(readdirSync(join(cache, 'bundles'))).toEqual([]);
  });

  it('runs an image straight from an oci: layout', async () => {
    const fx = await buildFixture('busybox');
    const r = await oci(['run', '--cache', cache, `oci:${fx.layout}:latest`, '--', 'sh', '-c', 'id -u; hostname']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('0');
  });

  it('forwards signals to the container (SIGINT reaches its trap)', async () => {
    const child = spawn(process.execPath, [bin, 'run', '--pull=never', '--cache', cache, `docker://${busybox}`, '--', 'sh', '-c', 'trap "echo got INT; exit 3" INT; echo ready; while :; do sleep 0.1; done'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve) => child.stdout.on('data', (d: string) => { out += d; if (out.includes('ready')) resolve(); }));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    child.stdout.removeAllListeners('data');
    expect(code).toBe(3);
  });
});

describe('oci run: errors', () => {
  it('an image missing from the cache with --pull=never: ERR_IMAGE_NOT_CACHED, exit 125', async () => {
    const r = await oci(['run', '--pull=never', '--cache', join(work, 'empty-cache'), 'docker://127.0.0.1:1/nothing/here:latest']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/ERR_IMAGE_NOT_CACHED/);
    expect(r.stderr).toMatch(/hint:/);
  });

  it('a malformed reference: a coded error, exit 125, nothing cached', async () => {
    const c = join(work, 'bad-ref-cache');
    const r = await oci(['run', '--cache', c, 'docker://UPPER/Case::bad']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/ERR_INVALID_REFERENCE/);
    expect(existsSync(join(c, 'bundles'))).toBe(false);
  });

  it('an image the registry does not have: ERR_MANIFEST_UNKNOWN, no ref in the cache', async () => {
    const c = join(work, 'unknown-cache');
    const r = await oci(['run', '--tls-verify=false', '--cache', c, `docker://${registry.host}/cli-test/absent:latest`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/ERR_(MANIFEST|NAME)_UNKNOWN/);
    const images = await oci(['images', '--json', '--cache', c]);
    expect(JSON.parse(images.stdout)).toEqual([]);
  });

  it('usage errors exit 2', async () => {
    expect((await oci(['run'])).code).toBe(2);
    expect((await oci(['frobnicate'])).code).toBe(2);
  });
});

describe('oci run: interrupted', () => {
  it('SIGINT while pulling cancels: exit 130, no ref, no temp blob, no bundle left', async () => {
    // A proxy that holds every blob GET for 10 s gives the signal time to arrive mid-pull.
    const proxy = await startFaultProxy(registry.url, [{ kind: 'delay', ms: 10_000, path: /\/blobs\// }]);
    const c = join(work, 'interrupted-cache');
    try {
      const child = spawn(process.execPath, [bin, 'run', '--tls-verify=false', '--cache', c, `docker://${proxy.host}/cli-test/busybox:latest`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      for (let i = 0; i < 200 && proxy.stats.count(/\/blobs\//) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (x) => resolve(x)));
      expect(code, stderr).toBe(130);
      const images = await oci(['images', '--json', '--cache', c]);
      expect(JSON.parse(images.stdout)).toEqual([]);
      const leftovers = (await run('find', [c, '-type', 'f', '-newer', join(c, 'layout', 'oci-layout'), '-not', '-name', 'index.json'])).stdout;
      expect(leftovers.split('\n').filter((l) => l && !l.includes('/.oci-ts/index.lock'))).toEqual([]);
      expect(existsSync(join(c, 'bundles')) ? readdirSync(join(c, 'bundles')) : []).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });
});

describe('oci pull, images, rmi', () => {
  it('pull prints the manifest digest; images lists it; rmi removes it and frees its blobs', async () => {
    const c = join(work, 'pull-cache');
    const fx = await buildFixture('busybox');
    const pulled = await oci(['pull', '--tls-verify=false', '--cache', c, busybox]);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout.trim()).toBe(fx.manifestDigest);
    const images = JSON.parse((await oci(['images', '--json', '--cache', c])).stdout);
    expect(images).toEqual([expect.objectContaining({ image: busybox, digest: fx.manifestDigest })]);
    const rmi = await oci(['rmi', '--json', '--cache', c, busybox]);
    expect(rmi.code).toBe(0);
    expect(JSON.parse(rmi.stdout).removed.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse((await oci(['images', '--json', '--cache', c])).stdout)).toEqual([]);
  });
});
