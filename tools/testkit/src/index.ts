export { TestkitError } from './errors.js';
export { run, runOk, which } from './process.js';
export type { RunOptions, RunResult } from './process.js';
export { tmpDir, cleanupTmpDirs } from './tmp.js';
export type { TmpDir } from './tmp.js';
export { startRegistry, basicAuthHeader, REGISTRY_MODES } from './registry.js';
export type { RegistryHandle, RegistryInfo, RegistryMode, StartRegistryOptions, TokenServerInfo } from './registry.js';
export { startTokenServer } from './token-server.js';
export type { TokenServer, TokenServerOptions, TokenUser, TokenRequestRecord } from './token-server.js';
export { createCA, createServerCert, createSigningKey } from './certs.js';
export type { CertificateAuthority, CertificatePair, SigningKey } from './certs.js';
export { snapshotTree, diffTrees } from './tree.js';
export type { TreeEntry, TreeEntryType, SnapshotOptions, DiffOptions, TreeField } from './tree.js';
export { getRegistry } from './shared.js';
export { startFaultProxy, startRedirectProxy } from './fault-proxy.js';
export type {
  Fault,
  FlipByteFault,
  CutFault,
  StatusFault,
  ResetFault,
  DelayFault,
  FaultProxy,
  ProxyOptions,
  ProxyStats,
  ProxyRequestRecord,
  RedirectProxy,
  RedirectProxyOptions,
} from './fault-proxy.js';
export { createTinyImage } from './tiny-image.js';
export type { TinyImage } from './tiny-image.js';
export { skopeoFlags, authorization } from './helpers.js';
export type { Credentials } from './helpers.js';
export { httpRequest } from './http.js';
export type { HttpRequestOptions, HttpResponse } from './http.js';
