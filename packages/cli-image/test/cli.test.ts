// The oci-image binary, run as users run it (node bin/oci-image.js), on the fixture images.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixture, type FixtureInfo } from '@oci/fixtures';
import { run } from '@oci/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/oci-image.js', import.meta.url));
const oci = (...args: string[]) => run('node', [bin, ...args], { timeoutMs: 120_000 });

let base: string;
let busybox: FixtureInfo;
beforeAll(async () => {
  base = fs.mkdtempSync(join(os.tmpdir(), 'oci-cli-image-'));
  busybox = await buildFixture('busybox');
}, 300_000);
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('oci-image', () => {
  it('--version prints the package version, as umoci --version does', async () => {
    const r = await run(process.execPath, [bin, '--version']);
    const { version } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`oci-image version ${version}\n`);
  });

  it('unpack --ref REF LAYOUT ROOTFS (oci-image-tool syntax) and --json', async () => {
    const r = await oci('unpack', '--ref', 'latest', busybox.layout, join(base, 'rootfs1'));
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(join(base, 'rootfs1/bin/busybox'))).toBe(true);
    const j = await oci('unpack', '--json', '--ref', 'name=latest', '--platform', 'linux/amd64', busybox.indexLayout, join(base, 'rootfs2'));
    expect(j.code, j.stderr).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out.manifest).toBe(busybox.manifestDigest);
    expect(out.layers.length).toBe(busybox.layers.length);
  });

  it('create --ref REF LAYOUT BUNDLE -- ARGS gives a bundle runc runs', async () => {
    const bundle = join(base, 'bundle');
    const r = await oci('create', '--ref', 'latest', busybox.layout, bundle, '--', 'sh', '-c', 'echo a | tr a b');
    expect(r.code, r.stderr).toBe(0);
    const id = `oci-cli-image-${process.pid}`;
    const rr = await run('runc', ['run', '-b', bundle, id], { timeoutMs: 60_000 });
    await run('runc', ['delete', '-f', id]);
    expect(rr.code, rr.stderr).toBe(0);
    expect(rr.stdout.trim()).toBe('b');
  });

  it('refuses an existing target with a coded error and exit 1; usage errors exit 2', async () => {
    fs.mkdirSync(join(base, 'busy'));
    fs.writeFileSync(join(base, 'busy/x'), 'x');
    const r = await oci('unpack', '--ref', 'latest', busybox.layout, join(base, 'busy'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_TARGET_EXISTS');
    expect(r.stderr).toContain('hint:');
    expect((await oci('unpack', busybox.layout, join(base, 'x'))).code).toBe(2);
    expect((await oci('frobnicate')).code).toBe(2);
    const missing = await oci('unpack', '--ref', 'nope', busybox.layout, join(base, 'y'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERR_REF_UNKNOWN');
    expect(fs.existsSync(join(base, 'y'))).toBe(false);
  });

  it('--max-layer-size refuses a bigger layer (ERR_LAYER_TOO_LARGE, exit 1, nothing left); a bad size exits 2', async () => {
    const r = await oci('unpack', '--max-layer-size', '4K', '--ref', 'latest', busybox.layout, join(base, 'capped'));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('ERR_LAYER_TOO_LARGE');
    expect(r.stderr).toContain('hint:');
    expect(fs.existsSync(join(base, 'capped'))).toBe(false);
    const c = await oci('create', '--max-layer-size', '4k', '--ref', 'latest', busybox.layout, join(base, 'capped-bundle'));
    expect(c.code, c.stderr).toBe(1);
    expect(c.stderr).toContain('ERR_LAYER_TOO_LARGE');
    expect(fs.existsSync(join(base, 'capped-bundle'))).toBe(false);
    const ok = await oci('unpack', '--max-layer-size', '1G', '--ref', 'latest', busybox.layout, join(base, 'uncapped'));
    expect(ok.code, ok.stderr).toBe(0);
    expect((await oci('unpack', '--max-layer-size', 'lots', '--ref', 'latest', busybox.layout, join(base, 'z'))).code).toBe(2);
  });

  it('rootless for real (as nobody): no chown failures, devices skipped with warnings, owners reported', async () => {
    const tricky = await buildFixture('tricky');
    const dir = join(base, 'rootless');
    fs.mkdirSync(dir, { mode: 0o777 });
    fs.chmodSync(dir, 0o777);
    fs.chmodSync(base, 0o755);
    const r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', bin, 'unpack', '--json', '--ref', 'latest', tricky.layout, join(dir, 'rootfs')], {
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.warnings.map((w: { code: string }) => w.code)).toContain('WARN_DEVICE_SKIPPED');
    expect(out.owners).toContainEqual({ path: '/owners/uid1000', uid: 1000, gid: 1000 });
    expect(fs.statSync(join(dir, 'rootfs/owners/uid1000')).uid).toBe(65534);
    expect(fs.lstatSync(join(dir, 'rootfs/dev/fifo')).isFIFO()).toBe(true);
    expect(fs.statSync(join(dir, 'rootfs/modes/setuid')).mode & 0o7777).toBe(0o4755);
  });

  it('shows progress when stderr is a TTY', async () => {
    const cmd = `node ${bin} unpack --ref latest ${busybox.layout} ${join(base, 'tty-rootfs')}`;
    const r = await run('script', ['-qefc', cmd, '/dev/null'], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/layer 1\/1 [0-9a-f]{12} /);
  });

  it('ls lists refs, digests, platforms and sizes (--json)', async () => {
    const r = await oci('ls', '--json', busybox.indexLayout);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows[0].ref).toBe('latest');
    expect(rows[0].manifests.map((m: { platform: string }) => m.platform)).toContain('linux/amd64');
    const t = await oci('ls', busybox.layout);
    expect(t.stdout).toContain(busybox.manifestDigest);
    expect(t.stdout).toContain('linux/amd64');
  });

  it('validate: a good layout passes; a corrupt blob and a missing blob are reported, exit 1', async () => {
    const ok = await oci('validate', busybox.layout);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const copy = join(base, 'bad-layout');
    fs.cpSync(busybox.layout, copy, { recursive: true });
    const layer = busybox.layers[0]!.digest.replace(':', '/');
    const p = join(copy, 'blobs', layer);
    fs.chmodSync(p, 0o644);
    const b = fs.readFileSync(p);
    b[100] = b[100]! ^ 0xff;
    fs.writeFileSync(p, b);
    fs.rmSync(join(copy, 'blobs', busybox.configDigest.replace(':', '/')));
    const bad = await oci('validate', '--json', copy);
    expect(bad.code).toBe(1);
    const rep = JSON.parse(bad.stdout);
    expect(rep.valid).toBe(false);
    const codes = rep.problems.map((x: { code: string }) => x.code);
    expect(codes).toContain('ERR_DIGEST_MISMATCH');
    expect(codes).toContain('ERR_BLOB_UNKNOWN');
    const text = await oci('validate', join(base, 'no-such-dir'));
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('ERR_INVALID_LAYOUT');
  });

  it('gc removes unreferenced blobs only', async () => {
    const copy = join(base, 'gc-layout');
    fs.cpSync(busybox.layout, copy, { recursive: true });
    const junk = Buffer.from('unreferenced\n');
    const digest = (await import('node:crypto')).createHash('sha256').update(junk).digest('hex');
    fs.writeFileSync(join(copy, 'blobs/sha256', digest), junk);
    const dry = await oci('gc', '--dry-run', '--json', copy);
    expect(JSON.parse(dry.stdout).removed).toEqual([`sha256:${digest}`]);
    expect(fs.existsSync(join(copy, 'blobs/sha256', digest))).toBe(true);
    const r = await oci('gc', copy);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(join(copy, 'blobs/sha256', digest))).toBe(false);
    expect((await oci('validate', copy)).code).toBe(0);
  });
});
