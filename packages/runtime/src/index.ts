export const packageName = '@oci/runtime';
