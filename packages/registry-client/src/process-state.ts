import { dropFreeSlabs } from './lean-http.js';
import { forgetDefaultCa } from './transport.js';

/**
 * @internal Forgets what this package keeps per process: the reusable body memory and the CA bundle read from
 * NODE_EXTRA_CA_CERTS. For a process image that is saved and started again later (the CLIs' V8 startup
 * snapshot, built after a warm-up copy): a restored process must read its own files, not the builder's.
 */
export function forgetProcessState(): void {
  dropFreeSlabs();
  forgetDefaultCa();
}
