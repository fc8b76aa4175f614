import { createRequire } from 'node:module';
import { checkSpec, type CheckOptions } from './check.js';
import { RuntimeSpecError, type ValidationIssue } from './errors.js';
import type { Features, Spec, State } from './types.js';

export type { ValidationIssue } from './errors.js';

export interface ValidationResult {
  valid: boolean;
  /** Every problem found, each with a JSON pointer (`/` is the document itself). Empty when valid. */
  errors: ValidationIssue[];
}

export interface ParseOptions {
  /** Refuse documents larger than this many bytes (default 16 MiB) with ERR_TOO_LARGE. */
  maxSize?: number;
}

export interface ParseSpecOptions extends ParseOptions, CheckOptions {
  /** Also run checkSpec() and refuse its errors (what a runtime does before creating anything). */
  semantic?: boolean;
}

/** File names of our JSON schemas, shipped as `@oci/runtime-spec/schema/<name>`. */
export const SCHEMA_FILES = Object.freeze(['defs.json', 'config-schema.json', 'state-schema.json', 'features-schema.json'] as const);

/** The shape of ajv's error objects (only what we read). */
interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

interface Validator {
  (doc: unknown): boolean;
  errors?: AjvError[] | null;
}

interface Validators {
  validateConfig: Validator;
  validateState: Validator;
  validateFeatures: Validator;
}

let compiled: Validators | undefined;

// The schemas are compiled ahead of time by ajv into plain functions (src/generated/validators.cjs, see
// scripts/schemas.mjs), loaded on first use: importing this package costs nothing, the first validation a few ms.
function validators(): Validators {
  compiled ??= createRequire(import.meta.url)('./generated/validators.cjs') as Validators;
  return compiled;
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function valueAt(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function toIssue(e: AjvError, doc: unknown): ValidationIssue {
  const at = e.instancePath || '';
  const p = e.params;
  switch (e.keyword) {
    case 'required':
      return { path: `${at}/${escapePointer(String(p.missingProperty))}`, message: 'is required' };
    case 'pattern':
      if (at === '/ociVersion' || at.endsWith('/ociVersionMin') || at.endsWith('/ociVersionMax')) {
        return { path: at, message: `must be a runtime-spec version from 1.0.0 to 1.3.x (SemVer), got ${JSON.stringify(valueAt(doc, at))}` };
      }
      return { path: at || '/', message: e.message ?? 'must match pattern' };
    case 'enum':
      return { path: at || '/', message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { path: at || '/', message: e.message ?? e.keyword };
  }
}

function collect(fn: Validator, doc: unknown): ValidationResult {
  if (fn(doc)) return { valid: true, errors: [] };
  const seen = new Set<string>();
  const errors: ValidationIssue[] = [];
  for (const e of fn.errors ?? []) {
    // allOf/anyOf wrappers only repeat what their branches said.
    if (e.keyword === 'allOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    const issue = toIssue(e, doc);
    const key = `${issue.path}\0${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      errors.push(issue);
    }
  }
  return { valid: false, errors };
}

/** Validate a config.json document (already parsed) against our runtime-spec 1.0 .. 1.3 schema. */
export function validateSpec(doc: unknown): ValidationResult {
  return collect(validators().validateConfig, doc);
}

/** Validate a container state document (`runc state` output, hooks' stdin). */
export function validateState(doc: unknown): ValidationResult {
  return collect(validators().validateState, doc);
}

/** Validate a features document (`runc features` output). */
export function validateFeatures(doc: unknown): ValidationResult {
  return collect(validators().validateFeatures, doc);
}

/** `path: message; path: message ...` for the first `max` issues (and a count of the rest). */
export function formatIssues(errors: readonly ValidationIssue[], max = 5): string {
  const shown = errors.slice(0, max).map((e) => `${e.path}: ${e.message}`);
  if (errors.length > max) shown.push(`... and ${errors.length - max} more`);
  return shown.join('; ');
}

function decode(input: string | Uint8Array, maxSize: number, what: string): string {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > maxSize) {
    throw new RuntimeSpecError('ERR_TOO_LARGE', `${what} is ${size} bytes, more than the limit of ${maxSize}`, {
      hint: 'Pass a larger maxSize if this document is legitimate.',
    });
  }
  return typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
}

function parseWith<T>(
  input: string | Uint8Array,
  options: ParseOptions,
  what: string,
  code: 'ERR_INVALID_CONFIG' | 'ERR_INVALID_STATE' | 'ERR_INVALID_FEATURES',
  validate: (doc: unknown) => ValidationResult,
  hint: string,
): T {
  const text = decode(input, options.maxSize ?? 16 * 1024 * 1024, what);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new RuntimeSpecError(code, `${what} is not valid JSON: ${(cause as Error).message}`, {
      cause,
      hint: 'Check the file for truncation or a syntax error (a trailing comma, an unquoted key).',
      errors: [{ path: '/', message: 'is not valid JSON' }],
    });
  }
  const result = validate(doc);
  if (!result.valid) {
    throw new RuntimeSpecError(code, `${what} is invalid: ${formatIssues(result.errors)}`, { hint, errors: result.errors });
  }
  return doc as T;
}

/**
 * Parse and validate config.json bytes or text. Throws RuntimeSpecError ERR_INVALID_CONFIG (bad JSON or schema
 * errors, listed with JSON paths in the message and in `err.errors`; with `semantic: true` also checkSpec()'s
 * errors) or ERR_TOO_LARGE.
 */
export function parseSpec(input: string | Uint8Array, options: ParseSpecOptions = {}): Spec {
  const validate = options.semantic
    ? (doc: unknown): ValidationResult => {
        const r = validateSpec(doc);
        if (!r.valid) return r;
        const c = checkSpec(doc as Spec, options);
        return { valid: c.valid, errors: c.errors };
      }
    : validateSpec;
  return parseWith<Spec>(
    input,
    options,
    'config.json',
    'ERR_INVALID_CONFIG',
    validate,
    'Fix the fields named above; `runc spec` (or defaultSpec()) writes a valid starting point. ociVersion must be 1.0.0 .. 1.3.x.',
  );
}

/** Parse and validate a state document. Throws ERR_INVALID_STATE or ERR_TOO_LARGE. */
export function parseState(input: string | Uint8Array, options: ParseOptions = {}): State {
  return parseWith<State>(input, options, 'state', 'ERR_INVALID_STATE', validateState, 'A state needs ociVersion, id, status and bundle.');
}

/** Parse and validate a features document. Throws ERR_INVALID_FEATURES or ERR_TOO_LARGE. */
export function parseFeatures(input: string | Uint8Array, options: ParseOptions = {}): Features {
  return parseWith<Features>(
    input,
    options,
    'features document',
    'ERR_INVALID_FEATURES',
    validateFeatures,
    'A features document needs ociVersionMin and ociVersionMax.',
  );
}
