import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'layout',
    include: ['test/**/*.test.ts'],
  },
});
