export { RegistryError, redact } from './errors.js';
export type { RegistryErrorOptions } from './errors.js';
export {
  parseReference,
  tryParseReference,
  formatReference,
  familiarReference,
  repositoryName,
  apiHost,
  manifestSelector,
  withSelector,
  DEFAULT_REGISTRY,
  DEFAULT_TAG,
  DOCKER_HUB_API_HOST,
  NAME_TOTAL_LENGTH_MAX,
} from './reference.js';
export type { Reference, ParseReferenceOptions } from './reference.js';
export { parseChallenges, repositoryScope } from './challenge.js';
export type { Challenge } from './challenge.js';
export {
  defaultAuthFile,
  authFileSearchPath,
  readAuthFile,
  normalizeAuthKey,
  findCredentials,
  runCredentialHelper,
  storeCredentials,
  removeCredentials,
  storedLogin,
} from './credentials.js';
export type { Credentials, AuthFile, CredentialLookupOptions } from './credentials.js';
export { DEFAULT_CERTS_DIRS } from './transport.js';
export { forgetProcessState } from './process-state.js';
export type { TransportOptions } from './transport.js';
export { MANIFEST_ACCEPT } from './media.js';
export {
  RegistryClient,
  requestChannel,
  parseRetryAfter,
  nextLink,
  errorFromResponse,
} from './client.js';
export type {
  RegistryClientOptions,
  CredentialSource,
  CallOptions,
  ManifestResult,
  ManifestHead,
  BlobTarget,
  GetBlobOptions,
  BlobStream,
  BlobSource,
  PushBlobOptions,
  PushBlobResult,
  RequestDiagnostic,
} from './client.js';
export { convertManifestToOci, convertIndexToOci, needsOciConversion, convertManifestToDocker, convertIndexToDocker, needsDockerConversion, goJson } from './convert.js';
export type { PlainDescriptor } from './convert.js';
export { planCopy, planImage, applyCopy, copyImage } from './copy.js';
export type {
  CopySource,
  CopyDestination,
  CopyEvent,
  CopyOptions,
  CopyPlan,
  CopyResult,
  PlannedImage,
  ManifestData,
  EndpointCallOptions,
} from './copy.js';
export { registrySource, registryDestination, layoutSource, layoutDestination, dirSource, dirDestination, indexNames } from './endpoints.js';
export type { LayoutDestinationOptions } from './endpoints.js';
export type { LayoutLike } from './endpoints.js';
export { recompressionFor, COMPRESSION_LEVELS } from './recompress.js';
export type { CompressFormat } from './recompress.js';
export { parsePolicy, loadPolicy, defaultPolicyPaths, policyScopes, policyRequirementsFor, checkPolicy } from './policy.js';
export type { Policy, PolicyRequirement, PolicyImage, PolicyDecision } from './policy.js';
export { parseRegistriesConf, loadRegistriesConf, registriesConfPath, findRegistry, pullSources, directAccess } from './registries-conf.js';
export type { RegistriesConf, RegistryEntry, RegistryEndpoint, PullSource, PullFromMirror } from './registries-conf.js';
export { startRecorder, stopRecorder } from './record.js';
export type { Recorder, NotedFile, NotedDir, NotedExchange } from './record.js';
