// `inspect --format`: the Go structs skopeo's templates see, built from the JSON views of inspect-format.ts.
// Field names are Go's (RootFS, OSVersion...), not the JSON keys; times print as Go's time.Time.
import { formatInspect, goStruct, GoTime, orNil } from './go-template.js';

type Obj = Record<string, unknown>;

const time = (v: unknown): unknown => (typeof v === 'string' ? new GoTime(v) : v ?? null);

/** skopeo's inspect output struct (Name, Digest, RepoTags, Created, DockerVersion, Labels, Architecture, Os, Layers, Env). */
export function goStructView(view: Obj): Obj {
  return goStruct({
    Name: view.Name ?? '',
    Digest: view.Digest,
    RepoTags: view.RepoTags ?? [],
    Created: time(view.Created),
    DockerVersion: view.DockerVersion ?? '',
    Labels: orNil(view.Labels, 'map'),
    Architecture: view.Architecture ?? '',
    // skopeo 1.9's struct has no Variant: a template naming it fails there unless the image has one here
    ...(view.Variant !== undefined ? { Variant: view.Variant } : {}),
    Os: view.Os ?? '',
    Layers: view.Layers ?? [],
    Env: orNil(view.Env, 'slice'),
  });
}

/** image-spec's Go Image struct for `inspect --config --format`. */
export function goConfigView(view: Obj): Obj {
  const c = (view.config as Obj | undefined) ?? {};
  const rootfs = (view.rootfs as Obj | undefined) ?? {};
  return goStruct({
    Created: time(view.created),
    Author: view.author ?? '',
    Architecture: view.architecture ?? '',
    Variant: view.variant ?? '',
    OS: view.os ?? '',
    OSVersion: view['os.version'] ?? '',
    OSFeatures: orNil(view['os.features'], 'slice'),
    Config: goStruct({
      User: c.User ?? '', ExposedPorts: orNil(c.ExposedPorts, 'map'), Env: orNil(c.Env, 'slice'), Entrypoint: orNil(c.Entrypoint, 'slice'),
      Cmd: orNil(c.Cmd, 'slice'), Volumes: orNil(c.Volumes, 'map'), WorkingDir: c.WorkingDir ?? '', Labels: orNil(c.Labels, 'map'),
      StopSignal: c.StopSignal ?? '', ArgsEscaped: c.ArgsEscaped ?? false,
    }),
    RootFS: goStruct({ Type: rootfs.type ?? '', DiffIDs: orNil(rootfs.diff_ids, 'slice') }),
    History: ((view.history as Obj[] | undefined) ?? []).map((h) => goStruct({
      Created: time(h.created), CreatedBy: h.created_by ?? '', Author: h.author ?? '', Comment: h.comment ?? '', EmptyLayer: h.empty_layer ?? false,
    })),
  });
}

export { formatInspect };
