export const packageName = '@oci/bench';
