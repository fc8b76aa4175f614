import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidationIssue } from './errors.js';
import { digestOf, isSupportedAlgorithm, parseDigest } from './digest.js';

/** The result of validating a document. */
export interface ValidationResult {
  valid: boolean;
  errors: ValidationIssue[];
}

/** Names of the JSON schema files shipped in `@oci/image-spec/schema/`. */
export const SCHEMA_FILES = Object.freeze([
  'defs.json',
  'descriptor.json',
  'image-manifest.json',
  'image-index.json',
  'image-config.json',
  'oci-layout.json',
] as const);

export type SchemaFile = (typeof SCHEMA_FILES)[number];

/** At most this many problems are reported for one document. */
const MAX_ISSUES = 50;

/** The parts of an ajv error this module reads. */
interface ErrorObject {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
}

interface ValidateFunction {
  (doc: unknown): boolean;
  errors?: ErrorObject[] | null;
}

type Compiled = Record<'descriptor' | 'manifest' | 'index' | 'config' | 'layout', ValidateFunction>;

const schemaDir = new URL('../schema/', import.meta.url);

/** Reads one of our JSON schemas (a fresh copy). */
export function loadSchema(name: SchemaFile): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, schemaDir), 'utf8')) as Record<string, unknown>;
}

// The validators are compiled ahead of time (scripts/validators.mjs -> src/generated/validators.cjs, ajv
// standalone code): no schema compilation and no ajv at run time. The module is loaded on the first
// validation, not on import. Two compilations: one stopping at the first error (every document goes
// through it: fast, and linear on hostile input), and one collecting all errors, used only on invalid
// documents that are small. Ajv's allErrors mode concatenates error arrays per array item, which is
// quadratic: a manifest with 20 000 bad layers took 15 s, 200 000 never finished.
let compiled: { first: Compiled; all: Compiled } | undefined;

const ENTRY: Record<Exclude<SchemaFile, 'defs.json'>, keyof Compiled> = {
  'descriptor.json': 'descriptor',
  'image-manifest.json': 'manifest',
  'image-index.json': 'index',
  'image-config.json': 'config',
  'oci-layout.json': 'layout',
};

function validator(name: Exclude<SchemaFile, 'defs.json'>, allErrors = false): ValidateFunction {
  if (compiled === undefined) {
    const require = createRequire(import.meta.url);
    compiled = require('./generated/validators.cjs') as { first: Compiled; all: Compiled };
  }
  return compiled[allErrors ? 'all' : 'first'][ENTRY[name]];
}

/** Documents with more JSON values than this get only the first validation error. */
const MAX_VALUES_FOR_ALL_ERRORS = 5000;

/** True when `doc` holds at most `max` JSON values (objects, arrays and scalars). Iterative; stops early. */
function smallDocument(doc: unknown, max: number): boolean {
  let count = 0;
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const v = stack.pop();
    if (++count > max) return false;
    if (typeof v === 'object' && v !== null) for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
  }
  return true;
}

const FRIENDLY: Record<string, string> = {
  digest: 'must be a digest: algorithm:encoded, with 64 lowercase hex for sha256 and 128 for sha512',
  mediaType: 'must be a media type like application/vnd.oci.image.manifest.v1+json',
  base64: 'must be base64',
};

/** Hostile documents can have huge keys: keep paths readable. */
const MAX_PATH = 200;

