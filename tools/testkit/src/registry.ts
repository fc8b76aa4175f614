import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, createServerCert, createSigningKey } from './certs.js';
import { trackDir, trackPid, untrackDir, untrackPid } from './cleanup.js';
import { TestkitError } from './errors.js';
import { runOk } from './process.js';
import { startTokenServer, type TokenServer, type TokenUser } from './token-server.js';

export type RegistryMode = 'plain' | 'htpasswd' | 'tls' | 'token';

export const REGISTRY_MODES: readonly RegistryMode[] = ['plain', 'htpasswd', 'tls', 'token'];

export interface StartRegistryOptions {
  mode?: RegistryMode;
  /** Serve HTTPS with a CA made for this registry. Default: true for mode 'tls', false otherwise. */
  tls?: boolean;
  /** Main user (htpasswd and token modes). Default 'testuser' with a random password. */
  username?: string;
  password?: string;
  /** Token mode: a user that gets pull only. Default 'reader' with a random password. */
  readerUsername?: string;
  readerPassword?: string;
  /** Token mode: what anonymous requests get ('pull', the default, or 'none'). */
  anonymous?: 'pull' | 'none';
  /** Token mode: token lifetime in seconds (default 300). */
  tokenExpiresIn?: number;
  /** Token mode: more users. */
  extraUsers?: TokenUser[];
  /** Path of the registry binary (default $OCI_TESTKIT_REGISTRY_BIN or /usr/bin/docker-registry). */
  binary?: string;
  /** Registry log level (default 'warn'); the log goes to `logFile`. */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** Milliseconds to wait for the registry to answer (default 15000). */
  startTimeoutMs?: number;
}

/** Token server details of a registry in token mode (serialisable). */
export interface TokenServerInfo {
  url: string;
  realm: string;
  service: string;
  issuer: string;
  anonymous: 'pull' | 'none';
  /** GET this URL for the JSON list of token requests so far (DELETE resets it). */
  requestsUrl: string;
}

/** Everything about a running registry that can cross a process boundary (JSON). */
export interface RegistryInfo {
  mode: RegistryMode;
  /** '127.0.0.1:PORT' — what goes in an image reference. */
  host: string;
  hostname: string;
  port: number;
  /** 'http://127.0.0.1:PORT' or 'https://127.0.0.1:PORT'. */
  url: string;
  tls: boolean;
  /** Credentials with pull, push and delete (htpasswd and token modes). */
  username?: string;
  password?: string;
  /** Token mode: credentials with pull only. */
  readerUsername?: string;
  readerPassword?: string;
  /** `Basic base64(username:password)` for the main user (htpasswd mode: send it to the registry). */
  basicAuth?: string;
  /** TLS: the CA certificate (PEM) that signed the server certificate. */
  caFile?: string;
  /** TLS: a directory holding ca.crt, for `skopeo --src-cert-dir/--dest-cert-dir`. */
  certDir?: string;
  /** htpasswd/token: a containers auth.json (`--authfile`) holding the main user's credentials. */
  authFile?: string;
  tokenServer?: TokenServerInfo;
  storageDir: string;
  configFile: string;
  logFile: string;
  pid: number;
}

export interface RegistryHandle extends RegistryInfo {
  /** Stop the registry (SIGTERM, then SIGKILL) and its token server, and remove its temp dir. */
  stop(): Promise<void>;
}

