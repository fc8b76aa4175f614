import type { Options } from 'yargs';
import type { RegistryClientOptions } from '@oci/registry-client';
import { OciCliError } from './errors.js';

/** Options shared by the commands that reach a registry. Help and the handlers read the same table. */
export const registryOptions = {
  'tls-verify': { type: 'boolean', default: true, describe: 'Verify TLS certificates; false also allows plain HTTP (a local registry)' },
  creds: { type: 'string', describe: 'USER[:PASSWORD] for the registry (else the auth files, as skopeo and podman read them)' },
  authfile: { type: 'string', describe: 'Read credentials from this auth.json only' },
  platform: { type: 'string', describe: 'OS/ARCH[/VARIANT] to pick from a multi-platform image (default: this machine)' },
  cache: { type: 'string', describe: 'Cache directory (default $OCI_CACHE, /var/lib/oci as root, else ~/.cache/oci)' },
  quiet: { alias: 'q', type: 'boolean', default: false, describe: 'No progress output' },
} as const satisfies Record<string, Options>;

export interface RegistryArgs {
  'tls-verify': boolean;
  creds?: string | undefined;
  authfile?: string | undefined;
}

export function clientOptions(argv: RegistryArgs): RegistryClientOptions {
  const o: RegistryClientOptions = {};
  if (argv['tls-verify'] === false) o.tlsVerify = false;
  if (argv.authfile) o.authfile = argv.authfile;
  if (argv.creds !== undefined) {
    const i = argv.creds.indexOf(':');
    const username = i === -1 ? argv.creds : argv.creds.slice(0, i);
    const password = i === -1 ? '' : argv.creds.slice(i + 1);
    if (!username) throw new OciCliError('ERR_INVALID_CREDS', '--creds needs a user name', { hint: 'Write --creds USER:PASSWORD.', exitCode: 2 });
    o.credentials = { username, password };
  }
  return o;
}
