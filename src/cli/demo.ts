/** `salient demo`: trains the small CNN on Fashion-MNIST and prints the loss falling. */
import { SmallCnn } from "../models/classifiers/small-cnn.ts";
import { loadFashionMnist } from "../models/data/fashion-mnist-node.ts";
import { accuracy, fitClassifier } from "../models/train/fit-classifier.ts";
import { Adam } from "../models/train/optim.ts";

export function runDemo(o: {
  steps: number;
  batch: number;
  seed: number;
  log: (s: string) => void;
}): void {
  const train = loadFashionMnist("train");
  const test = loadFashionMnist("test");
  const model = new SmallCnn({ seed: o.seed, channels: [8, 16] });
  o.log(
    `SmallCnn, ${model.parameterCount()} parameters; ${o.steps} Adam steps of batch ${o.batch}`,
  );
  const before = accuracy(model, test, 1000);
  const t0 = performance.now();
  let window = 0;
  fitClassifier(model, train, {
    steps: o.steps,
    batchSize: o.batch,
    optimizer: new Adam(2e-3),
    seed: o.seed,
    onStep: (step, loss) => {
      window += loss;
      if ((step + 1) % 25 === 0) {
        o.log(`step ${String(step + 1).padStart(4)}  mean loss ${(window / 25).toFixed(4)}`);
        window = 0;
      }
    },
  });
  const secs = (performance.now() - t0) / 1000;
  const after = accuracy(model, test, 1000);
  o.log(
    `trained in ${secs.toFixed(1)} s; test accuracy (first 1000): ${(100 * before).toFixed(1)}% -> ${(100 * after).toFixed(1)}%`,
  );
}
