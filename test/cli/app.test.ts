/**
 * `salient app`: the explorer's server (files, the catalogue of installed UpscalerJS models, paths
 * that try to leave the site), `--build DIR`, and the URL state the page reads and writes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appServer, buildSite, installedUpscalers } from "../../src/cli/app.ts";
import { DEFAULT_STATE, parseState, stateQuery } from "../../web/app/protocol.ts";

describe("the explorer's URL state", () => {
  it("reads a LAM link", () => {
    const s = parseState("?model=fsrcnn-x2&image=chelsea&window=20,24,12&fold=6&compare=bicubic");
    expect(s).toMatchObject({
      mode: "lam",
      model: "fsrcnn-x2",
      compare: "bicubic",
      image: "chelsea",
      scale: 2, // fsrcnn-x2 is x2 only
      window: { x: 20, y: 24, size: 12 },
      fold: 6,
      sigma: DEFAULT_STATE.sigma,
    });
    expect(parseState("?model=bicubic").scale).toBe(4);
  });

  it("reads a classifier link", () => {
    const s = parseState("?mode=classify&model=fashion-cnn&image=test-9&method=gradcam&target=3");
    expect(s).toMatchObject({ mode: "classify", image: "test-9", method: "gradcam", target: 3 });
  });

  it("writes back the link it reads", () => {
    for (const q of [
      "model=bicubic&image=astronaut&window=48,48,16&fold=10",
      "model=esrgan-slim&image=coffee&compare=bicubic&scale=2&crop=64&window=1,2,8&fold=50&sigma=2&path=linear-black",
      "mode=classify&model=fashion-cnn&image=test-0&method=saliency&target=9",
    ])
      expect(stateQuery(parseState(`?${q}`))).toBe(q);
  });

  it("names the parameter and what it expects when a value is bad", () => {
    expect(() => parseState("?window=1,2")).toThrow(/\?window=1,2: expected x,y,size/);
    expect(() => parseState("?fold=0")).toThrow(/\?fold=0: expected an integer from 1/);
    expect(() => parseState("?mode=draw")).toThrow(/expected "lam" or "classify"/);
    expect(() => parseState("?path=zigzag")).toThrow(/blur, linear-black, linear-blur/);
    expect(() => parseState("?sigma=-1")).toThrow(/\?sigma=-1/);
  });
});

describe("salient app's server", () => {
  let dir: string;
  let base: string;
  let close: () => void;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "salient-app-"));
    mkdirSync(join(dir, "site", "photos"), { recursive: true });
    writeFileSync(join(dir, "site", "index.html"), "<p>explorer</p>");
    writeFileSync(join(dir, "site", "photos", "a.png"), "png bytes");
    writeFileSync(
      join(dir, "site", "catalogue.json"),
      JSON.stringify({ photos: ["a"], upscaler: [] }),
    );
    writeFileSync(join(dir, "secret.txt"), "outside the site");
    const server = appServer(join(dir, "site"), installedUpscalers(["esrgan-slim"]));
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => {
    close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the page and its files with their types", async () => {
    const page = await fetch(`${base}/`);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toBe("<p>explorer</p>");
    const photo = await fetch(`${base}/photos/a.png`);
    expect(photo.headers.get("content-type")).toBe("image/png");
    expect(await photo.text()).toBe("png bytes");
  });

  it("lists the installed UpscalerJS models and serves their files", async () => {
    const cat = await (await fetch(`${base}/catalogue.json`)).json();
    expect(cat.photos).toEqual(["a"]);
    const slim = cat.upscaler.find((u: { name: string }) => u.name === "esrgan-slim");
    expect(slim.range).toBe(255);
    expect(slim.urls["4"]).toBe("upscaler/esrgan-slim/x4/model.json");
    const json = await (await fetch(`${base}/${slim.urls["4"]}`)).json();
    const shard = json.weightsManifest[0].paths[0];
    const bytes = await (await fetch(`${base}/upscaler/esrgan-slim/x4/${shard}`)).arrayBuffer();
    const onDisk = readFileSync(join("node_modules/@upscalerjs/esrgan-slim/models/x4", shard));
    expect(Buffer.from(bytes).equals(onDisk)).toBe(true);
  });

  it("answers 404 for missing files and for paths that leave the site", async () => {
    expect((await fetch(`${base}/nothing.js`)).status).toBe(404);
    expect((await fetch(`${base}/%2e%2e/secret.txt`)).status).toBe(404);
    expect(
      (await fetch(`${base}/upscaler/esrgan-slim/x4/%2e%2e%2f%2e%2e%2fpackage.json`)).status,
    ).toBe(404);
    expect((await fetch(`${base}/upscaler/esrgan-thick/x4/model.json`)).status).toBe(404);
  });

  it("--build writes a site with the chosen UpscalerJS models", () => {
    const out = join(dir, "built");
    process.env.SALIENT_APP_DIR = join(dir, "site");
    try {
      expect(buildSite(out, ["default-model"])).toEqual(["default-model"]);
    } finally {
      delete process.env.SALIENT_APP_DIR;
    }
    expect(readFileSync(join(out, "index.html"), "utf8")).toBe("<p>explorer</p>");
    const cat = JSON.parse(readFileSync(join(out, "catalogue.json"), "utf8"));
    expect(cat.upscaler.map((u: { name: string }) => u.name)).toEqual(["default-model"]);
    const url = cat.upscaler[0].urls["2"];
    expect(readFileSync(join(out, url), "utf8")).toBe(
      readFileSync("node_modules/@upscalerjs/default-model/models/model.json", "utf8"),
    );
  });
});
