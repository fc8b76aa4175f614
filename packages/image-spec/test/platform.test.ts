import { describe, expect, it } from 'vitest';
import {
  formatPlatform,
  hostPlatform,
  MediaType,
  normalizeArch,
  normalizePlatform,
  parsePlatform,
  platformCandidates,
  platformMatches,
  selectManifest,
  type Descriptor,
  type Platform,
} from '../src/index.js';

describe('normalizeArch (containerd rules)', () => {
  const table: [string, string, string, string][] = [
    ['amd64', '', 'amd64', ''],
    ['x86_64', '', 'amd64', ''],
    ['x86-64', '', 'amd64', ''],
    ['AMD64', '', 'amd64', ''],
    ['amd64', 'v1', 'amd64', ''],
    ['amd64', 'v3', 'amd64', 'v3'],
    ['i386', '', '386', ''],
    ['aarch64', '', 'arm64', ''],
    ['arm64', 'v8', 'arm64', ''],
    ['arm64', '8', 'arm64', ''],
    ['aarch64', 'v8.0', 'arm64', ''],
    ['arm64', '9', 'arm64', 'v9'],
    ['arm64', 'v8.2', 'arm64', 'v8.2'],
    ['armhf', '', 'arm', 'v7'],
    ['armel', '', 'arm', 'v6'],
    ['arm', '', 'arm', 'v7'],
    ['arm', '7', 'arm', 'v7'],
    ['arm', '6', 'arm', 'v6'],
    ['arm', '5', 'arm', 'v5'],
    ['arm', 'v8', 'arm', 'v8'],
    ['armv7l', '', 'arm', 'v7'],
    ['armv6l', '', 'arm', 'v6'],
    ['ppc64el', '', 'ppc64le', ''],
    ['ppc64le', '', 'ppc64le', ''],
    ['s390x', '', 's390x', ''],
    ['riscv64', '', 'riscv64', ''],
  ];
  for (const [arch, variant, a, v] of table) {
    it(`${arch}${variant ? `/${variant}` : ''} -> ${a}${v ? `/${v}` : ''}`, () => {
      expect(normalizeArch(arch, variant)).toEqual({ architecture: a, variant: v });
    });
  }
});

