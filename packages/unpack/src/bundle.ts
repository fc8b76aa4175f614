// A runtime bundle (rootfs + config.json) from an image, like `oci-image-tool create`
// and `umoci unpack`.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { isRootless } from './apply.js';
import { UnpackError, throwIfAborted } from './errors.js';
import { commitStaged, stageBeside, unpackInto, type UnpackOptions, type UnpackResult } from './unpack.js';

export interface CreateBundleOptions extends UnpackOptions {
  /** Replace the image's Cmd (the Entrypoint is kept), as `docker run IMAGE ARGS` does. */
  args?: string[] | undefined;
  /** process.terminal (default false). */
  terminal?: boolean | undefined;
}

export interface CreateBundleResult extends UnpackResult {
  /** The config.json written. */
  spec: unknown;
}

/**
 * Create bundleDir (must not exist or be empty) holding rootfs/ and a validated
 * config.json converted from the image config on top of the default spec
 * (`runc spec`, or `runc spec --rootless` in rootless mode).
 */
export async function createBundle(layout: import('@oci/layout').Layout, ref: string, bundleDir: string, opts: CreateBundleOptions = {}): Promise<CreateBundleResult> {
  throwIfAborted(opts.signal);
  const rs = await import('@oci/runtime-spec');
  const resolved = await layout.resolve(ref, { platform: opts.platform, signal: opts.signal });
  const rootless = opts.rootless ?? isRootless();
  const staged = stageBeside(bundleDir);
  try {
    const bundle = join(staged.tmp, 'bundle');
    const rootfs = join(bundle, 'rootfs');
    fs.mkdirSync(bundle, { mode: 0o700 });
    fs.mkdirSync(rootfs, { mode: 0o755 });
    const r = await unpackInto(layout, resolved.manifest, resolved.config, rootfs, { ...opts, rootless });
    throwIfAborted(opts.signal);
    let spec: unknown;
    try {
      const base = rootless
        ? rs.defaultSpec({ rootless: true, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 })
        : rs.defaultSpec();
      spec = rs.imageConfigToSpec(resolved.config as Parameters<typeof rs.imageConfigToSpec>[0], {
        rootfs,
        base,
        ...(opts.args ? { args: opts.args } : {}),
        terminal: opts.terminal ?? false,
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new UnpackError(code === 'ERR_INVALID_USER' ? 'ERR_INVALID_USER' : 'ERR_INVALID_CONFIG', `cannot convert the image config of ${ref} into a runtime config: ${(err as Error).message}`, {
        cause: err,
        hint: (err as { hint?: string }).hint ?? 'the image config is malformed',
      });
    }
    const v = rs.validateSpec(spec);
    if (!v.valid) {
      throw new UnpackError('ERR_INVALID_CONFIG', `the runtime config made from ${ref} is invalid: ${v.errors.slice(0, 3).map((e) => `${e.path} ${e.message}`).join('; ')}`, {
        hint: 'this is a bug in the conversion or an unusual image config; please report it',
      });
    }
    fs.writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, '\t') + '\n', { mode: 0o644 });
    commitStaged(bundle, bundleDir);
    return {
      manifestDigest: resolved.descriptor.digest,
      configDigest: resolved.configDescriptor.digest,
      manifest: resolved.manifest,
      config: resolved.config,
      ...r,
      spec,
    };
  } finally {
    fs.rmSync(staged.tmp, { recursive: true, force: true });
  }
}
