import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture, type FixtureInfo } from '@oci/fixtures';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';
import { checkPolicy, loadPolicy, parsePolicy, parseReference, policyRequirementsFor, policyScopes, RegistryError, type Policy, type PolicyImage } from '../src/index.js';

const ACCEPT = [{ type: 'insecureAcceptAnything' }];
const REJECT = [{ type: 'reject' }];
const docker = (ref: string): PolicyImage => ({ transport: 'docker', reference: parseReference(ref) });
const outcome = (policy: Policy, image: PolicyImage): string => {
  try {
    checkPolicy(policy, image);
    return 'accept';
  } catch (err) {
    return RegistryError.is(err) ? err.code : 'crash';
  }
};

describe('parsePolicy (strict, as containers/image)', () => {
  it('accepts the shapes of containers-policy.json(5)', () => {
    const p = parsePolicy(JSON.stringify({
      default: REJECT,
      transports: {
        docker: {
          '': ACCEPT,
          'docker.io': REJECT,
          'docker.io/library/busybox': ACCEPT,
          'quay.io/ns/app:v1': ACCEPT,
          [`localhost:5000/x@sha256:${'a'.repeat(64)}`]: ACCEPT,
          '*.example.com': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k.gpg', signedIdentity: { type: 'matchRepository' } }],
        },
        oci: { '/var/images': ACCEPT, '/var/images/one:latest': REJECT },
        dir: { '/srv/dirs': ACCEPT },
        'docker-daemon': { '': ACCEPT },
      },
    }));
    expect(p.default).toEqual(REJECT);
    expect(Object.keys(p.transports.docker!)).toHaveLength(6);
  });

  it.each([
    ['not JSON', '{'],
    ['no default', JSON.stringify({ transports: {} })],
    ['empty default', JSON.stringify({ default: [] })],
    ['unknown top-level field', JSON.stringify({ default: ACCEPT, extra: 1 })],
    ['unknown requirement type', JSON.stringify({ default: [{ type: 'acceptAll' }] })],
    ['unknown requirement field', JSON.stringify({ default: [{ type: 'reject', why: 'x' }] })],
    ['signedBy without keys', JSON.stringify({ default: [{ type: 'signedBy', keyType: 'GPGKeys' }] })],
    ['signedBy with two key sources', JSON.stringify({ default: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/a', keyData: 'eA==' }] })],
    ['signedBy with another key type', JSON.stringify({ default: [{ type: 'signedBy', keyType: 'SSH', keyPath: '/a' }] })],
    ['bad signedIdentity', JSON.stringify({ default: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/a', signedIdentity: { type: 'any' } }] })],
    ['unknown transport', JSON.stringify({ default: ACCEPT, transports: { ftp: { '': ACCEPT } } })],
    ['transport not an object', JSON.stringify({ default: ACCEPT, transports: { docker: [] } })],
    ['empty scope requirements', JSON.stringify({ default: ACCEPT, transports: { docker: { 'docker.io': [] } } })],
    ['wildcard in the middle', JSON.stringify({ default: ACCEPT, transports: { docker: { 'example*.com': ACCEPT } } })],
    ['wildcard with a port', JSON.stringify({ default: ACCEPT, transports: { docker: { '*.example.com:5000': ACCEPT } } })],
    ['short docker name', JSON.stringify({ default: ACCEPT, transports: { docker: { 'busybox:latest': ACCEPT } } })],
    ['relative oci path', JSON.stringify({ default: ACCEPT, transports: { oci: { 'images/x': ACCEPT } } })],
    ['dir scope "/"', JSON.stringify({ default: ACCEPT, transports: { dir: { '/': ACCEPT } } })],
    ['default not an array', JSON.stringify({ default: { type: 'reject' } })],
  ])('refuses %s with ERR_POLICY_INVALID', (_name, text) => {
    expect(() => parsePolicy(text, '/etc/containers/policy.json')).toThrow(expect.objectContaining({ code: 'ERR_POLICY_INVALID' }));
  });
});

describe('scopes and the most specific match', () => {
  it('lists docker scopes from the image to the host and its wildcard domains', () => {
    expect(policyScopes(docker('registry.example.com/team/app:v2'))).toEqual([
      'registry.example.com/team/app:v2', 'registry.example.com/team/app', 'registry.example.com/team', 'registry.example.com',
      '*.example.com', '*.com',
    ]);
    expect(policyScopes(docker('busybox'))).toEqual(['docker.io/library/busybox:latest', 'docker.io/library/busybox', 'docker.io/library', 'docker.io', '*.io']);
    expect(policyScopes(docker(`127.0.0.1:5000/x@sha256:${'b'.repeat(64)}`))).toEqual([
      `127.0.0.1:5000/x@sha256:${'b'.repeat(64)}`, '127.0.0.1:5000/x', '127.0.0.1:5000',
    ]);
  });

  it('lists oci and dir scopes from the directory to its parents, never "/"', () => {
    // the ref is not part of an oci identity (containers/image: "$dir:$ref" and "$dir:" may name the same image)
    expect(policyScopes({ transport: 'oci', path: '/var/images/one', ref: 'latest' })).toEqual(['/var/images/one', '/var/images', '/var']);
    expect(policyScopes({ transport: 'dir', path: '/srv/d/' })).toEqual(['/srv/d', '/srv']);
  });

  it('uses only the most specific scope: a repository accepted inside a rejected host', () => {
    const p = parsePolicy(JSON.stringify({
      default: REJECT,
      transports: { docker: { 'docker.io': REJECT, 'docker.io/library/busybox': ACCEPT, 'docker.io/library/busybox:evil': REJECT }, oci: { '': ACCEPT } },
    }));
    expect(outcome(p, docker('busybox'))).toBe('accept');
    expect(outcome(p, docker('busybox:evil'))).toBe('ERR_POLICY_REJECTED');
    expect(outcome(p, docker('alpine'))).toBe('ERR_POLICY_REJECTED');
    expect(outcome(p, docker('quay.io/x/y'))).toBe('ERR_POLICY_REJECTED'); // no docker "" scope: the global default
    expect(policyRequirementsFor(p, docker('quay.io/x/y')).transport).toBeUndefined();
    expect(outcome(p, { transport: 'oci', path: '/any', ref: 'x' })).toBe('accept');
    expect(outcome(p, { transport: 'dir', path: '/any' })).toBe('ERR_POLICY_REJECTED');
  });

  it('refuses images that need signatures (never accepts them unchecked)', () => {
    const p = parsePolicy(JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }, { type: 'sigstoreSigned', keyPath: '/k.pub' }] }));
    expect(outcome(p, docker('busybox'))).toBe('ERR_SIGNATURE_UNSUPPORTED');
  });
});

describe('loadPolicy', () => {
  let tmp: TmpDir;
  beforeAll(async () => {
    tmp = await tmpDir('oci-policy-');
  });
  afterAll(async () => {
    await tmp.cleanup();
  });

  it('prefers $HOME/.config/containers/policy.json, and a given path must exist', async () => {
    const home = join(tmp.path, 'home');
    await mkdir(join(home, '.config', 'containers'), { recursive: true });
    await writeFile(join(home, '.config', 'containers', 'policy.json'), JSON.stringify({ default: REJECT }));
    expect((await loadPolicy({ home }))?.default).toEqual(REJECT);
    await expect(loadPolicy({ path: join(tmp.path, 'missing.json') })).rejects.toMatchObject({ code: 'ERR_POLICY_INVALID' });
    await writeFile(join(tmp.path, 'bad.json'), '{"default": []}');
    await expect(loadPolicy({ path: join(tmp.path, 'bad.json') })).rejects.toMatchObject({ code: 'ERR_POLICY_INVALID', message: expect.stringContaining('bad.json') });
  });
});

describe('skopeo as the oracle: the same policy accepts and rejects the same images', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  let busybox: FixtureInfo;
  beforeAll(async () => {
    [reg, tmp, busybox] = await Promise.all([startRegistry({ mode: 'plain' }), tmpDir('oci-policy-oracle-'), buildFixture('busybox')]);
    await pushFixture('busybox', reg, 'team/app', { format: 'oci' });
    await pushFixture('busybox', reg, 'other/app', { format: 'oci' });
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('for docker:// and oci: sources under several policies', async () => {
    const layoutDir = await realpath(busybox.layout);
    const host = reg.host;
    const policies: Record<string, unknown> = {
      acceptAll: { default: ACCEPT },
      rejectAll: { default: REJECT },
      hostAccepted: { default: REJECT, transports: { docker: { [host]: ACCEPT } } },
      repoAcceptedInRejectedHost: { default: ACCEPT, transports: { docker: { [host]: REJECT, [`${host}/team/app`]: ACCEPT } } },
      tagRejected: { default: ACCEPT, transports: { docker: { [`${host}/team/app:latest`]: REJECT } } },
      namespaceRejected: { default: ACCEPT, transports: { docker: { [`${host}/other`]: REJECT } } },
      transportDefault: { default: ACCEPT, transports: { docker: { '': REJECT } } },
      ociParentAccepted: { default: REJECT, transports: { oci: { [layoutDir.slice(0, layoutDir.lastIndexOf('/'))]: ACCEPT } } },
      ociRefRejected: { default: ACCEPT, transports: { oci: { [`${layoutDir}:latest`]: REJECT } } },
      ociDirRejected: { default: ACCEPT, transports: { oci: { [layoutDir]: REJECT } } },
    };
    const images: { name: string; skopeo: string; ours: PolicyImage }[] = [
      { name: 'team', skopeo: `docker://${host}/team/app:latest`, ours: docker(`${host}/team/app:latest`) },
      { name: 'other', skopeo: `docker://${host}/other/app:latest`, ours: docker(`${host}/other/app:latest`) },
      { name: 'oci', skopeo: `oci:${layoutDir}:latest`, ours: { transport: 'oci', path: layoutDir, ref: 'latest' } },
    ];
    const mismatches: string[] = [];
    let n = 0;
    for (const [name, doc] of Object.entries(policies)) {
      const file = join(tmp.path, `${name}.json`);
      await writeFile(file, JSON.stringify(doc));
      const policy = parsePolicy(JSON.stringify(doc), file);
      for (const image of images) {
        const dest = join(tmp.path, `out-${n++}`);
        const r = await run('skopeo', ['--policy', file, 'copy', '-q', '--src-tls-verify=false', image.skopeo, `oci:${dest}:x`]);
        const skopeoAccepts = r.code === 0;
        if (!skopeoAccepts && !/rejected by policy/i.test(r.stderr)) throw new Error(`skopeo failed for another reason: ${r.stderr}`);
        const ours = outcome(policy, image.ours);
        if ((ours === 'accept') !== skopeoAccepts) mismatches.push(`${name} ${image.name}: skopeo ${skopeoAccepts ? 'accepts' : 'rejects'}, ours ${ours}`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);
});
