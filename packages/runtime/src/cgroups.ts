import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { LinuxResources } from '@oci/runtime-spec';
import { RuntimeError } from './errors.js';

/** Where cgroups are mounted. */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * The cgroup root in use: OCI_RUNTIME_CGROUP_ROOT, else /sys/fs/cgroup. A cgroup2 file system there means cgroups
 * v2 (on a hybrid host, OCI_RUNTIME_CGROUP_ROOT=/sys/fs/cgroup/unified runs containers on the v2 hierarchy alone,
 * with the controllers it has: how the v2 code is tested on this machine).
 */
export function cgroupRoot(): string {
  return process.env['OCI_RUNTIME_CGROUP_ROOT'] || CGROUP_ROOT;
}

export interface CgroupLayout {
  /** 'v1' (or hybrid: v1 controllers plus an empty cgroup2 at unified/) or 'v2' */
  version: 'v1' | 'v2';
  /** v1: controller directory -> mount point. v2: { unified: root } */
  mounts: Record<string, string>;
}

const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio', 'hugetlb', 'net_cls', 'net_prio', 'perf_event', 'rdma', 'misc', 'systemd', 'unified'];

let layoutCache: CgroupLayout | undefined;
/** What the cached layout was computed from, as replay.ts records it (inputs a replayed run checks again). */
let layoutInputs: string[][] = [];

/** The facts `cgroupLayout()` read (replay.ts): a recorded run is replayed only while they are unchanged. */
export function cgroupLayoutInputs(): readonly string[][] {
  cgroupLayout();
  return layoutInputs;
}

