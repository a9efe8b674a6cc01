/** A hand-made tfjs layers-model whose outputs have a closed form (used by several tests). */

/** One 1x1 conv, 2 -> 3 channels, relu: kernel[0, 0, i, o] = i - o, bias [1, 5, -1]. */
export function tinyLayersModel(shardPath: string) {
  const json = {
    format: "layers-model",
    modelTopology: {
      model_config: {
        class_name: "Functional",
        config: {
          layers: [
            {
              class_name: "InputLayer",
              name: "in",
              config: { name: "in", batch_input_shape: [null, null, null, 2] },
              inbound_nodes: [],
            },
            {
              class_name: "Conv2D",
              name: "a",
              config: {
                name: "a",
                filters: 3,
                kernel_size: [1, 1],
                strides: [1, 1],
                padding: "same",
                activation: "relu",
                use_bias: true,
              },
              inbound_nodes: [[["in", 0, 0, {}]]],
            },
          ],
          input_layers: [["in", 0, 0]],
          output_layers: [["a", 0, 0]],
        },
      },
    },
    weightsManifest: [
      {
        paths: [shardPath],
        weights: [
          { name: "a/kernel", shape: [1, 1, 2, 3], dtype: "float32" },
          { name: "a/bias", shape: [3], dtype: "float32" },
        ],
      },
    ],
  };
  const w = new Float32Array([0, -1, -2, 1, 0, -1, 1, 5, -1]);
  return { json: JSON.stringify(json), shard: new Uint8Array(w.buffer) };
}
