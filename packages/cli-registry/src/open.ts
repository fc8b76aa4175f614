import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CopyDestination, CopySource, RegistryClient, RegistryClientOptions } from '@oci/registry-client';
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

export async function newClient(flags: AccessFlags): Promise<RegistryClient> {
  noWasmTierUp();
  const { RegistryClient } = await import('@oci/registry-client');
  return new RegistryClient(await clientOptions(flags));
}

export interface Opened<T> {
  endpoint: T;
  close(): Promise<void>;
}

export async function openSource(name: ImageName, flags: AccessFlags): Promise<Opened<CopySource>> {
  const rc = await import('@oci/registry-client');
  switch (name.transport) {
    case 'docker': {
      const client = await newClient(flags);
      return { endpoint: rc.registrySource(client, rc.parseReference(name.reference)), close: () => client.close() };
    }
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

export async function openDestination(name: ImageName, flags: AccessFlags): Promise<Opened<CopyDestination> & { commit?: () => Promise<void> }> {
  const rc = await import('@oci/registry-client');
  switch (name.transport) {
    case 'docker': {
      const client = await newClient(flags);
      return { endpoint: rc.registryDestination(client, rc.parseReference(name.reference)), close: () => client.close() };
    }
    case 'oci': {
      const { Layout } = await import('@oci/layout');
      const layout = await Layout.init(name.dir);
      return { endpoint: rc.layoutDestination(layout, name.ref), close: async () => {} };
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
