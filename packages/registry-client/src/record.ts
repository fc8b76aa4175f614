/**
 * @internal What one command read and asked, noted while it runs: the configuration files and directories it
 * read (policy.json, registries.conf and its drop-ins, auth files) and the manifest exchanges it had with
 * registries. oci-registry writes these into a recording of a copy, which its native front end checks to repeat
 * a copy that would change nothing without starting Node (docs/registry-client.md, "Replayed re-copies").
 *
 * One recorder per process, switched on by the program that owns the process; with none (every library use),
 * each note is one comparison.
 */

/** A file read (bytes: its text as read, UTF-8; undefined: it did not exist). */
export interface NotedFile {
  kind: 'file';
  path: string;
  bytes: Buffer | undefined;
}

/** A directory listed (names: the entries that were used, sorted; undefined: it could not be listed). */
export interface NotedDir {
  kind: 'dir';
  path: string;
  names: string[] | undefined;
}

/** One HTTP request and its answer. */
export interface NotedExchange {
  method: string;
  /** The URL the answer came from. */
  url: string;
  /** Request headers (lower-case names) that the server may answer differently to. */
  accept: string | undefined;
  userAgent: string;
  /** Undefined: no answer (connection error). */
  status: number | undefined;
  /** False when the request was sent again, redirected or carried credentials: not repeatable as one plain request. */
  plain: boolean;
  /** For manifests: the answer's Content-Type and Docker-Content-Digest headers and the body's SHA-256 (hex). */
  contentType?: string | undefined;
  dockerContentDigest?: string | undefined;
  sha256?: string | undefined;
}

export interface Recorder {
  inputs: (NotedFile | NotedDir)[];
  exchanges: NotedExchange[];
  /** Why what was done cannot be repeated from the notes (the first reason). */
  unrecordable: string | undefined;
}

let active: Recorder | undefined;

/** Starts noting (one recorder per process; a second call starts afresh). */
export function startRecorder(): Recorder {
  active = { inputs: [], exchanges: [], unrecordable: undefined };
  return active;
}

export function stopRecorder(): void {
  active = undefined;
}

export function noteFile(path: string, text: string | Buffer | undefined): void {
  if (active) active.inputs.push({ kind: 'file', path, bytes: text === undefined ? undefined : Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8') });
}

export function noteDir(path: string, names: string[] | undefined): void {
  if (active) active.inputs.push({ kind: 'dir', path, names });
}

/** Whether exchanges are being noted (callers then fill in what they alone know). */
export function noting(): boolean {
  return active !== undefined;
}

export function noteExchange(e: NotedExchange): void {
  active?.exchanges.push(e);
}

export function noteUnrecordable(why: string): void {
  if (active) active.unrecordable ??= why;
}
