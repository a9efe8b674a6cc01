/** Text to HTML/SVG: escaping for element content and quoted attributes, and base64 for data: URLs. */

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `s` safe inside HTML or SVG text and single- or double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** Standard base64 (with padding) of bytes, e.g. for data: URLs (btoa: Node, Deno, browsers). */
export function base64(bytes: Uint8Array): string {
  // btoa takes a binary string; build it in chunks so large images stay within argument limits.
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
