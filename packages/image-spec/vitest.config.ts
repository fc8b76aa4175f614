import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'image-spec',
    include: ['test/**/*.test.ts'],
  },
});
