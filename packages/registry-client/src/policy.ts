// Trust policy: containers-policy.json(5), the file skopeo and podman consult before they copy an image.
// Parsed strictly (unknown fields, empty requirement lists and bad scopes refuse the whole file, as
// containers/image does); evaluated for the source image of a copy: the most specific scope wins.
// Signature requirements (signedBy, sigstoreSigned) are recognised but cannot be verified here: an image
// they apply to is refused with ERR_SIGNATURE_UNSUPPORTED rather than accepted unchecked.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import { RegistryError } from './errors.js';
import { parseReference, type Reference } from './reference.js';
import { noteFile } from './record.js';

export type PolicyRequirement =
  | { type: 'insecureAcceptAnything' }
  | { type: 'reject' }
  | { type: 'signedBy'; [field: string]: unknown }
  | { type: 'sigstoreSigned'; [field: string]: unknown };

export interface Policy {
  default: PolicyRequirement[];
  transports: Record<string, Record<string, PolicyRequirement[]>>;
}

/** The image a policy is asked about: a registry reference, or a local path (oci:, dir:, oci-archive:). */
export type PolicyImage =
  | { transport: 'docker'; reference: Reference }
  | { transport: 'oci' | 'oci-archive'; path: string; ref?: string | undefined }
  | { transport: 'dir'; path: string };

export interface PolicyDecision {
  /** The transport and scope whose requirements applied ('' = the transport default; default = the global one). */
  transport: string | undefined;
  scope: string | undefined;
  requirements: PolicyRequirement[];
}

/** Transport names containers/image knows (a policy naming another one is refused, as there). */
const TRANSPORTS = new Set([
  'atomic', 'containers-storage', 'dir', 'docker', 'docker-archive', 'docker-daemon', 'oci', 'oci-archive',
  'ostree', 'sif', 'tarball',
]);

const REQUIREMENT_FIELDS: Record<string, ReadonlySet<string>> = {
  insecureAcceptAnything: new Set(['type']),
  reject: new Set(['type']),
  signedBy: new Set(['type', 'keyType', 'keyPath', 'keyPaths', 'keyData', 'signedIdentity']),
  sigstoreSigned: new Set([
    'type', 'keyPath', 'keyPaths', 'keyData', 'keyDatas', 'fulcio', 'rekorPublicKeyPath', 'rekorPublicKeyPaths',
    'rekorPublicKeyData', 'rekorPublicKeyDatas', 'pki', 'signedIdentity',
  ]),
};

const IDENTITY_TYPES = new Set(['matchExact', 'matchRepoDigestOrExact', 'matchRepository', 'exactReference', 'exactRepository', 'remapIdentity']);

