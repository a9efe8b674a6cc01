/**
 * Gradient rules are data: swap the rule of one op and the gradient becomes another method.
 * Here the ReLU rule is replaced by guided backprop's (written out in one line), the result is
 * compared with the plain gradient and the built-in rule set, and LRP-0 is checked against
 * gradient x input (equal on ReLU networks). Prints one JSON line.
 * Run from a project with salient installed: npx tsc && node examples/node/rule-equivalences.js
 */
import {
  gradient,
  inputXGradient,
  loadFashionCnn,
  lrp,
  mul,
  type RuleSet,
  relu,
  rules,
  step,
  type Tensor,
  tensor,
  withRules,
} from "salient";
import { assetPath, readImage } from "salient/node";

const image = readImage(assetPath("fashion-mnist", "test-0.png"), 1);
const x = tensor(image.data, [1, 1, image.height, image.width]);
const cnn = loadFashionCnn();
const model = (batch: Tensor) => cnn.call(batch);
const target = 9; // ankle boot

/** Largest |a - b| relative to the largest |value|. */
function relativeDifference(a: Tensor, b: Tensor): number {
  const [u, v] = [a.dataSync(), b.dataSync()];
  let diff = 0;
  let scale = 1e-30;
  u.forEach((value, i) => {
    const other = v[i] ?? 0;
    diff = Math.max(diff, Math.abs(value - other));
    scale = Math.max(scale, Math.abs(value), Math.abs(other));
  });
  return diff / scale;
}

// One entry: at a ReLU, pass only positive signals, and only where the unit was active.
const myGuidedBackprop: RuleSet = {
  relu: (dy, { out }) => [() => mul(relu(dy), step(out))],
};

const plain = await gradient(model, x, target);
const mine = await withRules(myGuidedBackprop, () => gradient(model, x, target));
const builtIn = await withRules(rules.guidedBackprop, () => gradient(model, x, target));

// LRP-0 (epsilon 0) and gradient x input agree on ReLU networks; biases make the relevance
// total differ from the score (delta).
const lrp0 = await lrp(model, x, target, { epsilon: 0 });
const gxi = await inputXGradient(model, x, target);

console.log(
  JSON.stringify({
    guidedVsGradient: relativeDifference(mine.map, plain.map),
    guidedVsBuiltIn: relativeDifference(mine.map, builtIn.map),
    lrp0VsGradientXInput: relativeDifference(lrp0.map, gxi.map),
    lrpConservationDelta: lrp0.delta?.[0],
  }),
);
