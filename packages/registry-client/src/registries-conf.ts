// containers-registries.conf(5), version 2: which registry serves an image name. [[registry]] tables match
// image names by prefix (longest wins; `*.example.com` for subdomains), may rewrite the prefix to another
// `location`, mark it `insecure` or `blocked`, and list mirrors tried before the location when pulling.
// Files: --registries-conf / $CONTAINERS_REGISTRIES_CONF, else $HOME/.config/containers/registries.conf, else
// /etc/containers/registries.conf; then the drop-ins registries.conf.d/*.conf beside it, in name order (a later
// [[registry]] with the same prefix replaces an earlier one). Unqualified-search registries and short-name aliases
// are read but not used: skopeo's docker:// names are always fully qualified (docker.io by default).
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { RegistryError } from './errors.js';
import { formatReference, parseReference, type Reference } from './reference.js';
import { noteDir, noteFile } from './record.js';

export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';

export interface RegistryEndpoint {
  location: string;
  insecure: boolean;
  pullFromMirror: PullFromMirror;
}

export interface RegistryEntry {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: RegistryEndpoint[];
}

export interface RegistriesConf {
  registries: RegistryEntry[];
  unqualifiedSearchRegistries: string[];
  aliases: Record<string, string>;
  /** The files read, in order (for messages). */
  files: string[];
}

/** One place to pull an image from: the (possibly rewritten) reference, and how to reach it. */
export interface PullSource {
  reference: Reference;
  insecure: boolean;
  /** True for a mirror, false for the primary location. */
  mirror: boolean;
}

function invalid(file: string, why: string, cause?: unknown): RegistryError {
  return new RegistryError('ERR_REGISTRIES_CONF', `invalid registries configuration ${file}: ${why}`, {
    cause, hint: 'Fix the file (see containers-registries.conf(5)), or point --registries-conf at another one.',
  });
}

