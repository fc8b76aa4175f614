export const packageName = '@oci/cli-registry';
