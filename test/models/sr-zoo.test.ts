/**
 * The SR zoo against PyTorch: each network in its published configuration has exactly the
 * official state-dict keys, shapes and size; and with the same (hashed) weights, each network gives
 * PyTorch's output and input gradient, in the published configuration where that is cheap and in a
 * reduced one (fewer groups, blocks or channels) otherwise. References: fixtures/make_sr_zoo_fixtures.py.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { grad } from "../../src/autodiff/grad.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { ResNet, type ResNetConfig } from "../../src/models/classifiers/resnet.ts";
import { type VggConfig, VggNet } from "../../src/models/classifiers/vgg.ts";
import { skipInit } from "../../src/models/nn/init.ts";
import type { Module } from "../../src/models/nn/module.ts";
import { createArchitecture } from "../../src/models/registry.ts";
import { Carn } from "../../src/models/zoo/carn.ts";
import { Drln } from "../../src/models/zoo/drln.ts";
import { Edsr } from "../../src/models/zoo/edsr.ts";
import { Fsrcnn } from "../../src/models/zoo/fsrcnn.ts";
import { Imdn } from "../../src/models/zoo/imdn.ts";
import { Rcan } from "../../src/models/zoo/rcan.ts";
import { Rnan } from "../../src/models/zoo/rnan.ts";
import { RrdbNet } from "../../src/models/zoo/rrdbnet.ts";
import { San } from "../../src/models/zoo/san.ts";
import { mul } from "../../src/ops/binary.ts";
import { tensor } from "../../src/ops/creation.ts";
import { sum } from "../../src/ops/reduce.ts";
import { hashedStateDict, hashValues } from "./hashed-weights.ts";

interface KeyInfo {
  name: string;
  class: string;
  scale: number;
  config: Record<string, unknown>;
  keys: [string, number[]][];
  stateCount: number;
}

interface Case extends KeyInfo {
  inputShape: number[];
  inputRange: number;
  outputShape: number[];
  output: number[];
  inputGrad: number[];
}

const fixture: { cases: Case[]; published: KeyInfo[] } = JSON.parse(
  gunzipSync(readFileSync(new URL("./fixtures/sr-zoo.json.gz", import.meta.url))).toString("utf8"),
);

// biome-ignore lint/suspicious/noExplicitAny: constructors with differing config types
const NETWORKS: Record<string, new (scale: number, config: any) => Module> = {
  // The classifiers take only a config.
  VggNet: class extends VggNet {
    constructor(_scale: number, config: Partial<VggConfig>) {
      super(config);
    }
  },
  ResNet: class extends ResNet {
    constructor(_scale: number, config: Partial<ResNetConfig>) {
      super(config);
    }
  },
  Fsrcnn,
  Edsr,
  Rcan,
  RrdbNet,
  Carn,
  Imdn,
  Rnan,
  San,
  Drln,
};

function maxRelErr(ours: ArrayLike<number>, ref: number[]): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(ours[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return err / scale;
}

/** Same names, same shapes, same number of values as the PyTorch state_dict. */
function expectKeyParity(model: Module, ref: KeyInfo): void {
  const ours = [...model.stateDict()].map(([k, v]) => [k, [...v.shape]] as [string, number[]]);
  const byName = (a: [string, number[]], b: [string, number[]]) => (a[0] < b[0] ? -1 : 1);
  expect(ours.sort(byName)).toEqual([...ref.keys].sort(byName));
  expect(ours.reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0)).toBe(ref.stateCount);
}

describe("SR zoo: published configurations have the official state-dict keys and sizes", () => {
  for (const c of fixture.published) {
    test(`${c.name} (${(c.stateCount / 1e6).toFixed(2)}M values)`, () => {
      const model = skipInit(() => new NETWORKS[c.class](c.scale, c.config));
      expectKeyParity(model, c);
      for (const [, v] of model.stateDict()) v.dispose();
    });
  }
});

describe("SR zoo and classifiers match PyTorch's output and input gradient (hashed weights)", () => {
  for (const c of fixture.cases) {
    test(c.name, () => {
      const t0 = performance.now();
      const model = skipInit(() => new NETWORKS[c.class](c.scale, c.config));
      expectKeyParity(model, c);

      model.loadStateDict(hashedStateDict(model), { strict: false });
      const n = c.inputShape.reduce((a, b) => a * b, 1);
      const xv = Float32Array.from(hashValues(n, 1_000_000), (v) => ((v + 1) / 2) * c.inputRange);
      const outN = c.outputShape.reduce((a, b) => a * b, 1);
      const g = tensor(Float32Array.from(hashValues(outN, 2_000_000)), c.outputShape);
      const t1 = performance.now();
      const { y, dx } = tidy(() => {
        const x = tensor(xv, c.inputShape);
        const out = model.call(x);
        const d = grad((v) => sum(mul(model.call(v), g)))(x);
        return { y: { shape: out.shape, data: out.dataSync() }, dx: d.dataSync() };
      });
      const t2 = performance.now();
      const eOut = maxRelErr(y.data, c.output);
      const eGrad = maxRelErr(dx, c.inputGrad);
      console.log(
        `${c.name}: ${c.stateCount} values; max error / max |ref|: output ${eOut.toExponential(2)}, input grad ${eGrad.toExponential(2)}; build+load ${(t1 - t0).toFixed(0)} ms, fwd+bwd ${(t2 - t1).toFixed(0)} ms`,
      );
      expect(y.shape).toEqual(c.outputShape);
      expect(eOut).toBeLessThan(1e-4);
      expect(eGrad).toBeLessThan(1e-4);
      for (const [, v] of model.stateDict()) v.dispose();
    });
  }
});

describe("registry names build the published configurations", () => {
  const PAIRS: [string, number, string][] = [
    ["fsrcnn", 4, "fsrcnn-x4"],
    ["edsr-baseline", 2, "edsr-baseline-x2"],
    ["edsr", 4, "edsr-full-x4"],
    ["rcan", 4, "rcan-x4"],
    ["rrdbnet", 4, "rrdbnet-x4"],
    ["carn", 2, "carn-x2"],
    ["carn-m", 4, "carn-m-x4"],
    ["imdn", 4, "imdn-x4"],
    ["rnan", 4, "rnan-x4"],
    ["san", 4, "san-x4"],
    ["drln", 4, "drln-x4"],
  ];
  const all = [...fixture.published, ...fixture.cases];
  for (const [name, scale, ref] of PAIRS) {
    test(`${name} x${scale} = ${ref}`, () => {
      const model = skipInit(() => createArchitecture(name, scale));
      expectKeyParity(model, all.find((c) => c.name === ref)!);
      for (const [, v] of model.stateDict()) v.dispose();
    });
  }
  test("an unknown name lists the known ones", () => {
    expect(() => createArchitecture("srgan", 4)).toThrow(
      /unknown architecture "srgan" \(known: fsrcnn, /,
    );
  });
});
