"""PyTorch 1.13 CPU side of the salient benchmarks (run by bench/*.ts with /usr/bin/python3).

Reads a JSON job from argv[1]; writes a JSON result to argv[2] and any tensors it is asked for
as raw little-endian float32 files. The network is rebuilt from the Keras topology in the
UpscalerJS model.json with the same weights (HWIO kernels converted to OIHW), NCHW, so it
does exactly the work of salient's Rdn and of tfjs's LayersModel.

With "device": "cuda" in the job (the GPU pack, bench/gpu-pack.ts), the conv, RDN and LAM tasks
run on the GPU, each timed call ending in torch.cuda.synchronize(); where CUDA is missing they
run on the CPU and the result says so.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def cpu_clock():
    return time.process_time()


DEVICE = torch.device("cpu")


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


class KerasGraph(torch.nn.Module):
    """Conv2D / Activation(relu) / Concatenate / Add / UpSampling2D graphs, as in the RDNs."""

    def __init__(self, topology, weights):
        super().__init__()
        cfg = topology["model_config"]["config"]
        self.layers = cfg["layers"]
        self.output = cfg["output_layers"][0][0]
        self.params = torch.nn.ParameterDict()
        for layer in self.layers:
            if layer["class_name"] == "Conv2D":
                name = layer["name"]
                k = weights[name + "/kernel"]  # HWIO
                self.params[name + "_w"] = torch.nn.Parameter(k.permute(3, 2, 0, 1).contiguous(), requires_grad=False)
                self.params[name + "_b"] = torch.nn.Parameter(weights[name + "/bias"], requires_grad=False)

    def forward(self, x):
        values = {}
        for layer in self.layers:
            kind, name, c = layer["class_name"], layer["name"], layer["config"]
            ins = [values[n[0]] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            if kind == "InputLayer":
                v = x
            elif kind == "Conv2D":
                kh, kw = c["kernel_size"]
                pad = (kh // 2, kw // 2) if c["padding"] == "same" else (0, 0)
                v = F.conv2d(ins[0], self.params[name + "_w"], self.params[name + "_b"], padding=pad)
                if c["activation"] == "relu":
                    v = F.relu(v)
                elif c["activation"] != "linear":
                    raise ValueError(c["activation"])
            elif kind == "Activation":
                if c["activation"] != "relu":
                    raise ValueError(c["activation"])
                v = F.relu(ins[0])
            elif kind == "Concatenate":
                v = torch.cat(ins, dim=1)
            elif kind == "Add":
                v = ins[0]
                for t in ins[1:]:
                    v = v + t
            elif kind == "UpSampling2D":
                v = F.interpolate(ins[0], scale_factor=tuple(c["size"]), mode="nearest")
            else:
                raise ValueError(kind)
            values[name] = v
        return values[self.output]


def read_f32(path, shape):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=torch.float32).reshape(shape).clone().to(DEVICE)


def write_f32(path, t):
    with open(path, "wb") as f:
        f.write(t.detach().cpu().contiguous().numpy().astype("<f4").tobytes())


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    sync()
    walls, cpus = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), cpu_clock()
        fn()
        sync()
        walls.append((time.perf_counter() - w0) * 1e3)
        cpus.append((cpu_clock() - c0) * 1e3)
    walls.sort()
    cpus.sort()
    return {"ms": walls[len(walls) // 2], "cpuMs": cpus[len(cpus) // 2], "samples": runs}


def load_model(job):
    topo = json.load(open(job["modelJson"]))["modelTopology"]
    manifest = job["weights"]  # [{name, shape, offset}] into weightsBin (float32)
    with open(job["weightsBin"], "rb") as f:
        blob = bytearray(f.read())
    flat = torch.frombuffer(blob, dtype=torch.float32)
    weights = {}
    for w in manifest:
        n = 1
        for d in w["shape"]:
            n *= d
        weights[w["name"]] = flat[w["offset"] : w["offset"] + n].reshape(w["shape"]).clone()
    return KerasGraph(topo, weights).eval().to(DEVICE)


def rdn_fwd_grad(job, out):
    model = load_model(job)
    x0 = read_f32(job["input"], job["inputShape"])
    dy = read_f32(job["cotangent"], job["outputShape"])

    def step():
        x = x0.clone().requires_grad_(True)
        y = model(x)
        y.backward(dy)
        return y, x.grad

    y, g = step()
    write_f32(job["outputFile"], y)
    write_f32(job["gradFile"], g)
    out["fwdGrad"] = timed(step, job["runs"], job["warmup"])

    def fwd():
        with torch.no_grad():
            model(x0)

    out["fwd"] = timed(fwd, job["runs"], job["warmup"])


def lam_like(job, out):
    """fold path images, `batch` per forward+backward, detector = sum of |dx|+|dy| in a window."""
    model = load_model(job)
    x0 = read_f32(job["input"], job["inputShape"])
    fold, batch = job["fold"], job["batch"]
    wx, wy, ws = job["window"]

    def detector(y):
        win = y[:, :, wy : wy + ws + 1, wx : wx + ws + 1].sum(dim=1, keepdim=True)
        gx = win[:, :, :-1, 1:] - win[:, :, :-1, :-1]
        gy = win[:, :, 1:, :-1] - win[:, :, :-1, :-1]
        return (gx * gx + gy * gy + 1e-8).sqrt().sum()

    def run():
        total = torch.zeros_like(x0)
        base = F.avg_pool2d(x0, 5, 1, 2)
        for s in range(0, fold, batch):
            n = min(batch, fold - s)
            alphas = torch.tensor([(s + i + 1) / fold for i in range(n)], device=DEVICE)
            alphas = alphas.view(n, 1, 1, 1)
            x = (base + alphas * (x0 - base)).requires_grad_(True)
            detector(model(x)).backward()
            total += (x.grad * (x0 - base)).sum(dim=0, keepdim=True) / fold
        return total

    out["lam"] = timed(run, job["runs"], job["warmup"])


def conv(job, out):
    """conv 3x3 64 -> 64 on 64x64 (and the stride-2 input gradient), as bench/conv.ts."""
    g = torch.Generator().manual_seed(0)
    size = job.get("convSize", 64)
    x = (torch.rand(1, 64, size, size, generator=g) - 0.5).to(DEVICE)
    w = (torch.rand(64, 64, 3, 3, generator=g) - 0.5).to(DEVICE)
    dy = (torch.rand(1, 64, size, size, generator=g) - 0.5).to(DEVICE)
    dy2 = (torch.rand(1, 64, size // 2, size // 2, generator=g) - 0.5).to(DEVICE)
    r, wu = job["runs"], job["warmup"]
    with torch.no_grad():
        out["convForward"] = timed(lambda: F.conv2d(x, w, padding=1), r, wu)
        out["convInputGrad"] = timed(
            lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1), r, wu
        )
        out["convFilterGrad"] = timed(
            lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1), r, wu
        )
        out["convInputGradStride2"] = timed(
            lambda: torch.nn.grad.conv2d_input(x.shape, w, dy2, stride=2, padding=1), r, wu
        )


def small_cnn(c1=16, c2=32, classes=10):
    """salient's SmallCnn (src/models/classifiers/small-cnn.ts)."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 7 * 7, classes),
    )


