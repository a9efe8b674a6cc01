/**
 * Models from URLs through an injected fetch that serves fixture bytes: the ONNX net must compute
 * what torch computed, a hand-made tfjs layers-model (shards resolved relative to model.json) its
 * closed form, weight files must land in the architecture; failures name the URL and HTTP status.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { SmallCnn } from "../../src/models/classifiers/small-cnn.ts";
import {
  type FetchLike,
  fetchBytes,
  loadModelFromUrl,
  loadOnnxFromUrl,
  loadTfjsLayersModelFromUrl,
} from "../../src/models/io/fetch-model.ts";
import { loadOnnx, type OnnxModel } from "../../src/models/io/onnx/model.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import { TfjsLayersModel } from "../../src/models/io/tfjs-layers.ts";
import { tensor } from "../../src/ops/creation.ts";
import { tinyLayersModel } from "./tfjs-tiny.ts";

const IO = join(import.meta.dirname, "..", "fixtures", "io");
const bytes = (path: string) => new Uint8Array(readFileSync(path));
const ref = JSON.parse(readFileSync(join(IO, "small_cnn.json"), "utf8"));
const HOST = "https://models.test";

/** A fetch serving `files` (URL -> bytes), 404 for anything else; it records every request. */
function fakeFetch(files: Record<string, Uint8Array | string>) {
  const requested: string[] = [];
  const fetch: FetchLike = async (url) => {
    requested.push(url);
    const body = files[url];
    const data = typeof body === "string" ? new TextEncoder().encode(body) : body;
    return {
      ok: data !== undefined,
      status: data !== undefined ? 200 : 404,
      statusText: data !== undefined ? "OK" : "Not Found",
      arrayBuffer: async () => (data ?? new Uint8Array()).slice().buffer as ArrayBuffer,
    };
  };
  return { fetch, requested };
}

function expectClose(got: ArrayLike<number>, want: number[], atol = 1e-4) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i] - want[i]) - 1e-3 * Math.abs(want[i]));
  expect(worst).toBeLessThan(atol);
}

