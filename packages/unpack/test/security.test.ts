// Hostile layers: each case reproduces a known advisory's attack shape. The
// canary beside the rootfs must stay untouched whatever happens.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyLayer, UnpackError } from '../src/index.js';
import { scratch, type Scratch } from './helpers/canary.js';
import { makeTar, type TarSpec } from './helpers/tar.js';

let s: Scratch;
beforeEach(() => {
  s = scratch();
});
afterEach(() => {
  s.assertCanaryIntact();
  s.cleanup();
});

async function apply(...layers: TarSpec[][]): Promise<unknown> {
  try {
    for (const layer of layers) await applyLayer(s.rootfs, Readable.from([await makeTar(layer)]), { rootless: false });
    return undefined;
  } catch (err) {
    return err;
  }
}

function expectCode(err: unknown, code: string): void {
  expect(UnpackError.is(err), String(err)).toBe(true);
  expect((err as UnpackError).code).toBe(code);
}

describe('hostile layers', () => {
  it('refuses "../" names that climb out (node-tar GHSA path traversal)', async () => {
    expectCode(await apply([{ name: '../outside/canary', content: 'pwned' }]), 'ERR_UNSAFE_PATH');
    expectCode(await apply([{ name: 'a/../../outside/canary', content: 'pwned' }]), 'ERR_UNSAFE_PATH');
  });

  it('refuses ".." hidden in a PAX long name', async () => {
    const name = 'a/' + 'b/../'.repeat(30) + '../../outside/canary';
    expectCode(await apply([{ name, content: 'pwned' }]), 'ERR_UNSAFE_PATH');
  });

  it('contains absolute names (node-tar CVE-2021-32804: leading slashes stripped)', async () => {
    expect(await apply([{ name: s.canary, content: 'pwned' }, { name: '////' + s.canary.slice(1) + '2', content: 'x' }])).toBeUndefined();
    expect(fs.readFileSync(join(s.rootfs, s.canary), 'utf8')).toBe('pwned');
    expect(fs.existsSync(join(s.rootfs, s.canary + '2'))).toBe(true);
  });

  it('contains a symlink planted in one layer and written through in the next (CVE-2018-15664 style)', async () => {
    const err = await apply(
      [{ name: 'evil', type: 'symlink', linkname: s.outside }],
      [{ name: 'evil/canary', content: 'pwned' }],
    );
    expect(err).toBeUndefined();
    // resolved as a chroot would: inside the rootfs
    expect(fs.readFileSync(join(s.rootfs, s.outside, 'canary'), 'utf8')).toBe('pwned');
    expect(fs.readlinkSync(join(s.rootfs, 'evil'))).toBe(s.outside);
  });

  it('contains a relative symlink with many ".." written through in the same layer', async () => {
    const err = await apply([
      { name: 'd', type: 'directory' },
      { name: 'd/up', type: 'symlink', linkname: '../'.repeat(20) + s.outside.slice(1) },
      { name: 'd/up/canary', content: 'pwned' },
    ]);
    expect(err).toBeUndefined();
    expect(fs.readFileSync(join(s.rootfs, s.outside, 'canary'), 'utf8')).toBe('pwned');
  });

  it('replaces a directory by a symlink and does not write through it (node-tar CVE-2021-32803)', async () => {
    const err = await apply([
      { name: 'a', type: 'directory' },
      { name: 'a', type: 'symlink', linkname: s.outside },
      { name: 'a/canary', content: 'pwned' },
    ]);
    expect(err).toBeUndefined();
    expect(fs.lstatSync(join(s.rootfs, 'a')).isSymbolicLink()).toBe(true);
  });

  it('replaces a final-component symlink instead of writing or chmodding through it (containerd CVE-2021-32760)', async () => {
    const err = await apply(
      [
        { name: 'x', type: 'symlink', linkname: s.canary },
        { name: 'y', type: 'symlink', linkname: s.outside },
      ],
      [
        { name: 'x', content: 'new', mode: 0o4777 },
        { name: 'y', type: 'directory', mode: 0o777 },
      ],
    );
    expect(err).toBeUndefined();
    expect(fs.readFileSync(join(s.rootfs, 'x'), 'utf8')).toBe('new');
    expect(fs.lstatSync(join(s.rootfs, 'y')).isDirectory()).toBe(true);
  });

  it('refuses to replace the rootfs itself by a symlink (umoci CVE-2021-29136)', async () => {
    expectCode(await apply([{ name: '.', type: 'symlink', linkname: s.outside }, { name: 'canary', content: 'pwned' }]), 'ERR_UNSAFE_PATH');
    expectCode(await apply([{ name: './', type: 'symlink', linkname: '..' }]), 'ERR_UNSAFE_PATH');
  });

  it('refuses hardlinks whose target climbs out', async () => {
    expectCode(await apply([{ name: 'h', type: 'link', linkname: '../outside/canary' }]), 'ERR_UNSAFE_PATH');
  });

  it('resolves absolute hardlink targets inside the rootfs', async () => {
    // /base/outside/canary does not exist inside the rootfs
    expectCode(await apply([{ name: 'h', type: 'link', linkname: s.canary }]), 'ERR_BAD_LAYER');
  });

  it('does not hardlink through a symlinked directory to the host', async () => {
    expectCode(
      await apply([
        { name: 'd', type: 'symlink', linkname: s.outside },
        { name: 'h', type: 'link', linkname: 'd/canary' },
      ]),
      'ERR_BAD_LAYER',
    );
  });

  it('a hardlink to an escaping symlink links the symlink, and a later write replaces it', async () => {
    const err = await apply(
      [
        { name: 's', type: 'symlink', linkname: s.canary },
        { name: 'h', type: 'link', linkname: 's' },
      ],
      [{ name: 'h', content: 'pwned' }],
    );
    expect(err).toBeUndefined();
    expect(fs.readlinkSync(join(s.rootfs, 's'))).toBe(s.canary);
    expect(fs.readFileSync(join(s.rootfs, 'h'), 'utf8')).toBe('pwned');
  });

  it('refuses whiteouts naming "." or ".." and contains whiteouts behind symlinks', async () => {
    expectCode(await apply([{ name: 'a/.wh...', content: '' }]), 'ERR_UNSAFE_PATH');
    expectCode(await apply([{ name: '.wh..', content: '' }]), 'ERR_UNSAFE_PATH');
    expectCode(await apply([{ name: '../outside/.wh.canary', content: '' }]), 'ERR_UNSAFE_PATH');
    expect(
      await apply([{ name: 'd', type: 'symlink', linkname: s.outside }], [{ name: 'd/.wh.canary', content: '' }]),
    ).toBeUndefined();
    expect(
      await apply([{ name: 'e', type: 'symlink', linkname: '../outside' }], [{ name: 'e/.wh..wh..opq', content: '' }]),
    ).toBeUndefined();
  });

  it('refuses symlink loops', async () => {
    expectCode(
      await apply([
        { name: 'a', type: 'symlink', linkname: 'b' },
        { name: 'b', type: 'symlink', linkname: 'a' },
        { name: 'a/x', content: 'x' },
      ]),
      'ERR_UNSAFE_PATH',
    );
  });

  it('creates devices only inside the rootfs, through symlinked parents too', async () => {
    const err = await apply(
      [{ name: 'dev', type: 'symlink', linkname: s.outside }],
      [{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }],
    );
    expect(err).toBeUndefined();
    expect(fs.lstatSync(join(s.rootfs, s.outside, 'null')).isCharacterDevice()).toBe(true);
  });
});
