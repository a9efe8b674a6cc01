/**
 * The small CNN of the cam-family fixtures (conv, BN, ReLU, max pool, conv, ReLU, global average
 * pool, linear), with the weights scripts/fixtures/make_cam_family_fixtures.py wrote.
 */
import { readFileSync } from "node:fs";
import * as s from "../../src/index.ts";
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
} from "../../src/models/nn/index.ts";

/** The fixture file: input, weights and the reference maps. */
export const camFamilyRef = JSON.parse(
  readFileSync("test/fixtures/cam-family/references.json", "utf8"),
);

/** The network with the fixture's weights. */
export function camFamilyNet(): Sequential {
  const net = new Sequential(
    new Conv2d(2, 4, 3, { padding: 1 }),
    new BatchNorm2d(4),
    new ReLU(),
    new MaxPool2d({ kernel: 2 }),
    new Conv2d(4, 6, 3, { padding: 1 }),
    new ReLU(),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(6, 3),
  );
  const state = new Map<string, s.Tensor>();
  for (const [k, v] of Object.entries(
    camFamilyRef.state as Record<string, { shape: number[]; values: number[] }>,
  ))
    state.set(k, s.tensor(Float32Array.from(v.values), v.shape));
  net.loadStateDict(state);
  return net;
}
