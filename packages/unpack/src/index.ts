export const packageName = '@oci/unpack';
