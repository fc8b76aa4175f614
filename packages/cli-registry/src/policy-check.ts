// The trust policy check of `copy` and `sync` (skopeo's --policy / --insecure-policy): the source image must be
// accepted by the most specific scope of containers-policy.json before anything is read from it.
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Policy, PolicyImage } from '@oci/registry-client';
import type { ImageName } from './transports.js';

/** Global flags that choose the policy. */
export interface PolicyFlags {
  policy?: string | undefined;
  insecurePolicy?: boolean | undefined;
}

export function policyFlags(argv: Record<string, unknown>): PolicyFlags {
  return {
    policy: typeof argv.policy === 'string' ? argv.policy : undefined,
    insecurePolicy: argv['insecure-policy'] === true,
  };
}

async function absolute(path: string): Promise<string> {
  // containers/image resolves symlinks of existing paths; a path that does not exist yet stays as given
  return await realpath(path).catch(() => resolve(path));
}

async function policyImage(name: ImageName): Promise<PolicyImage> {
  switch (name.transport) {
    case 'docker': {
      const { parseReference } = await import('@oci/registry-client');
      return { transport: 'docker', reference: parseReference(name.reference) };
    }
    case 'oci':
      return { transport: 'oci', path: await absolute(name.dir), ref: name.ref };
    case 'oci-archive':
      return { transport: 'oci-archive', path: await absolute(name.file), ref: name.ref };
    case 'dir':
      return { transport: 'dir', path: await absolute(name.dir) };
  }
}

/** The policy to apply (undefined: none, with --insecure-policy or when no policy file exists). Loaded once. */
export async function loadTrustPolicy(flags: PolicyFlags): Promise<Policy | undefined> {
  if (flags.insecurePolicy) return undefined;
  const { loadPolicy } = await import('@oci/registry-client');
  return await loadPolicy({ path: flags.policy });
}

/** Throws ERR_POLICY_REJECTED / ERR_SIGNATURE_UNSUPPORTED when `policy` does not accept `source`. */
export async function checkSource(policy: Policy | undefined, source: ImageName): Promise<void> {
  if (policy === undefined) return;
  const { checkPolicy } = await import('@oci/registry-client');
  checkPolicy(policy, await policyImage(source));
}