/** A location or prefix without a trailing slash; URI schemes are refused, as containers/image does. */
function parseLocation(file: string, value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalid(file, `${what} must be a string`);
  const trimmed = value.replace(/\/+$/, '');
  if (/^https?:\/\//.test(trimmed)) throw invalid(file, `${what} "${value}": URI schemes are not supported, write host[:port][/path]`);
  return trimmed;
}

function bool(file: string, value: unknown, what: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(file, `${what} must be true or false`);
  return value;
}

const WILDCARD = /^\*(\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

function checkPrefix(file: string, prefix: string): void {
  if (prefix.startsWith('*')) {
    if (!WILDCARD.test(prefix)) throw invalid(file, `prefix "${prefix}": a wildcard prefix is *.domain only (no port, path, tag or digest)`);
    return;
  }
  if (prefix.includes('*')) throw invalid(file, `prefix "${prefix}": "*" only as a leading "*." (e.g. *.example.com)`);
  const probe = prefix.includes('/') ? prefix : `${prefix}/x`;
  try {
    const ref = parseReference(probe, { defaultTag: false });
    if (!probe.startsWith(`${ref.registry}/`)) throw new Error('not qualified');
  } catch (err) {
    throw invalid(file, `prefix "${prefix}" is not host[:port][/namespace[/repo[:tag|@digest]]]`, err);
  }
}

type Partial = { registries: RegistryEntry[]; unqualifiedSearchRegistries?: string[] | undefined; aliases: Record<string, string> };

/** Parses one registries.conf (TOML). Pure apart from the TOML parser; unknown top-level keys are ignored, as Go's decoder does. */
export async function parseRegistriesConf(text: string, file: string): Promise<Partial> {
  const { parse } = await import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    // The shipped files are mostly comments, and the parser walks them a character at a time in code that a
    // short-lived command never optimises (~2-3 ms per start). Whole-line comments are blanked first, which
    // keeps line numbers for error messages; not where a multi-line string could hold a line starting with #.
    const body = text.includes('"""') || text.includes("'''") ? text : text.replace(/^[ \t]*#.*$/gm, '');
    doc = parse(body) as Record<string, unknown>;
  } catch (err) {
    throw invalid(file, (err as Error).message.split('\n')[0] ?? 'not TOML', err);
  }
  const v1 = doc.registries as Record<string, unknown> | undefined;
  if (v1 !== undefined && typeof v1 === 'object' && !Array.isArray(v1)) {
    throw invalid(file, 'the version 1 format ([registries.search], [registries.insecure], [registries.block]) is not supported', undefined);
  }
  const out: Partial = { registries: [], aliases: {} };
  if (doc['unqualified-search-registries'] !== undefined) {
    const u = doc['unqualified-search-registries'];
    if (!Array.isArray(u) || u.some((x) => typeof x !== 'string')) throw invalid(file, 'unqualified-search-registries must be an array of host[:port] strings');
    out.unqualifiedSearchRegistries = (u as string[]).map((x) => parseLocation(file, x, 'unqualified-search-registries entry'));
  }
  if (doc.aliases !== undefined) {
    if (typeof doc.aliases !== 'object' || Array.isArray(doc.aliases)) throw invalid(file, '[aliases] must be a table of "name" = "registry/repository"');
    for (const [k, v] of Object.entries(doc.aliases as Record<string, unknown>)) {
      if (typeof v !== 'string') throw invalid(file, `alias "${k}" must be a string`);
      out.aliases[k] = v;
    }
  }
  const regs = doc.registry ?? [];
  if (!Array.isArray(regs)) throw invalid(file, '[[registry]] must be an array of tables');
  for (const [i, r] of regs.entries()) {
    const where = `[[registry]] #${i + 1}`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw invalid(file, `${where} must be a table`);
    const t = r as Record<string, unknown>;
    const location = t.location === undefined ? '' : parseLocation(file, t.location, `${where} location`);
    const prefix = t.prefix === undefined || t.prefix === '' ? location : parseLocation(file, t.prefix, `${where} prefix`);
    if (prefix === '') throw invalid(file, `${where} needs a prefix or a location`);
    checkPrefix(file, prefix);
    if (location === '' && !prefix.startsWith('*.')) throw invalid(file, `${where} (${prefix}): location cannot be empty`);
    if (location !== '' && prefix.startsWith('*.')) throw invalid(file, `${where} (${prefix}): a wildcard prefix cannot have a location`);
    const mirrorByDigestOnly = bool(file, t['mirror-by-digest-only'], `${where} mirror-by-digest-only`);
    const mirrorsRaw = t.mirror ?? [];
    if (!Array.isArray(mirrorsRaw)) throw invalid(file, `${where} mirror must be an array of tables ([[registry.mirror]])`);
    const mirrors = mirrorsRaw.map((m, j): RegistryEndpoint => {
      const mw = `${where} mirror #${j + 1}`;
      if (typeof m !== 'object' || m === null) throw invalid(file, `${mw} must be a table`);
      const mt = m as Record<string, unknown>;
      const mloc = parseLocation(file, mt.location, `${mw} location`);
      if (mloc === '') throw invalid(file, `${mw}: location cannot be empty`);
      const pfm = mt['pull-from-mirror'] ?? 'all';
      if (pfm !== 'all' && pfm !== 'digest-only' && pfm !== 'tag-only' && pfm !== '') throw invalid(file, `${mw}: pull-from-mirror must be all, digest-only or tag-only`);
      if (mirrorByDigestOnly && pfm !== 'all' && pfm !== '') throw invalid(file, `${mw}: pull-from-mirror cannot be combined with mirror-by-digest-only`);
      return { location: mloc, insecure: bool(file, mt.insecure, `${mw} insecure`), pullFromMirror: pfm === '' ? 'all' : pfm };
    });
    out.registries.push({
      prefix, location, insecure: bool(file, t.insecure, `${where} insecure`), blocked: bool(file, t.blocked, `${where} blocked`), mirrorByDigestOnly, mirrors,
    });
  }
  // the same location twice with different insecure/blocked settings is refused, as containers/image does
  for (const a of out.registries) {
    for (const b of out.registries) {
      if (a.location !== '' && a.location === b.location && (a.insecure !== b.insecure || a.blocked !== b.blocked)) {
        throw invalid(file, `registry "${a.location}" is defined more than once with conflicting insecure/blocked settings`);
      }
    }
  }
  return out;
}

/** The main registries.conf skopeo would read: --registries-conf, $CONTAINERS_REGISTRIES_CONF, ~/.config, /etc. */
export function registriesConfPath(options: { path?: string | undefined; home?: string | undefined; env?: NodeJS.ProcessEnv | undefined } = {}): { file: string; explicit: boolean } {
  if (options.path) return { file: options.path, explicit: true };
  const env = options.env ?? process.env;
  if (env.CONTAINERS_REGISTRIES_CONF) return { file: env.CONTAINERS_REGISTRIES_CONF, explicit: true };
  return { file: join(options.home ?? homedir(), '.config', 'containers', 'registries.conf'), explicit: false };
}

async function readIfExists(file: string, mustExist: boolean): Promise<string | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    noteFile(file, text);
    return text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!mustExist && (code === 'ENOENT' || code === 'ENOTDIR')) {
      noteFile(file, undefined);
      return undefined;
    }
    throw invalid(file, `cannot read it: ${(err as Error).message}`, err);
  }
}

/**
 * Reads the registries configuration: the main file (see registriesConfPath; /etc/containers/registries.conf when
 * the user's does not exist) and the *.conf drop-ins of the registries.conf.d directory beside it. No file at all
 * is an empty configuration; a named file that is missing is ERR_REGISTRIES_CONF.
 */
