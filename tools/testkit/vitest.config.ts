import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'testkit',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Consumers write '@oci/testkit/global-setup'; testkit itself uses its source.
    globalSetup: ['./src/global-setup.ts'],
  },
});
