import { endianness } from 'node:os';
import { ImageSpecError } from './errors.js';
import { isIndexMediaType, isManifestMediaType } from './media-types.js';
import type { Descriptor, ImageIndex, Platform } from './types.js';

const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js',
  'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows', 'zos',
]);

const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64',
  'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64',
  's390', 's390x', 'sparc', 'sparc64', 'wasm',
  // aliases that normalise to the above
  'i386', 'x86_64', 'x86-64', 'aarch64', 'armhf', 'armel', 'ppc64el', 'armv5', 'armv6', 'armv6l',
  'armv7', 'armv7l', 'armv8l',
]);

/** Normalises an OS name: lowercase, `macos` -> `darwin`. */
export function normalizeOS(os: string): string {
  const o = os.toLowerCase();
  return o === 'macos' ? 'darwin' : o;
}

/**
 * Normalises an architecture and variant the way containerd does:
 * i386 -> 386; x86_64 / x86-64 -> amd64 (variant v1 dropped); aarch64 -> arm64 (variant 8 / v8
 * dropped: arm64 means v8); armhf -> arm/v7; armel -> arm/v6; arm with no variant -> arm/v7;
 * numeric variants get a `v` prefix; ppc64el -> ppc64le.
 */
export function normalizeArch(architecture: string, variant: string = ''): { architecture: string; variant: string } {
  let arch = architecture.toLowerCase();
  let v = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return { architecture: '386', variant: '' };
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (v === 'v1' || v === '1') v = '';
      else if (/^[0-9]+$/.test(v)) v = `v${v}`;
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (v === '8' || v === 'v8' || v === 'v8.0' || v === '8.0') v = '';
      else if (/^[0-9]+(\.[0-9]+)?$/.test(v)) v = `v${v}`;
      break;
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'armv5':
    case 'armv5l':
      return { architecture: 'arm', variant: 'v5' };
    case 'armv6':
    case 'armv6l':
      return { architecture: 'arm', variant: 'v6' };
    case 'armv7':
    case 'armv7l':
      return { architecture: 'arm', variant: 'v7' };
    case 'armv8l':
      return { architecture: 'arm', variant: 'v8' };
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (/^[0-9]+$/.test(v)) v = `v${v}`;
      break;
    case 'ppc64el':
      arch = 'ppc64le';
      break;
    default:
      break;
  }
  return { architecture: arch, variant: v };
}

/**
 * Returns a normalised copy of a platform (see normalizeArch, normalizeOS). An empty variant is
 * removed. os.version, os.features and features are kept.
 */
export function normalizePlatform(p: Platform): Platform {
  checkPlatformShape(p);
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? '');
  const out: Platform = { architecture, os: normalizeOS(p.os) };
  if (variant !== '') out.variant = variant;
  if (p['os.version'] !== undefined) out['os.version'] = p['os.version'];
  if (p['os.features'] !== undefined) out['os.features'] = [...p['os.features']];
  if (p.features !== undefined) out.features = [...p.features];
  return out;
}

const COMPONENT_RE = /^[A-Za-z0-9_.-]+$/;

const optionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';
const optionalStrings = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));

/** A Platform from untrusted JSON: os and architecture strings, the rest optional of the right type. */
function checkPlatformShape(p: unknown): asserts p is Platform {
  const x = p as Record<string, unknown> | null;
  const ok =
    typeof x === 'object' &&
    x !== null &&
    typeof x['os'] === 'string' &&
    typeof x['architecture'] === 'string' &&
    optionalString(x['variant']) &&
    optionalString(x['os.version']) &&
    optionalStrings(x['os.features']) &&
    optionalStrings(x['features']);
  if (!ok) {
    let shown: string;
    try {
      shown = JSON.stringify(p)?.slice(0, 100) ?? String(p);
    } catch {
      shown = typeof p;
    }
    throw new ImageSpecError('ERR_INVALID_PLATFORM', `Invalid platform ${shown}: os and architecture must be strings`, {
      hint: 'A platform is { os, architecture, variant? } with string values, e.g. { os: "linux", architecture: "arm64" }.',
      actual: shown,
    });
  }
}

/** True when `p` has the shape of a Platform (normalizePlatform would not throw). */
function isPlatformShaped(p: unknown): p is Platform {
  try {
    checkPlatformShape(p);
    return true;
  } catch {
    return false;
  }
}

