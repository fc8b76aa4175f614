// The part of Go's text/template that `skopeo inspect --format` users write: field paths ({{.Digest}},
// {{.Labels.version}}), pipelines with the functions skopeo offers (json, join, index, len, lower, upper, title,
// printf, print, eq/ne/lt/le/gt/ge, and/or/not, split, truncate, pad), {{range}}, {{if}}/{{else}}, {{with}},
// and the {{- trim -}} markers. Values print as Go's %v does. Pure; errors are ERR_TEMPLATE with the position.
import { CliError } from './errors.js';

/** A struct: its fields must exist (a typo is an error, as in Go); plain objects are maps (missing key: <no value>). */
export const STRUCT = Symbol('go-struct');
/** A string holding an RFC 3339 time that Go would print as time.Time (skopeo's Created). */
export class GoTime {
  readonly iso: string;
  constructor(iso: string) {
    this.iso = iso;
  }
}

/** A nil map or slice: prints as map[] / [], is empty and false, is null in JSON (Go's typed nil). */
export class GoNil {
  readonly kind: 'map' | 'slice';
  constructor(kind: 'map' | 'slice') {
    this.kind = kind;
  }
}

/** `value`, or a typed nil of `kind` when it is null or undefined. */
export function orNil(value: unknown, kind: 'map' | 'slice'): unknown {
  return value === null || value === undefined ? new GoNil(kind) : value;
}

export function goStruct<T extends object>(fields: T): T {
  Object.defineProperty(fields, STRUCT, { value: true });
  return fields;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | { kind: 'range' | 'if' | 'with'; pipe: Pipe; body: Node[]; orElse: Node[] };
type Arg =
  | { kind: 'field'; path: string[] }
  | { kind: 'dot' }
  | { kind: 'lit'; value: unknown }
  | { kind: 'fn'; name: string }
  | { kind: 'pipe'; pipe: Pipe };
type Cmd = Arg[];
type Pipe = Cmd[];

function fail(why: string): CliError {
  return new CliError('ERR_TEMPLATE', `bad --format template: ${why}`, {
    hint: 'Write a Go template such as "{{.Digest}}", "{{json .Labels}}" or "{{range .RepoTags}}{{.}} {{end}}".',
  });
}

// --- lexing and parsing -----------------------------------------------------------------------------

function tokenize(src: string): { text: string; action: string | undefined }[] {
  const out: { text: string; action: string | undefined }[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= src.length) {
    const open = src.indexOf('{{', i);
    let text = open === -1 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      out.push({ text, action: undefined });
      break;
    }
    const close = src.indexOf('}}', open + 2);
    if (close === -1) throw fail(`unclosed action at offset ${open}`);
    let inner = src.slice(open + 2, close);
    if (inner.startsWith('- ') || inner === '-') {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    trimNext = false;
    if (inner.endsWith(' -')) {
      trimNext = true;
      inner = inner.slice(0, -1);
    }
    out.push({ text, action: inner.trim() });
    i = close + 2;
  }
  return out;
}

function splitWords(s: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) throw fail(`unterminated string in "${s}"`);
      words.push(s.slice(i, j + 1));
      i = j + 1;
    } else if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j === -1) throw fail(`unterminated raw string in "${s}"`);
      words.push(s.slice(i, j + 1));
      i = j + 1;
    } else if (c === '|' || c === '(' || c === ')') {
      words.push(c);
      i++;
    } else {
      let j = i;
      while (j < s.length && !/[\s|()"`]/.test(s[j]!)) j++;
      words.push(s.slice(i, j));
      i = j;
    }
  }
  return words;
}

function parsePipe(words: string[], pos: { i: number }, closing: string | undefined): Pipe {
  const pipe: Pipe = [];
  let cmd: Cmd = [];
  while (pos.i < words.length) {
    const w = words[pos.i++]!;
    if (w === closing) {
      if (cmd.length) pipe.push(cmd);
      return pipe;
    }
    if (w === '|') {
      if (!cmd.length) throw fail('empty command in a pipeline');
      pipe.push(cmd);
      cmd = [];
    } else if (w === '(') {
      cmd.push({ kind: 'pipe', pipe: parsePipe(words, pos, ')') });
    } else if (w === ')') {
      throw fail('unexpected ")"');
    } else {
      cmd.push(parseArg(w));
    }
  }
  if (closing !== undefined) throw fail('missing ")"');
  if (cmd.length) pipe.push(cmd);
  if (!pipe.length) throw fail('empty action');
  return pipe;
}

