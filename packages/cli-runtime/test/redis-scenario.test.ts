// The seeds' redis scenario (issue 5), played with our CLI and then with runc on the same bundle:
// run -d, list (table and json), state, ps, exec redis-cli ping, kill (SIGTERM), stopped, delete.
// Outputs, exit codes and formats must match once pids, ids and times are normalised.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../bin/oci-runtime.js', import.meta.url));
const OCI_IMAGE = fileURLToPath(new URL('../../cli-image/bin/oci-image.js', import.meta.url));
const HELPER = fileURLToPath(new URL('../../runtime/native/oci-runtime-init', import.meta.url));

interface R { code: number | null; stdout: string; stderr: string }
function sh(cmd: string, args: string[], timeoutMs = 60000): Promise<R> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '';
    let e = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (o += d));
    c.stderr.setEncoding('utf8').on('data', (d) => (e += d));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout: o, stderr: e });
    });
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
};

type Which = 'ours' | 'runc';
const roots: Record<Which, string> = { ours: '', runc: '' };
// same length for both, so tables line up the same way
const ids: Record<Which, string> = { ours: `redis-o-${process.pid}`, runc: `redis-r-${process.pid}` };
const reapers: Promise<number>[] = [];
let bundle = '';

function cli(which: Which, args: string[], timeoutMs?: number): Promise<R> {
  return which === 'ours'
    ? sh(process.execPath, [CLI, '--root', roots.ours, ...args], timeoutMs)
    : sh('runc', ['--root', roots.runc, ...args], timeoutMs);
}

/**
 * `run -d` under a child subreaper (our helper's `reap` mode: PID 1 here reaps nothing), its stdio in
 * files; the exit code of `run -d` itself is written by a small sh wrapper. Resolves when it returned.
 */
async function runDetached(which: Which): Promise<{ code: number; stderr: string; pid: number; log: string }> {
  const d = tmp('oci-redis-run-');
  const pre = which === 'ours' ? [process.execPath, CLI] : ['runc'];
  const cmd = [...pre, '--root', roots[which], 'run', '-d', '--bundle', bundle, '--pid-file', join(d, 'pid'), ids[which]];
  const c = spawn(HELPER, ['reap', 'sh', '-c', '"$@" >"$D/out" 2>"$D/err" </dev/null; echo $? >"$D/code"', 'sh', ...cmd], {
    stdio: 'ignore',
    env: { ...process.env, D: d },
  });
  reapers.push(new Promise<number>((r) => c.on('exit', (code) => r(code ?? 1))));
  for (let i = 0; i < 1200 && !existsSync(join(d, 'code')); i++) await sleep(50);
  await sleep(50);
  const code = Number(readFileSync(join(d, 'code'), 'utf8').trim());
  const pid = existsSync(join(d, 'pid')) ? Number(readFileSync(join(d, 'pid'), 'utf8').trim()) : 0;
  return { code, stderr: readFileSync(join(d, 'err'), 'utf8'), pid, log: join(d, 'out') };
}

/** a table's rows as whitespace-separated fields */
const rows = (t: string) => t.trimEnd().split('\n').map((l) => l.trim().split(/\s+/));

interface Transcript {
  run: { code: number; stderr: string };
  listTable: string[][];
  listJson: unknown;
  stateRunning: Record<string, unknown>;
  psHeader: string[];
  psCmds: string[];
  psJsonLength: number;
  ping: R;
  kill: R;
  stateStopped: Record<string, unknown>;
  delete: R;
  stateAfterDelete: { code: number | null; stdout: string };
  listAfterDelete: string;
}

