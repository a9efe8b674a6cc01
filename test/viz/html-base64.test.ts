import { describe, expect, it } from "vitest";
import { base64, base64Bytes } from "../../src/base64.ts";
import { escapeHtml } from "../../src/viz/html.ts";

describe("html helpers", () => {
  it("base64 matches RFC 4648 test vectors and Node's encoder on large inputs", () => {
    // RFC 4648 section 10.
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [text, want] of vectors) expect(base64(new TextEncoder().encode(text))).toBe(want);
    // All byte values, over more than one 32 KiB chunk.
    const big = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 131 + (i >> 8)) & 255);
    expect(base64(big)).toBe(Buffer.from(big).toString("base64"));
    expect(base64Bytes(Buffer.from(big).toString("base64"))).toEqual(big);
  });

  it("escapeHtml replaces the five markup characters and nothing else", () => {
    expect(escapeHtml(`<a href="x">Tom & 'Jerry'</a> é`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt; é",
    );
  });
});
