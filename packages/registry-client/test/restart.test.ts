import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir, type TmpDir } from '@oci/testkit';
import { RegistryClient } from '../src/index.js';

/** The real docker-registry on a fixed port and storage, so that it can be killed and started again. */
function startOn(configFile: string): ChildProcess {
  return spawn('/usr/bin/docker-registry', ['serve', configFile], { stdio: 'ignore' });
}

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitUp(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${url}/v2/`);
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error('registry did not start');
}

describe('a registry killed mid-blob and started again', () => {
  let tmp: TmpDir;
  let child: ChildProcess | undefined;
  let host: string;
  let url: string;
  let configFile: string;

  beforeAll(async () => {
    tmp = await tmpDir('rc-restart-');
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    url = `http://${host}`;
    const storage = join(tmp.path, 'storage');
    await mkdir(storage);
    configFile = join(tmp.path, 'config.yml');
    await writeFile(configFile, JSON.stringify({
      version: '0.1',
      log: { level: 'error', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: storage }, maintenance: { uploadpurging: { enabled: false } } },
      http: { addr: host, secret: 'x'.repeat(16) },
    }));
    child = startOn(configFile);
    await waitUp(url);
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await tmp?.cleanup();
  });

  it('resumes the download with Range once it is back, and the bytes verify', async () => {
    const blob = randomBytes(24 << 20);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const client = new RegistryClient({ insecureRegistries: [host], anonymous: true, retryBaseMs: 100, retries: 6, certsDirs: [] });
    const target = { registry: host, repository: 'restart/blob' };
    try {
      await client.pushBlob(target, blob, { digest, size: blob.length });
      const events: { method: string; url: string; status: number | undefined }[] = [];
      const rec = (m: unknown): void => { events.push(m as { method: string; url: string; status: number | undefined }); };
      subscribe('oci:registry:request', rec);
      const stream = await client.getBlob(target, digest, { size: blob.length });
      const it = stream[Symbol.asyncIterator]();
      const parts: Buffer[] = [];
      const first = await it.next();
      parts.push(first.value as Buffer);
      // the consumer is slow: the registry dies with most of the blob unsent, and comes back 300 ms later
      const dead = child!;
      dead.kill('SIGKILL');
      await new Promise((r) => dead.once('exit', r));
      setTimeout(() => {
        child = startOn(configFile);
      }, 300);
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        parts.push(n.value as Buffer);
      }
      const got = Buffer.concat(parts);
      expect(got.length).toBe(blob.length);
      expect(got.equals(blob)).toBe(true);
      unsubscribe('oci:registry:request', rec);
      const gets = events.filter((e) => e.method === 'GET' && e.url.includes(digest));
      // the first GET, failed attempts while it was down, then the 206 that finished it
      expect(gets[0]!.status).toBe(200);
      expect(gets.at(-1)!.status).toBe(206);
    } finally {
      await client.close();
    }
  });
});
