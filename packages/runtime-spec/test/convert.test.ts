import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSpec, defaultSpec, ImageAnnotation, imageConfigToSpec, RuntimeSpecError, type Spec, validateSpec } from '../src/index.js';
import type { ImageConfigLike } from '../src/index.js';
import { officialErrors, officialSchemas } from './helpers/official.js';
import { cleanup, has, sh, tmp } from './helpers/tmp.js';

afterAll(cleanup);

const passwd = 'root:x:0:0:root:/root:/bin/sh\nredis:x:100:101::/var/lib/redis:/bin/false\nweb:x:33:33::/var/www:/bin/false\n';
const group = 'root:x:0:\nadm:x:4:redis\nredis:x:101:\naudio:x:29:redis,web\nwww-data:x:33:\n';

function rootfsWithUsers(): string {
  const root = join(tmp(), 'rootfs');
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), passwd);
  writeFileSync(join(root, 'etc/group'), group);
  return root;
}

function convertError(img: ImageConfigLike, rootfs: string): RuntimeSpecError {
  try {
    imageConfigToSpec(img, { rootfs });
  } catch (err) {
    if (RuntimeSpecError.is(err)) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('imageConfigToSpec (image-spec conversion.md)', () => {
  let rootfs: string;
  beforeAll(() => {
    rootfs = rootfsWithUsers();
  });

  it('args = Entrypoint + Cmd; args option replaces Cmd; entrypoint option replaces Entrypoint', () => {
    const img = { os: 'linux', architecture: 'amd64', config: { Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['redis-server', '--save', ''] } };
    expect(imageConfigToSpec(img, { rootfs }).process?.args).toEqual(['/docker-entrypoint.sh', 'redis-server', '--save', '']);
    expect(imageConfigToSpec(img, { rootfs, args: ['redis-cli', 'ping'] }).process?.args).toEqual(['/docker-entrypoint.sh', 'redis-cli', 'ping']);
    expect(imageConfigToSpec(img, { rootfs, args: [] }).process?.args).toEqual(['/docker-entrypoint.sh']);
    expect(imageConfigToSpec(img, { rootfs, entrypoint: ['/bin/sh', '-c'], args: ['echo hi'] }).process?.args).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(imageConfigToSpec(img, { rootfs, entrypoint: [] }).process?.args).toEqual(['redis-server', '--save', '']);
    expect(imageConfigToSpec({ config: { Cmd: ['/hello'] } }, { rootfs }).process?.args).toEqual(['/hello']);
    expect(imageConfigToSpec({ config: { Entrypoint: null, Cmd: null } }, { rootfs }).process?.args).toEqual(['sh']);
  });

  it('env: image entries replace same-named defaults in place, others are appended; PATH default kept', () => {
    const s = imageConfigToSpec({ config: { Env: ['FOO=bar', 'PATH=/opt/bin', 'EMPTY=', 'EQ=a=b'] } }, { rootfs });
    expect(s.process?.env).toEqual(['PATH=/opt/bin', 'TERM=xterm', 'FOO=bar', 'EMPTY=', 'EQ=a=b', 'HOME=/root']);
    const base = defaultSpec();
    base.process!.env = ['TERM=xterm'];
    expect(imageConfigToSpec({ config: {} }, { rootfs, base }).process?.env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'TERM=xterm',
      'HOME=/root',
    ]);
  });

  it('HOME comes from /etc/passwd unless the image sets it (umoci overrides it; the conversion document says not to)', () => {
    expect(imageConfigToSpec({ config: { User: 'redis' } }, { rootfs }).process?.env).toContain('HOME=/var/lib/redis');
    expect(imageConfigToSpec({ config: { User: 'redis', Env: ['HOME=/x'] } }, { rootfs }).process?.env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'TERM=xterm',
      'HOME=/x',
    ]);
    expect(imageConfigToSpec({ config: { User: '1234' } }, { rootfs }).process?.env).not.toContainEqual(expect.stringMatching(/^HOME=/));
  });

  it('cwd = WorkingDir or /', () => {
    expect(imageConfigToSpec({ config: { WorkingDir: '/data' } }, { rootfs }).process?.cwd).toBe('/data');
    expect(imageConfigToSpec({ config: { WorkingDir: '' } }, { rootfs }).process?.cwd).toBe('/');
    expect(imageConfigToSpec({}, { rootfs }).process?.cwd).toBe('/');
  });

  it('user: names and groups resolved through the rootfs, supplementary groups from membership', () => {
    const user = (u: string): unknown => imageConfigToSpec({ config: { User: u } }, { rootfs }).process?.user;
    expect(user('redis')).toEqual({ uid: 100, gid: 101, additionalGids: [4, 29] });
    expect(user('redis:adm')).toEqual({ uid: 100, gid: 4 });
    expect(user('web:0')).toEqual({ uid: 33, gid: 0 });
    expect(user('33')).toEqual({ uid: 33, gid: 33, additionalGids: [29] });
    expect(user('5000:5000')).toEqual({ uid: 5000, gid: 5000 });
    expect(user('5000:www-data')).toEqual({ uid: 5000, gid: 33 });
    expect(user('')).toEqual({ uid: 0, gid: 0 });
  });

  it('keeps the base umask', () => {
    const base = defaultSpec();
    base.process!.user = { uid: 7, gid: 7, umask: 0o22 };
    expect(imageConfigToSpec({ config: { User: 'redis:adm' } }, { rootfs, base }).process?.user).toEqual({ uid: 100, gid: 4, umask: 0o22 });
  });

  it('ERR_INVALID_USER for names the rootfs does not know, and without /etc/passwd', () => {
    for (const u of ['nobody', 'redis:wheel', '10:nogroup']) {
      const err = convertError({ config: { User: u } }, rootfs);
      expect(err.code).toBe('ERR_INVALID_USER');
      expect(err.message).toContain(u);
      expect(err.hint).toBeTruthy();
    }
    const empty = join(tmp(), 'rootfs');
    mkdirSync(empty);
    expect(convertError({ config: { User: 'redis' } }, empty).message).toMatch(/has no \/etc\/passwd/);
    expect(imageConfigToSpec({ config: { User: '1:2' } }, { rootfs: empty }).process?.user).toEqual({ uid: 1, gid: 2 });
  });

  it('ERR_UNSAFE_PATH when /etc/passwd climbs out of the rootfs', () => {
    const base = tmp();
    const root = join(base, 'rootfs');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(base, 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
    symlinkSync('../../passwd', join(root, 'etc/passwd'));
    expect(convertError({ config: { User: 'evil' } }, root).code).toBe('ERR_UNSAFE_PATH');
  });

  it('annotations: implicit ones from the config, Labels win, exposedPorts comma-joined, sorted keys', () => {
    const s = imageConfigToSpec(
      {
        created: '2024-05-01T10:00:00.123456789Z',
        author: 'me',
        os: 'linux',
        'os.version': '6.1',
        'os.features': ['a', 'b'],
        architecture: 'arm',
        variant: 'v7',
        config: {
          ExposedPorts: { '80/tcp': {}, '53/udp': {} },
          StopSignal: 'SIGQUIT',
          Labels: { 'org.opencontainers.image.author': 'label wins', 'com.example': 'x' },
          Volumes: { '/data': {}, '/logs': {} },
        },
      },
      { rootfs },
    );
    expect(s.annotations).toEqual({
      'com.example': 'x',
      [ImageAnnotation.Architecture]: 'arm',
      [ImageAnnotation.Author]: 'label wins',
      [ImageAnnotation.Created]: '2024-05-01T10:00:00.123456789Z',
      [ImageAnnotation.ExposedPorts]: '80/tcp,53/udp',
      [ImageAnnotation.OS]: 'linux',
      [ImageAnnotation.OSFeatures]: 'a,b',
      [ImageAnnotation.OSVersion]: '6.1',
      [ImageAnnotation.StopSignal]: 'SIGQUIT',
      [ImageAnnotation.Variant]: 'v7',
      [ImageAnnotation.Volumes]: '/data,/logs',
    });
    expect(Object.keys(s.annotations!)).toEqual(Object.keys(s.annotations!).sort());
  });

  it('volumes: annotation (default), tmpfs mounts as umoci, or ignored', () => {
    const img = { config: { Volumes: { '/data': {} } } };
    const tmpfs = imageConfigToSpec(img, { rootfs, volumes: 'tmpfs' });
    expect(tmpfs.mounts?.at(-1)).toEqual({ destination: '/data', type: 'tmpfs', source: 'none', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'] });
    expect(tmpfs.annotations).toBeUndefined();
    const ignored = imageConfigToSpec(img, { rootfs, volumes: 'ignore' });
    expect(ignored.mounts).toEqual(defaultSpec().mounts);
    expect(ignored.annotations).toBeUndefined();
  });

  it('terminal false by default; root path from the rootfs name, writable', () => {
    const s = imageConfigToSpec({}, { rootfs });
    expect(s.process?.terminal).toBe(false);
    expect(s.root).toEqual({ path: 'rootfs', readonly: false });
    expect(imageConfigToSpec({}, { rootfs, terminal: true, readonly: true, rootPath: '/abs/rootfs' })).toMatchObject({
      process: { terminal: true },
      root: { path: '/abs/rootfs', readonly: true },
    });
  });

  it('null fields (as Docker writes them) are absent fields', () => {
    const s = imageConfigToSpec({ config: { Labels: null, Volumes: null, ExposedPorts: null, Env: null, Entrypoint: null, Cmd: ['x'] } }, { rootfs });
    expect(s.process?.args).toEqual(['x']);
    expect(s.annotations).toBeUndefined();
    expect(imageConfigToSpec({ config: null }, { rootfs }).process?.cwd).toBe('/');
  });

  it('does not modify base or the image config', () => {
    const base = defaultSpec();
    const img = { config: { Env: ['A=1'], Cmd: ['x'], Labels: { a: 'b' } } };
    const before = JSON.stringify([base, img]);
    imageConfigToSpec(img, { rootfs, base });
    expect(JSON.stringify([base, img])).toBe(before);
  });

  it('ERR_INVALID_IMAGE_CONFIG for malformed fields and non-Linux images', () => {
    const bad: unknown[] = [
      null,
      { os: 'windows' },
      { config: { Env: ['NOEQUALS'] } },
      { config: { Env: ['=value'] } },
      { config: { Env: 'A=1' } },
      { config: { Cmd: [1] } },
      { config: { Entrypoint: 'sh' } },
      { config: { User: 0 } },
      { config: { WorkingDir: 5 } },
      { config: { Labels: { a: 1 } } },
    ];
    for (const img of bad) expect(convertError(img as ImageConfigLike, rootfs).code, JSON.stringify(img)).toBe('ERR_INVALID_IMAGE_CONFIG');
  });

  it('the result is valid against ours and the official 1.0.2 and 1.3.0 schemas', () => {
    const s = imageConfigToSpec({ os: 'linux', architecture: 'amd64', config: { User: 'redis', Cmd: ['x'], ExposedPorts: { '1/tcp': {} } } }, { rootfs });
    expect(validateSpec(s).errors).toEqual([]);
    for (const o of officialSchemas()) expect(officialErrors(o.config, s), o.name).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// umoci as the oracle: a tiny image made by umoci itself, unpacked by umoci; the process fields must agree.

interface Scenario {
  name: string;
  /** `umoci config` flags */
  flags: string[];
}

const SCENARIOS: Scenario[] = [
  { name: 'no user, no cmd', flags: [] },
  { name: 'entrypoint + cmd + env + workingdir + name user', flags: ['--config.entrypoint', '/bin/sh', '--config.entrypoint', '-c', '--config.cmd', 'echo hi', '--config.env', 'FOO=bar', '--config.env', 'PATH=/opt/bin:/bin', '--config.workingdir', '/srv', '--config.user', 'redis'] },
  { name: 'name:group', flags: ['--config.user', 'redis:adm', '--config.cmd', '/x'] },
  { name: 'uid:gid without entries', flags: ['--config.user', '1000:1000'] },
  { name: 'uid with an entry', flags: ['--config.user', '33', '--config.env', 'TERM=dumb'] },
  { name: 'uid:groupname', flags: ['--config.user', '5000:www-data', '--config.entrypoint', '/bin/true'] },
  { name: 'name:gid', flags: ['--config.user', 'web:4', '--config.workingdir', '/var/www'] },
];

const umoci = has('umoci') && process.geteuid?.() === 0;

describe.skipIf(!umoci)('imageConfigToSpec against umoci unpack', () => {
  let layout: string;
  let work: string;

  beforeAll(() => {
    work = tmp();
    layout = join(work, 'layout');
    sh('umoci', ['init', '--layout', layout]);
    sh('umoci', ['new', '--image', `${layout}:base`]);
    const b = join(work, 'base');
    sh('umoci', ['unpack', '--image', `${layout}:base`, b]);
    mkdirSync(join(b, 'rootfs/etc'), { recursive: true });
    writeFileSync(join(b, 'rootfs/etc/passwd'), passwd);
    writeFileSync(join(b, 'rootfs/etc/group'), group);
    sh('umoci', ['repack', '--image', `${layout}:base`, b]);
    for (const [i, sc] of SCENARIOS.entries()) {
      sh('umoci', ['config', '--image', `${layout}:base`, '--tag', `s${i}`, ...sc.flags]);
    }
  });

  function imageConfig(tag: string): ImageConfigLike {
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!;
    const blob = (d: string): unknown => JSON.parse(readFileSync(join(layout, 'blobs', ...d.split(':')), 'utf8'));
    const manifest = blob(desc.digest) as { config: { digest: string } };
    return blob(manifest.config.digest) as ImageConfigLike;
  }

  it.each(SCENARIOS.map((s, i) => [s.name, i] as const))('%s: args, env, cwd, user match umoci', (_name, i) => {
    const bundle = join(work, `b${i}`);
    sh('umoci', ['unpack', '--image', `${layout}:s${i}`, bundle]);
    const theirs = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
    const ours = imageConfigToSpec(imageConfig(`s${i}`), { rootfs: join(bundle, 'rootfs') });
    expect(ours.process?.args).toEqual(theirs.process?.args);
    expect(ours.process?.env).toEqual(theirs.process?.env);
    expect(ours.process?.cwd).toEqual(theirs.process?.cwd);
    expect(ours.process?.user).toEqual(theirs.process?.user);
    // os/architecture annotations as umoci writes them (umoci also writes "" for absent author, stopSignal and
    // exposedPorts; we write only what the image has).
    for (const key of [ImageAnnotation.OS, ImageAnnotation.Architecture]) {
      expect(ours.annotations?.[key], key).toBe(theirs.annotations?.[key]);
    }
    // umoci's own config.json is a valid config for us and the official schema; ours passes checkSpec.
    expect(validateSpec(theirs).errors).toEqual([]);
    expect(checkSpec(ours).errors).toEqual([]);
    expect(validateSpec(ours).errors).toEqual([]);
    expect(officialErrors(officialSchemas().find((o) => o.name === 'v1.0.2')!.config, theirs)).toEqual([]);
  });

  it('an unknown user fails in umoci and in ours (ERR_INVALID_USER)', () => {
    sh('umoci', ['config', '--image', `${layout}:base`, '--tag', 'bad', '--config.user', 'nobody']);
    const bundle = join(work, 'bad');
    expect(() => sh('umoci', ['unpack', '--image', `${layout}:bad`, bundle])).toThrow(/nobody/);
    const root = join(work, 'base', 'rootfs');
    expect(convertError(imageConfig('bad'), root).code).toBe('ERR_INVALID_USER');
  });

  it('exposed ports: the same comma-joined annotation as umoci', () => {
    sh('umoci', ['config', '--image', `${layout}:base`, '--tag', 'ports', '--config.exposedports', '8080/tcp', '--config.stopsignal', 'SIGINT']);
    const bundle = join(work, 'ports');
    sh('umoci', ['unpack', '--image', `${layout}:ports`, bundle]);
    const theirs = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
    const ours = imageConfigToSpec(imageConfig('ports'), { rootfs: join(bundle, 'rootfs') });
    expect(ours.annotations?.[ImageAnnotation.ExposedPorts]).toBe(theirs.annotations?.[ImageAnnotation.ExposedPorts]);
    expect(ours.annotations?.[ImageAnnotation.StopSignal]).toBe('SIGINT');
    expect(theirs.annotations?.[ImageAnnotation.StopSignal]).toBe('SIGINT');
  });
});
