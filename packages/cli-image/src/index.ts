export const packageName = '@oci/cli-image';
