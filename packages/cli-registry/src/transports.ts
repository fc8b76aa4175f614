import { CliError } from './errors.js';

/** An image name on the command line, split by transport (skopeo's syntax). */
export type ImageName =
  | { transport: 'docker'; reference: string }
  | { transport: 'oci'; dir: string; ref: string | undefined }
  | { transport: 'oci-archive'; file: string; ref: string | undefined }
  | { transport: 'dir'; dir: string };

function splitPathRef(rest: string): { path: string; ref: string | undefined } {
  const i = rest.indexOf(':');
  if (i === -1) return { path: rest, ref: undefined };
  return { path: rest.slice(0, i), ref: rest.slice(i + 1) || undefined };
}

/** Parses docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF], dir:DIR. */
export function parseTransport(input: string): ImageName {
  const bad = (why: string): CliError => new CliError('ERR_INVALID_TRANSPORT', `invalid image name "${input}": ${why}`, {
    hint: 'Use docker://REGISTRY/REPO[:TAG|@DIGEST], oci:DIR[:REF], oci-archive:FILE[:REF] or dir:DIR.',
  });
  const i = input.indexOf(':');
  if (i <= 0) throw bad('missing transport');
  const transport = input.slice(0, i);
  const rest = input.slice(i + 1);
  switch (transport) {
    case 'docker':
      if (!rest.startsWith('//') || rest.length === 2) throw bad('docker references look like docker://busybox:latest');
      return { transport: 'docker', reference: rest.slice(2) };
    case 'oci': {
      const { path, ref } = splitPathRef(rest);
      if (!path) throw bad('missing directory');
      return { transport: 'oci', dir: path, ref };
    }
    case 'oci-archive': {
      const { path, ref } = splitPathRef(rest);
      if (!path) throw bad('missing file');
      return { transport: 'oci-archive', file: path, ref };
    }
    case 'dir':
      if (!rest) throw bad('missing directory');
      return { transport: 'dir', dir: rest };
    default:
      throw bad(`unknown transport "${transport}"`);
  }
}
