/** JSON as Go's json.MarshalIndent(v, "", "    ") writes it, plus the newline skopeo prints. */
export function goIndent(value: unknown): string {
  return `${JSON.stringify(value, null, 4).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

type Obj = Record<string, unknown>;

function pick(src: Obj | undefined, keys: string[]): Obj {
  const out: Obj = {};
  if (!src) return out;
  for (const k of keys) {
    const v = src[k];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) ||
      (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as Obj).length === 0)) continue;
    out[k] = v;
  }
  return out;
}

/** An image config as skopeo's `inspect --config` prints it: the OCI image config fields in image-spec's Go order. */
export function ociConfigView(config: Obj): Obj {
  const out: Obj = pick(config, ['created', 'author', 'architecture', 'os', 'os.version', 'os.features', 'variant']);
  const inner = pick(config.config as Obj | undefined, ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped']);
  if (Object.keys(inner).length) out.config = inner;
  const rootfs = config.rootfs as Obj | undefined;
  out.rootfs = { type: rootfs?.type ?? '', diff_ids: rootfs?.diff_ids ?? null };
  const history = config.history as Obj[] | undefined;
  if (Array.isArray(history) && history.length) {
    out.history = history.map((h) => pick(h, ['created', 'created_by', 'author', 'comment', 'empty_layer']));
  }
  return out;
}

/** The summary skopeo's `inspect` prints (skopeo 1.9 field set). */
export function inspectView(input: {
  name: string | undefined; digest: string; repoTags: string[]; manifest: Obj; config: Obj;
}): Obj {
  const cfg = input.config;
  const inner = (cfg.config as Obj | undefined) ?? {};
  const out: Obj = {};
  if (input.name) out.Name = input.name;
  out.Digest = input.digest;
  out.RepoTags = input.repoTags;
  out.Created = cfg.created ?? null;
  out.DockerVersion = (cfg.docker_version as string | undefined) ?? '';
  out.Labels = inner.Labels ?? null;
  out.Architecture = cfg.architecture ?? '';
  if (cfg.variant) out.Variant = cfg.variant;
  out.Os = cfg.os ?? '';
  out.Layers = ((input.manifest.layers as Obj[] | undefined) ?? []).map((l) => l.digest);
  out.Env = inner.Env ?? null;
  return out;
}
