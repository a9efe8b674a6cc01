/**
 * Engine-level cases (backend-agnostic): gradient-rule oracles, Euler's identity, LRP rules
 * against their matrix form, the ReLU gating invariant, integrated-gradients completeness,
 * customGrad, second-order gradients (the gradient rules' own rules), variableGrads, gradients
 * of constant functions, memory over 1000 gradient calls, error messages for bad input, and the
 * checkNaN flag. Expected values come from closed forms, published numbers (Captum), float64
 * references and finite differences, never from the engine itself.
 */
import fc from "fast-check";
import type { Tensor } from "../../src/index.ts";
import * as s from "../../src/index.ts";
import {
  CAPTUM_CONVNET_MAPS,
  CAPTUM_CONVNET_SCORE,
  captumConvNetInput,
  captumConvNetScore,
} from "../helpers/captum-convnet.ts";
import { numericJacobian, numericVjp } from "../reference/finite-diff.ts";
import { gatherRef, padRef, sliceRef } from "../reference/layout.ts";
import { type Nd, nd, shapeStr } from "../reference/nd.ts";
import { avgPool2dRef, conv2dRef, linearRef, matmulRef, maxPool2dRef } from "../reference/nn.ts";
import { resizeRef } from "../reference/resample.ts";
import { Rng } from "../reference/rng.ts";
import {
  assertClose,
  check,
  evalOn,
  expectThrows,
  property,
  runsFor,
  type SuiteCase,
  type SuiteContext,
  seedArb,
  tol,
  toTensor,
} from "./harness.ts";
import { type Net, netEngine, netRef, noProbe, randomNet } from "./nets.ts";

const { rules } = s;

// ---------------------------------------------------------------------------------------------
// Captum's BasicModel_ConvNet_One_Conv oracle (test/helpers/captum-convnet.ts)

const captumCase: SuiteCase = {
  name: "rule sets: Captum 4x4 conv-net oracle (gradient, guided backprop, deconvnet; separate and fused ReLU) gives the published maps exactly",
  run: async (ctx) => {
    for (const fused of [false, true]) {
      for (const [ruleName, want] of Object.entries(CAPTUM_CONVNET_MAPS)) {
        const ruleSet = rules[ruleName as keyof typeof CAPTUM_CONVNET_MAPS];
        const { values, shapes } = await evalOn(ctx.backend, () => {
          const x = captumConvNetInput();
          const { value, grad } = s.withRules(ruleSet, () =>
            s.valueAndGrad((t) => captumConvNetScore(t, fused))(x),
          );
          return [value, grad];
        });
        const what = `Captum oracle ${ruleName}${fused ? " (conv2d relu: true)" : " (separate relu)"}`;
        assertClose(`${what} output`, values[0], shapes[0], nd([], [CAPTUM_CONVNET_SCORE]), tol(0));
        assertClose(`${what} map`, values[1], shapes[1], nd([1, 1, 4, 4], want), tol(0));
      }
    }
  },
};

// ---------------------------------------------------------------------------------------------
// A net without ReLU: the three ReLU rule sets coincide (and equal finite differences)

const noReluCase: SuiteCase = {
  name: "rule sets: a net without ReLU (conv, tanh, avg-pool, linear, sigmoid) gives the same map under gradient, guided backprop and deconvnet, equal to finite differences",
  run: (ctx) =>
    property(ctx, "no-relu net", 5, seedArb, async (seed) => {
      const r = new Rng(seed);
      const x = r.nd([1, 2, 6, 6], -1, 1);
      const w1 = r.nd([3, 2, 3, 3], -0.5, 0.5);
      const b1 = r.nd([3], -0.5, 0.5);
      const wl = r.nd([2, 27], -0.5, 0.5);
      const bl = r.nd([2], -0.5, 0.5);
      const conv = { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 } as const;
      const ref = ([v]: Nd[]): Nd => {
        const h = conv2dRef(v, w1, conv, b1);
        const t = { shape: h.shape, data: h.data.map(Math.tanh) };
        const p = avgPool2dRef(t, {
          kernel: [2, 2],
          stride: [2, 2],
          padding: [0, 0],
          ceilMode: false,
        });
        const o = linearRef({ shape: [1, 27], data: p.data }, wl, bl);
        return nd([], [1 / (1 + Math.exp(-o.data[1]))]);
      };
      const f = (t: Tensor) => {
        const h = s.tanh(s.conv2d(t, toTensor(w1), { bias: toTensor(b1), padding: 1 }));
        const p = s.flatten(s.avgPool2d(h, { kernel: 2 }));
        const o = s.linear(p, toTensor(wl), toTensor(bl));
        return s.sum(s.sigmoid(s.slice(o, [0, 1], [1, 1])));
      };
      const { values, shapes } = await evalOn(ctx.backend, () => {
        const xt = toTensor(x);
        return [rules.gradient, rules.guidedBackprop, rules.deconvnet].map((rs) =>
          s.withRules(rs, () => s.grad(f)(xt)),
        );
      });
      const [numeric] = numericVjp(ref, [x], nd([], [1]), [0]);
      const names = ["gradient", "guidedBackprop", "deconvnet"];
      values.forEach((v, i) => {
        assertClose(
          `no-relu net ${names[i]} map (x [1,2,6,6])`,
          v,
          shapes[i],
          numeric,
          tol(1e-5, 1e-3),
        );
        check(
          v.every((e, j) => e === values[0][j]),
          `no-relu net: ${names[i]} map differs from the gradient map`,
        );
      });
    }),
};

