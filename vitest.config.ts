import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'tools/*/vitest.config.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
