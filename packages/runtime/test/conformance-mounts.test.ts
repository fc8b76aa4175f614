// runtime-tools validation: mounts, linux_masked_paths, linux_readonly_paths, linux_rootfs_propagation,
// config_updates_without_affect — runc as the oracle (see conformance-helpers.ts for the method).
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RUNTIMES, Runtimes, comparable, count, failed, generatorDefault, makeBundle, printTally, probeBoth, removeTemps, writeConfig,
  conformBoth,
} from './conformance-helpers.js';
import type { Both, BundleOptions, Config, ProbeOptions } from './conformance-helpers.js';

let rt: Runtimes;
beforeAll(() => {
  rt = new Runtimes('mounts');
});
afterAll(async () => {
  await rt.close();
  removeTemps();
  printTally('mounts');
});

const conform = (config: Config, opts: BundleOptions & ProbeOptions = {}): Promise<Both> => conformBoth(rt, config, opts);

/** run a config (no probe) with both runtimes; exit codes and stderr */
async function codes(config: Config, opts: BundleOptions = {}): Promise<Record<'runc' | 'ours', { code: number; stderr: string }>> {
  const out: Record<string, { code: number; stderr: string }> = {};
  for (const which of RUNTIMES) {
    const b = await makeBundle(config, opts);
    const r = await rt.cmd(which, ['run', '--bundle', b.dir, rt.id(which)]);
    out[which] = { code: r.code, stderr: r.stderr };
  }
  return out as Record<'runc' | 'ours', { code: number; stderr: string }>;
}