// ---------------------------------------------------------------------------------------------
// Euler's identity on bias-free ReLU / max-pool nets

/** f(x) = net(x)[0, t] as a scalar. */
const target =
  (net: Net, params: Tensor[], t: number, probe = noProbe) =>
  (x: Tensor) =>
    s.sum(s.slice(netEngine(net, params, x, probe), [0, t], [1, 1]));

const eulerCase: SuiteCase = {
  name: "Euler's identity: sum(x * grad f) = f(x) on random bias-free ReLU / max-pool conv nets",
  run: (ctx) =>
    property(ctx, "euler", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const net = randomNet(r, { bias: false });
      const x = r.nd([1, net.spec.c0, net.spec.h, net.spec.w], -1, 1);
      const t = r.int(0, net.spec.nout - 1);
      const { values } = await evalOn(ctx.backend, () => [
        s.grad(target(net, net.params.map(toTensor), t))(toTensor(x)),
      ]);
      const g = values[0];
      let sum = 0;
      let scale = 0;
      for (let i = 0; i < g.length; i++) {
        sum += x.data[i] * g[i];
        scale += Math.abs(x.data[i] * g[i]);
      }
      const f = netRef(net, net.params, x).out.data[t];
      const err = Math.abs(sum - f);
      const bound = 1e-5 + 1e-4 * (scale + Math.abs(f));
      check(
        err <= bound,
        `Euler identity (net ${JSON.stringify(net.spec)}, x ${shapeStr(x.shape)}, target ${t}): sum(x * grad) = ${sum}, f(x) = ${f}, |error| ${err} > tolerance ${bound}`,
      );
    }),
};

// ---------------------------------------------------------------------------------------------
// LRP

const lrpNetCase: SuiteCase = {
  name: "LRP-epsilon (eps 1e-9) equals gradient x input on random bias-free ReLU / max-pool nets (gradient by finite differences of the float64 net)",
  run: (ctx) =>
    property(ctx, "lrp-eps net", 12, seedArb, async (seed) => {
      const r = new Rng(seed);
      const net = randomNet(r, { bias: false });
      const x = r.nd([1, net.spec.c0, net.spec.h, net.spec.w], -1, 1);
      const trace = netRef(net, net.params, x);
      fc.pre(trace.margin > 1e-3);
      const t = r.int(0, net.spec.nout - 1);
      const onehot = nd([1, net.spec.nout]);
      onehot.data[t] = 1;
      const [grad] = numericVjp((xs) => netRef(net, net.params, xs[0]).out, [x], onehot, [0]);
      const want = nd(
        x.shape,
        x.data.map((v, i) => v * grad.data[i]),
      );
      const relevance = nd([1, net.spec.nout]);
      relevance.data[t] = Math.fround(trace.out.data[t]);
      const { values, shapes } = await evalOn(ctx.backend, () => {
        const params = net.params.map(toTensor);
        return s.withRules(
          rules.lrpEpsilon(1e-9),
          () =>
            s.vjp((v: Tensor) => netEngine(net, params, v), [toTensor(x)], toTensor(relevance))
              .grads,
        );
      });
      const scale = Math.max(...want.data.map(Math.abs), 1e-3);
      assertClose(
        `LRP-epsilon vs gradient x input (net ${JSON.stringify(net.spec)}, target ${t})`,
        values[0],
        shapes[0],
        want,
        tol(1e-4 * scale, 1e-3),
      );
    }),
};

/** sign with sign(0) = +1, as the stabiliser z + eps * sign(z) uses it. */
const sgn = (z: number) => (z >= 0 ? 1 : -1);

/**
 * R_in for one affine layer with Jacobian J (rows: outputs): epsilon rule
 * x_j sum_i J_ij R_i / (z_i + eps sgn z_i), and z+ rule (no bias) with J+ = max(J, 0),
 * J- = min(J, 0): z_i = sum_j J+_ij x+_j + J-_ij x-_j, R_j = x+_j sum_i J+_ij s_i +
 * x-_j sum_i J-_ij s_i, s = R / (z + eps sgn z).
 */
function lrpMatrix(rule: "epsilon" | "zplus", J: number[][], x: Nd, z: Nd, R: Nd, eps: number): Nd {
  const n = x.data.length;
  const out = nd(x.shape);
  if (rule === "epsilon") {
    J.forEach((row, i) => {
      const si = R.data[i] / (z.data[i] + eps * sgn(z.data[i]));
      for (let j = 0; j < n; j++) out.data[j] += x.data[j] * row[j] * si;
    });
    return out;
  }
  J.forEach((row, i) => {
    let zp = 0;
    for (let j = 0; j < n; j++) {
      const v = x.data[j];
      zp += v >= 0 ? Math.max(row[j], 0) * v : Math.min(row[j], 0) * v;
    }
    const si = R.data[i] / (zp + eps * sgn(zp));
    for (let j = 0; j < n; j++) {
      const v = x.data[j];
      out.data[j] += v >= 0 ? v * Math.max(row[j], 0) * si : v * Math.min(row[j], 0) * si;
    }
  });
  return out;
}

