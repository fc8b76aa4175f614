// bin/oci-runtime (sh, what npm links and engines run) and bin/oci-runtime.js (`node bin/oci-runtime.js`) pick the
// bundle and the command (its code cache) separately; for the same arguments they must pick the same ones, and the
// loader run as the main module must run that bundle with the arguments untouched.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const LAUNCHER = fileURLToPath(new URL('../bin/oci-runtime', import.meta.url));
const BIN_JS = fileURLToPath(new URL('../bin/oci-runtime.js', import.meta.url));
const LOADER = fileURLToPath(new URL('../dist/cli-loader.cjs', import.meta.url));

const work = mkdtempSync(join(tmpdir(), 'oci-runtime-launcher-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// `node` for the launcher: prints what it was asked to run instead of running it
const stubDir = join(work, 'stub');
mkdirSync(stubDir);
writeFileSync(join(stubDir, 'node'), '#!/bin/sh\nshift 2\nprintf \'%s|%s\' "$OCI_CLI_BUNDLE" "$OCI_CLI_COMMAND"\nfor a in "$@"; do printf \'|%s\' "$a"; done\n');
chmodSync(join(stubDir, 'node'), 0o755);
// for bin/oci-runtime.js: a loader that prints what it was asked to run
const hook = join(work, 'hook.cjs');
writeFileSync(hook, `
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request.endsWith('cli-loader.cjs')) {
    return { run: (file, command) => process.stdout.write([require('node:path').basename(file), command ?? '', ...process.argv.slice(2)].join('|')) };
  }
  return load.call(this, request, ...rest);
};
`);

const CASES: string[][] = [
  [], ['state', 'x'], ['--root', '/r', 'state', 'x'], ['--root', 'state', 'list'], ['--log', 'f', '--debug', 'list'],
  ['--log-format', 'json', 'kill', 'x', 'KILL'], ['--rootless', 'true', 'list'], ['--criu', 'c', 'ps', 'x'],
  ['--systemd-cgroup', 'state', 'x'], ['list', '--help'], ['state', '-h', 'x'], ['--version'], ['-v'], ['-h'],
  ['run', '-d', 'x'], ['create', '--bundle', 'b', 'x'], ['start', 'x'], ['delete', '-f', 'x'], ['pause', 'x'],
  ['resume', 'x'], ['exec', 'x', '--', 'sh', '-h'], ['--', 'state'], ['', 'state'], ['-', 'list'], ['frobnicate'],
  ['state', 'with space', 'x*'], ['events', '--stats', 'x'], ['spec', '--rootless'], ['features'], ['update', '-r', 'f', 'x'],
];

describe('oci-runtime launcher', () => {
  it.each(CASES.map((c) => [c.join(' ') || '(none)', c]))('%s: the same bundle and command as bin/oci-runtime.js', (_, args) => {
    // the bundle Node runs: without the native front ends (below), which take some of these command lines first
    const sh = spawnSync(LAUNCHER, args as string[], { encoding: 'utf8', env: { ...process.env, PATH: `${stubDir}:${process.env.PATH}`, OCI_RUNTIME_WARM: '0', OCI_RUNTIME_NATIVE: '0' } });
    const js = spawnSync(process.execPath, ['-r', hook, BIN_JS, ...(args as string[])], { encoding: 'utf8' });
    expect(sh.status, sh.stderr).toBe(0);
    expect(js.status, js.stderr).toBe(0);
    expect(sh.stdout).toBe(js.stdout);
  });

  it('run, create, state, list, start, kill, delete, pause and resume go to the native front ends first (not with help), which hand the rest to Node untouched', () => {
    const stub2 = join(work, 'stub2');
    mkdirSync(stub2, { recursive: true });
    // this `node` also shows whether OCI_RUNTIME_NATIVE reached it (it must not: the launcher unsets `fallback`)
    writeFileSync(join(stub2, 'node'), '#!/bin/sh\nshift 2\nprintf \'%s|%s|%s\' "${OCI_RUNTIME_NATIVE-unset}" "$OCI_CLI_BUNDLE" "$OCI_CLI_COMMAND"\nfor a in "$@"; do printf \'|%s\' "$a"; done\n');
    chmodSync(join(stub2, 'node'), 0o755);
    const root = join(work, 'no-root');
    const go = (args: string[], mode?: string) => spawnSync(LAUNCHER, ['--root', root, ...args], {
      encoding: 'utf8', env: { ...process.env, PATH: `${stub2}:${process.env.PATH}`, OCI_RUNTIME_WARM: '0', ...(mode ? { OCI_RUNTIME_NATIVE: mode } : {}) },
    });
    // require: the front end says why it would hand over, so which one ran shows
    expect(go(['state', 'x'], 'require')).toMatchObject({ status: 125, stderr: expect.stringMatching(/^oci-runtime-query: not done natively: no container x/) });
    expect(go(['run', 'x'], 'require')).toMatchObject({ status: 125, stderr: expect.stringMatching(/^oci-runtime-run: not done natively: /) });
    expect(go(['list', '-q'], 'require')).toMatchObject({ status: 0, stdout: '' });
    for (const cmd of ['start', 'kill', 'delete', 'pause', 'resume']) {
      expect(go([cmd, 'x'], 'require')).toMatchObject({ status: 125, stderr: expect.stringMatching(/^oci-runtime-query: not done natively: no container x/) });
    }
    // handed over: Node gets the arguments as given, and no OCI_RUNTIME_NATIVE
    expect(go(['state', 'x', 'y z']).stdout).toBe(`unset|oci-runtime-query.cjs|state|--root|${root}|state|x|y z`);
    expect(go(['run', '-d', 'x']).stdout).toBe(`unset|oci-runtime.cjs|run|--root|${root}|run|-d|x`);
    // not taken by them: help, other commands, OCI_RUNTIME_NATIVE=0
    expect(go(['state', '--help', 'x'], 'require').stdout).toBe(`require|oci-runtime.cjs|state|--root|${root}|state|--help|x`);
    expect(go(['exec', 'x', 'true'], 'require').stdout).toBe(`require|oci-runtime.cjs|exec|--root|${root}|exec|x|true`);
    expect(go(['ps', 'x'], 'require').stdout).toBe(`require|oci-runtime.cjs|ps|--root|${root}|ps|x`);
    expect(go(['list'], '0').stdout).toBe(`0|oci-runtime-query.cjs|list|--root|${root}|list`);
  });

  it('through a symlinked parent directory (as pnpm links a package): the bundle is found from the real place', () => {
    const link = join(work, 'linked-package');
    symlinkSync(fileURLToPath(new URL('..', import.meta.url)), link);
    const env = { ...process.env, OCI_RUNTIME_WARM: '0' };
    const v = spawnSync(join(link, 'bin', 'oci-runtime'), ['--version'], { encoding: 'utf8', env });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^oci-runtime version /);
    const l = spawnSync(join(link, 'bin', 'oci-runtime'), ['--root', join(work, 'none'), 'list', '-f', 'json'], { encoding: 'utf8', env });
    expect(l.status, l.stderr).toBe(0);
    expect(l.stdout.trim()).toBe('null'); // as runc prints an empty list
  });

  it('the loader as the main module runs the named bundle with the arguments as given', () => {
    const r = spawnSync(process.execPath, ['--preserve-symlinks-main', LOADER, '--root', join(work, 'none'), 'list', '-q'], {
      encoding: 'utf8', env: { ...process.env, OCI_CLI_BUNDLE: 'oci-runtime-query.cjs', OCI_CLI_COMMAND: 'list' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    // (that the variables are gone for child processes: cli-registry's test/snapshot.test.ts, through a credential
    // helper.) The full bundle answers --version; a bundle name that is not a file beside the loader is refused.
    const v = spawnSync(process.execPath, [LOADER, '--version'], { encoding: 'utf8', env: { ...process.env, OCI_CLI_BUNDLE: 'oci-runtime.cjs' } });
    expect(v.stdout).toMatch(/^oci-runtime version /);
    for (const bad of [undefined, '../x.cjs', 'oci-runtime.js', '/etc/passwd']) {
      const env = { ...process.env };
      delete env.OCI_CLI_BUNDLE;
      if (bad !== undefined) env.OCI_CLI_BUNDLE = bad;
      const b = spawnSync(process.execPath, [LOADER, '--version'], { encoding: 'utf8', env });
      expect(b.status).toBe(70);
      expect(b.stderr).toMatch(/OCI_CLI_BUNDLE/);
    }
  });
});
