import type { Options } from 'yargs';
import type { AccessFlags } from './open.js';

/** Registry access options for one side ('src', 'dest' or '' for single-image commands), named as skopeo names them. */
export function accessOptions(side: 'src' | 'dest' | ''): Record<string, Options> {
  const p = side ? `${side}-` : '';
  const what = side === 'src' ? 'the source registry' : side === 'dest' ? 'the destination registry' : 'the registry';
  return {
    [`${p}creds`]: { type: 'string', describe: `USER[:PASSWORD] for ${what}` },
    [`${p}no-creds`]: { type: 'boolean', describe: `Access ${what} anonymously` },
    [`${p}tls-verify`]: { type: 'boolean', default: true, describe: `Verify TLS certificates of ${what} (false also allows plain HTTP)` },
    [`${p}cert-dir`]: { type: 'string', describe: `Directory of *.crt CA certificates for ${what}` },
    ...(side ? { [`${p}authfile`]: { type: 'string', describe: `Auth file for ${what} (overrides --authfile)` } } : {}),
  };
}

export const authfileOption: Record<string, Options> = {
  authfile: { type: 'string', describe: 'Auth file to read credentials from (default: $REGISTRY_AUTH_FILE, containers auth.json, ~/.docker/config.json)' },
};

export const platformOptions: Record<string, Options> = {
  'override-os': { type: 'string', describe: 'Use OS instead of the running OS for choosing images' },
  'override-arch': { type: 'string', describe: 'Use ARCH instead of the machine architecture for choosing images' },
  'override-variant': { type: 'string', describe: 'Use VARIANT instead of the running architecture variant for choosing images' },
};

type Argv = Record<string, unknown>;

export function accessFlags(argv: Argv, side: 'src' | 'dest' | ''): AccessFlags {
  const p = side ? `${side}-` : '';
  return {
    // yargs reads an unprefixed --no-creds as the negation of --creds (creds: false), not as no-creds
    creds: typeof argv[`${p}creds`] === 'string' ? (argv[`${p}creds`] as string) : undefined,
    noCreds: argv[`${p}no-creds`] === true || argv[`${p}creds`] === false ? true : (argv[`${p}no-creds`] as boolean | undefined),
    tlsVerify: argv[`${p}tls-verify`] as boolean | undefined,
    certDir: argv[`${p}cert-dir`] as string | undefined,
    authfile: ((side ? argv[`${p}authfile`] : undefined) ?? argv.authfile) as string | undefined,
    registriesConf: typeof argv['registries-conf'] === 'string' ? argv['registries-conf'] : undefined,
  };
}

export function platformFlags(argv: Argv): { os?: string; architecture?: string; variant?: string } | undefined {
  const os = argv['override-os'] as string | undefined;
  const architecture = argv['override-arch'] as string | undefined;
  const variant = argv['override-variant'] as string | undefined;
  if (!os && !architecture && !variant) return undefined;
  const out: { os?: string; architecture?: string; variant?: string } = {};
  if (os) out.os = os;
  if (architecture) out.architecture = architecture;
  if (variant) out.variant = variant;
  return out;
}

/** Options of every command. */
export const globalOptions: Record<string, Options> = {
  policy: { type: 'string', global: true, describe: 'Trust policy file for copy and sync (default: ~/.config/containers/policy.json, else /etc/containers/policy.json; none: accept)' },
  'insecure-policy': { type: 'boolean', global: true, describe: 'Copy without checking the trust policy' },
  'registries-conf': { type: 'string', global: true, describe: 'registries.conf to use (mirrors, location rewrites, insecure, blocked; default: $CONTAINERS_REGISTRIES_CONF, ~/.config/containers/registries.conf, /etc/containers/registries.conf, with registries.conf.d/)' },
  tmpdir: { type: 'string', global: true, describe: 'Directory for temporary files (oci-archive: extraction, recompression)' },
  debug: { type: 'boolean', global: true, describe: 'Print every registry request (method, URL without credentials, status, time) on stderr' },
};
