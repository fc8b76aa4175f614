import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { RegistryError } from './errors.js';
import { noteUnrecordable } from './record.js';

/** A username/password pair, or an identity token (OAuth2 refresh token) from a credential helper. */
export interface Credentials {
  username: string;
  password: string;
  /** Set when a helper returned Username "<token>": the secret is a refresh token. */
  identityToken?: string | undefined;
}

/** The containers auth.json / docker config.json shape (the parts we read and write). */
export interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

export interface CredentialLookupOptions {
  /** Only this file is consulted (like --authfile); REGISTRY_AUTH_FILE is honoured otherwise. */
  authfile?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  home?: string | undefined;
  /** Directories searched for docker-credential-NAME (default: PATH). */
  signal?: AbortSignal | undefined;
}

const MAX_AUTH_FILE = 4 * 1024 * 1024;

/** The file `login` writes to, as podman and skopeo choose it. */
export function defaultAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return join('/run/containers', String(process.getuid?.() ?? 0), 'auth.json');
}

/** Files consulted for credentials, most important first. */
export function authFileSearchPath(options: CredentialLookupOptions = {}): string[] {
  if (options.authfile) return [options.authfile];
  const env = options.env ?? process.env;
  const home = options.home ?? env.HOME ?? homedir();
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  files.push(defaultAuthFile({ ...env, REGISTRY_AUTH_FILE: undefined }));
  files.push(join(env.XDG_CONFIG_HOME || join(home, '.config'), 'containers', 'auth.json'));
  files.push(join(env.DOCKER_CONFIG || join(home, '.docker'), 'config.json'));
  return [...new Set(files)];
}

/** Reads an auth file; a missing file is an empty one, a malformed one an ERR_INVALID_AUTH_FILE. */
export async function readAuthFile(path: string): Promise<AuthFile> {
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.length > MAX_AUTH_FILE) throw new Error('too large');
    text = buf.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new RegistryError('ERR_INVALID_AUTH_FILE', `cannot read auth file ${path}`, {
      cause: err,
      hint: 'Check the file permissions or pass another file with --authfile.',
    });
  }
  if (text.trim() === '') return {};
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not an object');
    return doc as AuthFile;
  } catch (err) {
    throw new RegistryError('ERR_INVALID_AUTH_FILE', `auth file ${path} is not valid JSON`, {
      cause: err,
      hint: 'Fix or remove the file; it should look like {"auths":{"HOST":{"auth":"BASE64(user:pass)"}}}.',
    });
  }
}

