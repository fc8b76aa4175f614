// Our schemas against the official ones: a corpus of valid configs accepted by both, invalid ones rejected by both.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import { defaultSpec, featuresDocument, imageConfigToSpec, SCHEMA_FILES, validateFeatures, validateSpec, validateState } from '../src/index.js';
import { INVALID, invalidDoc } from './fixtures/invalid-configs.js';
import { officialErrors, officialSchemas } from './helpers/official.js';
import { files as schemaSources, generateValidators, render } from '../scripts/schemas.mjs';

const FIXTURES = new URL('./fixtures/valid/', import.meta.url);

function minorOf(doc: unknown): number {
  const v = (doc as { ociVersion?: unknown }).ociVersion;
  return typeof v === 'string' ? Number(v.split('.')[1]) : 0;
}

interface ValidCase {
  name: string;
  doc: unknown;
}

function validCorpus(): ValidCase[] {
  const out: ValidCase[] = [];
  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.json')).sort()) {
    out.push({ name: f, doc: JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) });
  }
  out.push({ name: 'defaultSpec()', doc: defaultSpec() });
  out.push({ name: 'defaultSpec({ rootless })', doc: defaultSpec({ rootless: true, uid: 1000, gid: 100 }) });
  for (const v of ['1.0.0', '1.0.1', '1.0.2', '1.0.2-dev', '1.1.0-rc.1', '1.1.0', '1.2.0', '1.2.1', '1.3.0', '1.3.9+build.5']) {
    out.push({ name: `defaultSpec ociVersion ${v}`, doc: defaultSpec({ ociVersion: v }) });
  }
  const db = {
    passwd: 'root:x:0:0:root:/root:/bin/sh\nredis:x:100:101:redis:/var/lib/redis:/usr/sbin/nologin\n',
    group: 'root:x:0:\nredis:x:101:\nadm:x:4:redis\n',
  };
  const images = [
    { os: 'linux', architecture: 'amd64', config: { Cmd: ['/hello'] } },
    {
      created: '2024-01-01T00:00:00Z',
      author: 'someone',
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
      config: {
        User: 'redis',
        Env: ['PATH=/usr/local/bin:/usr/bin', 'REDIS_VERSION=7'],
        Entrypoint: ['docker-entrypoint.sh'],
        Cmd: ['redis-server'],
        WorkingDir: '/data',
        ExposedPorts: { '6379/tcp': {} },
        Volumes: { '/data': {} },
        Labels: { 'org.opencontainers.image.title': 'redis' },
        StopSignal: 'SIGTERM',
      },
    },
  ];
  for (const [i, img] of images.entries()) {
    out.push({ name: `converted image ${i}`, doc: imageConfigToSpec(img, { rootfs: '/nonexistent/rootfs', userDatabase: db }) });
    out.push({
      name: `converted image ${i} (tmpfs volumes)`,
      doc: imageConfigToSpec(img, { rootfs: '/x/rootfs', userDatabase: db, volumes: 'tmpfs', terminal: true }),
    });
  }
  return out;
}

describe('schema files', () => {
  it.each([...SCHEMA_FILES])('%s is generated from scripts/schemas.mjs (drift check)', async (name) => {
    await expect(render((schemaSources as Record<string, unknown>)[name])).toMatchFileSnapshot(`../schema/${name}`);
  });

  it('src/generated/validators.cjs is ajv standalone code of exactly these schemas (drift check)', async () => {
    await expect((generateValidators as () => string)()).toMatchFileSnapshot('../src/generated/validators.cjs');
  });

  it('the published schema files compile on their own (ajv-draft-04, registered by file name) and agree with validateSpec', () => {
    const Ajv = ((AjvDraft04 as unknown as { default?: unknown }).default ?? AjvDraft04) as unknown as typeof AjvDraft04.default;
    const ajv = new Ajv({ strict: false, allErrors: true });
    for (const name of SCHEMA_FILES) ajv.addSchema(JSON.parse(readFileSync(new URL(`../schema/${name}`, import.meta.url), 'utf8')) as object, name);
    const config = ajv.getSchema('config-schema.json')!;
    for (const c of validCorpus()) expect(config(c.doc), c.name).toBe(true);
    for (const c of INVALID) expect(config(invalidDoc(c)), c.name).toBe(false);
  });

  it('is exported as ./schema/*.json and shipped in files', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, unknown>;
      files: string[];
    };
    expect(pkg.exports['./schema/*.json']).toBe('./schema/*.json');
    expect(pkg.files).toContain('schema');
  });
});

