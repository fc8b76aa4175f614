// The entry of the frequent small commands engines call around every container (dist/oci-runtime-query.cjs
// once bundled): state, list, kill, start, delete, pause, resume. Static imports, so that the bundler drops
// what they do not use (planning, the helper's protocol, exec, the spec tables and validators) and a start
// compiles and evaluates less. bin/oci-runtime.js routes these commands here (docs/cli-runtime.md, "Start-up").
import { runCli } from './cli.js';
import { deleteCmd, killCmd, startCmd, stateCmd } from './commands/lifecycle.js';
import listCmd from './commands/list.js';
import { pauseCmd, resumeCmd } from './commands/misc.js';

const handler = (h: typeof stateCmd) => () => Promise.resolve({ default: h });

runCli({
  state: handler(stateCmd),
  list: handler(listCmd),
  kill: handler(killCmd),
  start: handler(startCmd),
  delete: handler(deleteCmd),
  pause: handler(pauseCmd),
  resume: handler(resumeCmd),
});
