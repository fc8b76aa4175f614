import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'registry-client',
    include: ['test/**/*.test.ts'],
  },
});
