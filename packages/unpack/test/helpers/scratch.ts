// A scratch directory per test (made before each, removed after each), the unpack target inside it, and the
// checks the failure tests share: nothing at the target and no staging directory left beside it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import type { UnpackError } from '../../src/index.js';

export interface Scratch {
  /** This test's directory. */
  dir(): string;
  /** The unpack target: dir()/out. */
  target(): string;
  /** Nothing at the target and nothing else in dir() but `keep` (default: the test's layout). */
  assertNothingLeft(keep?: string[]): void;
}

export function useScratch(prefix: string): Scratch {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(join(os.tmpdir(), prefix));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    dir: () => dir,
    target: () => join(dir, 'out'),
    assertNothingLeft(keep = ['layout']) {
      expect(fs.existsSync(join(dir, 'out'))).toBe(false);
      expect(fs.readdirSync(dir).filter((n) => !keep.includes(n))).toEqual([]);
    },
  };
}

/** The error a promise rejects with (the test fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<UnpackError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a rejection').toBeDefined();
  return err as UnpackError;
}
