// Keeps the docs honest: relative links point at files that exist, and the tests that
// docs/security.md cites (files and test names) exist.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './packages.js';

const rel = (p: string): string => relative(repoRoot, p);

/** README.md, docs/*.md and packages/*\/README.md. */
function docFiles(): string[] {
  const out = [join(repoRoot, 'README.md')];
  const docs = join(repoRoot, 'docs');
  for (const name of readdirSync(docs).sort()) if (name.endsWith('.md')) out.push(join(docs, name));
  const packages = join(repoRoot, 'packages');
  for (const name of readdirSync(packages).sort()) {
    const readme = join(packages, name, 'README.md');
    if (existsSync(readme)) out.push(readme);
  }
  return out;
}

/** Markdown text without fenced code blocks and inline code spans (links there are not links). */
function proseOf(markdown: string): string {
  const lines = markdown.split('\n');
  let fence: string | undefined;
  const kept: string[] = [];
  for (const line of lines) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m) {
      if (fence === undefined) fence = m[1]![0]!;
      else if (m[1]![0] === fence) fence = undefined;
      kept.push('');
      continue;
    }
    kept.push(fence === undefined ? line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, '') : '');
  }
  return kept.join('\n');
}

/** Link targets: inline `[text](target "title")`, images, reference definitions `[x]: target`, and `href="target"`. */
export function linkTargets(markdown: string): string[] {
  const prose = proseOf(markdown);
  const out: string[] = [];
  for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]!);
  for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)) out.push(m[1]!);
  for (const m of prose.matchAll(/\bhref="([^"]+)"/g)) out.push(m[1]!);
  return out;
}

function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#') && !target.startsWith('//');
}

describe('relative links in README.md, docs/*.md and packages/*/README.md', () => {
  const files = docFiles();

  it('finds the docs', () => {
    expect(files.map(rel)).toContain('README.md');
    expect(files.map(rel)).toContain('docs/security.md');
  });

  for (const file of files) {
    it(`${rel(file)}: every relative link points to an existing file or directory`, () => {
      const broken: string[] = [];
      for (const target of linkTargets(readFileSync(file, 'utf8'))) {
        if (!isRelative(target)) continue;
        const path = decodeURIComponent(target.replace(/[?#].*$/, ''));
        if (path === '') continue;
        if (!existsSync(join(dirname(file), path))) broken.push(target);
      }
      expect(broken, `broken links in ${rel(file)}`).toEqual([]);
    });
  }
});

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const lines = proseOf(markdown).split('\n');
  const raw = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^#{1,6}\s/.test(lines[i]!)) continue;
    const text = raw[i]!.replace(/^#{1,6}\s+/, '').replace(/\s+#*\s*$/, '');
    const slug = text
      .toLowerCase()
      .replace(/<[^>]+>/g, '')
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  for (const m of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  return anchors;
}

describe('anchors in the topic pages', () => {
  // The pages written together with this test; other pages may adopt the check later.
  const topics = ['cancellation.md', 'streams.md', 'security.md', 'progress.md'].map((n) => join(repoRoot, 'docs', n));
  for (const file of topics) {
    it(`docs/${rel(file).slice('docs/'.length)}: every #anchor names a heading that exists`, () => {
      const broken: string[] = [];
      for (const target of linkTargets(readFileSync(file, 'utf8'))) {
        if (!isRelative(target) && !target.startsWith('#')) continue;
        const hash = target.indexOf('#');
        if (hash < 0) continue;
        const path = target.slice(0, hash);
        const into = path === '' ? file : join(dirname(file), decodeURIComponent(path));
        if (!into.endsWith('.md') || !existsSync(into) || !statSync(into).isFile()) continue;
        if (!anchorsOf(readFileSync(into, 'utf8')).has(target.slice(hash + 1))) broken.push(target);
      }
      expect(broken, `dangling anchors in ${rel(file)}`).toEqual([]);
    });
  }
});

/** Titles of it()/test()/describe() calls in a test file, as written (template parts kept verbatim). */
function testTitles(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/\b(?:it|test|describe)(?:\.\w+)*\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g)) {
    out.push(m[2]!.replace(/\\(['"`\\])/g, '$1'));
  }
  return out;
}

function testFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'fixtures') out.push(...testFilesUnder(path));
    else if (entry.isFile() && /\.test(?:-d)?\.ts$/.test(entry.name)) out.push(path);
  }
  return out;
}

describe('docs/security.md cites tests that exist', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'security.md'), 'utf8');

  it('every test file path it cites exists', () => {
    const cited = [...new Set([...doc.matchAll(/packages\/[\w.-]+\/test\/[\w./-]+\.test(?:-d)?\.ts/g)].map((m) => m[0]))];
    expect(cited.length).toBeGreaterThan(10);
    const missing = cited.filter((p) => !existsSync(join(repoRoot, p)));
    expect(missing, 'test files cited in docs/security.md that do not exist').toEqual([]);
  });

  it('every test name in its tables is the title of a test in packages/*/test', () => {
    const titles = new Set<string>();
    const packages = join(repoRoot, 'packages');
    for (const name of readdirSync(packages)) {
      const dir = join(packages, name, 'test');
      if (!existsSync(dir)) continue;
      for (const file of testFilesUnder(dir)) for (const t of testTitles(readFileSync(file, 'utf8'))) titles.add(t);
    }
    // Table rows; the "Test" column is found from each table's header row.
    const names: string[] = [];
    let testColumn = -1;
    for (const line of doc.split('\n')) {
      if (!line.startsWith('|')) {
        testColumn = -1;
        continue;
      }
      const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
      if (testColumn === -1) {
        testColumn = cells.indexOf('Test');
        continue;
      }
      const cell = cells[testColumn];
      if (cell === undefined || /^-+$/.test(cell)) continue;
      // "name" in quotes, or `name` in backticks when the name itself has quotes; backticked paths are files
      for (const m of cell.matchAll(/"([^"]+)"|`([^`]+)`/g)) {
        const name = m[1] ?? m[2]!;
        if (/\.ts$/.test(name)) continue;
        names.push(name);
      }
    }
    expect(names.length).toBeGreaterThan(20);
    const unknown = names.filter((n) => !titles.has(n));
    expect(unknown, 'test names cited in docs/security.md that no test has (renamed? update the doc)').toEqual([]);
  });
});

describe('examples in the topic pages import what the packages export', () => {
  const topics = ['cancellation.md', 'streams.md', 'security.md', 'progress.md'];
  for (const name of topics) {
    it(`docs/${name}: every name imported from @oci/* is exported by that package's src/index.ts`, () => {
      const doc = readFileSync(join(repoRoot, 'docs', name), 'utf8');
      const missing: string[] = [];
      for (const block of doc.matchAll(/```ts\n([\s\S]*?)```/g)) {
        for (const m of block[1]!.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@oci\/([\w-]+)'/g)) {
          const index = join(repoRoot, 'packages', m[2]!, 'src', 'index.ts');
          const exported = existsSync(index) ? readFileSync(index, 'utf8') : '';
          for (const raw of m[1]!.split(',')) {
            const id = raw.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
            if (id !== '' && !new RegExp(`\\b${id}\\b`).test(exported)) missing.push(`@oci/${m[2]} ${id}`);
          }
        }
      }
      expect(missing, `imports in docs/${name} that the package does not export`).toEqual([]);
    });
  }
});
