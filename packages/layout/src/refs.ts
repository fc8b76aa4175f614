import { LayoutError } from './errors.js';

const component = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const refGrammar = new RegExp(`^${component}(?:/${component})*$`);

/**
 * True when `name` matches the image-spec grammar for `org.opencontainers.image.ref.name`:
 * components of alphanumerics joined by `-._:@+` or `--`, separated by `/`.
 */
export function isValidRefName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= 1024 && refGrammar.test(name);
}

/** Throw ERR_INVALID_REF_NAME unless `name` is a valid ref name. */
export function assertRefName(name: unknown): asserts name is string {
  if (!isValidRefName(name)) {
    throw new LayoutError('ERR_INVALID_REF_NAME', `invalid ref name ${JSON.stringify(String(name).slice(0, 200))}`, {
      hint: 'a ref name is made of letters and digits joined by one of - . _ : @ + or --, in parts separated by /, e.g. "latest" or "v1.0"',
      ref: typeof name === 'string' ? name.slice(0, 200) : undefined,
    });
  }
}
