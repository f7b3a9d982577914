"""Checks that a backbone exported by `blockwise export` loads into torchvision and gives the
features Blockwise computed. Run by ExportTests with Debian's python3-torchvision:

    /usr/bin/python3 check_export.py EXPORT INPUT OUTPUT

EXPORT: the exported backbone (its metadata names the architecture); INPUT: a safetensors file
with `input` [N, 3, H, W]; OUTPUT: one with `block1`..`block4`, Blockwise's spatial means of each
stage's output for that input in evaluation mode. The model is `torchvision.models.<arch>()` with
`fc = nn.Identity()`, loaded with `strict=True`; its forward output is block 4's features.
Exits 1 naming the first difference beyond float32 tolerance.

Debian has no python3-safetensors, so the files are read here: an 8-byte little-endian header
size, the JSON header, then the tensors' bytes."""
import json
import struct
import sys

import torch
import torchvision

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    metadata = header.pop("__metadata__", {})
    body = data[8 + size:]
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        if end == start:
            tensors[name] = torch.zeros(info["shape"], dtype=dtype)
        else:
            tensors[name] = torch.frombuffer(bytearray(body[start:end]), dtype=dtype).reshape(info["shape"]).clone()
    return tensors, metadata


def main(export_path, input_path, output_path):
    weights, metadata = read_safetensors(export_path)
    architecture = metadata["architecture"]
    model = getattr(torchvision.models, architecture)()
    model.fc = torch.nn.Identity()
    model.load_state_dict(weights, strict=True)
    model.eval()
    x = read_safetensors(input_path)[0]["input"]
    expected = read_safetensors(output_path)[0]
    with torch.no_grad():
        h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        blocks = {}
        for k, layer in enumerate([model.layer1, model.layer2, model.layer3, model.layer4], start=1):
            h = layer(h)
            blocks[f"block{k}"] = h.mean(dim=(2, 3))
        blocks["forward"] = model(x)
    expected["forward"] = expected["block4"]
    failed = False
    for name, ours in expected.items():
        theirs = blocks[name]
        difference = (theirs - ours).abs().max().item()
        scale = ours.abs().max().item()
        close = theirs.shape == ours.shape and torch.allclose(theirs, ours, rtol=1e-4, atol=1e-5 * max(1.0, scale))
        print(f"{architecture} {name}: shape {tuple(theirs.shape)}, max |difference| {difference:.3g}, max |value| {scale:.3g}")
        if not close:
            print(f"{architecture} {name}: torchvision's features differ from Blockwise's beyond float32 tolerance")
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: check_export.py EXPORT INPUT OUTPUT")
    main(*sys.argv[1:])
