import { describe, expect, it } from 'vitest';
import {
  Annotation,
  AnnotationRefName,
  baseMediaType,
  digestOf,
  EmptyJSONDescriptor,
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNonDistributableMediaType,
  layerCompression,
  MediaType,
} from '../src/index.js';

describe('MediaType', () => {
  it('has the spec strings', () => {
    expect(MediaType).toMatchObject({
      ImageManifest: 'application/vnd.oci.image.manifest.v1+json',
      ImageIndex: 'application/vnd.oci.image.index.v1+json',
      ImageConfig: 'application/vnd.oci.image.config.v1+json',
      Layer: 'application/vnd.oci.image.layer.v1.tar',
      LayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
      LayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
      LayerNonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
      LayerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
      LayerNonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
      EmptyJSON: 'application/vnd.oci.empty.v1+json',
      ImageLayout: 'application/vnd.oci.layout.header.v1+json',
      DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
      DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
      DockerConfig: 'application/vnd.docker.container.image.v1+json',
      DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
    });
    expect(AnnotationRefName).toBe('org.opencontainers.image.ref.name');
    expect(Annotation.RefName).toBe(AnnotationRefName);
  });
  it('is frozen', () => {
    expect(Object.isFrozen(MediaType)).toBe(true);
    expect(() => {
      (MediaType as Record<string, string>)['ImageManifest'] = 'x';
    }).toThrow(TypeError);
  });
});

describe('classifiers', () => {
  it('manifest / index / config', () => {
    expect(isManifestMediaType(MediaType.ImageManifest)).toBe(true);
    expect(isManifestMediaType(MediaType.DockerManifest)).toBe(true);
    expect(isManifestMediaType(`${MediaType.DockerManifest}; charset=utf-8`)).toBe(true);
    expect(isManifestMediaType(MediaType.ImageIndex)).toBe(false);
    expect(isManifestMediaType(MediaType.DockerManifestV1Signed)).toBe(false);
    expect(isManifestMediaType(undefined)).toBe(false);
    expect(isIndexMediaType(MediaType.ImageIndex)).toBe(true);
    expect(isIndexMediaType(MediaType.DockerManifestList)).toBe(true);
    expect(isIndexMediaType(MediaType.ImageManifest)).toBe(false);
    expect(isConfigMediaType(MediaType.ImageConfig)).toBe(true);
    expect(isConfigMediaType(MediaType.DockerConfig)).toBe(true);
    expect(isConfigMediaType(MediaType.EmptyJSON)).toBe(false);
  });
  it('layerCompression', () => {
    expect(layerCompression(MediaType.Layer)).toBe('none');
    expect(layerCompression(MediaType.LayerGzip)).toBe('gzip');
    expect(layerCompression(MediaType.LayerZstd)).toBe('zstd');
    expect(layerCompression(MediaType.LayerNonDistributable)).toBe('none');
    expect(layerCompression(MediaType.LayerNonDistributableGzip)).toBe('gzip');
    expect(layerCompression(MediaType.LayerNonDistributableZstd)).toBe('zstd');
    expect(layerCompression(MediaType.DockerLayerGzip)).toBe('gzip');
    expect(layerCompression(MediaType.DockerForeignLayerGzip)).toBe('gzip');
    expect(layerCompression(MediaType.ImageConfig)).toBeUndefined();
    expect(layerCompression('application/octet-stream')).toBeUndefined();
    expect(layerCompression(undefined)).toBeUndefined();
    expect(isLayerMediaType(MediaType.LayerZstd)).toBe(true);
    expect(isLayerMediaType(MediaType.ImageManifest)).toBe(false);
  });
  it('non-distributable', () => {
    expect(isNonDistributableMediaType(MediaType.LayerNonDistributableGzip)).toBe(true);
    expect(isNonDistributableMediaType(MediaType.DockerForeignLayerGzip)).toBe(true);
    expect(isNonDistributableMediaType(MediaType.LayerGzip)).toBe(false);
  });
  it('baseMediaType strips parameters and case', () => {
    expect(baseMediaType(' Application/JSON ; charset=utf-8')).toBe('application/json');
  });
});

describe('EmptyJSONDescriptor', () => {
  it('is the digest and base64 of {}', () => {
    expect(EmptyJSONDescriptor.digest).toBe(digestOf('{}'));
    expect(Buffer.from(EmptyJSONDescriptor.data, 'base64').toString()).toBe('{}');
    expect(EmptyJSONDescriptor.size).toBe(2);
  });
});