function invalid(source: string, why: string): RegistryError {
  return new RegistryError('ERR_POLICY_INVALID', `invalid trust policy ${source}: ${why}`, {
    hint: 'Fix the file (see containers-policy.json(5)); the smallest valid policy is {"default":[{"type":"insecureAcceptAnything"}]}.',
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRequirements(v: unknown, where: string, source: string): PolicyRequirement[] {
  if (!Array.isArray(v)) throw invalid(source, `${where} must be an array of requirements`);
  if (v.length === 0) throw invalid(source, `${where} is empty: write [{"type":"insecureAcceptAnything"}] to accept anything`);
  return v.map((r, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(r)) throw invalid(source, `${at} must be an object`);
    const type = r.type;
    if (typeof type !== 'string' || !(type in REQUIREMENT_FIELDS)) throw invalid(source, `${at} has unknown type ${JSON.stringify(type)}`);
    const allowed = REQUIREMENT_FIELDS[type]!;
    for (const k of Object.keys(r)) if (!allowed.has(k)) throw invalid(source, `${at} (${type}) has unknown field "${k}"`);
    if (type === 'signedBy') {
      if (r.keyType !== 'GPGKeys') throw invalid(source, `${at}: keyType must be "GPGKeys"`);
      const keys = ['keyPath', 'keyPaths', 'keyData'].filter((k) => r[k] !== undefined);
      if (keys.length !== 1) throw invalid(source, `${at}: exactly one of keyPath, keyPaths and keyData is needed`);
    }
    if (r.signedIdentity !== undefined) {
      const id = r.signedIdentity;
      if (!isObject(id) || typeof id.type !== 'string' || !IDENTITY_TYPES.has(id.type)) {
        throw invalid(source, `${at}: signedIdentity has an unknown type`);
      }
    }
    return r as PolicyRequirement;
  });
}

function checkScope(transport: string, scope: string, source: string): void {
  if (scope === '') return;
  const where = `transports.${transport}[${JSON.stringify(scope)}]`;
  if (transport === 'docker' || transport === 'atomic') {
    if (scope.startsWith('*.')) {
      if (!/^\*(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(scope)) throw invalid(source, `${where}: a wildcard scope is *.domain (no port, no path)`);
      return;
    }
    if (scope.includes('*')) throw invalid(source, `${where}: wildcards only as a leading "*." (e.g. *.example.com)`);
    // a host, a namespace, a repository or a whole reference: all of them parse once a repository part is added
    const probe = scope.includes('/') ? scope : `${scope}/x`;
    try {
      const ref = parseReference(probe, { defaultTag: false });
      if (!scope.includes('/') && ref.registry !== scope) throw new Error('not a host');
      if (scope.includes('/') && !probe.startsWith(`${ref.registry}/`)) throw new Error('not fully qualified');
    } catch {
      throw invalid(source, `${where}: a docker scope is a host[:port], a namespace or a repository in full (docker.io/library/busybox), optionally with :tag or @digest`);
    }
    return;
  }
  if (transport === 'oci' || transport === 'dir' || transport === 'oci-archive') {
    const path = transport === 'dir' ? scope : scope.replace(/:[^/]*$/, '');
    if (!isAbsolute(path)) throw invalid(source, `${where}: the scope must be an absolute path`);
    if (normalize(path) === '/') throw invalid(source, `${where}: "/" is not a scope; use "" for the transport default`);
  }
}

/** Parses and validates a policy document (the text of policy.json). `source` names it in errors. Pure. */
export function parsePolicy(text: string, source = 'policy.json'): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(source, `not JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) throw invalid(source, 'the top level must be an object');
  for (const k of Object.keys(doc)) if (k !== 'default' && k !== 'transports') throw invalid(source, `unknown field "${k}"`);
  if (doc.default === undefined) throw invalid(source, '"default" is required');
  const policy: Policy = { default: parseRequirements(doc.default, 'default', source), transports: {} };
  if (doc.transports !== undefined) {
    if (!isObject(doc.transports)) throw invalid(source, '"transports" must be an object');
    for (const [transport, scopes] of Object.entries(doc.transports)) {
      if (!TRANSPORTS.has(transport)) throw invalid(source, `unknown transport "${transport}"`);
      if (!isObject(scopes)) throw invalid(source, `transports.${transport} must be an object of scopes`);
      const out: Record<string, PolicyRequirement[]> = {};
      for (const [scope, reqs] of Object.entries(scopes)) {
        checkScope(transport, scope, source);
        out[scope] = parseRequirements(reqs, `transports.${transport}[${JSON.stringify(scope)}]`, source);
      }
      policy.transports[transport] = out;
    }
  }
  return policy;
}

/** Where skopeo looks for the policy: $HOME/.config/containers/policy.json if it exists, else /etc/containers/policy.json. */
export function defaultPolicyPaths(home = homedir()): string[] {
  return [join(home, '.config', 'containers', 'policy.json'), '/etc/containers/policy.json'];
}

/**
 * Reads the policy: `path` when given (it must exist), else the first default file that exists; `undefined`
 * when there is none (the caller decides: oci-registry then accepts, like the policy distributions ship).
 */
export async function loadPolicy(options: { path?: string | undefined; home?: string | undefined } = {}): Promise<Policy | undefined> {
  const candidates = options.path !== undefined ? [options.path] : defaultPolicyPaths(options.home);
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (options.path === undefined && (code === 'ENOENT' || code === 'ENOTDIR')) {
        noteFile(file, undefined);
        continue;
      }
      throw new RegistryError('ERR_POLICY_INVALID', `cannot read trust policy ${file}: ${(err as Error).message}`, {
        cause: err, hint: 'Give an existing policy.json with --policy, or run with --insecure-policy to skip the policy check.',
      });
    }
    noteFile(file, text);
    return parsePolicy(text, file);
  }
  return undefined;
}

/** The scopes of an image, most specific first (without '' and the global default). Pure. */
export function policyScopes(image: PolicyImage): string[] {
  if (image.transport === 'docker') {
    const r = image.reference;
    const name = `${r.registry}/${r.repository}`;
    const out: string[] = [];
    if (r.digest !== undefined) out.push(`${name}@${r.digest}`);
    else if (r.tag !== undefined) out.push(`${name}:${r.tag}`);
    const parts = name.split('/');
    for (let n = parts.length; n >= 1; n--) out.push(parts.slice(0, n).join('/'));
    if (!r.registry.includes(':')) {
      const labels = r.registry.split('.');
      for (let i = 1; i < labels.length; i++) out.push(`*.${labels.slice(i).join('.')}`);
    }
    return out;
  }
  const out: string[] = [];
  const path = normalize(image.path).replace(/\/+$/, '') || '/';
  // As containers/image: the ref inside a layout is not part of the identity ("$dir:$ref" and "$dir:" may be
  // the same image), so a "/dir:tag" scope in a policy never matches (skopeo 1.9 behaves so; tested).
  // the directory, then each parent up to (not including) "/"
  for (let p = path; p !== '/';) {
    out.push(p);
    const slash = p.lastIndexOf('/');
    p = slash <= 0 ? '/' : p.slice(0, slash);
  }
  return out;
}

/** The requirements that apply to `image`: its most specific scope, the transport default, the global default. Pure. */
export function policyRequirementsFor(policy: Policy, image: PolicyImage): PolicyDecision {
  const scopes = policy.transports[image.transport];
  if (scopes !== undefined) {
    for (const scope of [...policyScopes(image), '']) {
      const reqs = scopes[scope];
      if (reqs !== undefined) return { transport: image.transport, scope, requirements: reqs };
    }
  }
  return { transport: undefined, scope: undefined, requirements: policy.default };
}

function describe(image: PolicyImage): string {
  if (image.transport === 'docker') {
    const r = image.reference;
    return `docker://${r.registry}/${r.repository}${r.digest ? `@${r.digest}` : `:${r.tag ?? 'latest'}`}`;
  }
  if (image.transport === 'dir') return `dir:${image.path}`;
  return `${image.transport}:${image.path}${image.ref ? `:${image.ref}` : ''}`;
}

/**
 * Checks `image` against `policy`: returns the decision when every requirement accepts it; throws
 * ERR_POLICY_REJECTED for a reject requirement and ERR_SIGNATURE_UNSUPPORTED for a signature requirement.
 */
export function checkPolicy(policy: Policy, image: PolicyImage): PolicyDecision {
  const decision = policyRequirementsFor(policy, image);
  const where = decision.transport === undefined ? 'the default policy' : `scope ${JSON.stringify(decision.scope)} of transport ${decision.transport}`;
  for (const req of decision.requirements) {
    if (req.type === 'reject') {
      throw new RegistryError('ERR_POLICY_REJECTED', `source image ${describe(image)} is rejected by the trust policy (${where})`, {
        hint: 'Change the policy (--policy FILE, or the scope in policy.json), or run with --insecure-policy if you trust this image.',
      });
    }
    if (req.type === 'signedBy' || req.type === 'sigstoreSigned') {
      throw new RegistryError('ERR_SIGNATURE_UNSUPPORTED', `the trust policy requires ${req.type} signatures for ${describe(image)} (${where}), and oci-registry cannot verify signatures`, {
        hint: 'Verify and copy the image with skopeo, or run with --insecure-policy to copy it without signature verification.',
      });
    }
  }
  return decision;
}
