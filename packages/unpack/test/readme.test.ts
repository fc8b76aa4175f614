// The README's example must run as written.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixture } from '@oci/fixtures';
import { run } from '@oci/testkit';
import { expect, it } from 'vitest';

it('the README example runs', async () => {
  const readme = fs.readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const script = fileURLToPath(new URL(`./.readme-example-${process.pid}.mjs`, import.meta.url));
  const base = fs.mkdtempSync(join(os.tmpdir(), 'oci-unpack-readme-'));
  fs.writeFileSync(script, code!);
  try {
    const fx = await buildFixture('busybox');
    const r = await run('node', [script, fx.layout, 'latest', join(base, 'bundle')], { cwd: base, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(join(base, 'bundle-rootfs/bin/busybox'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(join(base, 'bundle/config.json'), 'utf8')).process.args).toEqual(['sh', '-c', 'echo hello']);
  } finally {
    fs.rmSync(script, { force: true });
    fs.rmSync(base, { recursive: true, force: true });
  }
});
