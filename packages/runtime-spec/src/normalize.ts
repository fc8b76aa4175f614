import type { Hooks, Linux, LinuxNamespace, Mount, Process, Root, Spec, User } from './types.js';

export interface NormalizedMount extends Mount {
  type: string;
  source: string;
  options: string[];
}

export interface NormalizedProcess extends Process {
  terminal: boolean;
  user: User & { additionalGids: number[] };
  args: string[];
  env: string[];
}

export interface NormalizedLinux extends Linux {
  namespaces: LinuxNamespace[];
  uidMappings: NonNullable<Linux['uidMappings']>;
  gidMappings: NonNullable<Linux['gidMappings']>;
  devices: NonNullable<Linux['devices']>;
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctl: Record<string, string>;
}

/** A Spec with the defaults a runtime applies filled in, so consumers need no `?? []` everywhere. */
export interface NormalizedSpec extends Spec {
  process?: NormalizedProcess;
  root: Root & { readonly: boolean };
  mounts: NormalizedMount[];
  hooks: Required<Hooks>;
  annotations: Record<string, string>;
  linux: NormalizedLinux;
}

const BIND_OPTIONS = new Set(['bind', 'rbind']);

/**
 * A deep copy of `spec` with the spec's implicit defaults made explicit: `root.readonly` false, `process.user`
 * uid 0 gid 0, empty `args`/`env`/`additionalGids`, `terminal` false; every mount with `type`, `source`, `options`
 * (a mount with a `bind`/`rbind` option and no type gets type `bind`, no source gets `none`); every hook list;
 * `linux` lists; capability names upper-cased with the `CAP_` prefix; namespaces with an empty `path` lose it.
 * Does not validate: call validateSpec first.
 */
export function normalizeSpec(spec: Spec): NormalizedSpec {
  const copy = structuredClone(spec);
  const root = { path: copy.root?.path ?? 'rootfs', ...copy.root, readonly: copy.root?.readonly === true };
  const mounts: NormalizedMount[] = (copy.mounts ?? []).map((m) => {
    const options = [...(m.options ?? [])];
    const type = m.type !== undefined && m.type !== '' ? m.type : options.some((o) => BIND_OPTIONS.has(o)) ? 'bind' : 'none';
    return { ...m, type, source: m.source ?? 'none', options };
  });
  const hooks: Required<Hooks> = {
    prestart: copy.hooks?.prestart ?? [],
    createRuntime: copy.hooks?.createRuntime ?? [],
    createContainer: copy.hooks?.createContainer ?? [],
    startContainer: copy.hooks?.startContainer ?? [],
    poststart: copy.hooks?.poststart ?? [],
    poststop: copy.hooks?.poststop ?? [],
  };
  const l = copy.linux ?? {};
  const linux: NormalizedLinux = {
    ...l,
    namespaces: (l.namespaces ?? []).map((ns) => (ns.path === '' ? { type: ns.type } : ns)),
    uidMappings: l.uidMappings ?? [],
    gidMappings: l.gidMappings ?? [],
    devices: l.devices ?? [],
    maskedPaths: l.maskedPaths ?? [],
    readonlyPaths: l.readonlyPaths ?? [],
    sysctl: l.sysctl ?? {},
  };
  const { process, ...rest } = copy;
  const out: NormalizedSpec = { ...rest, root, mounts, hooks, annotations: copy.annotations ?? {}, linux };
  if (process) out.process = normalizeProcess(process);
  return out;
}

const capName = (c: string): string => {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
};

/** Normalise a `process` object alone (also what `exec --process FILE` reads). */
export function normalizeProcess(process: Process): NormalizedProcess {
  const p = structuredClone(process);
  const user = { ...p.user, uid: p.user?.uid ?? 0, gid: p.user?.gid ?? 0, additionalGids: p.user?.additionalGids ?? [] };
  const out: NormalizedProcess = { ...p, terminal: p.terminal === true, user, args: p.args ?? [], env: p.env ?? [] };
  if (p.capabilities) {
    const caps = p.capabilities;
    out.capabilities = {};
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
      const list = caps[set];
      if (list) out.capabilities[set] = list.map(capName);
    }
  }
  return out;
}
