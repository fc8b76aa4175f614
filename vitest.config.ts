import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'tools/*/vitest.config.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // @oci/testkit: one registry service for the whole run (registries start on
    // first getRegistry(mode) and stop at the end). From source: no build needed.
    globalSetup: ['./tools/testkit/src/global-setup.ts'],
  },
});
