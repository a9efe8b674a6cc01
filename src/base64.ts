/** Base64 (RFC 4648, with padding) on the platform's atob/btoa: Node, Deno and browsers alike. */

/** Base64 of bytes, e.g. for data: URLs. */
export function base64(bytes: Uint8Array): string {
  // btoa takes a binary string; build it in chunks so large images stay within argument limits.
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes a base64 string encodes (inlined weights). */
export function base64Bytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