export async function loadRegistriesConf(options: { path?: string | undefined; home?: string | undefined; env?: NodeJS.ProcessEnv | undefined; systemFile?: string | undefined } = {}): Promise<RegistriesConf> {
  const { file: first, explicit } = registriesConfPath(options);
  let main = first;
  let text = await readIfExists(first, explicit);
  if (text === undefined && !explicit) {
    main = options.systemFile ?? '/etc/containers/registries.conf';
    text = await readIfExists(main, false);
  }
  const conf: RegistriesConf = { registries: [], unqualifiedSearchRegistries: [], aliases: {}, files: [] };
  const merge = (p: Partial, file: string): void => {
    conf.files.push(file);
    for (const r of p.registries) {
      const at = conf.registries.findIndex((x) => x.prefix === r.prefix);
      if (at === -1) conf.registries.push(r);
      else conf.registries[at] = r;
    }
    if (p.unqualifiedSearchRegistries !== undefined) conf.unqualifiedSearchRegistries = p.unqualifiedSearchRegistries;
    Object.assign(conf.aliases, p.aliases);
  };
  if (text !== undefined) merge(await parseRegistriesConf(text, main), main);
  const dropIns = join(dirname(main), 'registries.conf.d');
  let names: string[] = [];
  try {
    names = (await readdir(dropIns)).filter((n) => n.endsWith('.conf')).sort();
    noteDir(dropIns, names);
  } catch {
    // no drop-in directory
    noteDir(dropIns, undefined);
  }
  for (const n of names) {
    const f = join(dropIns, n);
    const t = await readIfExists(f, false);
    if (t !== undefined) merge(await parseRegistriesConf(t, f), f);
  }
  return conf;
}

/** Whether `name` (host, namespace, repository or full reference) starts with `prefix` at a name boundary. */
function matches(name: string, prefix: string): boolean {
  if (prefix.startsWith('*.')) {
    const host = name.split('/')[0]!.replace(/:\d+$/, '');
    return host.endsWith(prefix.slice(1));
  }
  if (!name.startsWith(prefix)) return false;
  if (name.length === prefix.length) return true;
  const c = name[prefix.length];
  return c === '/' || c === ':' || c === '@';
}

/** The [[registry]] table for a reference: the longest matching prefix. Pure. */
export function findRegistry(conf: RegistriesConf, ref: Reference): RegistryEntry | undefined {
  const name = formatReference(ref);
  let best: RegistryEntry | undefined;
  for (const r of conf.registries) {
    if (matches(name, r.prefix) && (best === undefined || r.prefix.length > best.prefix.length)) best = r;
  }
  return best;
}

function rewrite(ref: Reference, prefix: string, location: string): Reference {
  if (location === '' || prefix.startsWith('*.')) return ref;
  const name = formatReference(ref);
  const rewritten = location + name.slice(prefix.length);
  try {
    return parseReference(rewritten, { defaultTag: false });
  } catch (err) {
    throw new RegistryError('ERR_REGISTRIES_CONF', `rewriting ${name} with prefix "${prefix}" to location "${location}" gives an invalid reference "${rewritten}"`, {
      cause: err, hint: 'Fix the location of that [[registry]] table in registries.conf.',
    });
  }
}

function blockedError(ref: Reference, entry: RegistryEntry): RegistryError {
  return new RegistryError('ERR_REGISTRY_BLOCKED', `registry access to ${formatReference(ref)} is blocked by registries.conf (prefix "${entry.prefix}")`, {
    hint: 'Use another registry, or remove blocked = true from that [[registry]] table.',
  });
}

/**
 * Where to pull `ref` from, in order: the mirrors that apply (by pull-from-mirror / mirror-by-digest-only and
 * whether `ref` has a digest), then the primary location; each with its rewritten reference. Throws
 * ERR_REGISTRY_BLOCKED for a blocked prefix. Without a matching table: the reference itself. Pure.
 */
export function pullSources(conf: RegistriesConf, ref: Reference): PullSource[] {
  const entry = findRegistry(conf, ref);
  if (entry === undefined) return [{ reference: ref, insecure: false, mirror: false }];
  if (entry.blocked) throw blockedError(ref, entry);
  const byDigest = ref.digest !== undefined;
  const mirrors = entry.mirrors.filter((m) => {
    if (entry.mirrorByDigestOnly) return byDigest;
    return m.pullFromMirror === 'all' || (m.pullFromMirror === 'digest-only' ? byDigest : !byDigest);
  });
  return [
    ...mirrors.map((m) => ({ reference: rewrite(ref, entry.prefix, m.location), insecure: m.insecure, mirror: true })),
    { reference: rewrite(ref, entry.prefix, entry.location), insecure: entry.insecure, mirror: false },
  ];
}

/**
 * How to push (or list tags, or delete) `ref`: no rewrite and no mirrors (containers/image applies them only to
 * pulls); `insecure` from its table; ERR_REGISTRY_BLOCKED when blocked. Pure.
 */
export function directAccess(conf: RegistriesConf, ref: Reference): { reference: Reference; insecure: boolean } {
  const entry = findRegistry(conf, ref);
  if (entry?.blocked) throw blockedError(ref, entry);
  return { reference: ref, insecure: entry?.insecure ?? false };
}