function parseArg(w: string): Arg {
  if (w === '.') return { kind: 'dot' };
  if (w.startsWith('.')) {
    const path = w.slice(1).split('.');
    if (path.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) throw fail(`bad field "${w}"`);
    return { kind: 'field', path };
  }
  if (w.startsWith('"')) {
    try {
      return { kind: 'lit', value: JSON.parse(w) as string };
    } catch {
      throw fail(`bad string ${w}`);
    }
  }
  if (w.startsWith('`')) return { kind: 'lit', value: w.slice(1, -1) };
  if (w === 'true' || w === 'false') return { kind: 'lit', value: w === 'true' };
  if (w === 'nil') return { kind: 'lit', value: null };
  if (/^-?\d+(\.\d+)?$/.test(w)) return { kind: 'lit', value: Number(w) };
  if (w.startsWith('$')) throw fail(`variables (${w}) are not supported`);
  if (!(w in FUNCS)) throw fail(`function "${w}" not defined`);
  return { kind: 'fn', name: w };
}

/** Parses a template (Go text/template syntax, the subset described above). */
export function parseTemplate(src: string): Node[] {
  const toks = tokenize(src);
  const root: Node[] = [];
  const stack: { node: Extract<Node, { body: Node[] }> | undefined; list: Node[]; inElse: boolean }[] = [{ node: undefined, list: root, inElse: false }];
  for (const t of toks) {
    const top = stack.at(-1)!;
    if (t.text) top.list.push({ kind: 'text', text: t.text });
    if (t.action === undefined) continue;
    const a = t.action;
    if (a.startsWith('/*')) continue; // a comment
    const words = splitWords(a);
    const kw = words[0];
    if (kw === 'range' || kw === 'if' || kw === 'with') {
      const node: Extract<Node, { body: Node[] }> = { kind: kw, pipe: parsePipe(words, { i: 1 }, undefined), body: [], orElse: [] };
      top.list.push(node);
      stack.push({ node, list: node.body, inElse: false });
    } else if (kw === 'else') {
      if (!top.node || top.inElse) throw fail('{{else}} outside {{if}}/{{range}}/{{with}}');
      if (words.length > 1) throw fail('{{else if}} is not supported; nest an {{if}}');
      top.list = top.node.orElse;
      top.inElse = true;
    } else if (kw === 'end') {
      if (!top.node) throw fail('unexpected {{end}}');
      stack.pop();
    } else if (kw === 'define' || kw === 'template' || kw === 'block') {
      throw fail(`{{${kw}}} is not supported`);
    } else {
      top.list.push({ kind: 'action', pipe: parsePipe(words, { i: 0 }, undefined) });
    }
  }
  if (stack.length > 1) throw fail(`missing {{end}} for {{${stack.at(-1)!.node!.kind}}}`);
  return root;
}

// --- values -------------------------------------------------------------------------------------------

const NO_VALUE = Symbol('no value');

function goTimeString(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4]!.replace(':', '')} ${m[4]!.replace(':', '')}`;
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} ${zone}`;
}

/** Go's %v. */
export function goFormat(v: unknown): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null || v === undefined) return '<nil>';
  if (v instanceof GoTime) return goTimeString(v.iso);
  if (v instanceof GoNil) return v.kind === 'map' ? 'map[]' : '[]';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string | symbol, unknown>;
    if (o[STRUCT]) return `{${Object.values(o).map(goFormat).join(' ')}}`;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${goFormat(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

function truthy(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v === false || v === 0 || v === '' || v instanceof GoNil) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof GoTime) return true;
  if (typeof v === 'object') return (v as Record<symbol, unknown>)[STRUCT] === true || Object.keys(v).length > 0;
  return true;
}

/** json.Marshal: compact, with <, >, & escaped as Go does. */
function goJson(v: unknown): string {
  const plain = (x: unknown): unknown => (x instanceof GoTime ? x.iso : x === NO_VALUE || x instanceof GoNil ? null : Array.isArray(x) ? x.map(plain)
    : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, plain(y)])) : x);
  return (JSON.stringify(plain(v)) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function goPrintf(format: unknown, ...args: unknown[]): string {
  let i = 0;
  return String(format).replace(/%([-+ #0]*\d*(?:\.\d+)?)([vsdqtxf%])/g, (_all, flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    switch (verb) {
      case 'q': s = JSON.stringify(goFormat(a)); break;
      case 'd': s = String(Math.trunc(Number(a))); break;
      case 'f': { const p = /\.(\d+)/.exec(flags); s = Number(a).toFixed(p ? Number(p[1]) : 6); break; }
      case 'x': s = typeof a === 'number' ? a.toString(16) : Buffer.from(goFormat(a)).toString('hex'); break;
      default: s = goFormat(a);
    }
    const width = /(\d+)$/.exec(flags.replace(/\..*$/, ''));
    if (width) s = flags.includes('-') ? s.padEnd(Number(width[1])) : s.padStart(Number(width[1]));
    return s;
  }) + (i < args.length ? `%!(EXTRA ${args.slice(i).map(goFormat).join(', ')})` : '');
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw fail('incompatible types for comparison');
}

const FUNCS: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => goJson(v),
  join: (list, sep) => {
    if (!Array.isArray(list)) throw fail('join needs a list');
    return list.map(goFormat).join(String(sep));
  },
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (Array.isArray(cur)) {
        if (typeof k !== 'number' || k < 0 || k >= cur.length) throw fail(`index out of range: ${goFormat(k)}`);
        cur = cur[k];
      } else if (cur instanceof GoNil) {
        cur = '';
      } else if (cur && typeof cur === 'object') {
        // a missing map key gives the zero value of the map's element type: the maps here hold strings
        cur = Object.hasOwn(cur, String(k)) ? (cur as Record<string, unknown>)[String(k)] : '';
      } else {
        throw fail(`can't index item of type ${cur === null ? 'nil' : typeof cur}`);
      }
    }
    return cur;
  },
  len: (v) => {
    if (v instanceof GoNil) return 0;
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw fail(`len of ${goFormat(v)}`);
  },
  lower: (s) => goFormat(s).toLowerCase(),
  upper: (s) => goFormat(s).toUpperCase(),
  title: (s) => goFormat(s).replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
  split: (s, sep) => goFormat(s).split(String(sep)),
  truncate: (s, n) => goFormat(s).slice(0, Number(n)),
  pad: (s, left, right) => `${' '.repeat(Number(left))}${goFormat(s)}${' '.repeat(Number(right))}`,
  print: (...a) => a.map(goFormat).join(''),
  println: (...a) => `${a.map(goFormat).join(' ')}\n`,
  printf: (f, ...a) => goPrintf(f, ...a),
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  and: (...a) => a.find((x) => !truthy(x)) ?? a.at(-1),
  or: (...a) => a.find((x) => truthy(x)) ?? a.at(-1),
  not: (a) => !truthy(a),
};

