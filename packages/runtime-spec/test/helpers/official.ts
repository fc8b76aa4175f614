// Validators built from the official runtime-spec JSON schemas, for cross-checking ours.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';

// The team's shared/ folder stands beside the repository (CI clones main next to it).
const SHARED = join(
  [process.env['OCI_SHARED_DIR'], join(import.meta.dirname, '../../../../../shared'), '/work/shared'].find(
    (d): d is string => !!d && existsSync(join(d, 'oci-schemas')),
  ) ?? join(import.meta.dirname, '../../../../../shared'),
  'oci-schemas/runtime-spec',
);
const DEBIAN = '/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema';

export interface OfficialSchemas {
  /** e.g. `v1.3.0` or `debian` */
  name: string;
  /** runtime-spec minor version the schema knows (debian's snapshot is 1.0.2-dev => 0). */
  minor: number;
  config: ValidateFunction;
  state: ValidateFunction;
  features: ValidateFunction | undefined;
}

function load(name: string, dir: string, minor: number): OfficialSchemas {
  const Ajv = ((AjvDraft04 as unknown as { default?: unknown }).default ?? AjvDraft04) as unknown as typeof AjvDraft04.default;
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    // defs.json of 1.1+ has one malformed pointer ("#definitions/uint32", in the unused ArrayOfUint32) that ajv
    // refuses to compile; repair it so the rest of the official schema can be used as an oracle.
    const text = readFileSync(join(dir, file), 'utf8').replaceAll('"#definitions/', '"#/definitions/');
    ajv.addSchema(JSON.parse(text) as object, file);
  }
  return {
    name,
    minor,
    config: ajv.getSchema('config-schema.json')!,
    state: ajv.getSchema('state-schema.json')!,
    features: existsSync(join(dir, 'features-schema.json')) ? ajv.getSchema('features-schema.json') : undefined,
  };
}

let cache: OfficialSchemas[] | undefined;

/** Every official schema set available on this machine, oldest first. */
export function officialSchemas(): OfficialSchemas[] {
  if (cache) return cache;
  const out: OfficialSchemas[] = [];
  for (const [v, minor] of [['v1.0.2', 0], ['v1.1.0', 1], ['v1.2.1', 2], ['v1.3.0', 3]] as const) {
    if (existsSync(join(SHARED, v))) out.push(load(v, join(SHARED, v), minor));
  }
  if (existsSync(DEBIAN)) out.push(load('debian', DEBIAN, 0));
  cache = out;
  return out;
}

export function officialErrors(fn: ValidateFunction, doc: unknown): string[] {
  return fn(doc) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}
