import { abortReason } from './blobs.js';
import { parseLayoutDigest } from './digest.js';
import { LayoutError } from './errors.js';
import { hashFile, listBlobFiles, rootsOf } from './graph.js';
import { checkDirs } from './safe.js';
import { documentValidation, lenient, type Layout } from './layout.js';
import { validateDescriptor, type Descriptor } from './spec.js';
import { childrenOf, isDocumentMediaType, sniffMediaType } from './walk.js';

export interface VerifyProblem {
  /** ERR_BLOB_UNKNOWN, ERR_SIZE_MISMATCH, ERR_DIGEST_MISMATCH, ERR_INVALID_DIGEST, ERR_INVALID_DESCRIPTOR, ERR_INVALID_DOCUMENT, ERR_INVALID_INDEX, ERR_INVALID_LAYOUT */
  code: string;
  message: string;
  digest?: string | undefined;
}

export interface VerifyOptions {
  signal?: AbortSignal | undefined;
  /** Also hash blob files nothing references (default true). */
  unreferenced?: boolean | undefined;
  onProgress?: ((progress: { checked: number }) => void) | undefined;
}

export interface VerifyResult {
  ok: boolean;
  problems: VerifyProblem[];
  /** Not errors: files in blobs/ whose names are not digests, unreferenced blobs. */
  warnings: VerifyProblem[];
  /** Number of blobs checked. */
  checked: number;
}

