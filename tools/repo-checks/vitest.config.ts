import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'repo-checks',
    include: ['test/**/*.test.ts'],
    // Projects do not inherit the root's timeouts; a loaded 2-core CI machine needs more than 5 s.
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
