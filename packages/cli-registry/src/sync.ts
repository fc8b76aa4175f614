// `oci-registry sync` (skopeo sync): list the images of the source, then copy them one by one with the same
// machinery as `copy`. Naming rules live in sync-plan.ts (pure, tested on their own).
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CopySource } from '@oci/registry-client';
import { CliError } from './errors.js';
import type { AccessFlags } from './open.js';
import { accessFlags, platformFlags } from './options.js';
import {
  checkSyncTransports, dirSuffix, imageNameString, parseSyncYaml, syncDestination, yamlRefSuffix,
  type SyncAccess, type SyncImage, type SyncSourceTransport,
} from './sync-plan.js';

type Argv = Record<string, unknown> & { source: string; destination: string };

/** Directories below `root` holding a manifest.json (dir: images); image directories are not searched further. */
async function findDirImages(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name === 'manifest.json')) {
      found.push(dir);
      return;
    }
    // symlinked directories are not followed (as filepath.WalkDir does not)
    for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) await walk(join(dir, e.name));
  };
  await walk(root);
  return found;
}

function withAccess(flags: AccessFlags, access: SyncAccess | undefined): AccessFlags {
  if (access === undefined) return flags;
  const out = { ...flags };
  if (access.username !== undefined) {
    out.creds = `${access.username}:${access.password ?? ''}`;
    out.noCreds = false;
  }
  if (access.tlsVerify !== undefined) out.tlsVerify = access.tlsVerify;
  if (access.certDir !== undefined) out.certDir = access.certDir;
  return out;
}

async function listTags(reference: string, flags: AccessFlags): Promise<string[]> {
  const rc = await import('@oci/registry-client');
  const { newClient } = await import('./open.js');
  const ref = rc.parseReference(reference, { defaultTag: false });
  const client = await newClient(flags, ref);
  try {
    return await client.listTags(ref);
  } finally {
    await client.close();
  }
}

/** The images of a sync source, in a stable order. */
async function sourceImages(transport: SyncSourceTransport, source: string, flags: AccessFlags): Promise<SyncImage[]> {
  const rc = await import('@oci/registry-client');
  const none = (): CliError => new CliError('ERR_SYNC_EMPTY', `no images to sync found in "${source}"`, {
    hint: 'Check the source: a repository with tags, a directory holding dir: images, a layout with refs, or a YAML list.',
  });
  switch (transport) {
    case 'docker': {
      const ref = rc.parseReference(source, { defaultTag: false });
      const name = `${ref.registry}/${ref.repository}`;
      if (ref.tag !== undefined || ref.digest !== undefined) {
        const suffix = ref.digest !== undefined ? `${name}@${ref.digest}` : `${name}:${ref.tag}`;
        return [{ source: { transport: 'docker', reference: suffix }, suffix }];
      }
      const tags = await listTags(name, flags);
      if (tags.length === 0) throw none();
      return tags.map((tag) => ({ source: { transport: 'docker', reference: `${name}:${tag}` }, suffix: `${name}:${tag}` }));
    }
    case 'dir': {
      try {
        if (!(await lstat(source)).isDirectory()) throw new Error('not a directory');
      } catch (err) {
        throw new CliError('ERR_USAGE', `invalid source directory "${source}": ${(err as Error).message}`, { hint: 'Give a directory holding dir: images (directories with a manifest.json).' });
      }
      const dirs = await findDirImages(source);
      if (dirs.length === 0) throw none();
      return dirs.map((dir) => ({ source: { transport: 'dir', dir }, suffix: dirSuffix(source, dir) }));
    }
    case 'oci': {
      const { Layout } = await import('@oci/layout');
      const refs = await (await Layout.open(source)).listRefs();
      if (refs.length === 0) throw none();
      return refs.map((r) => ({ source: { transport: 'oci', dir: source, ref: r.name }, suffix: r.name }));
    }
    case 'yaml': {
      let text: string;
      try {
        text = await readFile(source, 'utf8');
      } catch (err) {
        throw new CliError('ERR_SYNC_YAML', `cannot read the sync source ${source}: ${(err as Error).message}`, { cause: err, hint: 'Give the path of a YAML file listing registries and images (see skopeo-sync(1)).' });
      }
      const repos = parseSyncYaml(text, source);
      const out: SyncImage[] = [];
      for (const repo of repos) {
        const name = `${repo.registry}/${repo.repository}`;
        rc.parseReference(name, { defaultTag: false }); // a bad name fails here, with the reference's own message
        let refs = repo.refs;
        if (refs === undefined) {
          const tags = await listTags(name, withAccess(flags, repo.access));
          refs = repo.tagRegex ? tags.filter((t) => repo.tagRegex!.test(t)) : tags;
        }
        for (const ref of refs) {
          const suffix = yamlRefSuffix(repo.registry, repo.repository, ref);
          out.push({ source: { transport: 'docker', reference: suffix }, suffix, access: repo.access });
        }
      }
      if (out.length === 0) throw none();
      return out;
    }
  }
}