class BasicBlock(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        nn = torch.nn
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(h))
        return F.relu(y + (self.down(x) if self.down is not None else x))


def resnet(widths=(16, 32, 64), blocks=(2, 2, 2), classes=10):
    """salient's ResNet defaults (src/models/classifiers/resnet.ts)."""
    nn = torch.nn
    layers = [nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()]
    ch = widths[0]
    for s, (w, b) in enumerate(zip(widths, blocks)):
        for i in range(b):
            layers.append(BasicBlock(ch, w, 2 if (i == 0 and s > 0) else 1))
            ch = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(ch, classes)]
    return nn.Sequential(*layers)


def resnet18(classes=1000):
    """torchvision's ResNet-18 architecture (7x7/2 stem, 3x3/2 max pool, two BasicBlocks per
    stage at widths 64-512, global average pool, 1000-way linear), default initialisation."""
    nn = torch.nn
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    ch = 64
    for s, w in enumerate((64, 128, 256, 512)):
        for i in range(2):
            layers.append(BasicBlock(ch, w, 2 if (i == 0 and s > 0) else 1))
            ch = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(ch, classes)]
    return nn.Sequential(*layers)


def export_resnet18(job, out):
    """Writes a seeded ResNet-18 as ONNX (opset 13; the exporter folds BatchNorm into the convs)
    and its state dict, for the IG row on an imported model."""
    import warnings

    warnings.filterwarnings("ignore")
    torch.manual_seed(job.get("seed", 0))
    model = resnet18().eval()
    torch.save(model.state_dict(), job["stateFile"])
    s = job["size"]
    torch.onnx.export(model, torch.zeros(1, 3, s, s), job["onnxFile"], opset_version=13,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "n"}, "logits": {0: "n"}})
    out["params"] = sum(p.numel() for p in model.parameters())


