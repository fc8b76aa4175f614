import { existsSync, readFileSync } from 'node:fs';
import type { Process } from '@oci/runtime-spec';
import { RuntimeError } from './errors.js';

/**
 * Linux security modules: process.apparmorProfile, process.selinuxLabel and linux.mountLabel.
 *
 * A config that asks for confinement must never run unconfined. Where the module is not enabled, the container is
 * refused before anything is created (runc refuses too: SELinux labels at validation, an AppArmor profile when
 * its init fails to write it, a mount label when the mount fails). Where it is, the helper asks the kernel for the
 * profile or label at the next execve (native/init.c, `apparmor`/`selinux` plan lines), and mounts get the
 * `context=` option (below), as runc does.
 */

let apparmor: boolean | undefined;
let selinux: boolean | undefined;

/** AppArmor is loaded and enabled (what runc's apparmor.IsEnabled checks). */
export function apparmorEnabled(): boolean {
  if (apparmor === undefined) {
    try {
      apparmor = existsSync('/sys/kernel/security/apparmor') && readFileSync('/sys/module/apparmor/parameters/enabled', 'latin1').startsWith('Y');
    } catch {
      apparmor = false;
    }
  }
  return apparmor;
}

/** SELinux is enabled: selinuxfs is mounted and this process has a context. */
export function selinuxEnabled(): boolean {
  if (selinux === undefined) {
    try {
      selinux = existsSync('/sys/fs/selinux/enforce') && readFileSync('/proc/self/attr/current', 'latin1').replace(/\0+$/, '').trim() !== '';
    } catch {
      selinux = false;
    }
  }
  return selinux;
}

function unavailable(what: string, field: string, where: string): never {
  throw new RuntimeError('ERR_LSM_UNAVAILABLE', `${where} sets ${field}, but ${what} is not enabled on this host`, {
    hint: where === 'config.json'
      ? `remove ${field} from config.json (or enable ${what} on the host); the container would otherwise run without the confinement it asks for. Nothing was created`
      : `drop the ${what} setting of the exec (or enable ${what} on the host); the process would otherwise run without the confinement it asks for`,
  });
}

function checkText(value: unknown, field: string): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value === '' || /[\0\n]/.test(value)) {
    throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: ${field} must be a non-empty string without NUL or newline`, {
      hint: 'fix config.json; nothing was created',
    });
  }
}

/**
 * Refuses (ERR_LSM_UNAVAILABLE) a process or mount label that this host cannot apply. `where` names the source in
 * messages: config.json for create/run, the exec'd process (runc exec --apparmor/--process-label/--process).
 */
export function checkLsm(p: Process | undefined, mountLabel: string | undefined, where: 'config.json' | 'the exec\'d process' = 'config.json'): void {
  checkText(p?.apparmorProfile, 'process.apparmorProfile');
  checkText(p?.selinuxLabel, 'process.selinuxLabel');
  checkText(mountLabel, 'linux.mountLabel');
  if (p?.apparmorProfile !== undefined && !apparmorEnabled()) unavailable('AppArmor', 'process.apparmorProfile', where);
  if (p?.selinuxLabel !== undefined && !selinuxEnabled()) unavailable('SELinux', 'process.selinuxLabel', where);
  if (mountLabel !== undefined && !selinuxEnabled()) unavailable('SELinux', 'linux.mountLabel', where);
}

/** Mount types that get no context= option (runc: procfs and sysfs have fixed labels, mqueue/cgroup are labelled otherwise). */
const UNLABELLED = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2', 'bind', 'none', '']);

/** The mount data with linux.mountLabel as its SELinux context, for the mount types runc labels (tmpfs, devpts, ...). */
export function labelMountData(type: string, data: string, mountLabel: string | undefined): string {
  if (mountLabel === undefined || UNLABELLED.has(type) || /(^|,)context=/.test(data)) return data;
  const context = `context="${mountLabel}"`;
  return data === '' ? context : `${data},${context}`;
}