function lrpLayerCase(layer: "linear" | "conv2d"): SuiteCase {
  const name = `LRP-epsilon and LRP-z+ on one random ${layer} layer match the matrix form (Jacobian from the float64 reference); z+ with non-negative and mixed-sign inputs`;
  return {
    name,
    run: (ctx) =>
      property(ctx, name, 12, seedArb, async (seed) => {
        const r = new Rng(seed);
        let x: Nd;
        let params: Nd[];
        let ref: (x: Nd) => Nd;
        let engine: (x: Tensor, ps: Tensor[]) => Tensor;
        if (layer === "linear") {
          const [nin, nout] = [r.int(1, 6), r.int(1, 5)];
          x = r.nd([1, nin], -1, 1);
          params = [r.nd([nout, nin], -1, 1), r.nd([nout], -0.5, 0.5)];
          ref = (v) => linearRef(v, params[0], params[1]);
          engine = (v, [w, b]) => s.linear(v, w, b);
        } else {
          const [cin, cout, k] = [r.int(1, 2), r.int(1, 3), r.int(1, 3)];
          const stride = r.int(1, 2);
          const pad = r.int(0, k - 1);
          x = r.nd([1, cin, r.int(k, 5), r.int(k, 5)], -1, 1);
          params = [r.nd([cout, cin, k, k], -1, 1), r.nd([cout], -0.5, 0.5)];
          const p = {
            stride: [stride, stride],
            pad: [pad, pad, pad, pad],
            dilation: [1, 1],
            groups: 1,
          } as const;
          ref = (v) => conv2dRef(v, params[0], p, params[1]);
          engine = (v, [w, b]) => s.conv2d(v, w, { bias: b, stride, padding: pad });
        }
        const positive = r.bool();
        if (positive) x = nd(x.shape, x.data.map(Math.abs));
        const z = ref(x);
        const J = numericJacobian(ref, nd(x.shape, x.data));
        const R = r.nd(z.shape, 0.1, 1);
        const eps = r.pick([1e-6, 0.1, 1]);
        for (const rule of ["epsilon", "zplus"] as const) {
          const want = lrpMatrix(rule, J, x, z, R, eps);
          if (rule === "epsilon") fc.pre(z.data.every((v) => Math.abs(v) > 0.05));
          const { values, shapes } = await evalOn(ctx.backend, () => {
            const ps = params.map(toTensor);
            const set = rule === "epsilon" ? rules.lrpEpsilon(eps) : rules.lrpZPlus(eps);
            return s.withRules(
              set,
              () => s.vjp((v: Tensor) => engine(v, ps), [toTensor(x)], toTensor(R)).grads,
            );
          });
          const scale = Math.max(...want.data.map(Math.abs), 1e-3);
          assertClose(
            `LRP-${rule} ${layer} (x ${shapeStr(x.shape)}${positive ? " non-negative" : ""}, W ${shapeStr(params[0].shape)}, eps ${eps})`,
            values[0],
            shapes[0],
            want,
            tol(1e-4 * scale, 1e-3),
          );
        }
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Gating invariant

let negativeSeen = 0;

const gatingCase: SuiteCase = {
  name: "gating invariant: the signal leaving every ReLU is >= 0 under guided backprop and deconvnet (customGrad probes; the plain gradient does go negative)",
  run: async (ctx) => {
    negativeSeen = 0;
    await property(ctx, "gating", 10, seedArb, async (seed) => {
      const r = new Rng(seed);
      const net = randomNet(r, { bias: true });
      const x = r.nd([1, net.spec.c0, net.spec.h, net.spec.w], -1, 1);
      const dy = r.nd([1, net.spec.nout], -1, 1);
      for (const name of ["gradient", "guidedBackprop", "deconvnet"] as const) {
        const captured: Tensor[] = [];
        const probe = s.customGrad(
          (t: Tensor) => ({ value: s.mul(t, 1) }),
          (g: Tensor) => {
            captured.push(s.keep(s.mul(g, 1)));
            return [s.mul(g, 1)];
          },
        );
        await evalOn(ctx.backend, () => {
          const params = net.params.map(toTensor);
          s.withRules(rules[name], () =>
            s.vjp((v: Tensor) => netEngine(net, params, v, probe), [toTensor(x)], toTensor(dy)),
          );
          return [];
        });
        check(
          captured.length === 2,
          `gating: ${captured.length} probes fired, expected 2 (one per ReLU)`,
        );
        for (const [k, t] of captured.entries()) {
          const v = await t.data();
          t.dispose();
          const min = Math.min(...v);
          if (name === "gradient") {
            if (min < 0) negativeSeen++;
          } else {
            check(
              min >= 0,
              `gating (${name}, net ${JSON.stringify(net.spec)}): signal leaving ReLU ${k} has a negative entry ${min}`,
            );
          }
        }
      }
    });
    check(
      negativeSeen > 0,
      "gating: the plain gradient never went negative at a ReLU; the probes test nothing",
    );
  },
};

// ---------------------------------------------------------------------------------------------
// Integrated gradients completeness

/** Gauss-Legendre nodes and weights on [0, 1] (Newton on the Legendre polynomial). */
export function gaussLegendre(n: number): { alphas: number[]; weights: number[] } {
  const alphas = new Array<number>(n);
  const weights = new Array<number>(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let pp = 0;
    for (let it = 0; it < 100; it++) {
      let p1 = 1;
      let p2 = 0;
      for (let j = 1; j <= n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j;
      }
      pp = (n * (z * p1 - p2)) / (z * z - 1);
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) < 1e-15) break;
    }
    const w = 2 / ((1 - z * z) * pp * pp);
    alphas[i] = (1 - z) / 2;
    alphas[n - 1 - i] = (1 + z) / 2;
    weights[i] = w / 2;
    weights[n - 1 - i] = w / 2;
  }
  return { alphas, weights };
}

/** Riemann middle rule: alpha_k = (k + 1/2) / n, weights 1/n. */
export function riemannMiddle(n: number): { alphas: number[]; weights: number[] } {
  return {
    alphas: Array.from({ length: n }, (_, k) => (k + 0.5) / n),
    weights: new Array<number>(n).fill(1 / n),
  };
}

/**
 * A minimal IG: all path points in one batch, gradients of sum_k f(x_k) (samples independent),
 * attributions (x - b) * sum_k w_k grad_k. Returns the attribution sum and the largest
 * |directional derivative| seen on the path.
 */
async function igSum(
  ctx: SuiteContext,
  f: (batch: Tensor) => Tensor,
  x: Nd,
  b: Nd,
  rule: { alphas: number[]; weights: number[] },
): Promise<{ sum: number; maxSlope: number }> {
  const n = rule.alphas.length;
  const per = x.data.length;
  const pts = nd([n, ...x.shape.slice(1)]);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < per; i++) {
      pts.data[k * per + i] = Math.fround(b.data[i] + rule.alphas[k] * (x.data[i] - b.data[i]));
    }
  }
  const { values } = await evalOn(ctx.backend, () => [s.grad((t) => s.sum(f(t)))(toTensor(pts))]);
  const g = values[0];
  let sum = 0;
  let maxSlope = 0;
  for (let k = 0; k < n; k++) {
    let slope = 0;
    for (let i = 0; i < per; i++) slope += (x.data[i] - b.data[i]) * g[k * per + i];
    sum += rule.weights[k] * slope;
    maxSlope = Math.max(maxSlope, Math.abs(slope));
  }
  return { sum, maxSlope };
}

