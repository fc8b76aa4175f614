// inspect --format: Go templates as skopeo renders them; skopeo 1.9 is the oracle for the functions it has.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture, type FixtureInfo } from '@oci/fixtures';
import { run, startRegistry, type RegistryHandle } from '@oci/testkit';
import { GoNil, goStruct, GoTime, renderTemplate } from '../src/go-template.js';

const BIN = fileURLToPath(new URL('../bin/oci-registry.js', import.meta.url));
const ENV = { ...process.env, REGISTRY_AUTH_FILE: '/nonexistent/auth.json' };

describe('Go template subset', () => {
  const data = goStruct({
    Name: 'r/x', Tags: ['a', 'b'], Labels: { 'k': 'v', z: '1' }, N: 3, Empty: [] as string[], T: new GoTime('2024-05-06T07:08:09.120Z'),
    Sub: goStruct({ Type: 'layers' }), NilMap: new GoNil('map'), NilList: new GoNil('slice'),
  });
  it.each([
    ['{{.Name}}', 'r/x'],
    ['{{.Tags}} {{.Labels}} {{.N}}', '[a b] map[k:v z:1] 3'],
    ['{{.T}}', '2024-05-06 07:08:09.12 +0000 UTC'],
    ['{{range .Tags}}<{{.}}>{{else}}none{{end}}', '<a><b>'],
    ['{{range .Empty}}x{{else}}none{{end}}', 'none'],
    ['{{if .Empty}}y{{else}}n{{end}}{{if .Tags}}y{{end}}', 'ny'],
    ['{{with .Sub}}{{.Type}}{{end}}', 'layers'],
    ['{{index .Labels "k"}}{{index .Labels "missing"}}|{{.Labels.missing}}', 'v|<no value>'],
    ['{{index .Tags 1}} {{len .Tags}} {{len .Labels}}', 'b 2 2'],
    ['{{json .Labels}} {{json .Tags}} {{json "<&>"}}', '{"k":"v","z":"1"} ["a","b"] "\\u003c\\u0026\\u003e"'],
    ['{{join .Tags ","}} {{upper .Name}} {{.Name | upper | lower}}', 'a,b R/X r/x'],
    ['{{printf "%s-%d-%5s|%-3s|" .Name .N "ab" "c"}}', 'r/x-3-   ab|c  |'],
    ['{{eq .N 3}} {{ne .Name "r/x"}} {{lt 1 2}} {{and .N .Name}} {{or .Empty .Name}} {{not .Empty}}', 'true false true r/x r/x true'],
    ['a  {{- .N -}}  b', 'a3b'],
    ['{{/* a comment */}}x', 'x'],
    ['{{(index .Tags 0) | upper}}', 'A'],
    ['{{.NilMap}} {{.NilList}} {{len .NilMap}} {{if .NilList}}y{{else}}n{{end}} {{json .NilMap}} {{index .NilMap "k"}}|', 'map[] [] 0 n null |'],
  ])('%s', (tpl, want) => {
    expect(renderTemplate(tpl, data)).toBe(want);
  });
  it.each([
    '{{.Nope}}', '{{.Name', '{{range .Tags}}', '{{end}}', '{{nosuchfunc .N}}', '{{index .Tags 5}}', '{{else}}', '{{$x := 1}}', '{{template "x"}}', '{{.Name 1}}',
  ])('refuses %s with ERR_TEMPLATE', (tpl) => {
    expect(() => renderTemplate(tpl, data)).toThrow(expect.objectContaining({ code: 'ERR_TEMPLATE' }));
  });
});

describe('inspect --format against skopeo', () => {
  let reg: RegistryHandle;
  let busybox: FixtureInfo;
  beforeAll(async () => {
    [reg, busybox] = await Promise.all([startRegistry({ mode: 'plain' }), buildFixture('busybox')]);
    await buildFixture('hello');
    await pushFixture('busybox', reg, 'fx/busybox', { format: 'v2s2' });
    await pushFixture('hello', reg, 'fx/hello', { format: 'oci' });
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
  });

  it('renders the same text for the same templates (summary and --config; docker:// and oci:)', async () => {
    const images = [`docker://${reg.host}/fx/busybox:latest`, `docker://${reg.host}/fx/hello:latest`, `oci:${busybox.layout}:latest`];
    const summary = ['{{.Digest}}', '{{.Name}} {{len .Layers}} {{.Created}}', '{{range .RepoTags}}[{{.}}]{{end}}', '{{.Env}}|{{.Labels}}|{{.Layers}}',
      '{{if .Labels}}L{{else}}none{{end}} {{.Architecture}}/{{.Os}}', '{{printf "%q" .DockerVersion}}', 'json', '{{range .Layers}}{{.}}\\n{{end}}', '{{.Nope}}'];
    const config = ['{{.Architecture}} {{.OS}} {{.RootFS.Type}} {{len .RootFS.DiffIDs}}', '{{.Config.Cmd}} {{.Config.Env}} {{.Config.WorkingDir}}',
      '{{range .History}}{{.CreatedBy}};{{end}}', '{{.Created}} {{.Author}}', 'json'];
    const diffs: string[] = [];
    for (const image of images) {
      for (const [extra, formats] of [[[], summary], [['--config'], config]] as const) {
        for (const f of formats) {
          const args = ['inspect', ...extra, '--format', f, ...(image.startsWith('docker') ? ['--tls-verify=false'] : []), image];
          const [a, b] = await Promise.all([run('skopeo', args, { env: ENV } as never), run(process.execPath, [BIN, ...args], { env: ENV } as never)]);
          if (a.code !== 0 && b.code !== 0) continue; // both refuse (e.g. an unknown field)
          if (a.code !== b.code || a.stdout !== b.stdout) diffs.push(`${image} ${extra.join(' ')} ${f}: skopeo ${a.code} ${JSON.stringify(a.stdout)} ours ${b.code} ${JSON.stringify(b.stdout)} ${b.stderr}`);
        }
      }
    }
    expect(diffs).toEqual([]);
  }, 120_000);

  it('refuses --raw with --format as usage (exit 2), and a bad template with ERR_TEMPLATE (exit 1)', async () => {
    const raw = await run(process.execPath, [BIN, 'inspect', '--raw', '--format', '{{.Digest}}', `oci:${busybox.layout}:latest`], { env: ENV } as never);
    expect(raw.code).toBe(2);
    const bad = await run(process.execPath, [BIN, 'inspect', '--format', '{{range .Layers}', `oci:${busybox.layout}:latest`], { env: ENV } as never);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ERR_TEMPLATE');
  });
});