describe('runtime-tools validation, mounts area (runc oracle)', () => {
  it('mounts: tmpfs with shared/slave/private, /etc bind and rbind with every propagation, in order', async () => {
    const base = ['nosuid', 'strictatime', 'mode=755', 'size=1k'];
    const c = generatorDefault();
    const add = (destination: string, source: string, type: string | undefined, extra: string[]) =>
      c['mounts'].push({ destination, source, ...(type ? { type } : {}), options: [...base, ...extra] });
    add('/tmp/test-shared', 'tmpfs', 'tmpfs', ['shared']);
    add('/tmp/test-slave', 'tmpfs', 'tmpfs', ['slave']);
    add('/tmp/test-private', 'tmpfs', 'tmpfs', ['private']);
    add('/mnt/etc-shared', '/etc', undefined, ['bind', 'shared']);
    add('/mnt/etc-rshared', '/etc', undefined, ['rbind', 'rshared']);
    add('/mnt/etc-slave', '/etc', undefined, ['bind', 'slave']);
    add('/mnt/etc-rslave', '/etc', undefined, ['rbind', 'rslave']);
    add('/mnt/etc-private', '/etc', undefined, ['bind', 'private']);
    add('/mnt/etc-rprivate', '/etc', undefined, ['rbind', 'rprivate']);
    add('/mnt/etc-unbindable', '/etc', undefined, ['bind', 'unbindable']);
    add('/mnt/etc-runbindable', '/etc', undefined, ['rbind', 'runbindable']);
    const b = await conform(c, { copy: true });
    expect(failed(b.ours.checks)).toEqual([]);
    const mi = comparable(b.ours.report)['mountinfo']!;
    expect(mi.find((l) => l.startsWith('/tmp/test-shared '))).toMatch(/\[shared\]/);
    expect(mi.find((l) => l.startsWith('/mnt/etc-unbindable '))).toMatch(/\[unbindable\]/);
  });

  it('mounts: bind mounts with ro, nosuid, nodev, noexec, a file bind, and tmpfs options', async () => {
    const c = generatorDefault();
    c['mounts'].push(
      { destination: '/data', type: 'bind', source: '/etc/ssl', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
      { destination: '/etc/myhosts', type: 'bind', source: '/etc/hosts', options: ['bind', 'ro'] },
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'mode=700', 'uid=5', 'gid=6'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    );
    await conform(c, { copy: true });
  });

  it('linux_masked_paths: directories, sub-directories and files (all unreadable)', async () => {
    const c = generatorDefault();
    c['linux'].maskedPaths = ['/masked-dir', '/masked-file', '/masked-dir/masked-subdir', '/masked-dir/masked-file', '/masked-dir/masked-subdir/masked-file'];
    const b = await conform(c, {
      copy: true,
      prep: (r) => {
        mkdirSync(join(r, 'masked-dir/masked-subdir'), { recursive: true });
        writeFileSync(join(r, 'masked-dir/masked-subdir/tmp1'), 'x');
        writeFileSync(join(r, 'masked-dir/masked-subdir/masked-file'), 'secrets');
        writeFileSync(join(r, 'masked-dir/masked-file'), 'secrets');
        writeFileSync(join(r, 'masked-file'), 'secrets');
      },
    });
    expect(failed(b.ours.checks)).toEqual([]);
    // a path under a masked directory is gone (absent); the others read nothing
    expect(b.ours.report.get('masked')!.every((l) => / (unreadable|absent)$/.test(l))).toBe(true);
  });

  it('linux_readonly_paths: directories, sub-directories and files (none writable)', async () => {
    const c = generatorDefault();
    c['linux'].readonlyPaths = ['/readonly-dir', '/readonly-file', '/readonly-dir/readonly-subdir', '/readonly-dir/readonly-file', '/readonly-dir/readonly-subdir/readonly-file'];
    const b = await conform(c, {
      copy: true,
      prep: (r) => {
        mkdirSync(join(r, 'readonly-dir/readonly-subdir'), { recursive: true });
        writeFileSync(join(r, 'readonly-dir/readonly-subdir/tmp1'), 'x');
        writeFileSync(join(r, 'readonly-dir/readonly-subdir/readonly-file'), 'immutable');
        writeFileSync(join(r, 'readonly-dir/readonly-file'), 'immutable');
        writeFileSync(join(r, 'readonly-file'), 'immutable');
      },
    });
    expect(failed(b.ours.checks)).toEqual([]);
    expect(b.ours.report.get('readonly')!.every((l) => l.endsWith(' notwritable'))).toBe(true);
  });

  it('linux_masked_paths / linux_readonly_paths: device nodes (block, char, fifo) are masked and read-only', async () => {
    for (const kind of ['b', 'c', 'p']) {
      const c = generatorDefault();
      c['linux'].maskedPaths = ['/masked-device'];
      c['linux'].readonlyPaths = ['/readonly-device'];
      const b = await conform(c, {
        copy: true,
        prep: (r) => {
          for (const n of ['masked-device', 'readonly-device']) {
            const args = kind === 'p' ? [join(r, n), 'p'] : [join(r, n), kind, '0', '0'];
            const m = spawnSync('mknod', ['-m', '666', ...args]);
            if (m.status !== 0) throw new Error('mknod failed');
          }
        },
      });
      expect(failed(b.ours.checks), kind).toEqual([]);
    }
  });

  it('linux_masked_paths / linux_readonly_paths: relative paths — same outcome as runc', async () => {
    const rel = generatorDefault(['true']);
    rel['linux'].maskedPaths = ['masked-relpath'];
    const relRo = generatorDefault(['true']);
    relRo['linux'].readonlyPaths = ['readonly-relpath'];
    for (const [name, c] of [['masked relative', rel], ['readonly relative', relRo]] as const) {
      const r = await codes(c);
      expect(r.ours.code, name + ': ' + r.ours.stderr).toBe(r.runc.code);
    }
  });

  it('linux_masked_paths / linux_readonly_paths: a looping symlink is an error, as in runc', async () => {
    // /masked-symlink -> ../masked-symlink; runc: "can't mask path /masked-symlink: ... too many levels
    // of symbolic links". (Ours bound /dev/null over the link itself until 6bab59e.)
    for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
      const loop = generatorDefault(['true']);
      loop['linux'][key] = ['/loop-symlink'];
      const r = await codes(loop, { copy: true, prep: (root) => symlinkSync('../loop-symlink', join(root, 'loop-symlink')) });
      expect(r.ours.code, `${key}: ${r.ours.stderr}`).toBe(r.runc.code);
      expect(r.ours.code, key).not.toBe(0);
    }
  });

  const propagationConfig = (prop: string): Config => {
    const c = generatorDefault();
    // runtimetest mounts inside the container: it needs CAP_SYS_ADMIN (and no seccomp profile)
    for (const set of ['bounding', 'effective', 'permitted']) c['process'].capabilities[set].push('CAP_SYS_ADMIN');
    c['linux'].rootfsPropagation = prop;
    return c;
  };
  for (const prop of ['slave', 'private']) {
    it(`linux_rootfs_propagation: ${prop}`, async () => {
      const b = await conform(propagationConfig(prop), { copy: true, propagation: true });
      expect(failed(b.ours.checks)).toEqual([]);
      expect(b.ours.report.get('propagation')).toEqual(['not-exposed']);
    });
  }

  it('linux_rootfs_propagation: unbindable — both refuse to bind the rootfs (EINVAL), as runc 1.1.5 does', async () => {
    // runtime-tools expects the container to start and `mount --rbind /` inside to fail with EINVAL;
    // runc 1.1.5 fails already at create (bind of an unbindable rootfs). Ours does the same.
    const r = await codes(propagationConfig('unbindable'), { copy: true });
    expect(r.runc.code).toBe(1);
    expect(r.ours.code, r.ours.stderr).toBe(r.runc.code);
  });

  it('linux_rootfs_propagation: shared — runs like runc (pivot_root on a shared parent fixed in 6bab59e)', async () => {
    const b = await conform(propagationConfig('shared'), { copy: true, propagation: true });
    // with runtimetest's own method (rbind / on a target, then bind a dir), the new mount does not
    // show up under the target in either runtime: both fail this one assertion, identically
    expect(failed(b.ours.checks)).toEqual(failed(b.runc.checks));
    expect(b.ours.report.get('propagation')).toEqual(b.runc.report.get('propagation'));
  });

  it('config_updates_without_affect: rewriting config.json after create changes nothing', async () => {
    const c = generatorDefault(['sh', '-c', 'cat /proc/$$/oom_score_adj; cat /proc/sys/net/ipv4/ip_forward; cat /proc/kcore | wc -c; ulimit -n']);
    c['linux'].maskedPaths = ['/proc/kcore'];
    c['linux'].readonlyPaths = ['/proc/fs'];
    c['linux'].sysctl = { 'net.ipv4.ip_forward': '1' };
    c['process'].oomScoreAdj = 100;
    c['process'].rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }];
    c['linux'].rootfsPropagation = 'shared';
    const out: Record<string, string> = {};
    for (const which of RUNTIMES) {
      const b = await makeBundle(c);
      const id = rt.id(which);
      const log = join(b.dir, 'out');
      const cr = await rt.cmd(which, ['create', '--bundle', b.dir, id], { outputFile: log });
      expect(cr.code, cr.stderr).toBe(0);
      writeConfig(b.dir, { ociVersion: '1.0.0' });
      const st = await rt.cmd(which, ['start', id]);
      expect(st.code, st.stderr).toBe(0);
      expect(await rt.waitStatus(which, id, ['stopped'])).toBe('stopped');
      out[which] = readFileSync(log, 'utf8');
      const del = await rt.cmd(which, ['delete', id]);
      expect(del.code, del.stderr).toBe(0);
    }
    expect(out['ours']).toBe(out['runc']);
  });
});