describe('parsePlatform / formatPlatform', () => {
  it('parses os/arch/variant', () => {
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('Linux/x86_64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/aarch64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/armhf')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux/armel')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(parsePlatform('linux/arm')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('macos/arm64')).toEqual({ os: 'darwin', architecture: 'arm64' });
  });
  it('parses an os version in parentheses', () => {
    expect(parsePlatform('windows(10.0.17763)/amd64')).toEqual({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763' });
  });
  it('fills a lone OS or architecture from the host', () => {
    const host = hostPlatform();
    expect(parsePlatform('linux')).toMatchObject({ os: 'linux', architecture: host.architecture });
    expect(parsePlatform('arm64')).toEqual({ os: host.os, architecture: 'arm64' });
    expect(parsePlatform('aarch64')).toEqual({ os: host.os, architecture: 'arm64' });
  });
  for (const bad of ['', '/', 'linux/', '/amd64', 'linux//v7', 'linux/amd64/v1/x', 'linux amd64', 'plan10', 'linux/amd64\n', 'a'.repeat(300)]) {
    it(`rejects ${JSON.stringify(bad.slice(0, 20))} with ERR_INVALID_PLATFORM`, () => {
      expect(() => parsePlatform(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PLATFORM' }));
    });
  }
  it('formats', () => {
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
    expect(formatPlatform({ os: 'linux', architecture: 'amd64' })).toBe('linux/amd64');
    expect(formatPlatform({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763' })).toBe('windows/amd64');
    expect(formatPlatform({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763' }, { osVersion: true })).toBe('windows(10.0.17763)/amd64');
  });
  it('round-trips', () => {
    for (const s of ['linux/amd64', 'linux/arm/v6', 'linux/arm64', 'linux/arm64/v9', 'windows/amd64', 'linux/s390x', 'linux/amd64/v3']) {
      expect(formatPlatform(parsePlatform(s))).toBe(s);
    }
  });
});

describe('normalizePlatform', () => {
  it('keeps os.version and features, drops empty variants', () => {
    expect(normalizePlatform({ os: 'Windows', architecture: 'x86_64', variant: '', 'os.version': '10.0.1', 'os.features': ['win32k'] })).toEqual({
      os: 'windows',
      architecture: 'amd64',
      'os.version': '10.0.1',
      'os.features': ['win32k'],
    });
  });
  it('does not modify its input', () => {
    const p: Platform = { os: 'linux', architecture: 'aarch64', variant: 'v8' };
    normalizePlatform(p);
    expect(p).toEqual({ os: 'linux', architecture: 'aarch64', variant: 'v8' });
  });
});

describe('hostPlatform', () => {
  it('describes this machine in OCI terms', () => {
    const h = hostPlatform();
    expect(h.os).toBe(process.platform === 'win32' ? 'windows' : process.platform);
    if (process.arch === 'x64') expect(h.architecture).toBe('amd64');
    if (process.arch === 'arm64') expect(h.architecture).toBe('arm64');
    expect(normalizePlatform(h)).toEqual(h);
  });
});

describe('platformMatches', () => {
  const yes: [string, Platform][] = [
    ['linux/amd64', { os: 'linux', architecture: 'x86_64' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'aarch64' }],
    ['linux/arm', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/arm/v7', { os: 'linux', architecture: 'armhf' }],
    ['linux/arm/v6', { os: 'linux', architecture: 'armel' }],
  ];
  const no: [string, Platform][] = [
    ['linux/amd64', { os: 'windows', architecture: 'amd64' }],
    ['linux/amd64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm', variant: 'v8' }],
    ['linux/amd64', { os: 'linux', architecture: 'amd64', variant: 'v3' }],
  ];
  for (const [want, have] of yes) it(`${want} matches ${JSON.stringify(have)}`, () => expect(platformMatches(parsePlatform(want), have)).toBe(true));
  for (const [want, have] of no) it(`${want} does not match ${JSON.stringify(have)}`, () => expect(platformMatches(parsePlatform(want), have)).toBe(false));
  it('windows: os.version must agree up to the build number', () => {
    const want: Platform = { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' };
    expect(platformMatches(want, { ...want, 'os.version': '10.0.17763.2928' })).toBe(true);
    expect(platformMatches(want, { ...want, 'os.version': '10.0.20348.1' })).toBe(false);
    expect(platformMatches(want, { os: 'windows', architecture: 'amd64' })).toBe(true);
  });
});

describe('platformCandidates', () => {
  const fmt = (s: string): string[] => platformCandidates(parsePlatform(s)).map((p) => formatPlatform(p));
  it('amd64 falls back to 386; amd64/v3 to lower levels', () => {
    expect(fmt('linux/amd64')).toEqual(['linux/amd64', 'linux/386']);
    expect(fmt('linux/amd64/v3')).toEqual(['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64', 'linux/386']);
  });
  it('arm/v7 falls back to v6, v5', () => {
    expect(fmt('linux/arm/v7')).toEqual(['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    expect(fmt('linux/arm/v5')).toEqual(['linux/arm/v5']);
  });
  it('arm64 falls back to 32-bit arm', () => {
    expect(fmt('linux/arm64')).toEqual(['linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
  });
  it('arm64 minor versions fall back like containerd (v9.N -> v8.N+5)', () => {
    expect(fmt('linux/arm64/v8.2')).toEqual(['linux/arm64/v8.2', 'linux/arm64/v8.1', 'linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    expect(fmt('linux/arm64/v9.1')).toEqual([
      'linux/arm64/v9.1', 'linux/arm64/v9', 'linux/arm64/v8.6', 'linux/arm64/v8.5', 'linux/arm64/v8.4', 'linux/arm64/v8.3',
      'linux/arm64/v8.2', 'linux/arm64/v8.1', 'linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5',
    ]);
    expect(fmt('linux/arm64/v9').slice(0, 3)).toEqual(['linux/arm64/v9', 'linux/arm64/v8.5', 'linux/arm64/v8.4']);
  });
  it('others have no fallback', () => {
    expect(fmt('linux/s390x')).toEqual(['linux/s390x']);
  });
});

const m = (digest: string, platform?: Platform, mediaType: string = MediaType.ImageManifest): Descriptor => {
  const d: Descriptor = { mediaType, digest: `sha256:${digest.repeat(64)}`, size: 1 };
  if (platform) d.platform = platform;
  return d;
};

describe('selectManifest', () => {
  const index = {
    manifests: [
      m('0'), // no platform: ignored
      m('1', { os: 'linux', architecture: 'arm', variant: 'v6' }),
      m('2', { os: 'linux', architecture: 'amd64' }),
      m('3', { os: 'linux', architecture: 'arm', variant: 'v7' }),
      m('4', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
      m('5', { os: 'linux', architecture: 'amd64' }), // duplicate: first wins
      m('6', { os: 'unknown', architecture: 'unknown' }, MediaType.ImageManifest),
      m('7', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' }),
      m('8', { os: 'linux', architecture: 's390x' }, 'application/vnd.example.not-a-manifest'),
    ],
  };
  const pick = (want?: string | Platform, exact?: boolean): string | undefined =>
    selectManifest(index, want, exact === undefined ? {} : { exact })?.digest.slice(7, 8);

  it('picks exact matches', () => {
    expect(pick('linux/amd64')).toBe('2');
    expect(pick('linux/arm/v7')).toBe('3');
    expect(pick('linux/arm/v6')).toBe('1');
    expect(pick('linux/aarch64')).toBe('4');
    expect(pick({ os: 'linux', architecture: 'x86_64' })).toBe('2');
    expect(pick('windows/amd64')).toBe('7');
  });
  it('falls back to the best compatible platform', () => {
    expect(pick('linux/arm/v8')).toBe('3');
    expect(pick('linux/amd64/v2')).toBe('2');
    expect(pick('linux/arm/v8', true)).toBeUndefined();
  });
  it('returns undefined when nothing fits', () => {
    expect(pick('linux/ppc64le')).toBeUndefined();
    expect(pick('linux/arm/v5')).toBeUndefined();
    expect(pick('linux/s390x')).toBeUndefined(); // not a manifest media type
    expect(selectManifest({ manifests: [] }, 'linux/amd64')).toBeUndefined();
  });
  it('defaults to the host platform', () => {
    expect(selectManifest(index)).toEqual(selectManifest(index, hostPlatform()));
  });
  it('also considers nested indexes and Docker manifest lists', () => {
    const idx = { manifests: [m('a', { os: 'linux', architecture: 'amd64' }, MediaType.ImageIndex), m('b', { os: 'linux', architecture: 'arm64' }, MediaType.DockerManifest)] };
    expect(selectManifest(idx, 'linux/amd64')?.mediaType).toBe(MediaType.ImageIndex);
    expect(selectManifest(idx, 'linux/arm64')?.mediaType).toBe(MediaType.DockerManifest);
  });
});
