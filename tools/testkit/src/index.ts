export const packageName = '@oci/testkit';
