export const packageName = '@oci/layout';