function badPlatform(s: string, why: string): ImageSpecError {
  return new ImageSpecError('ERR_INVALID_PLATFORM', `Invalid platform ${JSON.stringify(s.slice(0, 100))}: ${why}`, {
    hint: 'Write a platform as os/arch[/variant], e.g. linux/amd64 or linux/arm/v7.',
    actual: s.slice(0, 100),
  });
}

/**
 * Parses `os/arch[/variant]` (e.g. `linux/arm/v7`) into a normalised Platform. Like containerd, a
 * single component is an OS (architecture = the host's) or an architecture (OS = the host's), and
 * the OS may carry a version in parentheses: `windows(10.0.17763)/amd64`.
 * @throws ImageSpecError ERR_INVALID_PLATFORM
 */
export function parsePlatform(s: string): Platform {
  if (typeof s !== 'string' || s.length === 0) throw badPlatform(String(s), 'empty');
  if (s.length > 256) throw badPlatform(s, 'too long');
  const parts = s.split('/');
  if (parts.length > 3) throw badPlatform(s, 'more than three components');
  let osPart = parts[0] ?? '';
  let osVersion: string | undefined;
  const m = /^([^()]*)\(([^()]*)\)$/.exec(osPart);
  if (m) {
    osPart = m[1] ?? '';
    osVersion = m[2];
  }
  const comps = [osPart, ...parts.slice(1)];
  for (const c of comps) {
    if (!COMPONENT_RE.test(c)) throw badPlatform(s, `component ${JSON.stringify(c)} is empty or has characters other than [A-Za-z0-9_.-]`);
  }
  const host = hostPlatform();
  let p: Platform;
  if (parts.length === 1) {
    const one = osPart.toLowerCase();
    if (KNOWN_OS.has(normalizeOS(one)) || osVersion !== undefined) {
      p = { os: one, architecture: host.architecture };
      if (host.variant !== undefined) p.variant = host.variant;
    } else if (KNOWN_ARCH.has(one)) {
      p = { os: host.os, architecture: one };
    } else {
      throw badPlatform(s, 'unknown operating system or architecture');
    }
  } else {
    p = { os: osPart, architecture: comps[1] ?? '' };
    if (comps[2] !== undefined) p.variant = comps[2];
  }
  if (osVersion !== undefined && osVersion !== '') p['os.version'] = osVersion;
  return normalizePlatform(p);
}

/** Formats a platform as `os/arch[/variant]` (os.version is left out; see options). */
export function formatPlatform(p: Platform, options: { osVersion?: boolean } = {}): string {
  const os = options.osVersion === true && p['os.version'] ? `${p.os}(${p['os.version']})` : p.os;
  return p.variant ? `${os}/${p.architecture}/${p.variant}` : `${os}/${p.architecture}`;
}

/** The platform of the running process, normalised (e.g. linux/amd64, linux/arm/v7). */
export function hostPlatform(): Platform {
  const osMap: Record<string, string> = { win32: 'windows', sunos: 'solaris' };
  const os = osMap[process.platform] ?? process.platform;
  let architecture: string;
  let variant: string | undefined;
  switch (process.arch) {
    case 'x64':
      architecture = 'amd64';
      break;
    case 'ia32':
      architecture = '386';
      break;
    case 'arm': {
      architecture = 'arm';
      const v = (process.config.variables as Record<string, unknown>)['arm_version'];
      variant = `v${typeof v === 'string' || typeof v === 'number' ? String(v) : '7'}`;
      break;
    }
    case 'ppc64':
      architecture = endianness() === 'LE' ? 'ppc64le' : 'ppc64';
      break;
    case 'mipsel':
      architecture = 'mipsle';
      break;
    default:
      architecture = process.arch;
  }
  const p: Platform = { os, architecture };
  if (variant !== undefined) p.variant = variant;
  return normalizePlatform(p);
}

function sameOSVersion(want: Platform, have: Platform): boolean {
  const w = want['os.version'];
  const h = have['os.version'];
  if (!w || !h || normalizeOS(want.os) !== 'windows') return true;
  // Windows: major.minor.build must agree; the revision may differ.
  return w.split('.').slice(0, 3).join('.') === h.split('.').slice(0, 3).join('.');
}