describe('valid corpus: accepted by ours and by the official schemas', () => {
  const official = officialSchemas();
  it('has the official schemas to compare with', () => {
    expect(official.map((o) => o.name)).toEqual(expect.arrayContaining(['v1.0.2', 'v1.1.0', 'v1.2.1', 'v1.3.0']));
  });

  it.each(validCorpus().map((c) => [c.name, c.doc] as const))('%s', (_name, doc) => {
    expect(validateSpec(doc)).toEqual({ valid: true, errors: [] });
    const minor = Math.min(minorOf(doc), 3);
    // Every official schema at least as new as the document's version must accept it; 1.3.0 always.
    for (const o of official.filter((s) => s.minor >= minor || s.name === 'v1.3.0')) {
      expect(officialErrors(o.config, doc), `${o.name}`).toEqual([]);
    }
  });

  it('the kitchen-sink config sets every field our types know', () => {
    const doc = JSON.parse(readFileSync(new URL('kitchen-sink-1.3.json', FIXTURES), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(doc.linux!).sort()).toEqual(
      [
        'namespaces', 'uidMappings', 'gidMappings', 'timeOffsets', 'devices', 'netDevices', 'cgroupsPath', 'resources',
        'rootfsPropagation', 'seccomp', 'sysctl', 'maskedPaths', 'readonlyPaths', 'mountLabel', 'intelRdt',
        'memoryPolicy', 'personality',
      ].sort(),
    );
    expect(Object.keys(doc.process!).sort()).toEqual(
      [
        'terminal', 'consoleSize', 'user', 'args', 'env', 'cwd', 'capabilities', 'rlimits', 'noNewPrivileges',
        'apparmorProfile', 'oomScoreAdj', 'selinuxLabel', 'ioPriority', 'scheduler', 'execCPUAffinity',
      ].sort(),
    );
  });
});

describe('invalid corpus: rejected by ours and by the official schemas', () => {
  const official = officialSchemas();
  it.each(INVALID.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const doc = invalidDoc(c);
    const ours = validateSpec(doc);
    expect(ours.valid).toBe(false);
    expect(ours.errors.map((e) => e.path)).toContain(c.path);
    for (const o of official.filter((s) => s.minor >= (c.since ?? 0))) {
      expect(officialErrors(o.config, doc).length, `${o.name} should reject`).toBeGreaterThan(0);
    }
  });
});

describe('deliberate differences from the official schemas', () => {
  it('ours refuses ociVersions outside 1.0.0 .. 1.3.x, the official schemas take any string', () => {
    for (const v of ['2.0.0', '0.6.0', '1.4.0', '1.0', 'latest', '']) {
      const doc = defaultSpec({ ociVersion: v });
      expect(validateSpec(doc).errors, v).toEqual([{ path: '/ociVersion', message: expect.stringContaining('must be a runtime-spec version from 1.0.0 to 1.3.x') }]);
      expect(officialErrors(officialSchemas().at(-2)!.config, doc)).toEqual([]);
    }
  });

  it('ours accepts the recursive rootfsPropagation values runc accepts', () => {
    const doc = defaultSpec();
    doc.linux!.rootfsPropagation = 'rslave';
    expect(validateSpec(doc).valid).toBe(true);
  });

  it('ours checks capability names, oomScoreAdj range and device cgroup access letters', () => {
    const doc = defaultSpec();
    doc.process!.capabilities!.bounding = ['kill'];
    doc.process!.oomScoreAdj = 5000;
    doc.linux!.resources!.devices = [{ allow: true, access: 'rwx' }];
    expect(validateSpec(doc).errors.map((e) => e.path)).toEqual([
      '/process/capabilities/bounding/0',
      '/process/oomScoreAdj',
      '/linux/resources/devices/0/access',
    ]);
  });
});

describe('state and features schemas against the official ones', () => {
  const official = officialSchemas();
  const states = [
    { ociVersion: '1.0.2', id: 'c1', status: 'created', pid: 4422, bundle: '/containers/redis', annotations: { a: 'b' } },
    { ociVersion: '1.2.0', id: 'c1', status: 'stopped', bundle: '/b' },
    { ociVersion: '1.3.0', id: 'x', status: 'creating', pid: 0, bundle: '' },
  ];
  const badStates = [
    { ociVersion: '1.0.2', id: 'c1', status: 'paused', bundle: '/b' },
    { ociVersion: '1.0.2', id: 'c1', status: 'running', pid: -1, bundle: '/b' },
    { ociVersion: '1.0.2', status: 'running', bundle: '/b' },
    { ociVersion: '1.0.2', id: 'c1', status: 'running' },
  ];

  it.each(states)('state %# is valid in both', (s) => {
    expect(validateState(s)).toEqual({ valid: true, errors: [] });
    for (const o of official) expect(officialErrors(o.state, s), o.name).toEqual([]);
  });

  it.each(badStates)('bad state %# is rejected by both', (s) => {
    expect(validateState(s).valid).toBe(false);
    for (const o of official) expect(officialErrors(o.state, s).length, o.name).toBeGreaterThan(0);
  });

  it('featuresDocument() is valid in ours and the official 1.1+ features schemas', () => {
    const doc = featuresDocument({ annotations: { 'org.example.version': '1' } });
    expect(validateFeatures(doc)).toEqual({ valid: true, errors: [] });
    for (const o of official.filter((s) => s.features)) expect(officialErrors(o.features!, doc), o.name).toEqual([]);
  });

  it('a features document without ociVersionMax is rejected by both', () => {
    const { ociVersionMax: _, ...doc } = featuresDocument();
    expect(validateFeatures(doc).errors).toEqual([{ path: '/ociVersionMax', message: 'is required' }]);
    for (const o of official.filter((s) => s.features)) expect(officialErrors(o.features!, doc).length).toBeGreaterThan(0);
  });
});