/** Normalises an auths key the way containers/image does for legacy Docker keys. */
export function normalizeAuthKey(key: string): string {
  let k = key;
  if (k.startsWith('http://') || k.startsWith('https://')) {
    k = k.replace(/^https?:\/\//, '');
    k = k.split('/')[0] ?? k;
  }
  if (k === 'index.docker.io' || k === 'registry-1.docker.io') k = 'docker.io';
  return k;
}

function decodeAuth(entry: { auth?: string; username?: string; password?: string; identitytoken?: string }):
  Credentials | undefined {
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) {
      const creds: Credentials = { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
      if (entry.identitytoken) creds.identityToken = entry.identitytoken;
      return creds;
    }
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (entry.identitytoken) return { username: '', password: '', identityToken: entry.identitytoken };
  return undefined;
}

/** Candidate keys for a registry/repository, most specific first (quay.io/ns/repo, quay.io/ns, quay.io). */
function candidateKeys(registry: string, repository?: string): string[] {
  const keys: string[] = [];
  if (repository) {
    const parts = repository.split('/');
    for (let i = parts.length; i > 0; i--) keys.push(`${registry}/${parts.slice(0, i).join('/')}`);
  }
  keys.push(registry);
  return keys;
}

/** Runs `docker-credential-NAME get` with the server on stdin. */
export async function runCredentialHelper(name: string, server: string, signal?: AbortSignal): Promise<Credentials | undefined> {
  // loaded here: node:child_process (with net, dgram...) costs ~20-150 ms of start-up that copies never need
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${name}`, ['get'], { timeout: 30_000, signal, maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err) {
          // Helpers print "credentials not found in native keychain" and exit 1 for unknown servers.
          if (/not found/i.test(String(stdout)) || (err as { code?: unknown }).code === 1) return resolve(undefined);
          return reject(new RegistryError('ERR_CREDENTIAL_HELPER', `credential helper docker-credential-${name} failed`, {
            cause: err,
            hint: `Check that docker-credential-${name} is installed and on PATH, or remove it from the auth file.`,
          }));
        }
        try {
          const doc = JSON.parse(String(stdout)) as { Username?: string; Secret?: string };
          if (!doc.Secret) return resolve(undefined);
          if (doc.Username === '<token>') return resolve({ username: '', password: '', identityToken: doc.Secret });
          resolve({ username: doc.Username ?? '', password: doc.Secret });
        } catch (e) {
          reject(new RegistryError('ERR_CREDENTIAL_HELPER', `credential helper docker-credential-${name} printed invalid JSON`, { cause: e }));
        }
      });
    child.stdin?.end(server);
  });
}

/**
 * Finds credentials for a registry as podman/skopeo do: per-registry credHelpers, then auths entries
 * (most specific key first) in each file of the search path, then credsStore. Undefined if none.
 */
export async function findCredentials(registry: string, repository?: string, options: CredentialLookupOptions = {}):
  Promise<Credentials | undefined> {
  // credentials (and the helpers that give them) are not part of a recorded copy: a copy that needs them is not repeated
  noteUnrecordable('credentials were looked up');
  const keys = candidateKeys(registry, repository);
  for (const file of authFileSearchPath(options)) {
    const doc = await readAuthFile(file);
    const helper = doc.credHelpers?.[registry] ?? (registry === 'docker.io' ? doc.credHelpers?.['index.docker.io'] : undefined);
    if (helper) {
      const creds = await runCredentialHelper(helper, registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry, options.signal);
      if (creds) return creds;
    }
    if (doc.auths) {
      const normalised = new Map<string, Credentials>();
      for (const [k, v] of Object.entries(doc.auths)) {
        const creds = v && typeof v === 'object' ? decodeAuth(v) : undefined;
        if (!creds) continue;
        const nk = normalizeAuthKey(k);
        // An exact key wins over a legacy (scheme-prefixed) one.
        if (!normalised.has(nk) || k === nk) normalised.set(nk, creds);
      }
      for (const k of keys) {
        const c = normalised.get(k);
        if (c) return c;
      }
    }
    if (doc.credsStore) {
      const creds = await runCredentialHelper(doc.credsStore, registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry, options.signal);
      if (creds) return creds;
    }
  }
  return undefined;
}

async function writeAuthFileAtomic(path: string, doc: AuthFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Stores credentials in an auth file (the format podman and skopeo read). `key` may include a repository path. */
export async function storeCredentials(path: string, key: string, creds: { username: string; password: string }): Promise<void> {
  const doc = await readAuthFile(path);
  doc.auths = { ...(doc.auths ?? {}) };
  doc.auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64') };
  await writeAuthFileAtomic(path, doc);
}

/** Removes one registry's credentials (or all with key '*'). Returns whether something was removed. */
export async function removeCredentials(path: string, key: string): Promise<boolean> {
  const doc = await readAuthFile(path);
  if (!doc.auths) return false;
  let removed = false;
  if (key === '*') {
    removed = Object.keys(doc.auths).length > 0;
    doc.auths = {};
  } else {
    for (const k of Object.keys(doc.auths)) {
      if (k === key || normalizeAuthKey(k) === key) {
        delete doc.auths[k];
        removed = true;
      }
    }
  }
  if (removed) await writeAuthFileAtomic(path, doc);
  return removed;
}

/** The username stored for a registry in the given file (like `skopeo login --get-login`). */
export async function storedLogin(path: string, key: string): Promise<string | undefined> {
  const doc = await readAuthFile(path);
  for (const [k, v] of Object.entries(doc.auths ?? {})) {
    if (k === key || normalizeAuthKey(k) === key) return decodeAuth(v)?.username;
  }
  return undefined;
}
