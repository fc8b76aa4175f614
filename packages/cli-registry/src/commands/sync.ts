import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { accessOptions, authfileOption, platformOptions } from '../options.js';

type Args = Record<string, unknown> & { source: string; destination: string };

export const syncCommand: CommandModule<object, Args> = {
  command: 'sync <source> <destination>',
  describe: 'Copy every image of a repository, directory, layout or YAML list to a registry, directories or layouts (skopeo sync)',
  builder: (y: Argv) => y
    .usage('$0 sync --src TRANSPORT --dest TRANSPORT SOURCE DESTINATION\n\n' +
      'Mirror images: every tag of a repository (or one tag), every dir: image below a directory, every ref of an OCI\n' +
      'layout, or the images a YAML file lists, each copied to DESTINATION/NAME:TAG. Transports are given apart from\n' +
      'the names, as in skopeo sync, so that a registry host:port is not read as an image name.\n\n' +
      'Examples:\n' +
      '  $0 sync --src docker --dest dir registry.example.com/busybox /media/usb      -> /media/usb/busybox:TAG\n' +
      '  $0 sync --src dir --dest docker /media/usb my-registry.local/mirror          -> my-registry.local/mirror/busybox:TAG\n' +
      '  $0 sync --src docker --dest oci --scoped quay.io/ns/app /srv/layouts         -> layout /srv/layouts/quay.io/ns/app, ref TAG\n' +
      '  $0 sync --src yaml --dest docker images.yaml my-registry.local')
    .positional('source', { type: 'string', demandOption: true, describe: 'docker: REGISTRY/REPO[:TAG]; dir: a directory of dir: images; oci: a layout; yaml: a file' })
    .positional('destination', { type: 'string', demandOption: true, describe: 'docker: REGISTRY[/NAMESPACE]; dir or oci: a directory' })
    .options({
      src: { alias: 's', type: 'string', demandOption: true, choices: ['docker', 'dir', 'oci', 'yaml'], describe: 'Transport of SOURCE' },
      dest: { alias: 'd', type: 'string', demandOption: true, choices: ['docker', 'dir', 'oci'], describe: 'Transport of DESTINATION' },
      scoped: { type: 'boolean', describe: 'Name destination images by their whole source path (registry/repo:tag), not just repo:tag' },
      all: { alias: 'a', type: 'boolean', describe: 'Copy all images of an index (all platforms)' },
      'dry-run': { type: 'boolean', describe: 'List what would be copied, copy nothing' },
      'keep-going': { type: 'boolean', describe: 'Go on after an image fails; fail at the end' },
      ...platformOptions,
      ...authfileOption,
      ...accessOptions('src'),
      ...accessOptions('dest'),
      'preserve-digests': { type: 'boolean', describe: 'Fail rather than change a manifest (no Docker -> OCI conversion)' },
      format: { alias: 'f', type: 'string', choices: ['oci', 'v2s2'], describe: 'Manifest type of the destination: oci converts Docker v2s2 manifests, v2s2 converts OCI ones' },
      digestfile: { type: 'string', describe: 'Write "DIGEST IMAGE" lines, one per copied image, to this file' },
      'retry-times': { type: 'number', describe: 'Retries of a failed request (429, 5xx, connection errors; default 5)' },
      jobs: { type: 'number', default: 4, describe: 'Parallel blob transfers per image' },
      quiet: { alias: 'q', type: 'boolean', describe: 'Print nothing but errors' },
      json: { type: 'boolean', describe: 'Print one JSON line per image on stdout' },
    }) as unknown as Argv<Args>,
  handler: async (argv: ArgumentsCamelCase<Args>) => {
    const { runSync } = await import('../sync.js');
    await runSync(argv);
  },
};