const DEFAULT_BIN = '/usr/bin/docker-registry';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** `Basic base64(user:pass)`. */
export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function probe(url: string, caPem: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL('/v2/', url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', timeout: 1000, ...(caPem ? { ca: caPem } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Start the real docker-registry (CNCF distribution 2.8) on a free loopback
 * port with its own storage in a temp dir, in one of four modes: 'plain' HTTP,
 * 'htpasswd' basic auth, 'tls' (HTTPS with a CA made here), 'token' (Bearer
 * tokens from a token server started here). Always call stop().
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RegistryHandle> {
  const mode = options.mode ?? 'plain';
  if (!REGISTRY_MODES.includes(mode)) throw new TestkitError('ERR_INVALID_MODE', `unknown registry mode ${String(mode)}`, { hint: `use one of ${REGISTRY_MODES.join(', ')}` });
  const tls = options.tls ?? mode === 'tls';
  const binary = options.binary ?? process.env['OCI_TESTKIT_REGISTRY_BIN'] ?? DEFAULT_BIN;
  const root = await mkdtemp(join(tmpdir(), `oci-registry-${mode}-`));
  trackDir(root);
  let tokenServer: TokenServer | undefined;
  try {
    const storageDir = join(root, 'storage');
    const certDir = join(root, 'certs');
    await mkdir(storageDir);
    const info: Partial<RegistryInfo> = { mode, tls, storageDir };
    const config: Record<string, unknown> = {
      version: '0.1',
      log: { level: options.logLevel ?? 'warn', formatter: 'text', accesslog: { disabled: true } },
      storage: {
        filesystem: { rootdirectory: storageDir },
        delete: { enabled: true },
        cache: { blobdescriptor: 'inmemory' },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: { addr: '', secret: randomBytes(16).toString('hex'), headers: { 'X-Content-Type-Options': ['nosniff'] } },
      health: { storagedriver: { enabled: false } },
    };

    if (tls) {
      await mkdir(certDir);
      const ca = await createCA(certDir);
      const server = await createServerCert(root, ca);
      (config['http'] as Record<string, unknown>)['tls'] = { certificate: server.certFile, key: server.keyFile };
      // containers/image's cert dir: *.crt are CA certificates.
      info.caFile = ca.certFile;
      info.certDir = certDir;
      await rm(join(certDir, 'ca.key'));
      await rm(join(certDir, 'ca.cnf'), { force: true });
      await copyFile(server.certFile, join(root, 'server.pem'));
    }

    const username = options.username ?? 'testuser';
    const password = options.password ?? `pw-${randomBytes(9).toString('base64url')}`;
    if (mode === 'htpasswd') {
      const r = await runOk('htpasswd', ['-Bbn', username, password]);
      const file = join(root, 'htpasswd');
      await writeFile(file, r.stdout.trim() + '\n');
      config['auth'] = { htpasswd: { realm: 'oci-testkit', path: file } };
      Object.assign(info, { username, password, basicAuth: basicAuthHeader(username, password) });
    } else if (mode === 'token') {
      const signer = await createSigningKey(root);
      const readerUsername = options.readerUsername ?? 'reader';
      const readerPassword = options.readerPassword ?? `pw-${randomBytes(9).toString('base64url')}`;
      const anonymous = options.anonymous ?? 'pull';
      const service = 'oci-testkit-registry';
      const issuer = 'oci-testkit-token-issuer';
      tokenServer = await startTokenServer({
        service,
        issuer,
        anonymous,
        keyPem: signer.keyPem,
        certDerBase64: signer.certDerBase64,
        ...(options.tokenExpiresIn !== undefined ? { expiresIn: options.tokenExpiresIn } : {}),
        users: [
          { username, password, actions: ['pull', 'push', 'delete', '*'], catalog: true },
          { username: readerUsername, password: readerPassword, actions: ['pull'] },
          ...(options.extraUsers ?? []),
        ],
      });
      config['auth'] = { token: { realm: tokenServer.realm, service, issuer, rootcertbundle: signer.certFile } };
      Object.assign(info, {
        username,
        password,
        readerUsername,
        readerPassword,
        basicAuth: basicAuthHeader(username, password),
        tokenServer: { url: tokenServer.url, realm: tokenServer.realm, service, issuer, anonymous, requestsUrl: `${tokenServer.url}/_testkit/requests` },
      });
    }

    const configFile = join(root, 'config.yml');
    const logFile = join(root, 'registry.log');
    const caPem = info.caFile ? await readFile(info.caFile, 'utf8') : undefined;
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_') && v !== undefined) env[k] = v;

    let lastError = '';
    for (let attempt = 0; attempt < 6; attempt++) {
      const port = await freePort();
      const host = `127.0.0.1:${port}`;
      (config['http'] as Record<string, unknown>)['addr'] = host;
      // JSON is YAML: the registry's config parser reads it as is.
      await writeFile(configFile, JSON.stringify(config, null, 2));
      const fd = openSync(logFile, 'a');
      // setpriv --pdeathsig: the registry dies with us even if we are SIGKILLed.
      const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', binary, 'serve', configFile], { stdio: ['ignore', fd, fd], env });
      closeSync(fd);
      const spawnError = new Promise<Error>((r) => child.once('error', r));
      if (child.pid === undefined) throw await spawnError;
      trackPid(child.pid);
      const url = `${tls ? 'https' : 'http'}://${host}`;
      const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
      let ready = false;
      while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) break;
        try {
          const status = await probe(url, caPem);
          if (status === 200 || status === 401) {
            ready = true;
            break;
          }
        } catch {
          // not listening yet
        }
        await sleep(30);
      }
      if (ready && child.exitCode === null) {
        const pid = child.pid;
        const ts = tokenServer;
        let stopped: Promise<void> | undefined;
        const handle: RegistryHandle = {
          ...(info as RegistryInfo),
          host,
          hostname: '127.0.0.1',
          port,
          url,
          configFile,
          logFile,
          pid,
          stop() {
            stopped ??= (async () => {
              await stopChild(child);
              untrackPid(pid);
              await ts?.stop();
              await rm(root, { recursive: true, force: true, maxRetries: 3 });
              untrackDir(root);
            })();
            return stopped;
          },
        };
        if (mode === 'htpasswd' || mode === 'token') {
          const authFile = join(root, 'auth.json');
          await writeFile(authFile, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }, null, 2));
          handle.authFile = authFile;
        }
        return handle;
      }
      await stopChild(child, 500);
      untrackPid(child.pid);
      lastError = await readFile(logFile, 'utf8').catch(() => '');
      if (!/address already in use/i.test(lastError)) break;
    }
    throw new TestkitError('ERR_REGISTRY_START', `docker-registry (${mode}) did not start: ${lastError.trim().split('\n').slice(-3).join(' | ') || 'no output'}`, {
      hint: `check that ${binary} exists (Debian package docker-registry) and that loopback ports are free`,
    });
  } catch (err) {
    await tokenServer?.stop();
    await rm(root, { recursive: true, force: true });
    untrackDir(root);
    throw err;
  }
}
