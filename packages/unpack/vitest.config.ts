import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'unpack',
    include: ['test/**/*.test.ts'],
  },
});
