import { existsSync } from 'node:fs';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Layout } from '@oci/layout';
import type { CopyDestination, CopySource, ManifestData, Reference, RegistriesConf, RegistryClient, RegistryClientOptions } from '@oci/registry-client';
import { CliError, usage } from './errors.js';
import type { ImageName } from './transports.js';

/** Registry access flags of one side (src/dest) of a command, as skopeo spells them. */
export interface AccessFlags {
  creds?: string | undefined;
  noCreds?: boolean | undefined;
  tlsVerify?: boolean | undefined;
  certDir?: string | undefined;
  authfile?: string | undefined;
  retries?: number | undefined;
  /** --registries-conf (else the default files). */
  registriesConf?: string | undefined;
  /** Hosts reached without TLS verification (registries.conf `insecure`). */
  insecureRegistries?: string[] | undefined;
}

async function certDirFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new CliError('ERR_USAGE', `cannot read certificate directory ${dir}`, { cause: err, hint: 'Pass a directory holding *.crt CA files.' });
  }
  return names.filter((n) => n.endsWith('.crt')).sort().map((n) => join(dir, n));
}

export function parseCreds(creds: string): { username: string; password: string } {
  const i = creds.indexOf(':');
  if (i === 0) throw usage('--creds needs a user name: USER[:PASSWORD]');
  return i === -1 ? { username: creds, password: '' } : { username: creds.slice(0, i), password: creds.slice(i + 1) };
}

export async function clientOptions(flags: AccessFlags): Promise<RegistryClientOptions> {
  const o: RegistryClientOptions = {};
  if (flags.creds !== undefined && flags.noCreds) throw usage('--creds and --no-creds cannot be used together');
  if (flags.creds !== undefined) o.credentials = parseCreds(flags.creds);
  if (flags.noCreds) o.anonymous = true;
  if (flags.authfile) o.authfile = flags.authfile;
  if (flags.tlsVerify === false) o.tlsVerify = false;
  if (flags.certDir) o.caFile = await certDirFiles(flags.certDir);
  if (flags.retries !== undefined) o.retries = flags.retries;
  if (flags.insecureRegistries?.length) o.insecureRegistries = flags.insecureRegistries;
  // loads node:v8 (~1.5 ms) only when undici is about to be used: pulls never get here
  o.beforeUndici = noWasmTierUp;
  return o;
}

let wasmTiering = true;

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it with Liftoff, then recompiles it with
 * TurboFan on a background thread, and Node waits for that job before a process can exit: ~100 ms of CPU and
 * of wall time at the end of every command, for parsing a few headers (body bytes are not parsed). A command
 * is short-lived: Liftoff code is enough. Process-wide, so set here (the CLI owns its process), not in the library.
 */
function noWasmTierUp(): void {
  if (!wasmTiering) return;
  wasmTiering = false;
  // the user's own wasm flags win (and we could not restore them, see below)
  if ([...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => /wasm|liftoff/.test(a))) return;
  try {
    const v8 = process.getBuiltinModule('node:v8');
    v8.setFlagsFromString('--liftoff-only');
    // V8 code caches carry a hash of the flags: put them back (--liftoff-only also turned both tierings off)
    // before anything writes one at exit (the CLI loader does), or the next start would reject it.
    process.prependOnceListener('exit', () => v8.setFlagsFromString('--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering'));
  } catch {
    // an unknown flag in some V8 version: only slower
  }
}

const confs = new Map<string, Promise<RegistriesConf>>();

/** Forgets the registries.conf files read and the V8 flags set (see forgetProcessState in main.ts). */
export function forgetOpenState(): void {
  confs.clear();
  wasmTiering = true;
}

/** registries.conf, read once per process and path. */
export async function registriesConf(flags: AccessFlags): Promise<RegistriesConf> {
  const key = flags.registriesConf ?? '';
  let conf = confs.get(key);
  if (conf === undefined) {
    conf = import('@oci/registry-client').then((rc) => rc.loadRegistriesConf({ path: flags.registriesConf }));
    confs.set(key, conf);
  }
  return await conf;
}

/**
 * A client for the registry of `ref` (when given: refused when registries.conf blocks it, without TLS verification
 * when it marks it insecure). Pulls go through openSource, which also applies mirrors and location rewrites.
 */
export async function newClient(flags: AccessFlags, ref?: Reference): Promise<RegistryClient> {
  const rc = await import('@oci/registry-client');
  let f = flags;
  if (ref !== undefined) {
    const access = rc.directAccess(await registriesConf(flags), ref);
    if (access.insecure) f = { ...flags, insecureRegistries: [...(flags.insecureRegistries ?? []), ref.registry] };
  }
  return new rc.RegistryClient(await clientOptions(f));
}

/**
 * A docker:// source that follows registries.conf: the pull sources (mirrors, then the primary location, each
 * possibly rewritten) are asked for the manifest in order; the first that has it serves the whole image.
 */
