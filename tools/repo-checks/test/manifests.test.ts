// Checks the published manifests against the built files, so that `exports`, `files`, `bin` and the
// build output cannot drift apart (STYLE.md rules 5 and 7).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedPackages, repoRoot } from './packages.js';

const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

function exportTargets(exp: unknown): string[] {
  if (typeof exp === 'string') return [exp];
  if (exp && typeof exp === 'object') return Object.values(exp).flatMap(exportTargets);
  return [];
}

describe.each(publishedPackages())('$manifest.name', ({ dir, relDir, manifest }) => {
  it('is named @oci/<folder> and is ESM', () => {
    expect(manifest.name).toBe(`@oci/${relDir.split('/')[1]}`);
    expect(manifest.type).toBe('module');
    expect(manifest.private).toBeUndefined();
  });

  it('declares engines, files, sideEffects and repository.directory', () => {
    expect(manifest.engines?.node).toBe(rootManifest.engines.node);
    expect(manifest.files).toContain('dist');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.repository?.directory).toBe(relDir);
    expect(manifest.license).toBeTruthy();
  });

  it('has an exports map with "." (types first) and "./package.json" whose targets exist', () => {
    const dot = manifest.exports?.['.'];
    expect(Object.keys(dot)[0]).toBe('types');
    expect(manifest.exports['./package.json']).toBe('./package.json');
    for (const [key, value] of Object.entries<unknown>(manifest.exports)) {
      for (const target of exportTargets(value)) {
        if (key.includes('*')) continue;
        expect(existsSync(join(dir, target)), `${key} -> ${target}`).toBe(true);
        const top = target.replace(/^\.\//, '').split('/')[0]!;
        expect(top === 'package.json' || manifest.files.includes(top), `${target} is in files`).toBe(true);
      }
    }
  });

  it('uses workspace:^ for internal and catalog: or exact versions for external dependencies', () => {
    for (const [dep, range] of Object.entries<string>(manifest.dependencies ?? {})) {
      if (dep.startsWith('@oci/')) expect(range, dep).toBe('workspace:^');
      else expect(range === 'catalog:' || /^\d+\.\d+\.\d+$/.test(range), `${dep}@${range}`).toBe(true);
    }
  });

  it('ships a README with a runnable example', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toMatch(/```(ts|js|sh|bash|console)/);
  });

  it('has executable bins that exist and are packed', () => {
    for (const target of Object.values<string>(manifest.bin ?? {})) {
      const file = join(dir, target);
      expect(existsSync(file), target).toBe(true);
      expect(statSync(file).mode & 0o111).not.toBe(0);
      const text = readFileSync(file, 'utf8');
      if (text.startsWith('#!/bin/sh\n')) {
        // a launcher (docs/architecture.md, "Start-up of the command-line tools"): it execs node on the shared
        // loader the build puts in dist/, naming the bundle in OCI_CLI_BUNDLE; bin/NAME.js does the same for
        // `node bin/NAME.js`
        const js = `${target}.js`;
        expect(text, target).toContain('exec node --preserve-symlinks-main "${self%/*}/../dist/cli-loader.cjs" "$@"');
        expect(text, target).toMatch(/^export OCI_CLI_BUNDLE=/m);
        expect(text, target).toContain(`${basename(target)}.cjs`);
        expect(existsSync(join(dir, js)), js).toBe(true);
        expect(readFileSync(join(dir, js), 'utf8'), js).toContain('../dist/cli-loader.cjs');
        expect(readFileSync(join(dir, js), 'utf8').startsWith('#!/usr/bin/env node'), js).toBe(true);
      } else {
        expect(text.startsWith('#!/usr/bin/env node'), target).toBe(true);
      }
    }
  });
});
