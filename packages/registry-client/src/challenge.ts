/** One authentication challenge from a WWW-Authenticate header (RFC 7235). */
export interface Challenge {
  /** Lower-cased scheme: 'bearer', 'basic', ... */
  scheme: string;
  /** Lower-cased parameter names to values (quotes removed, escapes resolved). */
  params: Record<string, string>;
  token68?: string | undefined;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parses one or more WWW-Authenticate header values into challenges, including several challenges in
 * one header ('Basic realm="a", Bearer realm="b",scope="x"'), quoted strings with escapes and commas,
 * and token68 forms.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) out.push(...parseOne(value));
  return out;
}

function parseOne(input: string): Challenge[] {
  const out: Challenge[] = [];
  let s = input;
  let current: Challenge | undefined;
  const skip = (): void => {
    s = s.replace(/^[\s,]+/, '');
  };
  skip();
  while (s.length > 0) {
    const m = TOKEN.exec(s);
    if (!m) break; // malformed: stop here, keep what we have
    const word = m[0];
    const after = s.slice(word.length);
    const eq = /^\s*=\s*/.exec(after);
    if (current && eq && !/^\s*=\s*=/.test(after) && !/^=+\s*(,|$)/.test(after)) {
      // auth-param: name = token / quoted-string
      s = after.slice(eq[0].length);
      let val: string;
      if (s.startsWith('"')) {
        let i = 1;
        val = '';
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          val += s[i];
          i++;
        }
        s = s.slice(i + 1);
      } else {
        const t = /^[^\s,]*/.exec(s);
        val = t ? t[0] : '';
        s = s.slice(val.length);
      }
      current.params[word.toLowerCase()] = val;
      skip();
      continue;
    }
    // a new challenge: scheme [token68 | params]
    current = { scheme: word.toLowerCase(), params: {} };
    out.push(current);
    s = after.replace(/^\s+/, '');
    const t68 = /^[A-Za-z0-9._~+/-]+=*(?=\s*(,|$))/.exec(s);
    if (t68 && !/^[A-Za-z0-9._~+/-]+\s*=[^=]/.test(s)) {
      current.token68 = t68[0];
      s = s.slice(t68[0].length);
    }
    skip();
  }
  return out;
}

/** Scope string for a repository: repository:NAME:pull or repository:NAME:pull,push. */
export function repositoryScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}