async function mirroredSource(ref: Reference, flags: AccessFlags): Promise<Opened<CopySource>> {
  const rc = await import('@oci/registry-client');
  const sources = rc.pullSources(await registriesConf(flags), ref);
  const plain = sources.length === 1 && !sources[0]!.insecure && sources[0]!.reference === ref;
  if (plain) {
    const client = await newClient(flags);
    return { endpoint: rc.registrySource(client, ref), close: () => client.close() };
  }
  const clients: RegistryClient[] = [];
  let chosen: CopySource | undefined;
  const endpoint: CopySource = {
    name: `docker://${rc.formatReference(ref)}`,
    async getRoot(o = {}): Promise<ManifestData> {
      const failures: string[] = [];
      let last: unknown;
      for (const s of sources) {
        // a mirror that fails is not retried: the next source is (containers/image does the same)
        const f: AccessFlags = s.mirror ? { ...flags, retries: 0 } : flags;
        const client = await newClient(s.insecure ? { ...f, insecureRegistries: [...(f.insecureRegistries ?? []), s.reference.registry] } : f);
        clients.push(client);
        const src = rc.registrySource(client, s.reference);
        try {
          const root = await src.getRoot(o);
          chosen = src;
          return root;
        } catch (err) {
          if (o.signal?.aborted) throw err;
          last = err;
          const e = err as { code?: string; message?: string };
          failures.push(`${s.mirror ? 'mirror' : 'primary'} ${rc.formatReference(s.reference)}: ${e.code ?? 'ERR'}: ${e.message ?? String(err)}`);
        }
      }
      if (sources.length === 1) throw last;
      const e = last as { code?: string; hint?: string };
      throw new rc.RegistryError(e.code ?? 'ERR_NETWORK', `no pull source has ${rc.formatReference(ref)}:\n  ${failures.join('\n  ')}`, { cause: last, hint: e.hint });
    },
    async getManifest(d, o) {
      if (!chosen) await endpoint.getRoot(o);
      return await chosen!.getManifest(d, o);
    },
    async getBlob(d, o) {
      if (!chosen) await endpoint.getRoot(o);
      return await chosen!.getBlob(d, o);
    },
  };
  return { endpoint, close: async () => { await Promise.all(clients.map((c) => c.close())); } };
}

export interface Opened<T> {
  endpoint: T;
  /** `failed`: the copy did not finish (a destination it created and left empty is removed). */
  close(outcome?: { failed: boolean }): Promise<void>;
}

/**
 * Removes a layout this command created when it holds nothing but what creating it wrote (a copy that failed
 * before its first blob: image not found, denied...), so a failed copy leaves no empty layout behind, as skopeo
 * leaves none. A layout with blobs is kept: re-running the copy resumes from them.
 */
async function removeIfEmptyLayout(dir: string): Promise<boolean> {
  try {
    const top = await readdir(dir);
    if (!top.every((n) => ['oci-layout', 'index.json', 'blobs', '.oci-ts'].includes(n))) return false;
    const blobs = await readdir(join(dir, 'blobs')).catch(() => [] as string[]);
    for (const alg of blobs) if ((await readdir(join(dir, 'blobs', alg))).length > 0) return false;
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8').catch(() => '{"manifests":[]}')) as { manifests?: unknown[] };
    if ((index.manifests ?? []).length > 0) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  } catch {
    // best effort: whatever cannot be checked is left as it is
    return false;
  }
}

export async function openSource(name: ImageName, flags: AccessFlags): Promise<Opened<CopySource>> {
  const rc = await import('@oci/registry-client');
  switch (name.transport) {
    case 'docker':
      return await mirroredSource(rc.parseReference(name.reference), flags);
    case 'oci': {
      const { Layout } = await import('@oci/layout');
      const layout = await Layout.open(name.dir);
      return { endpoint: rc.layoutSource(layout, name.ref), close: async () => {} };
    }
    case 'dir':
      return { endpoint: rc.dirSource(name.dir), close: async () => {} };
    case 'oci-archive': {
      const { extractArchive } = await import('./archive.js');
      const tmp = await extractArchive(name.file);
      const { Layout } = await import('@oci/layout');
      const layout = await Layout.open(tmp.dir);
      return { endpoint: rc.layoutSource(layout, name.ref), close: tmp.remove };
    }
  }
}

export async function openDestination(name: ImageName, flags: AccessFlags): Promise<Opened<CopyDestination> & {
  commit?: () => Promise<void>;
  /** oci: the layout (it may still be opening). */
  layout?: Promise<Layout>;
}> {
  const rc = await import('@oci/registry-client');
  switch (name.transport) {
    case 'docker': {
      const ref = rc.parseReference(name.reference);
      const client = await newClient(flags, ref);
      return { endpoint: rc.registryDestination(client, ref), close: () => client.close() };
    }
    case 'oci': {
      const { Layout } = await import('@oci/layout');
      // not awaited: the copy plans and starts its first downloads while the layout is created or checked
      // (a layout that did not exist has no blobs to look for)
      // the directories Layout.init is about to create (the layout's and missing parents): what a failed copy removes
      const made: string[] = [];
      for (let d = resolve(name.dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) made.push(d);
      const created = made.length > 0;
      const layout = Layout.init(name.dir);
      return {
        endpoint: rc.layoutDestination(layout, name.ref, { dir: name.dir, created }),
        layout,
        close: async (outcome) => {
          const opened = await layout.catch(() => undefined);
          if (outcome?.failed && created && opened && (await removeIfEmptyLayout(opened.dir))) {
            // parents this copy created, innermost first, while empty (another process may have used them meanwhile)
            for (const d of made.slice(1)) if (!(await rmdir(d).then(() => true, () => false))) break;
          }
        },
      };
    }
    case 'dir':
      return { endpoint: rc.dirDestination(name.dir), close: async () => {} };
    case 'oci-archive': {
      const { archiveWorkspace } = await import('./archive.js');
      const ws = await archiveWorkspace(name.file);
      const { Layout } = await import('@oci/layout');
      const layout = await Layout.init(ws.dir);
      return {
        endpoint: rc.layoutDestination(layout, name.ref),
        commit: ws.commit,
        close: ws.remove,
      };
    }
  }
}

export async function readPasswordStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export { readFile };
