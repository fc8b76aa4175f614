import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cli-image',
    include: ['test/**/*.test.ts'],
  },
});
