import { forgetUnsyncedDirs } from './blobs.js';
import { forgetStartTime } from './fsutil.js';
import { forgetPins } from './pins.js';

/**
 * @internal Forgets what this package keeps per process: the process's start time (written into lock files),
 * blob pins and directories awaiting an fsync. For a process image that is saved and started again later (the
 * CLIs' V8 startup snapshot, built after a warm-up copy): the restored process is another process.
 */
export function forgetProcessState(): void {
  forgetStartTime();
  forgetPins();
  forgetUnsyncedDirs();
}
