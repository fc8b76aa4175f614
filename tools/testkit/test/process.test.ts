import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupTmpDirs, run, runOk, tmpDir, which } from '../src/index.js';

describe('run', () => {
  it('collects stdout, stderr and the exit code without throwing', async () => {
    const r = await run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false });
  });

  it('feeds input, sets env and cwd', async () => {
    const dir = await tmpDir('testkit-run');
    const r = await run('sh', ['-c', 'cat; echo "$FOO"; pwd'], { input: 'in\n', env: { FOO: 'bar' }, cwd: dir.path });
    expect(r.stdout).toBe(`in\nbar\n${dir.path}\n`);
    await dir.cleanup();
  });

  it('kills on timeout and reports the signal', async () => {
    const r = await run('sleep', ['10'], { timeoutMs: 100 });
    expect(r).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: true });
  });

  it('rejects only when the command cannot start', async () => {
    await expect(run('/nonexistent/cmd')).rejects.toThrow(/ENOENT/);
    await expect(runOk('false')).rejects.toThrow(/exited with code 1/);
  });
});

describe('which', () => {
  it('finds executables on PATH', async () => {
    expect(await which('sh')).toMatch(/\/sh$/);
    expect(await which('definitely-not-a-command-xyz')).toBeUndefined();
  });
});

describe('tmpDir', () => {
  it('makes dirs under the temp dir and removes them', async () => {
    const a = await tmpDir('testkit-a');
    const b = await tmpDir('testkit-b');
    await writeFile(join(a.path, 'f'), 'x');
    expect(existsSync(join(a.path, 'f'))).toBe(true);
    await a.cleanup();
    expect(existsSync(a.path)).toBe(false);
    await cleanupTmpDirs();
    expect(existsSync(b.path)).toBe(false);
  });
});
