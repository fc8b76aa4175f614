// The README's example must run as written (with the package name pointed at the sources).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const tmp = fileURLToPath(new URL(`./readme-example-${process.pid}.tmp.mjs`, import.meta.url));

describe('README example', () => {
  afterAll(() => rmSync(tmp, { force: true }));

  it('runs and prints what the comments say', async () => {
    const readme = readFileSync(`${pkgDir}/README.md`, 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    writeFileSync(tmp, (code as string).replace("from '@oci/image-spec'", "from '../src/index.ts'"));
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args);
    });
    try {
      await import(tmp);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual([
      ['config valid:', true],
      ['layer verified:', expect.stringMatching(/^sha256:/)],
      ['refused:', 'ERR_DIGEST_MISMATCH'],
      ['linux/arm/v7'],
      [true],
      [{ os: 'linux', architecture: 'arm', variant: 'v6' }],
    ]);
  });
});
