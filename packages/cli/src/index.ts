export const packageName = '@oci/cli';
