/**
 * vitest globalSetup of @oci/testkit: serves the run-wide registries to
 * getRegistry(). Put it in a project's or the root config's `globalSetup`
 * (see README). Listed by several projects of one run, it still runs one
 * service: the first setup starts it, the last teardown stops it.
 */
import { CONTROL_ENV, PROVIDE_KEY, startRegistryService, type RegistryService } from './shared.js';

interface Shared {
  refs: number;
  service: Promise<RegistryService>;
}

const KEY = Symbol.for('oci.testkit.registryService');

/** The part of vitest's TestProject used here (kept structural: no vitest import). */
export interface ProvideTarget {
  provide(key: never, value: never): void;
}

export default async function setup(project?: ProvideTarget): Promise<() => Promise<void>> {
  const g = globalThis as unknown as Record<symbol, Shared | undefined>;
  let shared = g[KEY];
  if (!shared) {
    shared = { refs: 0, service: startRegistryService() };
    g[KEY] = shared;
  }
  shared.refs++;
  const service = await shared.service;
  process.env[CONTROL_ENV] = service.url;
  (project?.provide as ((k: string, v: string) => void) | undefined)?.call(project, PROVIDE_KEY, service.url);
  const mine = shared;
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    mine.refs--;
    if (mine.refs > 0) return;
    if (g[KEY] === mine) g[KEY] = undefined;
    if (process.env[CONTROL_ENV] === service.url) delete process.env[CONTROL_ENV];
    await service.stop();
  };
}
