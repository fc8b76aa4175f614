import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'runtime-spec',
    include: ['test/**/*.test.ts'],
  },
});
