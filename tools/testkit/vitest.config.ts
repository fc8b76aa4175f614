import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'testkit',
    include: ['test/**/*.test.ts'],
    // Consumers write '@oci/testkit/global-setup'; testkit itself uses its source.
    globalSetup: ['./src/global-setup.ts'],
  },
});
