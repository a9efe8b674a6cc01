/** A model feature the importer does not implement (as opposed to a malformed model or a bug). */
export class OnnxUnsupportedError extends Error {
  override name = "OnnxUnsupportedError";
}
