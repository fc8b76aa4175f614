import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

/** A scratch area with a rootfs and, beside it, an "outside" dir holding a canary file. */
export interface Scratch {
  base: string;
  rootfs: string;
  outside: string;
  canary: string;
  assertCanaryIntact(): void;
  cleanup(): void;
}

export function scratch(): Scratch {
  const base = fs.mkdtempSync(join(os.tmpdir(), 'oci-unpack-test-'));
  const rootfs = join(base, 'rootfs');
  const outside = join(base, 'outside');
  fs.mkdirSync(rootfs);
  fs.mkdirSync(outside);
  const canary = join(outside, 'canary');
  fs.writeFileSync(canary, 'canary\n', { mode: 0o644 });
  fs.chmodSync(outside, 0o755);
  const before = fs.statSync(canary);
  const snapshotOutside = () => fs.readdirSync(base).sort().join(',') + '|' + fs.readdirSync(outside).sort().join(',');
  const listing = snapshotOutside();
  return {
    base,
    rootfs,
    outside,
    canary,
    assertCanaryIntact() {
      const st = fs.statSync(canary);
      if (fs.readFileSync(canary, 'utf8') !== 'canary\n') throw new Error('canary content changed');
      if (st.mode !== before.mode) throw new Error(`canary mode changed: ${st.mode.toString(8)}`);
      if (st.uid !== before.uid || st.gid !== before.gid) throw new Error('canary owner changed');
      if (st.nlink !== 1) throw new Error(`canary got hardlinked (nlink ${st.nlink})`);
      if ((fs.statSync(outside).mode & 0o7777) !== 0o755) throw new Error('outside dir mode changed');
      if (snapshotOutside() !== listing) throw new Error(`files appeared outside the rootfs: ${snapshotOutside()}`);
    },
    cleanup() {
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
