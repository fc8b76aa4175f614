import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Spec } from '@oci/runtime-spec';
import { RuntimeError } from './errors.js';

/** Largest config.json we read. */
export const MAX_CONFIG_SIZE = 4 * 1024 * 1024;

const NS_TYPES = new Set(['mount', 'pid', 'network', 'uts', 'ipc', 'user', 'cgroup', 'time']);

function bad(msg: string, path?: string): never {
  throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: ${msg}`, {
    hint: 'fix config.json (see `oci-runtime spec` for a valid one); nothing was created',
    ...(path === undefined ? {} : { path }),
  });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function strArray(v: unknown, what: string): void {
  if (v !== undefined && (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))) bad(`${what} must be an array of strings`);
}
function int(v: unknown, what: string): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) bad(`${what} must be an integer`);
}

/**
 * Check the parts of config.json the runtime relies on, fast (no schema compiler on the hot path).
 * Accepts every ociVersion 1.0.0 .. 1.3.x. Full schema validation: validateSpec from @oci/runtime-spec.
 */
export function checkSpec(doc: unknown): Spec {
  if (!isObj(doc)) bad('the document must be a JSON object');
  const v = doc['ociVersion'];
  if (typeof v !== 'string') bad('ociVersion is required');
  const m = /^1\.([0-3])\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) bad(`ociVersion "${v}" is not supported (this runtime accepts 1.0.0 to 1.3.x)`);
  const root = doc['root'];
  if (!isObj(root) || typeof root['path'] !== 'string' || root['path'] === '') bad('root.path is required');
  if (root['readonly'] !== undefined && typeof root['readonly'] !== 'boolean') bad('root.readonly must be a boolean');
  const p = doc['process'];
  if (p !== undefined) {
    if (!isObj(p)) bad('process must be an object');
    if (typeof p['cwd'] !== 'string' || !p['cwd'].startsWith('/')) bad('process.cwd must be an absolute path');
    strArray(p['args'], 'process.args');
    if (!Array.isArray(p['args']) || p['args'].length === 0) bad('process.args must not be empty');
    strArray(p['env'], 'process.env');
    const u = p['user'];
    if (u !== undefined) {
      if (!isObj(u)) bad('process.user must be an object');
      int(u['uid'], 'process.user.uid');
      int(u['gid'], 'process.user.gid');
      int(u['umask'], 'process.user.umask');
      if (u['additionalGids'] !== undefined && (!Array.isArray(u['additionalGids']) || u['additionalGids'].some((g) => !Number.isInteger(g))))
        bad('process.user.additionalGids must be an array of integers');
    }
    if (p['terminal'] !== undefined && typeof p['terminal'] !== 'boolean') bad('process.terminal must be a boolean');
    const caps = p['capabilities'];
    if (caps !== undefined) {
      if (!isObj(caps)) bad('process.capabilities must be an object');
      for (const k of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) strArray(caps[k], `process.capabilities.${k}`);
    }
    const rl = p['rlimits'];
    if (rl !== undefined) {
      if (!Array.isArray(rl)) bad('process.rlimits must be an array');
      for (const r of rl) {
        if (!isObj(r) || typeof r['type'] !== 'string' || typeof r['soft'] !== 'number' || typeof r['hard'] !== 'number')
          bad('process.rlimits entries need type, soft and hard');
        if (!/^RLIMIT_[A-Z]+$/.test(r['type'])) bad(`rlimit type "${r['type']}" is not valid`);
      }
    }
  }
  const mounts = doc['mounts'];
  if (mounts !== undefined) {
    if (!Array.isArray(mounts)) bad('mounts must be an array');
    for (const mt of mounts) {
      if (!isObj(mt) || typeof mt['destination'] !== 'string' || mt['destination'] === '') bad('every mount needs a destination');
      strArray(mt['options'], 'mount options');
      if (mt['type'] !== undefined && typeof mt['type'] !== 'string') bad('mount type must be a string');
      if (mt['source'] !== undefined && typeof mt['source'] !== 'string') bad('mount source must be a string');
    }
  }
  const hooks = doc['hooks'];
  if (hooks !== undefined) {
    if (!isObj(hooks)) bad('hooks must be an object');
    for (const [k, list] of Object.entries(hooks)) {
      if (!Array.isArray(list)) bad(`hooks.${k} must be an array`);
      for (const h of list) {
        if (!isObj(h) || typeof h['path'] !== 'string' || !h['path'].startsWith('/')) bad(`hooks.${k}: every hook needs an absolute path`);
        strArray(h['args'], `hooks.${k} args`);
        strArray(h['env'], `hooks.${k} env`);
        if (h['timeout'] !== undefined && (!Number.isInteger(h['timeout']) || (h['timeout'] as number) <= 0)) bad(`hooks.${k}: timeout must be a positive integer`);
      }
    }
  }
  const linux = doc['linux'];
  if (linux !== undefined) {
    if (!isObj(linux)) bad('linux must be an object');
    const ns = linux['namespaces'];
    if (ns !== undefined) {
      if (!Array.isArray(ns)) bad('linux.namespaces must be an array');
      const seen = new Set<string>();
      for (const n of ns) {
        if (!isObj(n) || typeof n['type'] !== 'string' || !NS_TYPES.has(n['type'])) bad(`linux.namespaces: unknown namespace type ${JSON.stringify(isObj(n) ? n['type'] : n)}`);
        if (seen.has(n['type'])) bad(`linux.namespaces: duplicate namespace ${n['type']}`);
        seen.add(n['type']);
        if (n['path'] !== undefined && (typeof n['path'] !== 'string' || !n['path'].startsWith('/'))) bad('linux.namespaces: path must be absolute');
      }
    }
    for (const k of ['uidMappings', 'gidMappings']) {
      const maps = linux[k];
      if (maps !== undefined && (!Array.isArray(maps) || maps.some((x) => !isObj(x) || !Number.isInteger(x['containerID']) || !Number.isInteger(x['hostID']) || !Number.isInteger(x['size']))))
        bad(`linux.${k} entries need integer containerID, hostID and size`);
    }
    strArray(linux['maskedPaths'], 'linux.maskedPaths');
    strArray(linux['readonlyPaths'], 'linux.readonlyPaths');
    if (linux['cgroupsPath'] !== undefined && typeof linux['cgroupsPath'] !== 'string') bad('linux.cgroupsPath must be a string');
    const devs = linux['devices'];
    if (devs !== undefined) {
      if (!Array.isArray(devs)) bad('linux.devices must be an array');
      for (const d of devs)
        if (!isObj(d) || typeof d['path'] !== 'string' || !['c', 'b', 'u', 'p'].includes(d['type'] as string)) bad('linux.devices entries need a path and a type c, b, u or p');
    }
    const sc = linux['seccomp'];
    if (sc !== undefined && (!isObj(sc) || typeof sc['defaultAction'] !== 'string')) bad('linux.seccomp.defaultAction is required');
  }
  if (doc['hostname'] !== undefined && typeof doc['hostname'] !== 'string') bad('hostname must be a string');
  return doc as unknown as Spec;
}

/** Parse config.json text; ERR_INVALID_CONFIG with a clear message when it is not usable. */
export function parseConfig(text: string, path?: string): Spec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    bad(`not JSON (${(err as Error).message})`, path);
  }
  return checkSpec(doc);
}

/** Read and check BUNDLE/config.json; returns the spec, the absolute rootfs path and the file's text. */
export function loadBundle(bundle: string): { spec: Spec; bundle: string; rootfs: string; text: string } {
  const dir = resolve(bundle);
  const file = join(dir, 'config.json');
  let text: string;
  try {
    const st = statSync(file);
    if (st.size > MAX_CONFIG_SIZE) bad(`config.json is larger than ${MAX_CONFIG_SIZE} bytes`, file);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (RuntimeError.is(err)) throw err;
    throw new RuntimeError('ERR_INVALID_CONFIG', `cannot read ${file}: ${(err as Error).message}`, {
      hint: 'pass --bundle DIR with a config.json (create one with `oci-runtime spec`)',
      path: file,
      cause: err,
    });
  }
  const spec = parseConfig(text, file);
  const rootfs = isAbsolute(spec.root!.path) ? spec.root!.path : join(dir, spec.root!.path);
  try {
    if (!statSync(rootfs).isDirectory()) bad(`root.path ${rootfs} is not a directory`, rootfs);
  } catch (err) {
    if (RuntimeError.is(err)) throw err;
    bad(`root.path ${rootfs} does not exist`, rootfs);
  }
  return { spec, bundle: dir, rootfs, text };
}
