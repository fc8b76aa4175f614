// A failure on the main thread (the applier) while the inflate worker runs ahead on the next
// layers (ring full): the unpack rejects with the applier's error, promptly, and leaves nothing.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackImage, UnpackError } from '../src/index.js';
import { makeImage } from './helpers/image.js';
import { makeTar } from './helpers/tar.js';

let base: string;
beforeEach(() => {
  base = fs.mkdtempSync(join(os.tmpdir(), 'oci-unpack-workerfail-test-'));
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

describe.each([false, true])('applier failure with later layers in flight (worker: %s)', (worker) => {
  it.each([0, 1])('a hostile entry at the end of layer %i: ERR_UNSAFE_PATH, nothing left, no hang', async (bad) => {
    const layers = [];
    for (let i = 0; i < 3; i++) {
      const entries: Parameters<typeof makeTar>[0] = [{ name: `big${i}`, content: randomBytes(6 << 20) }];
      if (i === bad) entries.push({ name: '../../escape', content: 'x' });
      layers.push({ tar: await makeTar(entries) });
    }
    const layout = await makeImage(join(base, 'layout'), layers);
    const target = join(base, 'out');
    const t0 = Date.now();
    const err = await unpackImage(layout, 'latest', target, { rootless: false, worker }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(UnpackError.is(err, 'ERR_UNSAFE_PATH'), String(err)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(fs.readdirSync(base)).toEqual(['layout']);
  });
});