export function cgroupLayout(root = cgroupRoot()): CgroupLayout {
  if (layoutCache) return layoutCache;
  const env = process.env['OCI_RUNTIME_CGROUP_ROOT'] ?? '';
  const inputs = [['env', 'OCI_RUNTIME_CGROUP_ROOT', env]];
  if (existsSync(join(root, 'cgroup.controllers'))) {
    layoutInputs = [...inputs, ['exists', join(root, 'cgroup.controllers'), '1']];
    return (layoutCache = { version: 'v2', mounts: { unified: root } });
  }
  const mounts: Record<string, string> = {};
  let names: string[] = [];
  try { names = readdirSync(root); } catch { /* no cgroups */ }
  // order by hierarchy id (/proc/self/cgroup), the order runc mounts them in
  const order: string[] = [];
  let columns: string[] = [];
  try {
    const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
    columns = lines.map((l) => l.split(':')[1] ?? '');
    for (const ctrls of [...columns].reverse()) for (const c of ctrls.split(',')) order.push(c.replace(/^name=/, ''));
  } catch { /* no /proc */ }
  layoutInputs = [...inputs, ['exists', join(root, 'cgroup.controllers'), '0'], ['listing', root, [...names].sort().join('\n')], ['cgroup-columns', columns.join('\n')]];
  const rank = (n: string) => (order.indexOf(n) < 0 ? 1000 : order.indexOf(n));
  for (const n of names.filter((x) => V1_CONTROLLERS.includes(x)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) mounts[n] = join(root, n);
  // a root named by the user that holds no cgroups at all would run containers without their limits
  if (Object.keys(mounts).length === 0 && process.env['OCI_RUNTIME_CGROUP_ROOT'] && root === cgroupRoot()) {
    throw new RuntimeError('ERR_CGROUP', `OCI_RUNTIME_CGROUP_ROOT=${root} is not a cgroup file system (no cgroup.controllers, no v1 controller directories)`, {
      path: root, hint: 'point it at a cgroup2 mount (or a directory of v1 hierarchies), or unset it for /sys/fs/cgroup',
    });
  }
  return (layoutCache = { version: 'v1', mounts });
}

/**
 * The file whose write starts, in the background, the RCU grace period that the first cgroup migration has
 * to wait for: the cgroup.procs of our own cgroup.
 *
 * Moving a process between cgroups takes the kernel's cgroup_threadgroup_rwsem for writing, and the
 * first writer after a quiet period waits for a whole RCU grace period (rcu_sync_enter): 7-25 ms on this
 * 2-core VM, measured; the writes that follow within about one grace period take ~0.15 ms. The helper
 * moves the container's process into its cgroups right after clone(), on the critical path of `create`,
 * `run` and `exec`. container.ts sendPlan() writes our own pid into the cgroup we already are in (a
 * migration that moves nothing) on a thread (helper-process.ts writeInBackground) just before it sends the
 * plan, after our cgroup mkdirs: the write holds cgroup_mutex while it waits, which would stall them. The CLI
 * starts the same thing earlier, before Node, from its launcher (native/init.c warm_main).
 * Best effort: any failure (no cgroupfs, no permission: rootless) is ignored; nothing depends on it.
 */
export function cgroupWarmFile(root = CGROUP_ROOT): string | undefined {
  let own: string;
  try {
    own = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return undefined;
  }
  // any one hierarchy will do (the semaphore is global): "0::/path" on v2, else a v1 line "N:controllers:/path"
  // (a hybrid host's empty unified/ tree has a 0:: line too: skip it there)
  const v2 = existsSync(join(root, 'cgroup.controllers'));
  const line = own.split('\n').find((l) => (v2 ? l.startsWith('0::/') : /^\d+:[a-z_=,]+:\//.test(l)));
  if (!line) return undefined;
  const i = line.indexOf(':');
  const j = line.indexOf(':', i + 1);
  const ctrls = line.slice(i + 1, j);
  const path = line.slice(j + 1);
  const dir = v2 ? join(root, path) : join(root, ctrls.split(',')[0]!.replace(/^name=/, ''), path);
  return join(dir, 'cgroup.procs');
}

/**
 * A systemd-style cgroupsPath "slice:prefix:name" (what engines pass with --systemd-cgroup) as the directory systemd
 * would give it, so that tools reading the engine's expected cgroup path find it (cgroupfs is still what writes it):
 * the slice expanded as systemd nests slices ("a-b.slice" is /a.slice/a-b.slice, "-.slice" the root, empty:
 * system.slice), then the unit "prefix-name.scope" (or "name" when it is a slice itself), as runc's systemd driver
 * names them.
 */
function systemdPath(p: string, original: string): string {
  const parts = p.split(':');
  const bad = (why: string): never => {
    throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: cgroupsPath "${original}": ${why}`, { hint: 'a systemd cgroupsPath is "slice:prefix:name", e.g. "system.slice:oci:mycontainer"' });
  };
  if (parts.length !== 3) bad('expected slice:prefix:name');
  const [slice, prefix, name] = parts as [string, string, string];
  if (name === '' || name.includes('/')) bad('the name must be non-empty and have no "/"');
  const s = slice === '' ? 'system.slice' : slice;
  if (!s.endsWith('.slice') || s.includes('/')) bad(`"${s}" is not a slice name (NAME.slice)`);
  let dir = '';
  if (s !== '-.slice') {
    const base = s.slice(0, -'.slice'.length);
    if (base === '' || base.startsWith('-') || base.endsWith('-') || base.includes('--')) bad(`"${s}" is not a valid slice name`);
    let acc = '';
    for (const part of base.split('-')) {
      acc = acc === '' ? part : `${acc}-${part}`;
      dir += `/${acc}.slice`;
    }
  }
  const unit = name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
  return `${dir}/${unit}`;
}

/** The container's cgroup directories, one per hierarchy. cgroupsPath defaults to /oci-runtime/<id>. */
export function cgroupPaths(id: string, cgroupsPath: string | undefined, layout = cgroupLayout()): Record<string, string> {
  let p = cgroupsPath && cgroupsPath.length ? cgroupsPath : `/oci-runtime/${id}`;
  if (p.includes(':') && !p.startsWith('/')) p = systemdPath(p, cgroupsPath!);
  p = posix.normalize('/' + p);
  if (p.split('/').includes('..')) throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: cgroupsPath ${cgroupsPath} leaves the cgroup root`);
  const out: Record<string, string> = {};
  for (const [c, m] of Object.entries(layout.mounts)) out[c] = join(m, p);
  return out;
}

/** While set, createCgroups notes each change it makes (replay.ts records them for a replayed run). */
let noted: string[][] | undefined;

function w(file: string, value: string | number): void {
  try {
    writeFileSync(file, String(value));
    noted?.push(['write', file, String(value)]);
  } catch (err) {
    throw new RuntimeError('ERR_CGROUP', `cannot write ${value} to ${file}: ${(err as Error).message}`, {
      hint: 'check the resource values in config.json against what this kernel supports', path: file, cause: err,
    });
  }
}

function mkdirs(dir: string, ctrl: string, mount: string): void {
  if (existsSync(dir)) return;
  const rel = dir.slice(mount.length).split('/').filter(Boolean);
  let cur = mount;
  for (const part of rel) {
    const parent = cur;
    cur = join(cur, part);
    if (existsSync(cur)) continue;
    mkdirSync(cur);
    if (ctrl === 'cpuset') {
      // a new v1 cpuset is empty: inherit the parent's cpus and mems, or no task can join
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const v = readFileSync(join(parent, f), 'utf8').trim();
        if (readFileSync(join(cur, f), 'utf8').trim() === '') writeFileSync(join(cur, f), v);
      }
    }
  }
}

/**
 * cgroup v2: a controller's files exist in a cgroup only when its parent lists the controller in
 * cgroup.subtree_control. Enable, in every ancestor of `dir` below the root and in the root, each controller the
 * level offers (cgroup.controllers), as runc does; all at once, else one by one (a controller the level cannot
 * delegate is skipped: a limit that needs it then fails with ERR_CGROUP instead of being lost).
 */
function enableControllers(mount: string, dir: string): void {
  const rel = dir.slice(mount.length).split('/').filter(Boolean);
  let cur = mount;
  for (let i = 0; i < rel.length; i++) {
    let offered: string[] = [];
    try {
      offered = readFileSync(join(cur, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch { /* not a cgroup2 directory */ }
    if (offered.length > 0) {
      const file = join(cur, 'cgroup.subtree_control');
      let enabled: string[] = [];
      try { enabled = readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean); } catch { /* */ }
      const missing = offered.filter((c) => !enabled.includes(c));
      if (missing.length > 0) {
        try {
          writeFileSync(file, missing.map((c) => `+${c}`).join(' '));
        } catch {
          for (const c of missing) try { writeFileSync(file, `+${c}`); } catch { /* this one cannot be delegated */ }
        }
      }
    }
    cur = join(cur, rel[i]!);
  }
}

/**
 * Create the container's cgroups and apply resources. Returns the cgroup.procs files to join. `note` receives each
 * change made, as lines the replay front end executes again (replay.ts): ["mkdirs", controller, mount, dir],
 * ["enable", mount, dir] (v2), ["write", file, value].
 */
export function createCgroups(paths: Record<string, string>, resources: LinuxResources | undefined, layout = cgroupLayout(), devices: readonly { type: string; major?: number; minor?: number }[] = [],
  options: { rootless?: boolean; note?: string[][] } = {}): string[] {
  noted = options.note;
  try {
    return makeCgroups(paths, resources, layout, devices, options.rootless === true);
  } finally {
    noted = undefined;
  }
}

function makeCgroups(paths: Record<string, string>, resources: LinuxResources | undefined, layout: CgroupLayout,
  devices: readonly { type: string; major?: number; minor?: number }[], rootless: boolean): string[] {
  const procs: string[] = [];
  const usable: Record<string, string> = {};
  for (const [ctrl, dir] of Object.entries(paths)) {
    try {
      mkdirs(dir, ctrl, layout.mounts[ctrl]!);
      noted?.push(['mkdirs', ctrl, layout.mounts[ctrl]!, dir]);
      if (layout.version === 'v2') {
        enableControllers(layout.mounts[ctrl]!, dir);
        noted?.push(['enable', layout.mounts[ctrl]!, dir]);
      }
    } catch (err) {
      if (RuntimeError.is(err)) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // rootless (runc's --rootless): a cgroup we may not create is skipped, unless limits were asked for
      if (rootless && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) {
        if (hasLimits(resources)) {
          throw new RuntimeError('ERR_CGROUP', `rootless container: cannot create cgroup ${dir} to apply the config's resource limits (${code})`, {
            path: dir, cause: err, hint: 'remove linux.resources from config.json, or delegate a writable cgroup to this user',
          });
        }
        continue;
      }
      throw new RuntimeError('ERR_CGROUP', `cannot create cgroup ${dir}: ${(err as Error).message}`, { path: dir, cause: err });
    }
    procs.push(join(dir, 'cgroup.procs'));
    usable[ctrl] = dir;
  }
  applyResources(usable, resources ?? {}, layout, true);
  // like runc: the devices the spec creates are also allowed in the devices cgroup
  const dev = usable['devices'];
  if (dev && layout.version === 'v1' && existsSync(join(dev, 'devices.allow')))
    for (const rule of createdDeviceRules(devices)) w(join(dev, 'devices.allow'), v1Line(rule));
  return procs;
}

/** One device cgroup rule: type a|b|c, major/minor (-1: any), access bits (mknod 1, read 2, write 4), allow or deny. */
export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  access: number;
  allow: boolean;
}

function accessBits(access: string | undefined): number {
  const a = access ?? 'rwm';
  return (a.includes('m') ? 1 : 0) | (a.includes('r') ? 2 : 0) | (a.includes('w') ? 4 : 0);
}

function parseRule(text: string, allow: boolean): DeviceRule {
  const [type, nums, access] = text.split(' ');
  const [major, minor] = (nums ?? '*:*').split(':');
  return { type: type as DeviceRule['type'], major: major === '*' ? -1 : Number(major), minor: minor === '*' ? -1 : Number(minor), access: accessBits(access), allow };
}

// what runc allows by default: mknod of anything, and the standard devices
const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 5:2 rwm', 'c 136:* rwm', 'c 10:200 rwm']
  .map((r) => parseRule(r, true));

const isAll = (r: DeviceRule): boolean => r.type === 'a' && r.major === -1 && r.minor === -1;

/** "TYPE MAJOR:MINOR" with * for any: how the devices controller and our messages name a rule's devices. */
function devicePattern(r: DeviceRule): string {
  return `${r.type} ${r.major < 0 ? '*' : r.major}:${r.minor < 0 ? '*' : r.minor}`;
}

/** A rule as a line for devices.allow / devices.deny ("a" for every device). */
function v1Line(r: DeviceRule): string {
  return isAll(r) ? 'a' : `${devicePattern(r)} ${r.access & 2 ? 'r' : ''}${r.access & 4 ? 'w' : ''}${r.access & 1 ? 'm' : ''}`;
}

/** The spec's linux.resources.devices (type "a", or no type and no numbers, means every device). */
function specDeviceRules(r: LinuxResources | undefined): DeviceRule[] {
  return (r?.devices ?? []).map((d) => d.type === 'a' || (d.type === undefined && d.major === undefined && d.minor === undefined)
    ? { type: 'a', major: -1, minor: -1, access: 7, allow: d.allow }
    : { type: (d.type ?? 'a') as DeviceRule['type'], major: d.major ?? -1, minor: d.minor ?? -1, access: accessBits(d.access), allow: d.allow });
}

/** Like runc: the devices the spec creates are also allowed. */
function createdDeviceRules(devices: readonly { type: string; major?: number; minor?: number }[]): DeviceRule[] {
  return devices.filter((d) => d.type !== 'p').map((d) => ({ type: d.type === 'b' ? 'b' : 'c', major: d.major ?? -1, minor: d.minor ?? -1, access: 7, allow: true }));
}

/**
 * The device rules the v1 devices controller is given (applyResources, createCgroups), in the same order: deny all
 * (the default), the spec's linux.resources.devices, runc's default allow list, the devices the spec creates. On v2
 * the helper compiles them into an eBPF device filter (native/init.c attach_device_filter): the last rule that
 * matches decides, per access bit.
 */
export function deviceRules(r: LinuxResources | undefined, devices: readonly { type: string; major?: number; minor?: number }[]): DeviceRule[] {
  return [...specDeviceRules(r), ...DEFAULT_DEVICE_RULES, ...createdDeviceRules(devices)];
}

/**
 * cgroup v1 keeps exceptions to a default (deny all, or allow all): a rule against the default only removes the
 * exception it names exactly, so a deny inside a wildcard allow written before it (or the reverse) would be lost
 * without a word and the container would get more than the config allows. runc refuses such configs on v1 too;
 * v2's eBPF filter expresses them.
 */
function checkV1DeviceRules(r: LinuxResources): void {
  let defaultAllow = false;
  const exceptions: DeviceRule[] = [];
  for (const rule of specDeviceRules(r)) {
    if (isAll(rule)) {
      defaultAllow = rule.allow;
      exceptions.length = 0;
      continue;
    }
    if (rule.allow !== defaultAllow) {
      exceptions.push(rule);
      continue;
    }
    for (const e of exceptions) {
      const covers = (e.type === 'a' || e.type === rule.type) && (e.major === -1 || e.major === rule.major) && (e.minor === -1 || e.minor === rule.minor);
      const same = e.type === rule.type && e.major === rule.major && e.minor === rule.minor;
      if (covers && !same && (e.access & rule.access) !== 0) {
        const fmt = (x: DeviceRule): string => `${x.allow ? 'allow' : 'deny'} ${devicePattern(x)}`;
        throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: the device rule "${fmt(rule)}" falls inside the earlier "${fmt(e)}", which cgroup v1 cannot express`, {
          hint: 'list the devices one by one instead of the wildcard rule (cgroups v2 takes the config as it is)',
        });
      }
    }
  }
}

/** Whether `r` asks for a limit (devices rules alone do not: runc's rootless configs keep them). */
function hasLimits(r: LinuxResources | undefined): boolean {
  if (!r) return false;
  return Object.entries(r).some(([k, v]) => k !== 'devices' && v !== undefined && v !== null && !(typeof v === 'object' && Object.keys(v as object).length === 0));
}

/** Write resource limits (v1 file names; v2 where the layout is unified). */
export function applyResources(paths: Record<string, string>, r: LinuxResources, layout = cgroupLayout(), initial = false): void {
  // a container created on the v2 hierarchy alone has only that path (whatever this process's layout says)
  if (layout.version === 'v2' || isV2Paths(paths)) return applyV2(paths['unified']!, r, initial);
  const f = (ctrl: string, name: string): string | undefined => {
    const d = paths[ctrl];
    return d && existsSync(join(d, name)) ? join(d, name) : undefined;
  };
  const set = (ctrl: string, name: string, v: string | number | undefined): void => {
    if (v === undefined) return;
    const file = f(ctrl, name);
    if (file) w(file, v);
  };
  const m = r.memory;
  if (m) {
    set('memory', 'memory.limit_in_bytes', m.limit);
    set('memory', 'memory.soft_limit_in_bytes', m.reservation);
    if (m.swap !== undefined) set('memory', 'memory.memsw.limit_in_bytes', m.swap);
    set('memory', 'memory.swappiness', m.swappiness);
    if (m.disableOOMKiller) set('memory', 'memory.oom_control', 1);
  }
  const c = r.cpu;
  if (c) {
    set('cpu', 'cpu.shares', c.shares);
    set('cpu', 'cpu.cfs_period_us', c.period);
    set('cpu', 'cpu.cfs_quota_us', c.quota);
    set('cpu', 'cpu.rt_period_us', c.realtimePeriod);
    set('cpu', 'cpu.rt_runtime_us', c.realtimeRuntime);
    set('cpuset', 'cpuset.cpus', c.cpus);
    set('cpuset', 'cpuset.mems', c.mems);
  }
  if (r.pids) set('pids', 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max');
  const b = r.blockIO;
  if (b) {
    if (b.weight !== undefined) set('blkio', f('blkio', 'blkio.weight') ? 'blkio.weight' : 'blkio.bfq.weight', b.weight);
    for (const d of b.weightDevice ?? []) if (d.weight !== undefined) set('blkio', 'blkio.weight_device', `${d.major}:${d.minor} ${d.weight}`);
    const th: [keyof typeof b, string][] = [['throttleReadBpsDevice', 'read_bps_device'], ['throttleWriteBpsDevice', 'write_bps_device'], ['throttleReadIOPSDevice', 'read_iops_device'], ['throttleWriteIOPSDevice', 'write_iops_device']];
    for (const [k, file] of th) for (const d of (b[k] as { major: number; minor: number; rate?: number }[] | undefined) ?? []) set('blkio', `blkio.throttle.${file}`, `${d.major}:${d.minor} ${d.rate ?? 0}`);
  }
  for (const h of r.hugepageLimits ?? []) set('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit);
  if (r.network?.classID !== undefined) set('net_cls', 'net_cls.classid', r.network.classID);
  for (const p of r.network?.priorities ?? []) set('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
  if (initial || r.devices) {
    const dev = paths['devices'];
    if (dev && existsSync(join(dev, 'devices.deny'))) {
      checkV1DeviceRules(r);
      w(join(dev, 'devices.deny'), 'a');
      for (const rule of [...specDeviceRules(r), ...DEFAULT_DEVICE_RULES]) w(join(dev, rule.allow ? 'devices.allow' : 'devices.deny'), v1Line(rule));
    }
  }
}

/** The paths of a container on cgroups v2: the unified hierarchy alone. */
function isV2Paths(paths: Record<string, string>): boolean {
  const keys = Object.keys(paths);
  return keys.length === 1 && keys[0] === 'unified';
}

/** cgroup v2 files for the runtime-spec resources, with runc 1.1's conversions. */
function applyV2(dir: string, r: LinuxResources, _initial: boolean): void {
  // a limit asked for is written or fails: a controller that is not enabled here must not lose it silently
  const set = (name: string, v: string | number | undefined): void => {
    if (v === undefined) return;
    const file = join(dir, name);
    if (!existsSync(file)) {
      const ctrl = name.split('.')[0]!;
      throw new RuntimeError('ERR_CGROUP', `cannot apply ${name}: the ${ctrl} controller is not available in ${dir}`, {
        path: file, hint: `enable "${ctrl}" in the parent cgroups' cgroup.subtree_control (or remove the limit from config.json)`,
      });
    }
    w(file, v);
  };
  const m = r.memory;
  if (m) {
    if (m.limit !== undefined && m.limit !== 0) set('memory.max', m.limit < 0 ? 'max' : m.limit);
    if (m.reservation !== undefined && m.reservation !== 0) set('memory.low', m.reservation < 0 ? 'max' : m.reservation);
    if (m.swap !== undefined && m.swap !== 0) {
      // runtime-spec swap is memory+swap; v2's memory.swap.max is swap alone
      let swap: string | number;
      if (m.swap < 0) swap = 'max';
      else if (m.limit === undefined || m.limit === 0) {
        throw new RuntimeError('ERR_INVALID_CONFIG', 'invalid config.json: linux.resources.memory.swap needs a memory limit on cgroup v2', { hint: 'set linux.resources.memory.limit too' });
      } else if (m.limit < 0) swap = 'max';
      else if (m.swap < m.limit) {
        throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: memory+swap limit ${m.swap} is below the memory limit ${m.limit}`, { hint: 'memory.swap counts memory and swap together: make it at least memory.limit' });
      } else swap = m.swap - m.limit;
      set('memory.swap.max', swap);
    }
    if (m.disableOOMKiller) { /* no v2 equivalent (runc ignores it too) */ }
  }
  const c = r.cpu;
  if (c) {
    if ((c.quota !== undefined && c.quota !== 0) || (c.period !== undefined && c.period !== 0)) {
      set('cpu.max', `${c.quota !== undefined && c.quota > 0 ? c.quota : 'max'} ${c.period || 100000}`);
    }
    if (c.shares !== undefined && c.shares !== 0) set('cpu.weight', Math.floor(1 + ((c.shares - 2) * 9999) / 262142));
    if (c.idle !== undefined && c.idle !== null) set('cpu.idle', c.idle);
    if (c.cpus) set('cpuset.cpus', c.cpus);
    if (c.mems) set('cpuset.mems', c.mems);
  }
  if (r.pids) set('pids.max', r.pids.limit > 0 ? r.pids.limit : 'max');
  const b = r.blockIO;
  if (b) {
    if (b.weight !== undefined && b.weight !== 0) {
      if (existsSync(join(dir, 'io.bfq.weight'))) set('io.bfq.weight', b.weight);
      else set('io.weight', `default ${Math.floor(1 + ((b.weight - 10) * 9999) / 990)}`);
    }
    for (const d of b.weightDevice ?? []) if (d.weight !== undefined) set(existsSync(join(dir, 'io.bfq.weight')) ? 'io.bfq.weight' : 'io.weight', `${d.major}:${d.minor} ${d.weight}`);
    const th: [keyof typeof b, string][] = [['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'], ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops']];
    for (const [k, key] of th) for (const d of (b[k] as { major: number; minor: number; rate?: number }[] | undefined) ?? []) set('io.max', `${d.major}:${d.minor} ${key}=${d.rate ?? 0}`);
  }
  for (const h of r.hugepageLimits ?? []) set(`hugetlb.${h.pageSize}.max`, h.limit);
  for (const [k, v] of Object.entries(r.unified ?? {})) {
    if (k.includes('/') || k.startsWith('.') || k === '') throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: linux.resources.unified key ${JSON.stringify(k)} is not a cgroup file name`);
    set(k, v);
  }
}

/** PIDs (host view) of every process in the container's cgroup. */
export function cgroupPids(paths: Record<string, string>): number[] {
  for (const c of ['pids', 'freezer', 'memory', 'cpu', 'unified']) {
    const d = paths[c];
    if (!d) continue;
    try {
      return readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch { /* try the next hierarchy */ }
  }
  return [];
}

export function freeze(paths: Record<string, string>, frozen: boolean): void {
  const fz = paths['freezer'];
  if (fz && existsSync(join(fz, 'freezer.state'))) {
    w(join(fz, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED');
    for (let i = 0; i < 1000; i++) {
      const s = readFileSync(join(fz, 'freezer.state'), 'utf8').trim();
      if (s === (frozen ? 'FROZEN' : 'THAWED')) return;
      if (frozen) w(join(fz, 'freezer.state'), 'FROZEN');
    }
    return;
  }
  const u = paths['unified'];
  if (u && existsSync(join(u, 'cgroup.freeze'))) {
    w(join(u, 'cgroup.freeze'), frozen ? 1 : 0);
    // the kernel freezes asynchronously: done when cgroup.events says so (runc waits the same way)
    const want = frozen ? 'frozen 1' : 'frozen 0';
    for (let i = 0; i < 1000; i++) {
      if (readFileSync(join(u, 'cgroup.events'), 'utf8').includes(want)) return;
      sleepSync(1);
    }
    throw new RuntimeError('ERR_CGROUP', `the container's cgroup ${u} did not become ${frozen ? 'frozen' : 'thawed'} within a second`, { path: u });
  }
  throw new RuntimeError('ERR_CGROUP', 'no freezer cgroup for this container', { hint: 'mount the freezer controller' });
}

export function isFrozen(paths: Record<string, string>): boolean {
  try {
    const fz = paths['freezer'];
    if (fz) return readFileSync(join(fz, 'freezer.state'), 'utf8').trim() === 'FROZEN';
    const u = paths['unified'];
    if (u) return /frozen 1/.test(readFileSync(join(u, 'cgroup.events'), 'utf8'));
  } catch { /* gone */ }
  return false;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread for `ms` (the cgroup file system gives no event to wait for). */
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Remove the container's cgroups (deepest first; waits briefly for exiting tasks). */
export function destroyCgroups(paths: Record<string, string>): void {
  for (const dir of Object.values(paths)) {
    for (let i = 0; i < 200; i++) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code === 'EBUSY' && i < 199) { sleepSync(5); continue; }
        break;
      }
    }
  }
}

function num(file: string): number {
  try { return Number(readFileSync(file, 'utf8').trim()) || 0; } catch { return 0; }
}
function kv(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const l of readFileSync(file, 'utf8').split('\n')) {
      const [k, v] = l.split(' ');
      if (k && v !== undefined) out[k] = Number(v);
    }
  } catch { /* missing */ }
  return out;
}

/** A v2 limit file: "max" is no limit (0 in runc's stats). */
function limitOf(file: string): number {
  try {
    const v = readFileSync(file, 'utf8').trim();
    return v === 'max' ? 0 : Number(v) || 0;
  } catch {
    return 0;
  }
}

/** `events --stats` data from cgroup v2 files (runc's fs2 statistics, the same field names as v1). */
function cgroupStatsV2(dir: string): Record<string, unknown> {
  const cpu = kv(join(dir, 'cpu.stat'));
  const mem = kv(join(dir, 'memory.stat'));
  const hugetlb: Record<string, unknown> = {};
  try {
    for (const f of readdirSync(dir)) {
      const m = /^hugetlb\.([^.]+)\.current$/.exec(f);
      if (m) hugetlb[m[1]!] = { usage: num(join(dir, f)), max: 0, failcnt: kv(join(dir, `hugetlb.${m[1]}.events`))['max'] ?? 0 };
    }
  } catch { /* gone */ }
  return {
    cpu: {
      usage: { total: (cpu['usage_usec'] ?? 0) * 1000, percpu: [], kernel: (cpu['system_usec'] ?? 0) * 1000, user: (cpu['user_usec'] ?? 0) * 1000 },
      throttling: { periods: cpu['nr_periods'] ?? 0, throttledPeriods: cpu['nr_throttled'] ?? 0, throttledTime: (cpu['throttled_usec'] ?? 0) * 1000 },
    },
    memory: {
      usage: { limit: limitOf(join(dir, 'memory.max')), usage: num(join(dir, 'memory.current')), max: num(join(dir, 'memory.peak')), failcnt: kv(join(dir, 'memory.events'))['max'] ?? 0 },
      swap: { limit: limitOf(join(dir, 'memory.swap.max')), usage: num(join(dir, 'memory.swap.current')), max: 0, failcnt: 0 },
      kernel: { limit: 0, usage: 0, max: 0, failcnt: 0 },
      kernelTCP: { limit: 0, usage: 0, max: 0, failcnt: 0 },
      raw: mem,
    },
    pids: { current: num(join(dir, 'pids.current')), limit: limitOf(join(dir, 'pids.max')) },
    blkio: {},
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** Statistics in the shape of runc's `events --stats` data. */
export function cgroupStats(paths: Record<string, string>): Record<string, unknown> {
  if (isV2Paths(paths)) return cgroupStatsV2(paths['unified']!);
  const ca = paths['cpuacct'] ?? paths['cpu'] ?? '';
  const cst = kv(join(ca, 'cpuacct.stat'));
  const tick = 10_000_000; // USER_HZ 100 -> ns
  let percpu: number[] = [];
  try { percpu = readFileSync(join(ca, 'cpuacct.usage_percpu'), 'utf8').trim().split(/\s+/).map(Number); } catch { /* */ }
  const thr = kv(join(paths['cpu'] ?? '', 'cpu.stat'));
  const mem = paths['memory'] ?? '';
  const entry = (p: string) => ({ limit: num(join(mem, `${p}limit_in_bytes`)), usage: num(join(mem, `${p}usage_in_bytes`)), max: num(join(mem, `${p}max_usage_in_bytes`)), failcnt: num(join(mem, `${p}failcnt`)) });
  const pids = paths['pids'] ?? '';
  let pidsLimit = 0;
  try { const v = readFileSync(join(pids, 'pids.max'), 'utf8').trim(); pidsLimit = v === 'max' ? 0 : Number(v); } catch { /* */ }
  const cs = paths['cpuset'] ?? '';
  const list = (f: string): number[] => {
    const out: number[] = [];
    let v = '';
    try { v = readFileSync(join(cs, f), 'utf8').trim(); } catch { /* */ }
    for (const part of v.split(',').filter(Boolean)) {
      const [a, b] = part.split('-').map(Number);
      for (let i = a!; i <= (b ?? a!); i++) out.push(i);
    }
    return out;
  };
  return {
    cpuset: {
      cpus: list('cpuset.cpus'), cpu_exclusive: num(join(cs, 'cpuset.cpu_exclusive')), mems: list('cpuset.mems'),
      mem_hardwall: num(join(cs, 'cpuset.mem_hardwall')), mem_exclusive: num(join(cs, 'cpuset.mem_exclusive')),
      memory_migrate: num(join(cs, 'cpuset.memory_migrate')), memory_spread_page: num(join(cs, 'cpuset.memory_spread_page')),
      memory_spread_slab: num(join(cs, 'cpuset.memory_spread_slab')), memory_pressure: num(join(cs, 'cpuset.memory_pressure')),
      sched_load_balance: num(join(cs, 'cpuset.sched_load_balance')), sched_relax_domain_level: num(join(cs, 'cpuset.sched_relax_domain_level')),
    },
    cpu: {
      usage: { total: num(join(ca, 'cpuacct.usage')), percpu, kernel: (cst['system'] ?? 0) * tick, user: (cst['user'] ?? 0) * tick },
      throttling: { periods: thr['nr_periods'] ?? 0, throttledPeriods: thr['nr_throttled'] ?? 0, throttledTime: thr['throttled_time'] ?? 0 },
    },
    memory: { usage: entry('memory.'), swap: entry('memory.memsw.'), kernel: entry('memory.kmem.'), kernelTCP: entry('memory.kmem.tcp.'), raw: kv(join(mem, 'memory.stat')) },
    pids: { current: num(join(pids, 'pids.current')), limit: pidsLimit },
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}
