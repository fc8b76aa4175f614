import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { accessOptions, authfileOption } from '../options.js';

type Args = Record<string, unknown> & { registry: string };

async function registryKey(input: string): Promise<string> {
  const { normalizeAuthKey } = await import('@oci/registry-client');
  const { usage } = await import('../errors.js');
  const k = normalizeAuthKey(input.replace(/^docker:\/\//, '').replace(/\/+$/, ''));
  if (!k || /\s/.test(k)) throw usage(`invalid registry "${input}"`);
  return k;
}

export const loginCommand: CommandModule<object, Args> = {
  command: 'login <registry>',
  describe: 'Check credentials against a registry and store them in the auth file podman and skopeo read',
  builder: (y: Argv) => y
    .positional('registry', { type: 'string', demandOption: true, describe: 'REGISTRY[:PORT] (or REGISTRY/NAMESPACE)' })
    .options({
      username: { alias: 'u', type: 'string', describe: 'User name' },
      password: { alias: 'p', type: 'string', describe: 'Password (prefer --password-stdin)' },
      'password-stdin': { type: 'boolean', describe: 'Read the password from stdin' },
      'get-login': { type: 'boolean', describe: 'Print the user name stored for the registry' },
      ...authfileOption,
      ...accessOptions(''),
    }) as unknown as Argv<Args>,
  handler: async (argv: ArgumentsCamelCase<Args>) => {
    const rc = await import('@oci/registry-client');
    const { usage, CliError } = await import('../errors.js');
    const key = await registryKey(argv.registry);
    const file = (argv.authfile as string | undefined) ?? rc.defaultAuthFile();
    if (argv['get-login']) {
      const user = await rc.storedLogin(file, key);
      if (user === undefined) throw new CliError('ERR_NOT_LOGGED_IN', `not logged into ${key}`, { hint: `Log in with: oci-registry login ${key}` });
      process.stdout.write(`${user}\n`);
      return;
    }
    const username = argv.username as string | undefined;
    let password = argv.password as string | undefined;
    if (argv['password-stdin']) {
      if (password !== undefined) throw usage('--password and --password-stdin cannot be used together');
      const { readPasswordStdin } = await import('../open.js');
      password = await readPasswordStdin();
    }
    let user = username;
    if ((!user || password === undefined) && process.stdin.isTTY && process.stderr.isTTY) {
      const { promptAll } = await import('../prompt.js');
      const qs = [...(user ? [] : [{ text: 'Username: ', secret: false }]), ...(password === undefined ? [{ text: 'Password: ', secret: true }] : [])];
      const answers = await promptAll(qs);
      if (!user) user = answers.shift();
      if (password === undefined) password = answers.shift();
    }
    if (!user || password === undefined) throw usage('login needs --username and --password (or --password-stdin) when not on a terminal');
    const username2 = user;
    const { clientOptions } = await import('../open.js');
    const opts = await clientOptions({ tlsVerify: argv['tls-verify'] as boolean | undefined, certDir: argv['cert-dir'] as string | undefined });
    const client = new rc.RegistryClient({ ...opts, credentials: { username: username2, password }, retries: 1 });
    try {
      await client.checkLogin(key.split('/')[0]!);
    } finally {
      await client.close();
    }
    await rc.storeCredentials(file, key, { username: username2, password });
    process.stdout.write('Login Succeeded!\n');
  },
};

export const logoutCommand: CommandModule<object, Args> = {
  command: 'logout [registry]',
  describe: 'Remove stored credentials for a registry (or all with --all)',
  builder: (y: Argv) => y
    .positional('registry', { type: 'string', describe: 'REGISTRY[:PORT]' })
    .options({ all: { alias: 'a', type: 'boolean', describe: 'Remove all stored credentials' }, ...authfileOption }) as unknown as Argv<Args>,
  handler: async (argv: ArgumentsCamelCase<Args>) => {
    const rc = await import('@oci/registry-client');
    const { usage, CliError } = await import('../errors.js');
    const file = (argv.authfile as string | undefined) ?? rc.defaultAuthFile();
    if (argv.all) {
      await rc.removeCredentials(file, '*');
      process.stdout.write('Removed login credentials for all registries\n');
      return;
    }
    if (!argv.registry) throw usage('logout needs a registry or --all');
    const key = await registryKey(argv.registry);
    if (!(await rc.removeCredentials(file, key))) {
      throw new CliError('ERR_NOT_LOGGED_IN', `not logged into ${key}`, { hint: 'Nothing to remove.' });
    }
    process.stdout.write(`Removed login credentials for ${key}\n`);
  },
};
