import type { CopyEvent, Reference, RegistryClientOptions } from '@oci/registry-client';
import { OciCliError } from './errors.js';

/** An image named on the command line: `docker://REF`, a bare REF, or `oci:DIR[:REF]`. */
export type ImageSource =
  | { transport: 'docker'; reference: Reference; refName: string }
  | { transport: 'oci'; dir: string; refName: string };

/** Parses the image argument. A bare name means docker:// as with `docker run`. */
export async function parseImage(input: string): Promise<ImageSource> {
  if (input.startsWith('oci:')) {
    const rest = input.slice(4);
    const i = rest.lastIndexOf(':');
    const dir = i > 0 ? rest.slice(0, i) : rest;
    const refName = i > 0 ? rest.slice(i + 1) : 'latest';
    if (!dir) throw new OciCliError('ERR_INVALID_IMAGE', `invalid image "${input}": missing directory`, { hint: 'Write oci:DIR[:REF].', exitCode: 2 });
    return { transport: 'oci', dir, refName };
  }
  const { parseReference, formatReference } = await import('@oci/registry-client');
  const text = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  const reference = parseReference(text);
  return { transport: 'docker', reference, refName: formatReference(reference) };
}

export interface PullOptions {
  signal?: AbortSignal | undefined;
  /** `missing` (default): pull only when the cache lacks the image; `always`; `never`. */
  pull?: 'missing' | 'always' | 'never' | undefined;
  client?: RegistryClientOptions | undefined;
  platform?: string | undefined;
  onProgress?: ((event: CopyEvent) => void) | undefined;
}

/**
 * Makes sure the image is in the cache layout under its full reference and returns the layout
 * and the ref name to resolve. Images from `oci:` layouts are used in place.
 */
export async function ensureImage(
  source: ImageSource,
  layoutDir: string,
  options: PullOptions = {},
): Promise<{ layout: import('@oci/layout').Layout; refName: string; pulled: boolean }> {
  const { Layout } = await import('@oci/layout');
  if (source.transport === 'oci') {
    return { layout: await Layout.open(source.dir), refName: source.refName, pulled: false };
  }
  const layout = await Layout.init(layoutDir);
  const mode = options.pull ?? 'missing';
  const have = (await layout.listRefs()).some((r) => r.name === source.refName);
  if (mode === 'never' || (mode === 'missing' && have)) {
    if (!have) {
      throw new OciCliError('ERR_IMAGE_NOT_CACHED', `${source.refName} is not in the cache and --pull=never was given`, {
        hint: 'Run without --pull=never, or pull it first with `oci pull`.',
      });
    }
    return { layout, refName: source.refName, pulled: false };
  }
  const rc = await import('@oci/registry-client');
  const { parsePlatform } = await import('@oci/image-spec');
  const client = new rc.RegistryClient(options.client ?? {});
  try {
    await rc.copyImage(rc.registrySource(client, source.reference), rc.layoutDestination(layout, source.refName), {
      signal: options.signal,
      platform: options.platform ? parsePlatform(options.platform) : undefined,
      onProgress: options.onProgress,
    });
  } finally {
    await client.close();
  }
  return { layout, refName: source.refName, pulled: true };
}