// --- execution ------------------------------------------------------------------------------------------

function field(dot: unknown, path: string[]): unknown {
  let cur = dot;
  for (const name of path) {
    if (cur === null || cur === undefined || cur === NO_VALUE || cur instanceof GoNil) return NO_VALUE;
    if (typeof cur !== 'object' || Array.isArray(cur) || cur instanceof GoTime) {
      throw fail(`can't evaluate field ${name} in ${Array.isArray(cur) ? 'a list' : 'a plain value'}`);
    }
    const o = cur as Record<string | symbol, unknown>;
    if (Object.hasOwn(o, name)) cur = o[name];
    else if (o[STRUCT]) throw fail(`can't evaluate field ${name}: no such field (fields: ${Object.keys(o).join(', ')})`);
    else cur = NO_VALUE;
  }
  return cur;
}

function evalArg(a: Arg, dot: unknown): unknown {
  switch (a.kind) {
    case 'dot': return dot;
    case 'field': return field(dot, a.path);
    case 'lit': return a.value;
    case 'pipe': return evalPipe(a.pipe, dot);
    case 'fn': return FUNCS[a.name]!();
  }
}

function evalPipe(pipe: Pipe, dot: unknown): unknown {
  let value: unknown = NO_VALUE;
  pipe.forEach((cmd, n) => {
    const [head, ...rest] = cmd;
    if (head!.kind === 'fn') {
      const args = rest.map((r) => evalArg(r, dot));
      if (n > 0) args.push(value);
      value = FUNCS[head!.name]!(...args);
    } else {
      if (rest.length || n > 0) throw fail('only a function can take arguments');
      value = evalArg(head!, dot);
    }
  });
  return value;
}

function exec(nodes: Node[], dot: unknown, out: string[]): void {
  for (const n of nodes) {
    if (n.kind === 'text') out.push(n.text);
    else if (n.kind === 'action') out.push(goFormat(evalPipe(n.pipe, dot)));
    else {
      const v = evalPipe(n.pipe, dot);
      if (n.kind === 'if') exec(truthy(v) ? n.body : n.orElse, dot, out);
      else if (n.kind === 'with') exec(truthy(v) ? n.body : n.orElse, truthy(v) ? v : dot, out);
      else {
        const items = Array.isArray(v) ? v : v && typeof v === 'object' && !(v instanceof GoTime) && !(v instanceof GoNil) ? Object.keys(v).sort().map((k) => (v as Record<string, unknown>)[k]) : [];
        if (!Array.isArray(v) && !(v && typeof v === 'object') && truthy(v)) throw fail(`range can't iterate over ${goFormat(v)}`);
        if (items.length === 0) exec(n.orElse, dot, out);
        for (const item of items) exec(n.body, item, out);
      }
    }
  }
}

/** Renders `template` with `data` (parse + execute). */
export function renderTemplate(template: string, data: unknown): string {
  const out: string[] = [];
  exec(parseTemplate(template), data, out);
  return out.join('');
}

/**
 * skopeo inspect --format: "json" (or "{{json .}}") prints the indented JSON as without --format; any other
 * template is rendered and followed by a newline (always, as skopeo does).
 */
export function formatInspect(format: string, data: unknown, indentedJson: () => string): string {
  if (/^\s*(json|\{\{\s*json\s+\.\s*\}\})\s*$/.test(format)) return indentedJson();
  return `${renderTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'), data)}\n`;
}