/**
 * True if `have` is exactly the platform `want` asks for, after normalisation (so amd64 =
 * x86_64, arm64 = arm64/v8 = aarch64, arm = arm/v7). On Windows, os.version must agree up to the
 * build number when both give one. See platformCandidates for compatible fallbacks.
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  return w.os === h.os && w.architecture === h.architecture && (w.variant ?? '') === (h.variant ?? '') && sameOSVersion(w, h);
}

/**
 * The platforms that can run on `want`, best first (containerd's rules): the platform itself,
 * then for amd64/vN the lower amd64 levels and 386; for arm/vN the lower arm variants down to v5;
 * for arm64/v8.N the lower v8.x, for arm64/v9.N the lower v9.x and v8.(N+5) .. v8; for every
 * arm64 finally the 32-bit arm variants v8 .. v5.
 */
export function platformCandidates(want: Platform): Platform[] {
  const p = normalizePlatform(want);
  const base: Platform = { os: p.os, architecture: p.architecture };
  if (p['os.version'] !== undefined) base['os.version'] = p['os.version'];
  const out: Platform[] = [p];
  const withVariant = (architecture: string, variant: string): Platform => {
    const q: Platform = { ...base, architecture };
    if (variant !== '') q.variant = variant;
    return q;
  };
  const level = (v: string | undefined): number => {
    const n = /^v([0-9]+)$/.exec(v ?? '');
    return n ? Number(n[1]) : Number.NaN;
  };
  if (p.architecture === 'amd64') {
    const n = level(p.variant);
    for (let i = n - 1; i >= 1; i--) out.push(withVariant('amd64', i === 1 ? '' : `v${i}`));
    out.push(withVariant('386', ''));
  } else if (p.architecture === 'arm') {
    const n = level(p.variant);
    for (let i = n - 1; i >= 5; i--) out.push(withVariant('arm', `v${i}`));
  } else if (p.architecture === 'arm64') {
    // arm64/v9.N runs v9.(N-1) .. v9, then v8.(N+5) .. v8 (v9.0 forked from v8.5); arm64/v8.N runs
    // v8.(N-1) .. v8; every arm64 runs 32-bit arm v8 .. v5.
    const m = /^v([0-9]+)(?:\.([0-9]+))?$/.exec(p.variant ?? 'v8');
    if (m) {
      let major = Number(m[1]);
      let minor = m[2] === undefined ? 0 : Number(m[2]);
      const arm64 = (maj: number, min: number): Platform => withVariant('arm64', maj === 8 && min === 0 ? '' : min === 0 ? `v${maj}` : `v${maj}.${min}`);
      if (major === 9) {
        for (let i = minor - 1; i >= 0; i--) out.push(arm64(9, i));
        minor += 5;
        major = 8;
        out.push(arm64(8, minor));
      }
      if (major === 8) for (let i = minor - 1; i >= 0; i--) out.push(arm64(8, i));
    }
    for (let i = 8; i >= 5; i--) out.push(withVariant('arm', `v${i}`));
  }
  return out;
}

export interface SelectManifestOptions {
  /** Only exact matches (no compatible fallback such as arm/v6 on arm/v7 or 386 on amd64). */
  exact?: boolean;
}

/**
 * Picks the best manifest of an index for a platform (default: the host). Exact matches win;
 * otherwise the most specific compatible platform (see platformCandidates); ties go to the
 * first entry. Only descriptors with a manifest or index media type and a platform count.
 * Returns undefined if nothing fits.
 */
export function selectManifest(
  index: Pick<ImageIndex, 'manifests'>,
  want?: Platform | string,
  options: SelectManifestOptions = {},
): Descriptor | undefined {
  const target = want === undefined ? hostPlatform() : typeof want === 'string' ? parsePlatform(want) : want;
  const candidates = options.exact === true ? [normalizePlatform(target)] : platformCandidates(target);
  let best: Descriptor | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  if (!Array.isArray(index?.manifests)) return undefined;
  for (const d of index.manifests as unknown[] as Descriptor[]) {
    // Entries of an index nobody validated may be anything: skip what is not a descriptor with a platform.
    if (typeof d !== 'object' || d === null || typeof d.mediaType !== 'string' || !isPlatformShaped(d.platform)) continue;
    if (!isManifestMediaType(d.mediaType) && !isIndexMediaType(d.mediaType)) continue;
    const rank = candidates.findIndex((c) => platformMatches(c, d.platform as Platform));
    if (rank !== -1 && rank < bestRank) {
      best = d;
      bestRank = rank;
      if (rank === 0) break;
    }
  }
  return best;
}
