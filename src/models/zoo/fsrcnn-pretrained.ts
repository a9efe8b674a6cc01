/**
 * The bundled FSRCNN x2, trained with salient's engine by scripts/train/fsrcnn.ts on photographs
 * (scikit-image samples); weights inlined as base64 of fsrcnn-x2.safetensors. Input and output:
 * the luminance (Y, BT.601 [16, 235] / 255) channel, [N, 1, H, W] -> [N, 1, 2H, 2W].
 */
import { base64Bytes } from "../../base64.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { skipInit } from "../nn/init.ts";
import { FSRCNN_X2_SAFETENSORS_BASE64 } from "../weights/fsrcnn-x2.weights.ts";
import { Fsrcnn } from "./fsrcnn.ts";

/** The safetensors bytes of the bundled weights. */
export function fsrcnnX2Weights(): Uint8Array {
  return base64Bytes(FSRCNN_X2_SAFETENSORS_BASE64);
}

/**
 * The bundled FSRCNN x2 (trained here on photographs) in eval mode: input [N, 1, H, W] luminance in
 * [0, 1]; fsrcnnRgb runs it on RGB.
 */
export function loadFsrcnnX2(): Fsrcnn {
  const model = skipInit(() => new Fsrcnn(2));
  model.loadStateDict(readSafetensors(fsrcnnX2Weights(), "fsrcnn-x2.safetensors"));
  return model.eval();
}
