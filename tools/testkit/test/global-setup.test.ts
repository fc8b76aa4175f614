import { describe, expect, inject, it } from 'vitest';
import { getRegistry } from '../src/index.js';

describe('globalSetup', () => {
  it('provides the registry service to test workers', async () => {
    const url = inject('ociTestkitControlUrl' as never) as unknown;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(process.env['OCI_TESTKIT_CONTROL_URL']).toBe(url);
    const a = await getRegistry('plain');
    const b = await getRegistry('plain');
    expect(a.host).toBe(b.host);
    const res = await fetch(`${String(url)}/registry/plain`);
    expect(((await res.json()) as { host: string }).host).toBe(a.host);
  });

  it('stop() of a shared handle leaves the registry running', async () => {
    const a = await getRegistry('plain');
    await a.stop();
    expect((await fetch(`${a.url}/v2/`)).status).toBe(200);
  });
});