describe("loadModelFromUrl", () => {
  it("an .onnx URL gives the ONNX graph, computing what torch computed", async () => {
    const url = `${HOST}/nets/small_cnn.onnx`;
    const { fetch, requested } = fakeFetch({ [url]: bytes(join(IO, "small_cnn.onnx")) });
    const model = (await loadModelFromUrl(url, { fetch })) as OnnxModel;
    expect(requested).toEqual([url]);
    tidy(() => {
      const out = model.run({ x: tensor(Float32Array.from(ref.x.values), ref.x.shape) });
      expectClose(out.sr.dataSync(), ref.sr.values);
      expectClose(out.probs.dataSync(), ref.probs.values);
    });
    expect(model.name).toBe(url);
  });

  it("a model.json URL fetches its shards relative to it and computes relu(W x + b)", async () => {
    const { json, shard } = tinyLayersModel("../shards/w.bin");
    const { fetch, requested } = fakeFetch({
      [`${HOST}/m/v1/model.json`]: json,
      [`${HOST}/m/shards/w.bin`]: shard,
    });
    const model = await loadModelFromUrl(`${HOST}/m/v1/model.json`, { fetch });
    expect(model).toBeInstanceOf(TfjsLayersModel);
    expect(requested).toEqual([`${HOST}/m/v1/model.json`, `${HOST}/m/shards/w.bin`]);
    // One pixel, channels (2, 5): out_o = relu(2 (0 - o) + 5 (1 - o) + b_o) = relu(5 - 7 o + b_o).
    expect(Array.from(model.call(tensor([2, 5], [1, 2, 1, 1])).dataSync())).toEqual([6, 3, 0]);
  });

  it("a checkpoint URL with a module as arch restores torch's outputs", async () => {
    const fresh = loadOnnx(bytes(join(IO, "small_cnn.onnx")));
    const zeros = new Map(
      [...fresh.stateDict()].map(([k, v]) => [
        k,
        { shape: [...v.shape], values: new Float32Array(v.size) },
      ]),
    );
    fresh.loadStateDict(zeros);
    const url = `${HOST}/ckpt/small_cnn.pth?download=1`;
    const { fetch } = fakeFetch({ [url]: bytes(join(IO, "small_cnn.pth")) });
    const loaded = await loadModelFromUrl(url, { fetch, arch: fresh });
    expect(loaded).toBe(fresh);
    tidy(() =>
      expectClose(
        fresh.run({ x: tensor(Float32Array.from(ref.x.values), ref.x.shape) }).sr.dataSync(),
        ref.sr.values,
      ),
    );
  });

  it("a safetensors URL with an architecture name builds it and assigns the file's values", async () => {
    const file = bytes(
      join(import.meta.dirname, "../../src/models/weights/fashion-cnn.safetensors"),
    );
    const want = readSafetensors(file);
    const c1 = want.get("features.0.weight")!.shape[0];
    const c2 = want.get("features.3.weight")!.shape[0];
    const url = `${HOST}/w/fashion-cnn.safetensors`;
    const { fetch } = fakeFetch({ [url]: file });
    const model = await loadModelFromUrl(url, {
      fetch,
      arch: "small-cnn",
      config: { channels: [c1, c2] },
    });
    expect(model).toBeInstanceOf(SmallCnn);
    const sd = model.stateDict();
    expect([...sd.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want)
      expect(Array.from(sd.get(k)!.dataSync())).toEqual(Array.from(v.values));
  });
});

describe("failures name the URL and what was wrong", () => {
  it("HTTP errors give the status", async () => {
    const { fetch } = fakeFetch({});
    await expect(loadModelFromUrl(`${HOST}/missing.onnx`, { fetch })).rejects.toThrow(
      `fetching ${HOST}/missing.onnx failed: HTTP 404 Not Found`,
    );
  });

  it("a missing shard names the shard's URL", async () => {
    const { json } = tinyLayersModel("w.bin");
    const { fetch } = fakeFetch({ [`${HOST}/m/model.json`]: json });
    await expect(loadTfjsLayersModelFromUrl(`${HOST}/m/model.json`, { fetch })).rejects.toThrow(
      `fetching ${HOST}/m/w.bin failed: HTTP 404`,
    );
  });

  it("network errors and unreadable JSON", async () => {
    const failing: FetchLike = async () => {
      throw new TypeError("fetch failed");
    };
    await expect(fetchBytes(`${HOST}/a.onnx`, failing)).rejects.toThrow(
      `cannot fetch ${HOST}/a.onnx: fetch failed`,
    );
    const { fetch } = fakeFetch({ [`${HOST}/model.json`]: "{not json" });
    await expect(loadModelFromUrl(`${HOST}/model.json`, { fetch })).rejects.toThrow(
      `tfjs model ${HOST}/model.json: not valid JSON`,
    );
  });

  it("weights without an architecture, or an SR architecture without a scale, are refused", async () => {
    const url = `${HOST}/w/weights.bin`;
    const file = bytes(
      join(import.meta.dirname, "../../src/models/weights/fashion-cnn.safetensors"),
    );
    const { fetch, requested } = fakeFetch({ [url]: file });
    await expect(loadModelFromUrl(url, { fetch })).rejects.toThrow(
      `${url} holds safetensors weights without an architecture: give options.arch`,
    );
    requested.length = 0;
    await expect(loadModelFromUrl(url, { fetch, arch: "fsrcnn" })).rejects.toThrow(
      /into "fsrcnn": give options.scale/,
    );
    // Refused before any download.
    expect(requested).toEqual([]);
    await expect(loadModelFromUrl(url, { fetch, arch: "nope", scale: 2 })).rejects.toThrow(
      /unknown architecture "nope"/,
    );
  });

  it("a weight file that does not fit the architecture names the URL", async () => {
    const url = `${HOST}/w/fsrcnn.safetensors`;
    const file = bytes(
      join(import.meta.dirname, "../../src/models/weights/fashion-cnn.safetensors"),
    );
    const { fetch } = fakeFetch({ [url]: file });
    await expect(loadModelFromUrl(url, { fetch, arch: "fsrcnn", scale: 2 })).rejects.toThrow(url);
  });

  it("relative URLs need a page to resolve against", async () => {
    const { fetch } = fakeFetch({});
    await expect(loadOnnxFromUrl("models/a.onnx", { fetch })).rejects.toThrow(
      /"models\/a.onnx" is not an absolute URL and there is no page location/,
    );
  });
});