/** @internal */
export async function verifyLayout(layout: Layout, options: VerifyOptions = {}): Promise<VerifyResult> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const problems: VerifyProblem[] = [];
  const warnings: VerifyProblem[] = [];
  let roots: Descriptor[];
  try {
    roots = await rootsOf(layout);
  } catch (err) {
    const code = LayoutError.is(err) ? err.code : 'ERR_INVALID_INDEX';
    problems.push({ code, message: (err as Error).message });
    return { ok: false, problems, warnings, checked: 0 };
  }
  // digest -> result of hashing the file (undefined when missing)
  const hashed = new Map<string, { digest: string; size: number } | undefined>();
  let checked = 0;
  const unsafe = new Set<string>();
  const hashOnce = async (digest: string): Promise<{ digest: string; size: number } | undefined> => {
    if (hashed.has(digest)) return hashed.get(digest);
    let result: { digest: string; size: number } | undefined;
    try {
      const { algorithm } = parseLayoutDigest(digest);
      if (!(await checkDirs(layout.dir, ['blobs', algorithm]))) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      result = await hashFile(layout.blobPath(digest), algorithm, signal);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (LayoutError.is(err, 'ERR_UNSAFE_PATH')) {
        problems.push({ code: err.code, message: err.message, digest });
        unsafe.add(digest);
        result = undefined;
      } else {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ENOTDIR') throw err;
        result = undefined;
      }
    }
    hashed.set(digest, result);
    checked++;
    options.onProgress?.({ checked });
    return result;
  };

  const queue: { d: Descriptor; from: string }[] = roots.map((d) => ({ d, from: 'index.json' }));
  const visited = new Set<string>();
  while (queue.length > 0) {
    if (signal?.aborted) throw abortReason(signal);
    const { d, from } = queue.shift()!;
    const v = validateDescriptor(d);
    if (!v.valid) {
      const digest = typeof d?.digest === 'string' ? d.digest : undefined;
      try {
        parseLayoutDigest(d?.digest);
      } catch (err) {
        problems.push({ code: (err as LayoutError).code, message: `${from}: ${(err as Error).message}`, digest });
        continue;
      }
      problems.push({ code: 'ERR_INVALID_DESCRIPTOR', message: `${from}: invalid descriptor for ${digest}: ${v.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, digest });
      continue;
    }
    try {
      parseLayoutDigest(d.digest);
    } catch (err) {
      problems.push({ code: (err as LayoutError).code, message: `${from}: ${(err as Error).message}`, digest: d.digest });
      continue;
    }
    const key = `${d.digest} ${d.size} ${d.mediaType}`;
    if (visited.has(key)) continue;
    visited.add(key);
    const h = await hashOnce(d.digest);
    if (h === undefined) {
      if (unsafe.has(d.digest)) continue;
      if (d.urls !== undefined && d.urls.length > 0) {
        warnings.push({ code: 'ERR_BLOB_UNKNOWN', message: `${from}: non-distributable blob ${d.digest} is not in the layout (it has urls)`, digest: d.digest });
      } else {
        problems.push({ code: 'ERR_BLOB_UNKNOWN', message: `${from}: blob ${d.digest} (${d.mediaType}) is missing`, digest: d.digest });
      }
      continue;
    }
    if (h.digest !== d.digest) {
      problems.push({ code: 'ERR_DIGEST_MISMATCH', message: `blob ${d.digest} holds content with digest ${h.digest}`, digest: d.digest });
      continue;
    }
    if (h.size !== d.size) {
      problems.push({ code: 'ERR_SIZE_MISMATCH', message: `${from}: blob ${d.digest} has ${h.size} bytes, the descriptor says ${d.size}`, digest: d.digest });
      continue;
    }
    const known = isDocumentMediaType(d.mediaType);
    const isConfig = documentValidation(d.mediaType, {}) !== undefined;
    if (!isConfig && !(d.size <= 4 << 20 && /json/.test(d.mediaType))) continue;
    let doc: unknown;
    try {
      doc = await layout.readJson(d.digest);
    } catch (err) {
      if (known || isConfig) problems.push({ code: LayoutError.is(err) ? err.code : 'ERR_INVALID_DOCUMENT', message: (err as Error).message, digest: d.digest });
      continue;
    }
    const mediaType = known ? d.mediaType : (sniffMediaType(doc) ?? d.mediaType);
    const fixed = lenient(mediaType, doc);
    if (fixed !== doc) {
      warnings.push({ code: 'WARN_NULL_FIELDS', message: `blob ${d.digest} has null optional fields (a pre-1.0 writer); read as absent`, digest: d.digest });
      doc = fixed;
    }
    const result = documentValidation(mediaType, doc);
    if (result !== undefined && !result.valid) {
      problems.push({
        code: 'ERR_INVALID_DOCUMENT',
        message: `blob ${d.digest} is not a valid ${mediaType}: ${result.errors.slice(0, 3).map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`,
        digest: d.digest,
      });
      // still walk what it points at, so each broken descriptor is reported too
    }
    if (isDocumentMediaType(mediaType)) {
      for (const child of childrenOf(mediaType, doc)) queue.push({ d: child, from: `${d.digest}` });
    }
  }

  let listed: Awaited<ReturnType<typeof listBlobFiles>>;
  try {
    listed = await listBlobFiles(layout);
  } catch (err) {
    if (!LayoutError.is(err)) throw err;
    problems.push({ code: err.code, message: err.message });
    listed = { blobs: [], strays: [] };
  }
  const { blobs, strays } = listed;
  for (const s of strays) warnings.push({ code: 'ERR_INVALID_DIGEST', message: `${s} in blobs/ is not named by a digest` });
  if (options.unreferenced !== false) {
    for (const b of blobs) {
      if (hashed.has(b.digest)) continue;
      const h = await hashOnce(b.digest);
      if (h !== undefined && h.digest !== b.digest) {
        problems.push({ code: 'ERR_DIGEST_MISMATCH', message: `blob ${b.digest} (unreferenced) holds content with digest ${h.digest}`, digest: b.digest });
      } else if (h !== undefined) {
        warnings.push({ code: 'WARN_UNREFERENCED', message: `blob ${b.digest} is not referenced (gc() removes it)`, digest: b.digest });
      }
    }
  }
  return { ok: problems.length === 0, problems, warnings, checked };
}