export async function runSync(argv: Argv): Promise<void> {
  const { src, dest } = checkSyncTransports(String(argv.src), String(argv.dest));
  const jobs = Number(argv.jobs ?? 4);
  if (!Number.isInteger(jobs) || jobs < 1) throw new CliError('ERR_USAGE', '--jobs must be a positive integer');
  const retries = argv['retry-times'] === undefined ? undefined : Number(argv['retry-times']);
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) throw new CliError('ERR_USAGE', '--retry-times must be a non-negative integer');
  const srcFlags: AccessFlags = { ...accessFlags(argv, 'src'), retries };
  const destFlags: AccessFlags = { ...accessFlags(argv, 'dest'), retries };
  const quiet = argv.quiet === true;
  const json = argv.json === true;
  const say = (line: string): void => {
    if (!quiet && !json) process.stderr.write(`${line}\n`);
  };

  const ac = new AbortController();
  const onSignal = (): void => ac.abort(new CliError('ERR_INTERRUPTED', 'interrupted', { hint: 'Run the same sync again: images and blobs already copied are skipped.' }));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { checkSource, loadTrustPolicy, policyFlags } = await import('./policy-check.js');
    const policy = await loadTrustPolicy(policyFlags(argv));
    const images = await sourceImages(src, argv.source, srcFlags);
    const { openSource, openDestination } = await import('./open.js');
    const { copyImage } = await import('@oci/registry-client');
    const digestLines: string[] = [];
    const failures: string[] = [];
    let n = 0;
    for (const image of images) {
      n++;
      const to = syncDestination(dest, argv.destination, image.suffix, argv.scoped === true);
      const from = imageNameString(image.source);
      const target = imageNameString(to);
      if (argv['dry-run'] === true) {
        say(`Would copy image ${n}/${images.length} from ${from} to ${target}`);
        if (json) process.stdout.write(`${JSON.stringify({ type: 'image', index: n, total: images.length, from, to: target, dryRun: true })}\n`);
        continue;
      }
      say(`Copying image ${n}/${images.length} from ${from} to ${target}`);
      try {
        await checkSource(policy, image.source);
        const source: { endpoint: CopySource; close: () => Promise<void> } = await openSource(image.source, withAccess(srcFlags, image.access));
        try {
          const opened = await openDestination(to, destFlags);
          try {
            const result = await copyImage(source.endpoint, opened.endpoint, {
              all: argv.all === true, platform: platformFlags(argv), preserveDigests: argv['preserve-digests'] === true,
              manifestFormat: argv.format as 'oci' | 'v2s2' | undefined,
              concurrency: jobs, signal: ac.signal,
            });
            await opened.commit?.();
            digestLines.push(`${result.digest} ${target}`);
            if (json) process.stdout.write(`${JSON.stringify({ type: 'image', index: n, total: images.length, from, to: target, digest: result.digest })}\n`);
          } finally {
            await opened.close();
          }
        } finally {
          await source.close();
        }
      } catch (err) {
        if (ac.signal.aborted || argv['keep-going'] !== true) throw err;
        const e = err as { code?: string; message?: string };
        failures.push(`${from}: ${e.code ?? 'ERR'}: ${e.message ?? String(err)}`);
        process.stderr.write(`oci-registry: copying ${from} failed: ${e.code ?? ''}${e.code ? ': ' : ''}${e.message ?? String(err)}\n`);
        if (json) process.stdout.write(`${JSON.stringify({ type: 'image', index: n, total: images.length, from, to: target, error: e.code ?? 'ERR' })}\n`);
      }
    }
    if (typeof argv.digestfile === 'string' && argv['dry-run'] !== true) {
      await writeFile(argv.digestfile, digestLines.map((l) => `${l}\n`).join(''));
    }
    say(`${argv['dry-run'] === true ? 'Would have synced' : 'Synced'} ${images.length - failures.length} images`);
    if (failures.length > 0) {
      throw new CliError('ERR_SYNC_FAILED', `sync failed for ${failures.length} of ${images.length} images:\n  ${failures.join('\n  ')}`, {
        hint: 'Fix the causes above and run the same sync again: images already copied are skipped quickly.',
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
