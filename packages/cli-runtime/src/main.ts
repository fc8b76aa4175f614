// The entry of every command (dist/oci-runtime.cjs once bundled). bin/oci-runtime.js runs the smaller
// main-query.ts bundle for the commands it lists instead (see docs/cli-runtime.md, "Start-up").
import { runCli } from './cli.js';
import type { Loaders } from './cli.js';

const loaders: Loaders = {
  create: () => import('./commands/lifecycle.js').then((m) => ({ default: m.createCmd })),
  run: () => import('./commands/lifecycle.js').then((m) => ({ default: m.runCmd })),
  start: () => import('./commands/lifecycle.js').then((m) => ({ default: m.startCmd })),
  state: () => import('./commands/lifecycle.js').then((m) => ({ default: m.stateCmd })),
  delete: () => import('./commands/lifecycle.js').then((m) => ({ default: m.deleteCmd })),
  kill: () => import('./commands/lifecycle.js').then((m) => ({ default: m.killCmd })),
  list: () => import('./commands/list.js'),
  ps: () => import('./commands/ps.js'),
  exec: () => import('./commands/exec.js'),
  pause: () => import('./commands/misc.js').then((m) => ({ default: m.pauseCmd })),
  resume: () => import('./commands/misc.js').then((m) => ({ default: m.resumeCmd })),
  events: () => import('./commands/misc.js').then((m) => ({ default: m.eventsCmd })),
  update: () => import('./commands/update.js'),
  spec: () => import('./commands/misc.js').then((m) => ({ default: m.specCmd })),
  features: () => import('./commands/misc.js').then((m) => ({ default: m.featuresCmd })),
};

runCli(loaders);
