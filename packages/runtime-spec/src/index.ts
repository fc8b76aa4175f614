export const packageName = '@oci/runtime-spec';