const igTarget = (net: Net, t: number) => (batch: Tensor) => {
  const y = netEngine(net, net.params.map(toTensor), batch);
  return s.slice(y, [0, t], [batch.shape[0], 1]);
};

const igConvergenceCase: SuiteCase = {
  name: "IG completeness: on random conv nets (conv+relu+pool+linear, biases), sum of attributions -> f(x) - f(baseline); Riemann-middle and Gauss-Legendre error at 256 steps far below 8 steps",
  run: async (ctx) => {
    const totals = { riemann: [0, 0], gauss: [0, 0] };
    await property(ctx, "ig convergence", 6, seedArb, async (seed) => {
      const r = new Rng(seed);
      const net = randomNet(r, { bias: true, pool: true });
      const shape = [1, net.spec.c0, net.spec.h, net.spec.w];
      const x = r.nd(shape, -1, 1);
      const b = r.bool() ? nd(shape) : r.nd(shape, -1, 1);
      const t = r.int(0, net.spec.nout - 1);
      const delta = netRef(net, net.params, x).out.data[t] - netRef(net, net.params, b).out.data[t];
      for (const [name, rule] of [
        ["riemann", riemannMiddle],
        ["gauss", gaussLegendre],
      ] as const) {
        const errs: number[] = [];
        for (const steps of [8, 256]) {
          const { sum, maxSlope } = await igSum(ctx, igTarget(net, t), x, b, rule(steps));
          const err = Math.abs(sum - delta);
          errs.push(err);
          if (steps === 256) {
            // Along the path f is piecewise linear; each kink costs at most |jump| / (2 * 256)
            // and a jump is at most 2 * max |slope|: with a few dozen kinks the error is below
            // 0.25 * max |slope| (plus float32 noise).
            const bound = 0.25 * maxSlope + 1e-4 * (Math.abs(delta) + maxSlope) + 1e-5;
            check(
              err <= bound,
              `IG ${name} 256 steps (net ${JSON.stringify(net.spec)}): |sum - (f(x) - f(b))| = ${err} > ${bound}`,
            );
          }
        }
        totals[name][0] += errs[0];
        totals[name][1] += errs[1];
      }
    });
    for (const [name, [e8, e256]] of Object.entries(totals)) {
      const runs = runsFor(ctx, 6);
      check(
        e256 <= e8 / 4 + 1e-5 * runs,
        `IG ${name}: total completeness error over the runs is ${e256} at 256 steps vs ${e8} at 8 steps; expected at least 4x smaller`,
      );
    }
  },
};

const igLinearCase: SuiteCase = {
  name: "IG completeness is exact for linear models (conv + avg-pool + conv + linear, biases) at any step count, Riemann-middle and Gauss-Legendre",
  run: (ctx) =>
    property(ctx, "ig linear", 5, seedArb, async (seed) => {
      const r = new Rng(seed);
      const net = randomNet(r, { bias: true, linear: true });
      const shape = [1, net.spec.c0, net.spec.h, net.spec.w];
      const x = r.nd(shape, -1, 1);
      const b = r.bool() ? nd(shape) : r.nd(shape, -1, 1);
      const t = r.int(0, net.spec.nout - 1);
      const delta = netRef(net, net.params, x).out.data[t] - netRef(net, net.params, b).out.data[t];
      for (const steps of [1, 2, 3, 8, 50]) {
        for (const [name, rule] of [
          ["riemann middle", riemannMiddle],
          ["gauss-legendre", gaussLegendre],
        ] as const) {
          const { sum, maxSlope } = await igSum(ctx, igTarget(net, t), x, b, rule(steps));
          const bound = 1e-5 + 2e-5 * (Math.abs(delta) + maxSlope);
          check(
            Math.abs(sum - delta) <= bound,
            `IG ${name} ${steps} steps on a linear net (${JSON.stringify(net.spec)}): sum ${sum} vs f(x) - f(b) = ${delta} (|error| ${Math.abs(sum - delta)} > ${bound})`,
          );
        }
      }
    }),
};

