// Type-level tests of the public API (checked by `pnpm typecheck`, which runs tsc over test/).
import { expectTypeOf } from 'vitest';
import {
  defaultSpec,
  imageConfigToSpec,
  normalizeSpec,
  parseSpec,
  validateSpec,
  type Features,
  type LinuxNamespaceType,
  type NormalizedSpec,
  type SeccompAction,
  type Spec,
  type State,
  type ValidationResult,
} from '../src/index.js';

expectTypeOf(defaultSpec()).toEqualTypeOf<Spec>();
expectTypeOf(parseSpec('')).toEqualTypeOf<Spec>();
expectTypeOf(validateSpec({})).toEqualTypeOf<ValidationResult>();
expectTypeOf(imageConfigToSpec({}, { rootfs: '/r' })).toEqualTypeOf<Spec>();
expectTypeOf(normalizeSpec(defaultSpec())).toEqualTypeOf<NormalizedSpec>();
expectTypeOf(normalizeSpec(defaultSpec()).mounts[0]!.options).toEqualTypeOf<string[]>();
expectTypeOf<State['status']>().toEqualTypeOf<'creating' | 'created' | 'running' | 'stopped'>();
expectTypeOf<Features['ociVersionMin']>().toEqualTypeOf<string>();
expectTypeOf<LinuxNamespaceType>().toEqualTypeOf<'mount' | 'pid' | 'network' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time'>();
expectTypeOf<'SCMP_ACT_NOTIFY'>().toMatchTypeOf<SeccompAction>();

// Every optional field of the spec is optional in the type; required ones are required.
const minimal: Spec = { ociVersion: '1.0.0' };
expectTypeOf(minimal).toMatchTypeOf<Spec>();
// @ts-expect-error ociVersion is required
const noVersion: Spec = {};
void noVersion;
// @ts-expect-error a mount needs a destination
const badMount: Spec = { ociVersion: '1.0.0', mounts: [{ type: 'tmpfs' }] };
void badMount;
// @ts-expect-error imageConfigToSpec needs a rootfs
imageConfigToSpec({}, {});

// @oci/image-spec's ImageConfig (interfaces with index signatures and nullable fields) must be accepted as is.
interface ImageSpecConfigShape {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  [key: string]: unknown;
}
interface ImageSpecImageConfigShape {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ImageSpecConfigShape;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string }[];
  [key: string]: unknown;
}
declare const fromImageSpec: ImageSpecImageConfigShape;
expectTypeOf(imageConfigToSpec(fromImageSpec, { rootfs: '/r' })).toEqualTypeOf<Spec>();
