import { CliError } from './errors.js';

export interface RefSelection {
  name: string;
  platform: string | undefined;
}

/**
 * oci-image-tool's --ref syntax: `REF`, `name=REF`, and the filters
 * `platform.os=OS`, `platform.arch=ARCH`, `platform.variant=V` (repeatable).
 * `--platform os/arch[/variant]` wins over the filters.
 */
export function parseRefArgs(refs: readonly string[], platform: string | undefined): RefSelection {
  let name: string | undefined;
  let os: string | undefined;
  let arch: string | undefined;
  let variant: string | undefined;
  for (const r of refs) {
    const eq = r.indexOf('=');
    const key = eq < 0 ? 'name' : r.slice(0, eq);
    const value = eq < 0 ? r : r.slice(eq + 1);
    if (value === '') throw new CliError('ERR_USAGE', `--ref ${r}: empty value`);
    switch (key) {
      case 'name':
        if (name !== undefined && name !== value) throw new CliError('ERR_USAGE', `--ref given two names (${name}, ${value})`);
        name = value;
        break;
      case 'platform.os':
        os = value;
        break;
      case 'platform.arch':
      case 'platform.architecture':
        arch = value;
        break;
      case 'platform.variant':
        variant = value;
        break;
      default:
        throw new CliError('ERR_USAGE', `--ref ${r}: unknown key "${key}"`, {
          hint: 'use --ref NAME, --ref name=NAME, or platform.os= / platform.arch= / platform.variant=',
        });
    }
  }
  if (name === undefined) throw new CliError('ERR_USAGE', 'missing --ref NAME', { hint: 'e.g. --ref latest or --ref name=latest' });
  let plat = platform;
  if (plat === undefined && (os !== undefined || arch !== undefined)) {
    plat = [os ?? 'linux', arch ?? 'amd64', variant].filter(Boolean).join('/');
  }
  return { name, platform: plat };
}