// ---------------------------------------------------------------------------------------------
// customGrad, variableGrads, constant functions

const customGradCase: SuiteCase = {
  name: "customGrad: forward value is used, and its backward (not the true derivative) drives the gradient; two inputs",
  run: (ctx) =>
    property(ctx, "customGrad", 5, seedArb, async (seed) => {
      const r = new Rng(seed);
      const x = r.nd([2, 3], -1.5, 1.5);
      const y = r.nd([2, 3], -1.5, 1.5);
      // Claims d(x^2)/dx = 3x (the true one is 2x), so the result shows which backward ran.
      const sq = s.customGrad(
        (t: Tensor) => ({ value: s.square(t), residuals: [t] }),
        (dy, [t]) => [s.mul(dy, s.mul(t, 3))],
      );
      // f(a, b) = a * b with backward (dy * b, dy * 7).
      const prod = s.customGrad(
        (a: Tensor, b: Tensor) => ({ value: s.mul(a, b), residuals: [a, b] }),
        (dy, [, b]) => [s.mul(dy, b), s.mul(dy, 7)],
      );
      const { values, shapes } = await evalOn(ctx.backend, () => {
        const xt = toTensor(x);
        const yt = toTensor(y);
        const v = sq(xt);
        const g = s.grad((t) => s.sum(s.sin(sq(t))))(xt);
        const [ga, gb] = s.grads((a: Tensor, b: Tensor) => s.sum(prod(a, b)))([xt, yt]);
        return [v, g, ga, gb];
      });
      const xs = x.data;
      const want = [
        nd(
          x.shape,
          xs.map((v) => v * v),
        ),
        nd(
          x.shape,
          xs.map((v) => Math.cos(v * v) * 3 * v),
        ),
        nd(x.shape, y.data),
        nd(
          x.shape,
          xs.map(() => 7),
        ),
      ];
      const what = ["value", "grad through sin (3x cos x^2)", "product d/da", "product d/db"];
      want.forEach((w, i) =>
        assertClose(`customGrad ${what[i]} (x [2,3])`, values[i], shapes[i], w, tol(1e-5, 1e-4)),
      );
    }),
};

const variableGradsCase: SuiteCase = {
  name: "variableGrads on a tiny model (linear + tanh, squared loss) matches finite differences; only trainable variables, or only those asked for",
  run: (ctx) =>
    property(ctx, "variableGrads", 5, seedArb, async (seed) => {
      const r = new Rng(seed);
      const x = r.nd([3, 4], -1, 1);
      const target = r.nd([3, 2], -1, 1);
      const w = r.nd([2, 4], -1, 1);
      const b = r.nd([2], -1, 1);
      const frozen = r.nd([2], -1, 1);
      const lossRef = ([wv, bv]: Nd[]): Nd => {
        const y = linearRef(x, wv, bv);
        let l = 0;
        y.data.forEach((v, i) => {
          l += (Math.tanh(v) + frozen.data[i % 2] - target.data[i]) ** 2;
        });
        return nd([], [l / y.data.length]);
      };
      const [gw, gb] = numericVjp(lossRef, [w, b], nd([], [1]), [0, 1]);
      const { values, shapes } = await evalOn(ctx.backend, () => {
        const W = new s.Variable(toTensor(w), "W");
        const B = new s.Variable(toTensor(b), "b");
        const F = new s.Variable(toTensor(frozen), "frozen", false);
        try {
          const xt = toTensor(x);
          const tt = toTensor(target);
          const loss = () => s.mean(s.square(s.sub(s.add(s.tanh(s.linear(xt, W, B)), F), tt)));
          const all = s.variableGrads(loss);
          check(
            all.grads.size === 2 && !all.grads.has(F),
            `variableGrads found ${[...all.grads.keys()].map((v) => v.name)}; expected W and b only`,
          );
          const some = s.variableGrads(loss, [B]);
          check(
            some.grads.size === 1,
            `variableGrads(f, [b]) returned ${some.grads.size} gradients`,
          );
          return [
            all.value,
            all.grads.get(W) as Tensor,
            all.grads.get(B) as Tensor,
            some.grads.get(B) as Tensor,
          ];
        } finally {
          s.dispose([W, B, F]);
        }
      });
      assertClose(
        "variableGrads loss value",
        values[0],
        shapes[0],
        lossRef([w, b]),
        tol(1e-6, 1e-5),
      );
      assertClose("variableGrads dW ([2,4])", values[1], shapes[1], gw, tol(1e-6, 1e-4));
      assertClose("variableGrads db ([2])", values[2], shapes[2], gb, tol(1e-6, 1e-4));
      assertClose("variableGrads(f, [b]) db ([2])", values[3], shapes[3], gb, tol(1e-6, 1e-4));
    }),
};

const constantCase: SuiteCase = {
  name: "gradients of functions that do not depend on an input are zeros of that input's shape",
  run: async (ctx) => {
    const { values, shapes } = await evalOn(ctx.backend, () => {
      const x = s.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const y = s.tensor([7, 8]);
      const c = s.tensor([0.5, -2]);
      return [
        s.grad(() => s.sum(c))(x),
        ...s.grads((a: Tensor, _b: Tensor) => s.sum(s.mul(a, 2)))([x, y]),
        s.grad((a) => s.sum(s.mul(s.step(a), 3)))(x),
      ];
    });
    const want = [nd([2, 3]), nd([2, 3], [2, 2, 2, 2, 2, 2]), nd([2]), nd([2, 3])];
    const what = [
      "constant function",
      "d/dx of sum(2x)",
      "unused second input",
      "through step (no gradient)",
    ];
    want.forEach((w, i) => assertClose(`grad of ${what[i]}`, values[i], shapes[i], w, tol(0)));
  },
};

