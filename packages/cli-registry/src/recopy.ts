// Recordings of copies for the native front end (native/recopy.c, docs/registry-client.md "Replayed re-copies").
//
// After a `copy docker://… oci:DIR[:REF]` succeeds, oci-registry writes into the layout what running the same
// command again would check, when every blob is present: the files and variables it read, the manifest requests
// and the answers it got (status, Content-Type, Docker-Content-Digest, SHA-256 of the body), index.json and
// oci-layout as they are now, and every blob a re-copy looks for. native/oci-registry-recopy repeats those
// requests and checks over plain HTTP without starting Node; when all agree, the copy would change nothing and
// print nothing, and it exits 0; on any difference it hands the command to Node.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { CopyDestination, Policy, Recorder, RegistriesConf } from '@oci/registry-client';

/** Options a recorded copy may carry (boolean ones, and ones with a value); native/recopy.c has the same lists. */
export const RECOPY_FLAGS: readonly string[] = ['quiet', 'all', 'src-no-creds', 'src-tls-verify', 'insecure-policy', 'preserve-digests'];
export const RECOPY_VALUES: readonly string[] = [
  'override-os', 'override-arch', 'override-variant', 'jobs', 'retry-times', 'policy', 'registries-conf', 'format', 'authfile', 'src-authfile', 'tmpdir',
];
const SHORT: Record<string, string> = { q: 'quiet', a: 'all', f: 'format' };

/** Environment variables a copy's behaviour depends on; a recording holds their values (or their absence). */
export const RECOPY_ENV: readonly string[] = [
  'HOME', 'XDG_CONFIG_HOME', 'XDG_RUNTIME_DIR', 'REGISTRY_AUTH_FILE', 'DOCKER_CONFIG', 'CONTAINERS_REGISTRIES_CONF',
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'NODE_OPTIONS',
];

const FORMAT = 'oci-registry-recopy 1';
const COLD_FORMAT = 'oci-registry-cold 1';
const ANY_FORMAT = 'oci-registry-cold-any 1';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** The directory of recordings inside the layout's private directory; at most KEEP recordings are kept. */
export const RECOPY_DIR = join('.oci-ts', 'recopy');
const KEEP = 32;

export interface RecopyCommand {
  /** The command line with the destination's directory left out: a recording lives in that directory. */
  key: string[];
  dir: string;
  ref: string | undefined;
  /** Where the source (`docker://…`) is in the key. */
  source: number;
}

/**
 * The command line (arguments after the program name) as a recording's key, when it is a copy from docker:// to
 * oci: with no option beyond the lists above, in the forms `--name`, `--name=value`, `--name value`, `-q`, `-a`,
 * `-f value`; else undefined. native/recopy.c computes the same.
 */
export function recopyCommand(args: readonly string[]): RecopyCommand | undefined {
  if (args[0] !== 'copy') return undefined;
  const key = ['copy'];
  const positionals: string[] = [];
  let dest: { dir: string; ref: string | undefined } | undefined;
  let source = -1;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-') && a !== '-') {
      const long = a.startsWith('--');
      const eq = long ? a.indexOf('=') : -1;
      const name = long ? a.slice(2, eq === -1 ? undefined : eq) : SHORT[a.slice(1)];
      if (name === undefined) return undefined;
      if (RECOPY_FLAGS.includes(name)) {
        if (eq !== -1 && !/^=(true|false)$/.test(a.slice(eq))) return undefined;
        if (eq === -1 && (args[i + 1] === 'true' || args[i + 1] === 'false')) return undefined;
        key.push(a);
      } else if (RECOPY_VALUES.includes(name)) {
        if (eq !== -1) {
          if (eq === a.length - 1) return undefined;
          key.push(a);
        } else {
          const v = args[i + 1];
          if (v === undefined || v === '' || v.startsWith('-')) return undefined;
          key.push(a, v);
          i++;
        }
      } else {
        return undefined;
      }
      continue;
    }
    positionals.push(a);
    if (positionals.length === 1) {
      if (!a.startsWith('docker://')) return undefined;
      source = key.length;
      key.push(a);
    } else if (positionals.length === 2) {
      if (!a.startsWith('oci:')) return undefined;
      const rest = a.slice(4);
      const c = rest.indexOf(':');
      const dir = c === -1 ? rest : rest.slice(0, c);
      const ref = c === -1 ? undefined : rest.slice(c + 1) || undefined;
      if (dir === '') return undefined;
      dest = { dir, ref };
      key.push(`oci:*:${ref ?? ''}`);
    } else {
      return undefined;
    }
  }
  return dest === undefined ? undefined : { key, ...dest, source };
}

