// Loads the OFFICIAL image-spec JSON schemas (draft-04) as an oracle for our own schemas.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvDraft04Module from 'ajv-draft-04';
import ajvFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

/**
 * Released v1.1.1 files (override with OCI_IMAGE_SPEC_SCHEMAS) and Debian's older copy from
 * golang-github-opencontainers-image-spec-dev (installed by tools/setup.sh).
 */
// The team's shared/ folder stands beside the repository (CI clones main next to it).
const sharedDir = [process.env['OCI_SHARED_DIR'], join(import.meta.dirname, '../../../../../shared'), '/work/shared']
  .find((d): d is string => !!d && existsSync(join(d, 'oci-schemas')));

export const OFFICIAL_SCHEMA_DIRS = {
  'v1.1.1': process.env['OCI_IMAGE_SPEC_SCHEMAS'] ?? join(sharedDir ?? '../shared', 'oci-schemas/image-spec/v1.1.1'),
  debian: '/usr/share/gocode/src/github.com/opencontainers/image-spec/schema',
} as const;

export type OfficialSet = keyof typeof OFFICIAL_SCHEMA_DIRS;

export interface OfficialValidators {
  manifest: ValidateFunction;
  index: ValidateFunction;
  config: ValidateFunction;
  descriptor: ValidateFunction;
  layout: ValidateFunction;
}

type AjvInstance = { addSchema(s: object, key: string): unknown; getSchema(key: string): ValidateFunction | undefined };
type AjvCtor = new (opts: Record<string, unknown>) => AjvInstance;
const Ajv = ((AjvDraft04Module as unknown as { default?: AjvCtor }).default ?? (AjvDraft04Module as unknown as AjvCtor));
type AddFormats = (ajv: AjvInstance) => unknown;
const addFormats = ((ajvFormatsModule as unknown as { default?: AddFormats }).default ?? (ajvFormatsModule as unknown as AddFormats));

/**
 * The official files give themselves `id`s (https://opencontainers.org/schema/...) but refer to
 * each other by bare file name, which only resolves if every file is registered under its name
 * and the ids do not move the base URI. So: drop the `id` members (they are only identifiers in
 * these files: no property is called "id") and register each file under its own name. The Debian
 * copy spells $schema with https, which is not a known meta-schema: normalise it.
 */
function stripIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripIds);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'id' && typeof v === 'string') continue;
    if (k === '$schema') {
      out[k] = 'http://json-schema.org/draft-04/schema#';
      continue;
    }
    out[k] = stripIds(v);
  }
  return out;
}

export function officialAvailable(set: OfficialSet): boolean {
  return existsSync(join(OFFICIAL_SCHEMA_DIRS[set], 'image-manifest-schema.json'));
}

export function loadOfficial(set: OfficialSet): OfficialValidators {
  const dir = OFFICIAL_SCHEMA_DIRS[set];
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    ajv.addSchema(stripIds(JSON.parse(readFileSync(join(dir, f), 'utf8'))) as object, f);
  }
  const get = (k: string): ValidateFunction => {
    const fn = ajv.getSchema(k);
    if (!fn) throw new Error(`official schema ${k} missing in ${dir}`);
    return fn;
  };
  return {
    manifest: get('image-manifest-schema.json'),
    index: get('image-index-schema.json'),
    config: get('config-schema.json'),
    descriptor: get('content-descriptor.json'),
    layout: get('image-layout-schema.json'),
  };
}

/** The sets present on this machine, newest first. */
export function availableOfficialSets(): OfficialSet[] {
  return (['v1.1.1', 'debian'] as const).filter((s) => officialAvailable(s));
}

/** Reads one official schema file from the newest set present. */
export function readOfficialFile(name: string): unknown {
  const set = availableOfficialSets()[0];
  if (set === undefined) throw new Error('no official image-spec schemas on this machine');
  return JSON.parse(readFileSync(join(OFFICIAL_SCHEMA_DIRS[set], name), 'utf8'));
}
