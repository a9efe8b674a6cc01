/**
 * Image files to RGBA bytes inside a worker: createImageBitmap without colour-space conversion or
 * alpha premultiplication, so an opaque PNG gives back exactly the bytes in the file (the same
 * values the CLI's PNG reader gives).
 */
import type { ImageDataLike } from "../../src/index.ts";
import type { ImageSource } from "./protocol.ts";

async function bytesOf(src: ImageSource): Promise<Blob> {
  if (src.kind === "bytes") return new Blob([src.bytes], { type: src.type || "image/png" });
  const res = await fetch(src.url);
  if (!res.ok) throw new Error(`cannot load the image ${src.url}: HTTP ${res.status}`);
  return res.blob();
}

export async function decodeImage(src: ImageSource): Promise<ImageDataLike> {
  const name = src.kind === "bytes" ? src.name : src.url;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(await bytesOf(src), {
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    });
  } catch (e) {
    throw new Error(
      `${name} is not an image the browser can decode (PNG, JPEG, WebP): ${(e as Error).message}`,
    );
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("this browser gives workers no 2D canvas (OffscreenCanvas)");
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}