function issue(e: ErrorObject): ValidationIssue {
  const path = e.instancePath.length > MAX_PATH ? `${e.instancePath.slice(0, MAX_PATH)}…` : e.instancePath;
  if (e.keyword === 'pattern') {
    const def = /definitions\/([A-Za-z0-9]+)\/pattern$/.exec(e.schemaPath)?.[1];
    const friendly = def === undefined ? undefined : FRIENDLY[def];
    if (friendly !== undefined) return { path, message: friendly };
  }
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return { path, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  return { path, message: e.message ?? `fails ${e.keyword}` };
}

function run(name: Exclude<SchemaFile, 'defs.json'>, doc: unknown): ValidationResult {
  let fn = validator(name);
  if (fn(doc)) return { valid: true, errors: [] };
  if (smallDocument(doc, MAX_VALUES_FOR_ALL_ERRORS)) {
    const all = validator(name, true);
    if (!all(doc)) fn = all;
  }
  const seen = new Set<string>();
  const errors: ValidationIssue[] = [];
  for (const e of fn.errors ?? []) {
    const i = issue(e);
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(i);
    if (errors.length >= MAX_ISSUES) break;
  }
  return { valid: false, errors };
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks embedded `data` against the descriptor's size and digest (descriptor.md: MUST match). */
function checkData(d: unknown, path: string, out: ValidationIssue[]): void {
  if (!isObj(d) || typeof d['data'] !== 'string' || typeof d['digest'] !== 'string') return;
  // The schema's pattern is a linear [A-Za-z0-9+/]*={0,2} (a grouped pattern backtracks and overflows
  // the stack on megabytes of data); the length rule of padded base64 is checked here.
  if (d['data'].length % 4 !== 0) {
    out.push({ path: `${path}/data`, message: FRIENDLY['base64']! });
    return;
  }
  const bytes = Buffer.from(d['data'], 'base64');
  if (typeof d['size'] === 'number' && bytes.byteLength !== d['size']) {
    out.push({ path: `${path}/data`, message: `embedded data has ${bytes.byteLength} bytes but size is ${d['size']}` });
    return;
  }
  let algorithm: string;
  try {
    algorithm = parseDigest(d['digest']).algorithm;
  } catch {
    return;
  }
  if (isSupportedAlgorithm(algorithm) && digestOf(bytes, algorithm) !== d['digest']) {
    out.push({ path: `${path}/data`, message: 'embedded data does not match the digest' });
  }
}

function withSemantics(r: ValidationResult, doc: unknown, descriptors: (doc: Json) => [unknown, string][]): ValidationResult {
  if (!r.valid || !isObj(doc)) return r;
  const extra: ValidationIssue[] = [];
  for (const [d, p] of descriptors(doc)) checkData(d, p, extra);
  return extra.length === 0 ? r : { valid: false, errors: extra };
}

const list = (v: unknown, path: string): [unknown, string][] =>
  Array.isArray(v) ? v.map((d, i): [unknown, string] => [d, `${path}/${i}`]) : [];

/** Validates an image manifest (OCI or Docker v2 schema 2). */
export function validateManifest(doc: unknown): ValidationResult {
  return withSemantics(run('image-manifest.json', doc), doc, (m) => [
    [m['config'], '/config'],
    ...list(m['layers'], '/layers'),
    [m['subject'], '/subject'],
  ]);
}

/** Validates an image index (OCI or Docker manifest list). */
export function validateIndex(doc: unknown): ValidationResult {
  return withSemantics(run('image-index.json', doc), doc, (x) => [...list(x['manifests'], '/manifests'), [x['subject'], '/subject']]);
}

/** Validates an image configuration (OCI or Docker). */
export function validateConfig(doc: unknown): ValidationResult {
  return run('image-config.json', doc);
}

/** Validates a content descriptor. */
export function validateDescriptor(doc: unknown): ValidationResult {
  return withSemantics(run('descriptor.json', doc), doc, (d) => [[d, '']]);
}

/** Validates the `oci-layout` file of an image layout. */
export function validateLayoutFile(doc: unknown): ValidationResult {
  return run('oci-layout.json', doc);
}

/** Formats validation problems as one line: `/layers/0/digest: must be ...; (root): ...`. */
export function formatValidationErrors(errors: readonly ValidationIssue[], max = 3): string {
  const shown = errors.slice(0, max).map((e) => `${e.path === '' ? '(root)' : e.path}: ${e.message}`);
  if (errors.length > max) shown.push(`and ${errors.length - max} more`);
  return shown.join('; ');
}