def ig_resnet18(job, out):
    """IG on the exported ResNet-18 with salient's default rule (Gauss-Legendre, `igSteps`
    points from a zero baseline), `igBatch` per forward + backward of the target logit. Writes
    the map to mapFile."""
    import numpy as np

    model = resnet18().eval()
    model.load_state_dict(torch.load(job["stateFile"]))
    for p in model.parameters():
        p.requires_grad_(False)
    s = job["size"]
    x0 = read_f32(job["image"], [1, 3, s, s])
    nodes, weights = np.polynomial.legendre.leggauss(job["igSteps"])
    alphas = torch.tensor((nodes + 1) / 2, dtype=torch.float32)
    ws = torch.tensor(weights / 2, dtype=torch.float32)
    steps, batch, target = job["igSteps"], job["igBatch"], job["target"]

    def run():
        total = torch.zeros_like(x0)
        for i in range(0, steps, batch):
            n = min(batch, steps - i)
            x = (alphas[i : i + n].view(n, 1, 1, 1) * x0).requires_grad_(True)
            model(x)[:, target].sum().backward()
            total += (x.grad * ws[i : i + n].view(n, 1, 1, 1)).sum(dim=0, keepdim=True)
        return total * x0

    write_f32(job["mapFile"], run())
    out["igResnet18"] = timed(run, job["runs"], 1)


def ig(job, out):
    """IG: `steps` points on the straight path from 0, `batch` per forward+backward."""
    for arch in job["igModels"]:
        model = (small_cnn() if arch == "smallCnn" else resnet()).eval()
        x0 = torch.rand(1, 1, 28, 28)
        steps, batch = job["igSteps"], job["igBatch"]

        def run():
            total = torch.zeros_like(x0)
            for s in range(0, steps, batch):
                n = min(batch, steps - s)
                a = torch.tensor([(s + i + 0.5) / steps for i in range(n)]).view(n, 1, 1, 1)
                x = (a * x0).requires_grad_(True)
                model(x)[:, 3].sum().backward()
                total += x.grad.sum(dim=0, keepdim=True) / steps
            return total * x0

        out["ig_" + arch] = timed(run, job["runs"], 1)


def train_epoch(job, out):
    """SmallCnn, SGD(momentum 0.9), cross-entropy, `trainCount` images in batches of `trainBatch`."""
    n, b = job["trainCount"], job["trainBatch"]
    images = read_f32(job["trainImages"], [n, 1, 28, 28])
    labels = torch.tensor(json.load(open(job["trainLabels"])), dtype=torch.long)
    model = small_cnn()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def run():
        model.train()
        perm = torch.randperm(n)
        for s in range(0, n, b):
            idx = perm[s : s + b]
            opt.zero_grad()
            loss = F.cross_entropy(model(images[idx]), labels[idx])
            loss.backward()
            opt.step()

    out["trainEpoch"] = timed(run, 1, 0)


class RdnLike(torch.nn.Module):
    """A small RDN-like x4 SR network (about 87k parameters): a shallow conv, two residual dense
    blocks (three 3x3 growth-16 layers, 1x1 local fusion, local residual), 1x1 + 3x3 global
    fusion with a global residual, then nearest x2 + conv twice and a 3x3 conv to RGB. Only
    Conv / Relu / Concat / Add / Resize(nearest) once exported, which every ONNX peer runs."""

    def __init__(self, g0=32, growth=16, layers=3, blocks=2):
        super().__init__()
        nn = torch.nn
        self.sfe = nn.Conv2d(3, g0, 3, padding=1)
        self.rdbs = nn.ModuleList()
        for _ in range(blocks):
            convs = nn.ModuleList(nn.Conv2d(g0 + i * growth, growth, 3, padding=1) for i in range(layers))
            self.rdbs.append(nn.ModuleList([convs, nn.Conv2d(g0 + layers * growth, g0, 1)]))
        self.gff1 = nn.Conv2d(blocks * g0, g0, 1)
        self.gff2 = nn.Conv2d(g0, g0, 3, padding=1)
        self.up1 = nn.Conv2d(g0, g0, 3, padding=1)
        self.up2 = nn.Conv2d(g0, g0, 3, padding=1)
        self.up3 = nn.Conv2d(g0, g0, 3, padding=1)
        self.out = nn.Conv2d(g0, 3, 3, padding=1)

    def forward(self, x):
        f0 = self.sfe(x)
        h = f0
        outs = []
        for convs, lff in self.rdbs:
            feats = [h]
            for c in convs:
                feats.append(F.relu(c(torch.cat(feats, 1))))
            h = h + lff(torch.cat(feats, 1))
            outs.append(h)
        h = self.gff2(self.gff1(torch.cat(outs, 1))) + f0
        h = F.relu(self.up1(F.interpolate(h, scale_factor=2.0, mode="nearest")))
        h = F.relu(self.up2(F.interpolate(h, scale_factor=2.0, mode="nearest")))
        h = F.relu(self.up3(h))
        return self.out(h)


