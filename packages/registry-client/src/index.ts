export const packageName = '@oci/registry-client';