// ---------------------------------------------------------------------------------------------
// Second order: the gradient rules' own gradients (conv2dBackpropFilter, maxPool2dBackward,
// avgPool2dBackward, transposed axis maps, scatterAdd / gather, matmul)

interface LinearOpSpec {
  name: string;
  x: Nd;
  ref: (x: Nd) => Nd;
  engine: (x: Tensor) => Tensor;
}

function linearOps(r: Rng): LinearOpSpec[] {
  const w = r.nd([4, 1, 3, 3], -1, 1);
  const xc = r.nd([1, 2, 5, 6], -1, 1);
  const convP = { stride: [2, 1], pad: [1, 0, 1, 1], dilation: [1, 2], groups: 2 } as const;
  const convOpts = { stride: [2, 1], padding: [1, 0, 1, 1], dilation: [1, 2], groups: 2 } as const;
  const b = r.nd([3, 4], -1, 1);
  const x8 = r.nd([1, 2, 8, 8], -1, 1);
  const w8 = r.nd([3, 2, 3, 3], -1, 1);
  const same = { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 } as const;
  const pool = { kernel: [2, 3], stride: [2, 2], padding: [1, 1], ceilMode: true } as const;
  return [
    {
      name: "conv2d w.r.t. x",
      x: xc,
      ref: (x) => conv2dRef(x, w, convP, null),
      engine: (x) => s.conv2d(x, toTensor(w), convOpts),
    },
    {
      // 3x3, stride 1, 8x8: on the CPU the input gradient is the fused conv2dBackpropInput op.
      name: "conv2d w.r.t. x, 3x3 stride 1 (conv2dBackpropInput)",
      x: x8,
      ref: (x) => conv2dRef(x, w8, same, null),
      engine: (x) => s.conv2d(x, toTensor(w8), { padding: 1 }),
    },
    {
      name: "conv2d w.r.t. w (conv2dBackpropFilter)",
      x: w,
      ref: (ww) => conv2dRef(xc, ww, convP, null),
      engine: (ww) => s.conv2d(toTensor(xc), ww, convOpts),
    },
    {
      name: "maxPool2d (ceil mode, padding)",
      x: r.ndDistinct([1, 2, 5, 5], -2, 2),
      ref: (x) => maxPool2dRef(x, pool),
      engine: (x) => s.maxPool2d(x, pool),
    },
    {
      name: "avgPool2d (ceil mode, padding)",
      x: r.nd([1, 2, 5, 5], -2, 2),
      ref: (x) => avgPool2dRef(x, { ...pool, countIncludePad: false }),
      engine: (x) => s.avgPool2d(x, { ...pool, countIncludePad: false }),
    },
    {
      name: "resize bicubic (axis maps)",
      x: r.nd([1, 1, 4, 5], -2, 2),
      ref: (x) => resizeRef(x, 7, 3, "bicubic"),
      engine: (x) => s.resize(x, [7, 3], { mode: "bicubic" }),
    },
    {
      name: "matmul",
      x: r.nd([2, 3], -1, 1),
      ref: (x) => matmulRef(x, b),
      engine: (x) => s.matmul(x, toTensor(b)),
    },
    {
      name: "pad reflect + strided slice + gather (scatterAdd)",
      x: r.nd([3, 4], -1, 1),
      ref: (x) =>
        gatherRef(
          sliceRef(
            padRef(
              x,
              [
                [1, 2],
                [2, 1],
              ],
              "reflect",
            ),
            [5, 0],
            undefined,
            [-2, 2],
          ),
          [0, 2, 2, 1],
          1,
        ),
      engine: (x) =>
        s.gather(
          s.slice(
            s.pad(
              x,
              [
                [1, 2],
                [2, 1],
              ],
              "reflect",
            ),
            [5, 0],
            undefined,
            [-2, 2],
          ),
          [0, 2, 2, 1],
          1,
        ),
    },
  ];
}

const secondOrderCase: SuiteCase = {
  name: "second order: Hessian-vector products of 0.5 sum(c * L(x)^2) through linear ops (conv2d x (strided, and 3x3 stride 1) and w, max/avg pool, resize, matmul, pad/slice/gather) equal J^T (c * J v) from the float64 Jacobian",
  run: (ctx) =>
    property(ctx, "second order", 3, seedArb, async (seed) => {
      const r = new Rng(seed);
      for (const op of linearOps(r)) {
        const y = op.ref(op.x);
        const c = r.nd(y.shape, 0.5, 1.5);
        const v = r.nd(op.x.shape, -1, 1);
        const J = numericJacobian(op.ref, nd(op.x.shape, op.x.data));
        const u = J.map(
          (row, i) => c.data[i] * row.reduce((acc, jv, j) => acc + jv * v.data[j], 0),
        );
        const want = nd(op.x.shape);
        J.forEach((row, i) =>
          row.forEach((jv, j) => {
            want.data[j] += jv * u[i];
          }),
        );
        const { values, shapes } = await evalOn(ctx.backend, () => {
          const ct = toTensor(c);
          const vt = toTensor(v);
          const f = (t: Tensor) => s.mul(s.sum(s.mul(s.square(op.engine(t)), ct)), 0.5);
          const hv = (t: Tensor) => s.sum(s.mul(s.grad(f)(t), vt));
          return [s.grad(hv)(toTensor(op.x))];
        });
        assertClose(
          `second order ${op.name} (x ${shapeStr(op.x.shape)})`,
          values[0],
          shapes[0],
          want,
          tol(5e-5, 1e-4),
        );
      }
    }),
};

