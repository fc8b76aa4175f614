import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cli-registry',
    include: ['test/**/*.test.ts'],
  },
});
