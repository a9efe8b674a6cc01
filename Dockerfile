# The salient CLI as a container image, for running `salient batch` shards on a cluster
# (docs/cluster.md). The image holds the packed package and the optional UpscalerJS SR models;
# inputs and outputs live on a mounted volume.
#
#   docker build -t salient .
#   docker run --rm -v "$PWD/data:/data" salient batch --images /data/imgs --model fashion-cnn \
#     --methods gradient,integrated-gradients --out /data/run --shard 0/1
#   docker run --rm -v "$PWD/data:/data" salient merge /data/run

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# The same package a release publishes: dist/ (library, CLI, app) and assets/.
RUN node scripts/build.mjs && npm pack --ignore-scripts && mv salient-*.tgz /salient.tgz

FROM node:20-bookworm-slim
# Leave empty (--build-arg SR_MODELS=) for a classifier-only image without the SR weights.
ARG SR_MODELS="@upscalerjs/default-model@^1 @upscalerjs/esrgan-slim@^1 @upscalerjs/esrgan-medium@^1 @upscalerjs/esrgan-thick@^1"
WORKDIR /opt/salient
COPY --from=build /salient.tgz /tmp/salient.tgz
RUN npm init -y >/dev/null \
  && npm install --ignore-scripts --no-audit --no-fund --omit=dev /tmp/salient.tgz $SR_MODELS \
  && rm /tmp/salient.tgz \
  && npm cache clean --force
# Not root: outputs on the shared volume belong to an ordinary user (override with --user).
USER node
WORKDIR /data
ENTRYPOINT ["node", "/opt/salient/node_modules/salient/dist/cli.js"]
CMD ["--help"]