/** FNV-1a (64 bits) of the key's arguments joined by NUL, 16 hex digits: the recording's file name. */
export function recordingName(key: readonly string[]): string {
  let h = 0xcbf29ce484222325n;
  for (const c of Buffer.from(key.join('\0'), 'utf8')) h = ((h ^ BigInt(c)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/** A recording's token: bytes <= 0x20, '%' and >= 0x7f as %XX, the empty string as "%" (a string: its UTF-8). */
function token(s: string | Uint8Array): string {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  if (bytes.length === 0) return '%';
  let out = '';
  for (const c of bytes) out += c <= 0x20 || c === 0x25 || c >= 0x7f ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(c);
  return out;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A recording's line: its tokens joined by spaces. */
const line = (l: readonly (string | Uint8Array)[]): string => l.map(token).join(' ');

/** A recording: its format line, its lines, "end". */
const recordingText = (format: string, lines: readonly (readonly (string | Uint8Array)[])[]): string => `${format}\n${lines.map(line).join('\n')}\nend\n`;

/**
 * What a copy to a layout looked for and wrote: the blobs and manifests (digest → size, in the order the copy
 * asked for them), the manifests it wrote (digest → SHA-256 of the bytes), the blobs it wrote, and the top manifest.
 */
export interface DestinationNotes {
  blobs: Map<string, number>;
  manifests: Map<string, string>;
  written: Set<string>;
  top: { mediaType: string; digest: string; size: number } | undefined;
}

export function newNotes(): DestinationNotes {
  return { blobs: new Map(), manifests: new Map(), written: new Set(), top: undefined };
}

/** `dest` noting, into `notes`, every blob and manifest a re-copy would look for. */
export function notingDestination(dest: CopyDestination, notes: DestinationNotes): CopyDestination {
  return {
    ...dest,
    hasBlob: async (d, o) => {
      notes.blobs.set(d.digest, d.size);
      return await dest.hasBlob(d, o);
    },
    putBlob: async (d, open, o) => {
      notes.blobs.set(d.digest, d.size);
      const r = await dest.putBlob(d, open, o);
      notes.written.add(d.digest);
      return r;
    },
    putManifest: async (m, o) => {
      notes.blobs.set(m.digest, m.bytes.length);
      notes.manifests.set(m.digest, sha256(m.bytes));
      if (o.top) notes.top = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
      await dest.putManifest(m, o);
    },
  };
}

/** The layout calls a recording needs (@oci/layout's Layout). */
export interface RecordedLayout {
  dir: string;
  indexWithBytes(): Promise<{ index: { manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[] }; bytes: Buffer | undefined }>;
}

/**
 * Writes the recording of a copy that has just succeeded, when a re-copy could be repeated from it (else nothing:
 * returns why not). Never throws: a copy never fails for its recording.
 */
export async function writeRecording(command: RecopyCommand, recorder: Recorder, notes: DestinationNotes, layout: RecordedLayout,
  bundleHash: string | undefined, fresh = false, rules?: SourceRules): Promise<string | undefined> {
  try {
    if (recorder.unrecordable !== undefined) return recorder.unrecordable;
    if (bundleHash === undefined) return 'no bundle hash';
    if (!process.env.HOME) return 'HOME is not set';
    if (notes.top === undefined) return 'no top manifest';
    if (typeof process.getuid !== 'function') return 'no uid';
    if (['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy'].some((n) => process.env[n])) return 'a proxy is set';
    // the platform an index's image is chosen for (hostPlatform: Node's own platform and architecture)
    const lines: string[][] = [['key', ...command.key], ['bundle', bundleHash], ['platform', process.platform, process.arch]];
    const common = lines.length;
    for (const name of RECOPY_ENV) {
      const v = process.env[name];
      lines.push(v === undefined ? ['unset', name] : ['env', name, v]);
    }
    for (const input of recorder.inputs) {
      if (input.kind === 'file') lines.push(input.bytes === undefined ? ['nofile', input.path] : ['file', input.path, sha256(input.bytes)]);
      else lines.push(input.names === undefined ? ['nodir', input.path] : ['dir', input.path, ...input.names]);
    }
    const { index, bytes } = await layout.indexWithBytes();
    const { indexNames } = await import('@oci/registry-client');
    if (bytes === undefined || !indexNames(index.manifests, command.ref, notes.top)) return 'index.json does not name the image';
    const checked = lines.length;
    const ociLayout = await readFile(join(layout.dir, 'oci-layout'));
    lines.push(['layout', sha256(ociLayout)]);
    lines.push(['index', sha256(bytes), String(bytes.length)]);
    for (const [digest, size] of notes.blobs) {
      const c = digest.indexOf(':');
      lines.push(['blob', digest.slice(0, c), digest.slice(c + 1), String(size)]);
    }
    // the requests last: the front end checks what is on this machine before it asks the registry
    let manifests = 0;
    for (const e of recorder.exchanges) {
      if (!e.plain || e.status !== 200 || e.method !== 'GET') return `${e.method} ${e.url}: not one plain 200 answer`;
      const url = new URL(e.url);
      if (url.protocol !== 'http:' || url.port === '' || url.username || url.password) return `${e.url}: not plain HTTP with a port`;
      if (e.sha256 !== undefined) manifests++;
      lines.push(['get', url.host, `${url.pathname}${url.search}`, e.accept ?? '', e.userAgent, String(e.status), e.contentType ?? '', e.dockerContentDigest ?? '', e.sha256 ?? '']);
    }
    if (manifests === 0) return 'no manifest request';
    // our private directory (a layout another tool wrote has none yet), never through a symbolic link
    const mkdirOnce = (d: string, mode: number): Promise<void> => mkdir(d, { mode }).then(() => {}, (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    const state = join(layout.dir, RECOPY_DIR, '..');
    await mkdirOnce(state, 0o755);
    if (!(await lstat(state)).isDirectory()) return `${state} is not a directory`;
    const dir = join(layout.dir, RECOPY_DIR);
    await mkdirOnce(dir, 0o700);
    const st = await lstat(dir);
    if (!st.isDirectory() || st.uid !== process.getuid!() || (st.mode & 0o777) !== 0o700) return `${dir} is not ours alone`;
    const text = recordingText(FORMAT, lines);
    await writeAtomic(join(dir, recordingName(command.key)), text);
    await prune(dir);
    if (!fresh) return undefined;
    return await writeColdRecording(command, recorder, notes, layout.dir, {
      common: lines.slice(0, checked), gets: lines.slice(checked + 2).filter((l) => l[0] === 'get'), ociLayout, index: bytes, recopy: text,
      layoutLine: lines[checked]!,
    }, rules);
  } catch (err) {
    return `cannot write: ${(err as Error).message}`;
  }
}

/** Writes `text` to `file` (mode 0600) through a temp file renamed into place. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}

/**
 * The directory of cold-copy recordings: $XDG_CACHE_HOME (when absolute) or ~/.cache, then oci-registry/copies.
 * native/recopy.c looks in the same place.
 */
export function coldRecordingDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : env.HOME ? join(env.HOME, '.cache') : undefined;
  return base === undefined ? undefined : join(base, 'oci-registry', 'copies');
}

/** Whether `dir` does not exist and its parent is a directory: a copy that makes a new layout there. */
export async function isFreshLayout(dir: string): Promise<boolean> {
  const missing = await lstat(dir).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
  return missing && (await stat(dirname(join(dir, '.'))).then((s) => s.isDirectory(), () => false));
}

/** What index.json holds when Layout.init makes a new layout (before the copy names its image). */
const EMPTY_INDEX = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}';

/**
 * The recording of a copy that made a new layout, for the native front end to make the same layout again in
 * another new directory (docs/registry-client.md, "Replayed cold copies"): the checks of the re-copy's recording
 * but the layout's, the bytes of the files the copy wrote (oci-layout, index.json before and after, the re-copy
 * recording), every blob with where it came from (a manifest request's body, or a blob request), and the
 * manifest requests. Only when the layout holds exactly what those make: every blob came from the registry as
 * it is stored (no conversion), and nothing else is in the layout.
 */
interface ColdParts {
  common: string[][]; gets: string[][]; ociLayout: Buffer; index: Buffer; recopy: string; layoutLine: string[];
}

async function writeColdRecording(command: RecopyCommand, recorder: Recorder, notes: DestinationNotes, dir: string, parts: ColdParts,
  rules: SourceRules | undefined): Promise<string | undefined> {
  const where = coldRecordingDir();
  if (where === undefined) return 'no cache directory';
  // where the blobs come from: the repository of the manifest requests (one registry, one repository)
  const bases = new Set<string>();
  let userAgent = '';
  for (const e of recorder.exchanges) {
    if (e.sha256 === undefined) continue;
    const url = new URL(e.url);
    const m = /^(\/v2\/.+)\/manifests\/[^/]+$/.exec(url.pathname);
    if (m === null || url.search !== '') return `${e.url}: not a manifest request`;
    bases.add(`${url.host} ${m[1]}`);
    userAgent = e.userAgent;
  }
  if (bases.size !== 1) return 'manifests from more than one repository';
  const [host, repo] = [...bases][0]!.split(' ') as [string, string];
  const fetched = new Set(parts.gets.map((g) => g[8]).filter((h) => h));
  const sources: string[][] = [];
  const fetches: string[][] = [];
  for (const [digest, size] of notes.blobs) {
    const [alg, hex] = digest.split(':') as [string, string];
    if (alg !== 'sha256' || !/^[0-9a-f]{64}$/.test(hex)) return `${digest}: not a sha256 digest`;
    const manifest = notes.manifests.get(digest);
    if (manifest !== undefined) {
      // a manifest the copy wrote: the body of one of its requests, unchanged
      if (manifest !== hex || !fetched.has(hex)) return `${digest}: a manifest the registry did not send as it is`;
      sources.push(['blob', alg, hex, String(size)]);
    } else if (notes.written.has(digest)) {
      fetches.push(['fetch', alg, hex, String(size), host, `${repo}/blobs/${digest}`, userAgent]);
    } else {
      return `${digest}: neither written nor a manifest`;
    }
  }
  // the layout holds exactly what the recording makes again
  const want = new Set([...notes.blobs.keys()].map((d) => d.slice('sha256:'.length)));
  const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
  if (!same(await readdir(dir), ['oci-layout', 'index.json', 'blobs', '.oci-ts'])) return 'other files in the layout';
  if (!same(await readdir(join(dir, 'blobs')), ['sha256'])) return 'other blob algorithms';
  const blobs = await readdir(join(dir, 'blobs', 'sha256'));
  if (blobs.length !== want.size || !blobs.every((b) => want.has(b))) return 'other blobs in the layout';
  if (!same(await readdir(join(dir, '.oci-ts')), ['ingest', 'recopy'])) return 'other files in .oci-ts';
  if ((await readdir(join(dir, '.oci-ts', 'ingest'))).length !== 0) return 'files left in .oci-ts/ingest';
  if (!same(await readdir(join(dir, RECOPY_DIR)), [recordingName(command.key)])) return 'other recordings';
  const lines: (string | Uint8Array)[][] = [
    ...parts.common,
    ['write', 'oci-layout', parts.ociLayout],
    ['write', 'index0', EMPTY_INDEX],
    ['write', 'index', parts.index],
    ['write', 'recopy', parts.recopy],
    ...fetches,
    ...sources,
    ...parts.gets,
  ];
  await mkdir(where, { recursive: true, mode: 0o700 });
  const st = await lstat(where);
  if (!st.isDirectory() || st.uid !== process.getuid!() || (st.mode & 0o777) !== 0o700) return `${where} is not ours alone`;
  await writeAtomic(join(where, recordingName(command.key)), recordingText(COLD_FORMAT, lines));
  const why = await writeAnyRecording(command, recorder, notes, where, parts, rules);
  await prune(where);
  return why;
}

/** What decides, besides the recorded files, how a copy reads its source: the trust policy and registries.conf. */
export interface SourceRules {
  policy: Policy | undefined;
  registries: RegistriesConf;
}

/**
 * Whether the trust policy or registries.conf says anything of some repositories of `host` (host:port) and not of
 * others: a scope of the docker transport, or a [[registry]] prefix, naming the host or something below it (a
 * wildcard prefix matching its name too). Then a copy of one repository says nothing of another. Pure.
 */
export function rulesForHost(rules: SourceRules, host: string): boolean {
  const scopes = rules.policy?.transports.docker ?? {};
  if (Object.keys(scopes).some((k) => k === host || k.startsWith(`${host}/`))) return true;
  const name = `${host}/`;
  return rules.registries.registries.some(({ prefix: p }) => {
    if (p.startsWith('*.')) return host.replace(/:\d+$/, '').endsWith(p.slice(1));
    if (p.startsWith(name) || p === host) return true;
    return name.startsWith(p) && /[/:@]/.test(name[p.length] ?? '');
  });
}

/** `bytes` with the one occurrence of each text replaced by its replacement; undefined when not exactly one. */
function template(bytes: Buffer, parts: [string, string][]): Buffer | undefined {
  let out = bytes;
  // the marker bytes (1 to 8) stand for nothing else
  if (out.some((c) => c >= 1 && c <= 8)) return undefined;
  for (const [text, replacement] of parts) {
    const at = out.indexOf(text);
    if (at === -1 || out.indexOf(text, at + 1) !== -1) return undefined;
    out = Buffer.concat([out.subarray(0, at), Buffer.from(replacement), out.subarray(at + Buffer.byteLength(text))]);
  }
  return out;
}

/**
 * The recording of a cold copy that holds for any image of the same registry (docs/registry-client.md, "Cold
 * copies of other images"): written beside the command's own when the image is one OCI image manifest, asked for
 * by a tag or digest of the source reference, and nothing in the policy or registries.conf is about one
 * repository of that registry more than another. Its key is the command line with the source as
 * `docker://HOST/*`; it holds the same checks, the probe of /v2/, the manifest request to make (Accept,
 * User-Agent, the Content-Type expected), and templates of index.json and of the re-copy recording, whose
 * marker bytes the front end fills in from the manifest it gets (digest, size, blobs, its request).
 */
async function writeAnyRecording(command: RecopyCommand, recorder: Recorder, notes: DestinationNotes, where: string, parts: ColdParts,
  rules: SourceRules | undefined): Promise<string | undefined> {
  if (rules === undefined) return undefined;
  const top = notes.top;
  if (top === undefined || top.mediaType !== OCI_MANIFEST || notes.manifests.size !== 1) return 'not one OCI image manifest';
  const [probe, manifest, ...more] = recorder.exchanges;
  if (probe === undefined || manifest === undefined || more.length > 0 || probe.sha256 !== undefined || manifest.sha256 === undefined) {
    return 'not a probe and one manifest request';
  }
  const [p, m] = [new URL(probe.url), new URL(manifest.url)];
  if (p.pathname !== '/v2/' || p.search !== '' || m.search !== '' || p.host !== m.host || manifest.contentType !== OCI_MANIFEST) return 'other requests';
  const source = command.key[command.source]!.slice('docker://'.length);
  const host = source.slice(0, source.indexOf('/'));
  if (host !== m.host) return 'the source is not on the registry asked';
  // the front end asks for another image the same way: /v2/REPOSITORY/manifests/(TAG|DIGEST), latest without either
  const { parseReference } = await import('@oci/registry-client');
  const ref = parseReference(source);
  if (m.pathname !== `/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`) return 'another manifest path';
  const key = command.key.map((k, i) => (i === command.source ? `docker://${host}/*` : k));
  if (rulesForHost(rules, host)) {
    // one written before those rules were would never hold again (its files changed): not kept to be checked in vain
    await unlink(join(where, recordingName(key))).catch(() => {});
    return `the policy or registries.conf has rules for repositories of ${host}`;
  }
  const hex = top.digest.slice('sha256:'.length);
  // 1: the manifest's digest (hex), 2: its size
  const index = template(parts.index, [[hex, '\x01'], [`"size":${top.size}`, '"size":\x02']]);
  if (index === undefined) return 'index.json is not a template';
  const [probeLine, manifestLine] = parts.gets;
  if (manifestLine?.[2] !== m.pathname) return 'other requests';
  const common = parts.common.slice(1);
  // the re-copy recording: 3 its key, 4 its index line, 5 its blob lines, 6 its manifest request
  const recopy = [FORMAT, '\x03', ...common.map(line), line(parts.layoutLine), '\x04', '\x05', line(probeLine!), '\x06', 'end', ''].join('\n');
  const lines: (string | Uint8Array)[][] = [
    ['key', ...key],
    ...common,
    ['write', 'oci-layout', parts.ociLayout],
    ['write', 'index0', EMPTY_INDEX],
    ['template', 'index', index],
    ['template', 'recopy', recopy],
    probeLine!,
    ['manifest', host, manifest.accept ?? '', manifest.userAgent, OCI_MANIFEST],
  ];
  await writeAtomic(join(where, recordingName(key)), recordingText(ANY_FORMAT, lines));
  return undefined;
}

async function prune(dir: string): Promise<void> {
  const names = await readdir(dir);
  if (names.length <= KEEP) return;
  const aged = await Promise.all(names.map(async (n) => ({ n, t: await stat(join(dir, n)).then((s) => s.mtimeMs, () => 0) })));
  aged.sort((a, b) => a.t - b.t);
  await Promise.all(aged.slice(0, aged.length - KEEP).map(({ n }) => unlink(join(dir, n)).catch(() => {})));
}

/** The SHA-256 of the installed bundle (dist/oci-registry.cjs.sha256, written by the build), or undefined. */
export async function bundleHash(): Promise<string | undefined> {
  try {
    const text = (await readFile(new URL('./oci-registry.cjs.sha256', import.meta.url), 'latin1')).trim();
    return /^[0-9a-f]{64}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}
