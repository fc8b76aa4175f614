export const packageName = '@oci/image-spec';
