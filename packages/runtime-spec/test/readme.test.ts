import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(new URL('../dist/index.js', import.meta.url));

describe('README', () => {
  // The example imports '@oci/runtime-spec' (the package resolves itself through its exports map, i.e. dist/).
  it.skipIf(!built)('the example runs and prints what its comments say', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeTruthy();
    const file = new URL(`../.readme-example-${process.pid}.mjs`, import.meta.url);
    writeFileSync(file, code!);
    try {
      const out = execFileSync(process.execPath, [fileURLToPath(file)], { cwd: pkg, encoding: 'utf8' });
      expect(out).toContain("[ 'redis-server', '--port', '7000' ] { uid: 100, gid: 101, additionalGids: [ 4 ] }");
      expect(out).toContain('config.json is invalid: /process/user/uid: must be >= 0; /mounts/0/destination: is required');
    } finally {
      rmSync(file, { force: true });
    }
  });
});