def rdn_like(job):
    torch.manual_seed(job.get("seed", 0))
    return RdnLike().eval()


def export_rdn_like(job, out):
    """Writes the RDN-like net as ONNX (opset 13) and its state dict for the LAM task."""
    import warnings

    warnings.filterwarnings("ignore")  # the exporter's shape-inference notes
    model = rdn_like(job)
    torch.save(model.state_dict(), job["stateFile"])
    h = job.get("exportSize", 16)
    torch.onnx.export(model, torch.zeros(1, 3, h, h), job["onnxFile"], opset_version=13,
                      input_names=["lr"], output_names=["sr"],
                      dynamic_axes={"lr": {0: "n", 2: "h", 3: "w"}, "sr": {0: "n", 2: "H", 3: "W"}})
    out["params"] = sum(p.numel() for p in model.parameters())


def lam_from_path(job, out):
    """LAM's path integral on given path points and increments (NCHW float32 files, fold of
    them): `batch` points per forward + backward through the RDN-like net, the gradient-magnitude
    detector of bench/tfjs-rdn.ts (sqrt derivative 0 where q = 0), each gradient times its
    increment, summed. Writes the map to mapFile."""
    model = RdnLike().eval()
    model.load_state_dict(torch.load(job["stateFile"]))
    for p in model.parameters():
        p.requires_grad_(False)
    fold, batch = job["fold"], job["batch"]
    shape = [fold] + job["inputShape"][1:]
    points = read_f32(job["points"], shape)
    incs = read_f32(job["increments"], shape)
    wx, wy, ws = job["window"]

    def detector(y):
        rows = min(ws + 1, y.shape[2] - wy)
        cols = min(ws + 1, y.shape[3] - wx)
        crop = y[:, :, wy : wy + rows, wx : wx + cols]
        base = crop[:, :, :-1, :-1]
        dv = base - crop[:, :, 1:, :-1]
        dh = base - crop[:, :, :-1, 1:]
        q = dv * dv + dh * dh
        mask = torch.sign(q)
        return (torch.sqrt(q + (1 - mask)) * mask).sum()  # (1 - mask) first: q + 1 rounds tiny q away

    def run():
        total = torch.zeros([1] + shape[1:])
        for s in range(0, fold, batch):
            x = points[s : s + batch].clone().requires_grad_(True)
            detector(model(x)).backward()
            total += (x.grad * incs[s : s + batch]).sum(dim=0, keepdim=True)
        return total

    write_f32(job["mapFile"], run())
    out["lam"] = timed(run, job["runs"], job["warmup"])


def main():
    global DEVICE
    job = json.load(open(sys.argv[1]))
    torch.set_num_threads(job.get("threads", torch.get_num_threads()))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if job.get("device") == "cuda":
        if torch.cuda.is_available():
            DEVICE = torch.device("cuda")
            out["device"] = torch.cuda.get_device_name(0)
        else:
            out["device"] = "cpu (CUDA unavailable)"
    for task in job["tasks"]:
        {"rdnFwdGrad": rdn_fwd_grad, "lam": lam_like, "conv": conv, "ig": ig, "train": train_epoch,
         "exportRdnLike": export_rdn_like, "lamFromPath": lam_from_path,
         "exportResnet18": export_resnet18, "igResnet18": ig_resnet18}[task](job, out)
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