// ---------------------------------------------------------------------------------------------
// Memory

const memoryCase: SuiteCase = {
  name: "memory: 1000 repeated gradient calls (small conv net; grad, valueAndGrad, vjp, rule sets) leave live tensors and bytes flat",
  run: async (ctx) => {
    const r = new Rng(7);
    const net = randomNet(r, { bias: true, pool: true });
    const xNd = r.nd([1, net.spec.c0, net.spec.h, net.spec.w], -1, 1);
    const { params, x, dy } = s.withBackend(ctx.backend, () => ({
      params: net.params.map((p) => s.keep(toTensor(p))),
      x: s.keep(toTensor(xNd)),
      dy: s.keep(s.ones([1, net.spec.nout])),
    }));
    try {
      const f = (t: Tensor) => s.sum(netEngine(net, params, t));
      const once = (i: number) =>
        s.withBackend(ctx.backend, () => {
          switch (i % 4) {
            case 0:
              s.grad(f)(x).dispose();
              break;
            case 1: {
              const { value, grad } = s.valueAndGrad(f)(x);
              s.dispose([value, grad]);
              break;
            }
            case 2:
              s.dispose(s.vjp((t: Tensor) => netEngine(net, params, t), [x], dy));
              break;
            default:
              s.withRules(rules.guidedBackprop, () => s.grad(f)(x)).dispose();
          }
        });
      for (let i = 0; i < 8; i++) once(i);
      const before = s.memory();
      for (let i = 0; i < 1000; i++) once(i);
      // One read at the end so queued GPU work has run.
      const last = s.withBackend(ctx.backend, () => s.grad(f)(x));
      await last.data();
      last.dispose();
      const after = s.memory();
      check(
        after.tensors === before.tensors && after.bytes === before.bytes,
        `memory after 1000 gradient calls: ${after.tensors} tensors / ${after.bytes} bytes, before: ${before.tensors} / ${before.bytes}`,
      );
    } finally {
      s.dispose([...params, x, dy]);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Bad input

const badInputCase: SuiteCase = {
  name: "bad input (mismatched shapes, wrong ranks, negative sizes, disposed tensors, non-scalar output without dy, dy of the wrong shape) throws naming the op and the shapes, and leaks nothing",
  run: async (ctx) => {
    const before = s.memory();
    s.withBackend(ctx.backend, () => {
      const z = (...shape: number[]) => s.zeros(shape);
      const cases: [string, () => unknown, string[]][] = [
        ["add [2,3] + [4]", () => s.add(z(2, 3), z(4)), ["add", "[2,3]", "[4]"]],
        ["mul [2,3] * [3,2]", () => s.mul(z(2, 3), z(3, 2)), ["mul", "[2,3]", "[3,2]"]],
        ["where", () => s.where(z(2), z(3), z(3)), ["where", "[2]", "[3]"]],
        ["matmul inner", () => s.matmul(z(2, 3), z(4, 5)), ["matmul", "[2,3]", "[4,5]"]],
        ["matmul batch", () => s.matmul(z(2, 2, 3), z(3, 3, 4)), ["matmul", "[2,2,3]", "[3,3,4]"]],
        ["matmul scalar", () => s.matmul(s.scalar(1), z(2, 2)), ["matmul", "[]", "[2,2]"]],
        ["linear", () => s.linear(z(2, 3), z(4, 5)), ["linear", "[2,3]", "[4,5]"]],
        [
          "conv2d rank",
          () => s.conv2d(z(1, 3, 8), z(4, 3, 3, 3)),
          ["conv2d", "[1,3,8]", "[4,3,3,3]"],
        ],
        [
          "conv2d channels",
          () => s.conv2d(z(1, 3, 8, 8), z(4, 2, 3, 3)),
          ["conv2d", "[1,3,8,8]", "[4,2,3,3]"],
        ],
        [
          "conv2d too small",
          () => s.conv2d(z(1, 1, 2, 2), z(1, 1, 3, 3)),
          ["conv2d", "[1,1,2,2]", "3x3"],
        ],
        [
          "conv2d bias",
          () => s.conv2d(z(1, 1, 4, 4), z(2, 1, 3, 3), { bias: z(3) }),
          ["conv2d", "[3]"],
        ],
        [
          "conv2dTranspose channels",
          () => s.conv2dTranspose(z(1, 3, 4, 4), z(2, 1, 3, 3)),
          ["conv2dTranspose", "[1,3,4,4]", "[2,1,3,3]"],
        ],
        ["maxPool2d rank", () => s.maxPool2d(z(3, 4), { kernel: 2 }), ["maxPool2d", "[3,4]"]],
        [
          "avgPool2d window",
          () => s.avgPool2d(z(1, 1, 2, 2), { kernel: 3 }),
          ["avgPool2d", "[1,1,2,2]"],
        ],
        ["reshape", () => s.reshape(z(2, 3), [4, 2]), ["reshape", "[2,3]", "[4,2]"]],
        ["concat", () => s.concat([z(2, 3), z(2, 4)], 0), ["concat", "[2,3]", "[2,4]"]],
        ["transpose", () => s.transpose(z(2, 3), [0, 0]), ["transpose", "[2,3]"]],
        ["broadcastTo", () => s.broadcastTo(z(2, 3), [3, 3]), ["broadcastTo", "[2,3]", "[3,3]"]],
        [
          "batchNorm",
          () => s.batchNorm(z(2, 4, 5, 5), { runningMean: z(3), runningVar: z(4) }),
          ["batchNorm", "[3]", "[2,4,5,5]"],
        ],
        ["layerNorm", () => s.layerNorm(z(2, 3), 1, { weight: z(2) }), ["layerNorm", "[2]", "[3]"]],
        ["prelu", () => s.prelu(z(2, 3, 4), z(4)), ["prelu", "[2,3,4]"]],
        ["pixelShuffle", () => s.pixelShuffle(z(1, 3, 2, 2), 2), ["pixelShuffle", "[1,3,2,2]"]],
        [
          "pixelUnshuffle",
          () => s.pixelUnshuffle(z(1, 1, 3, 4), 2),
          ["pixelUnshuffle", "[1,1,3,4]"],
        ],
        ["resize rank", () => s.resize(z(3, 4), [2, 2]), ["resize", "[3,4]"]],
        ["zeros negative", () => s.zeros([2, -1]), ["fill", "[2,-1]"]],
        ["tensor negative", () => s.tensor([1, 2], [-2]), ["tensor", "[-2]"]],
        ["randomNormal negative", () => s.randomNormal([-3]), ["randomNormal", "[-3]"]],
        ["reshape negative", () => s.reshape(z(6), [-2, -3]), ["reshape", "[-2,-3]"]],
        ["slice negative size", () => s.slice(z(4), [0], [-2]), ["slice", "[4]", "-2"]],
        ["pad negative", () => s.pad(z(2, 3), [[-1, 0]]), ["pad", "[2,3]", "-1"]],
        ["split", () => s.split(z(5), 2), ["split", "[5]"]],
        ["gather index", () => s.gather(z(2, 3), s.tensor([0, 1]), 1), ["gather", "[2]"]],
      ];
      for (const [what, fn, fragments] of cases) {
        s.tidy(() => expectThrows(what, fn, fragments));
      }
      // Disposed inputs.
      s.tidy(() => {
        const dead = s.zeros([2, 3]);
        dead.dispose();
        expectThrows("add of a disposed tensor", () => s.add(dead, 1), [
          "add",
          "[2,3]",
          "disposed",
        ]);
        const dead4 = s.zeros([1, 2, 3, 3]);
        dead4.dispose();
        expectThrows("conv2d of a disposed tensor", () => s.conv2d(dead4, s.zeros([1, 2, 1, 1])), [
          "conv2d",
          "[1,2,3,3]",
          "disposed",
        ]);
        expectThrows(
          "grad with respect to a disposed tensor",
          () => s.grad((t) => s.sum(t))(dead),
          ["differentiate", "[2,3]", "disposed"],
        );
        expectThrows("reading a disposed tensor", () => dead.data(), ["read", "[2,3]", "disposed"]);
      });
      // Gradient entry points.
      s.tidy(() => {
        const x = s.zeros([2, 3]);
        expectThrows(
          "grad of a non-scalar output without dy",
          () => s.grad((t) => s.mul(t, 2))(x),
          ["[2,3]", "dy"],
        );
        expectThrows(
          "vjp with dy of the wrong shape",
          () => s.vjp((t: Tensor) => s.mul(t, 2), [x], s.zeros([3])),
          ["dy", "[3]", "[2,3]"],
        );
        expectThrows(
          "grad with respect to an int32 tensor",
          () => s.grad((t) => s.sum(t))(s.tensor(Int32Array.of(1, 2))),
          ["int32"],
        );
      });
    });
    const after = s.memory();
    check(
      after.tensors === before.tensors && after.bytes === before.bytes,
      `bad input: ${after.tensors - before.tensors} tensors / ${after.bytes - before.bytes} bytes left alive after the failing calls`,
    );
  },
};

const checkNaNCase: SuiteCase = {
  name: "checkNaN flag throws naming the op that made NaN (CPU-only: skipped when the backend has no readSync)",
  run: async (ctx) => {
    if (!ctx.backend.readSync) return;
    const before = s.memory();
    const previous = s.setFlags({ checkNaN: true });
    try {
      s.withBackend(ctx.backend, () =>
        s.tidy(() => {
          const x = s.tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]);
          const neg = s.neg(x); // no NaN: passes
          expectThrows("log of negative values", () => s.log(neg), ["log", "NaN", "[2,3]"]);
          expectThrows("0/0", () => s.div(s.zeros([4]), 0), ["div", "NaN", "[4]"]);
          expectThrows("NaN in a gradient", () => s.grad((t) => s.sum(s.sqrt(t)))(neg), ["NaN"]);
        }),
      );
    } finally {
      s.setFlags(previous);
    }
    // The flag off again: NaN flows without an error.
    const { values } = await evalOn(ctx.backend, () => [s.log(s.tensor([-1]))]);
    check(Number.isNaN(values[0][0]), "checkNaN off: log(-1) should be NaN");
    const after = s.memory();
    check(
      after.tensors === before.tensors,
      `checkNaN: ${after.tensors - before.tensors} tensors leaked`,
    );
  },
};

export const engineCases: SuiteCase[] = [
  captumCase,
  noReluCase,
  eulerCase,
  lrpNetCase,
  lrpLayerCase("linear"),
  lrpLayerCase("conv2d"),
  gatingCase,
  igConvergenceCase,
  igLinearCase,
  customGradCase,
  secondOrderCase,
  variableGradsCase,
  constantCase,
  memoryCase,
  badInputCase,
  checkNaNCase,
];
