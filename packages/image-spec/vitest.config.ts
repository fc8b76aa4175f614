import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'image-spec',
    include: ['test/**/*.test.ts'],
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './test/tsconfig.json',
    },
  },
});