async function scenario(which: Which): Promise<Transcript> {
  const id = ids[which];
  const run = await runDetached(which);
  expect(run.code, `${which} run -d: ${run.stderr}`).toBe(0);
  expect(run.pid).toBeGreaterThan(0);

  // wait until redis answers (it needs lo UP in its new network namespace)
  let ping: R = { code: null, stdout: '', stderr: '' };
  for (let i = 0; i < 100; i++) {
    ping = await cli(which, ['exec', id, 'redis-cli', 'ping']);
    if (ping.code === 0 && ping.stdout === 'PONG\n') break;
    await sleep(200);
  }
  expect(readFileSync(run.log, 'utf8')).toContain('Ready to accept connections');

  const norm = (o: Record<string, unknown>) => {
    expect(o['id']).toBe(id);
    if (o['status'] !== 'stopped') expect(o['pid']).toBe(run.pid);
    expect(String(o['created'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    return { ...o, id: 'ID', pid: o['pid'] === 0 ? 0 : 'PID', created: 'TIME' };
  };

  const lt = await cli(which, ['list']);
  expect(lt.code).toBe(0);
  const listTable = rows(lt.stdout).map((f, i) => (i === 0 ? f : [f[0] === id ? 'ID' : f[0]!, f[1] === String(run.pid) ? 'PID' : f[1]!, f[2]!, f[3]!, 'TIME', ...f.slice(5)]));
  const lj = await cli(which, ['list', '-f', 'json']);
  expect(lj.code).toBe(0);
  const listJson = (JSON.parse(lj.stdout) as Record<string, unknown>[]).map(norm);

  const st = await cli(which, ['state', id]);
  expect(st.code).toBe(0);
  const stateRunning = norm(JSON.parse(st.stdout) as Record<string, unknown>);

  const ps = await cli(which, ['ps', id]);
  expect(ps.code).toBe(0);
  const psRows = rows(ps.stdout);
  const psJ = await cli(which, ['ps', '-f', 'json', id]);
  expect(psJ.code).toBe(0);
  const psPids = JSON.parse(psJ.stdout) as number[];
  expect(psPids).toContain(run.pid);

  const kill = await cli(which, ['kill', id]);
  let stopped: Record<string, unknown> = {};
  for (let i = 0; i < 150; i++) {
    const s = await cli(which, ['state', id]);
    stopped = JSON.parse(s.stdout) as Record<string, unknown>;
    if (stopped['status'] === 'stopped') break;
    await sleep(200);
  }
  const stateStopped = norm(stopped);
  const del = await cli(which, ['delete', id]);
  const after = await cli(which, ['state', id]);
  const la = await cli(which, ['list']);
  return {
    run: { code: run.code, stderr: run.stderr },
    listTable,
    listJson,
    stateRunning,
    psHeader: psRows[0]!,
    // CMD is everything after the 7 fixed columns of `ps -ef`
    psCmds: psRows.slice(1).map((f) => f.slice(7).join(' ')),
    psJsonLength: psPids.length,
    ping,
    kill,
    stateStopped,
    delete: del,
    stateAfterDelete: { code: after.code, stdout: after.stdout },
    listAfterDelete: la.stdout,
  };
}

beforeAll(async () => {
  roots.ours = tmp('oci-redis-root-');
  roots.runc = tmp('oci-redis-rroot-');
  const fx = await import('@oci/fixtures');
  const info = await fx.buildFixture('debian-redis');
  bundle = join(tmp('oci-redis-bundle-'), 'b');
  const r = await sh(process.execPath, [OCI_IMAGE, 'create', '--ref', 'latest', info.layout, bundle], 300000);
  if (r.code !== 0) throw new Error(`oci-image create failed: ${r.stderr}`);
  // The image has no User, and root here has no CAP_DAC_OVERRIDE: redis could not write its final RDB
  // snapshot to /data (owned by redis) and would refuse to exit on SIGTERM ("can't exit"), with runc too.
  // Run it as the image's redis user, as engines do for this kind of image (docker run --user redis).
  const pw = readFileSync(join(bundle, 'rootfs', 'etc', 'passwd'), 'utf8').split('\n').map((l) => l.split(':'));
  const redis = pw.find((f) => f[0] === 'redis');
  if (!redis) throw new Error('debian-redis has no redis user in /etc/passwd');
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.process.user = { uid: Number(redis[2]), gid: Number(redis[3]) };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
}, 600000);

afterAll(async () => {
  for (const w of ['ours', 'runc'] as const) if (roots[w]) await cli(w, ['delete', '-f', ids[w]]);
  // every reaper returns once everything it adopted has exited
  await Promise.race([Promise.all(reapers), sleep(20000)]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120000);

describe('debian-redis detached (the seeds scenario), ours vs runc', () => {
  let ours: Transcript;
  let runc: Transcript;

  it('ours: run -d, list, state, ps, exec redis-cli ping, kill, delete', async () => {
    ours = await scenario('ours');
    expect(ours.run).toEqual({ code: 0, stderr: '' });
    expect(ours.listTable[0]).toEqual(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']);
    expect(ours.listTable[1]).toEqual(['ID', 'PID', 'running', bundle, 'TIME', 'root']);
    expect(ours.stateRunning).toMatchObject({ status: 'running', pid: 'PID', bundle });
    expect(ours.psCmds.some((c) => c.startsWith('redis-server'))).toBe(true);
    expect(ours.ping).toEqual({ code: 0, stdout: 'PONG\n', stderr: '' });
    expect(ours.kill.code).toBe(0);
    expect(ours.stateStopped).toMatchObject({ status: 'stopped', pid: 0 });
    expect(ours.delete.code).toBe(0);
    expect(ours.stateAfterDelete.code).not.toBe(0);
  }, 240000);

  it('runc: the same steps give the same outputs, exit codes and formats', async () => {
    runc = await scenario('runc');
    expect(ours).toBeDefined();
    expect(ours.run).toEqual(runc.run);
    expect(ours.listTable).toEqual(runc.listTable);
    expect(ours.listJson).toEqual(runc.listJson);
    expect(JSON.stringify(ours.stateRunning)).toBe(JSON.stringify(runc.stateRunning));
    expect(ours.psHeader).toEqual(runc.psHeader);
    expect(ours.psCmds).toEqual(runc.psCmds);
    expect(ours.psJsonLength).toBe(runc.psJsonLength);
    expect(ours.ping).toEqual(runc.ping);
    expect(ours.kill).toEqual(runc.kill);
    expect(JSON.stringify(ours.stateStopped)).toBe(JSON.stringify(runc.stateStopped));
    expect(ours.delete).toEqual(runc.delete);
    expect(ours.stateAfterDelete.code).toBe(runc.stateAfterDelete.code);
    expect(ours.stateAfterDelete.stdout).toBe(runc.stateAfterDelete.stdout);
    expect(ours.listAfterDelete).toBe(runc.listAfterDelete);
  }, 240000);
});
