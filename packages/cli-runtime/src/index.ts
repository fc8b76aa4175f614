export const packageName = '@oci/cli-runtime';
