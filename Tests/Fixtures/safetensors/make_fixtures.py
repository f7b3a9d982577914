"""Writes the Python-made safetensors fixtures and the values they hold.

Run with a Python that has torch and safetensors (here /opt/refpy/bin/python):
    python make_fixtures.py
Outputs (committed, small):
    python.safetensors           every dtype, a 0-d and two empty tensors, one metadata key
    python_metadata.safetensors  several metadata keys and names with escapes and non-ASCII text
    python_values.json           dtype, shape and flat values of each tensor, and the metadata
"""
import json
import math
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def tensors():
    return {
        "f64": torch.tensor([[0.1, -2.5, 1e300], [-0.0, math.pi, 5e-324]], dtype=torch.float64),
        "f32": (torch.arange(24, dtype=torch.float32) * 0.25 - 3).reshape(2, 3, 4),
        "f32_special": torch.tensor([math.inf, -math.inf, math.nan, -0.0, 1e-45], dtype=torch.float32),
        "f16": torch.tensor([0.5, -1.0, 65504.0, 6.1e-5, 0.1, -0.0], dtype=torch.float16).reshape(3, 2),
        "bf16": torch.tensor([0.5, -1.0, 3.0e38, 1e-38, 0.1, math.inf], dtype=torch.bfloat16).reshape(2, 3),
        "i64": torch.tensor([-(2**63), 2**63 - 1, 0, -1], dtype=torch.int64),
        "i32": torch.tensor([[-(2**31), 2**31 - 1, 7]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, 5], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 128], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "empty_i64": torch.zeros(4, 0, dtype=torch.int64),
    }


def encode(value):
    """Floats travel as exact hex strings (0x1.8p+1, inf, nan, -0x0.0p+0): JSON has no NaN,
    infinity or -0, and decimal text is only as exact as the parser that reads it back."""
    return value.hex() if isinstance(value, float) else value


def describe(named, metadata):
    return {
        "metadata": metadata,
        "tensors": {
            name: {
                "dtype": str(t.dtype).removeprefix("torch."),
                "shape": list(t.shape),
                "values": [encode(v) for v in t.flatten().tolist()],
            }
            for name, t in named.items()
        },
    }


def main():
    named = tensors()
    metadata = {"format": "pt"}
    save_file(named, os.path.join(HERE, "python.safetensors"), metadata=metadata)

    odd = {
        'quote"and\\slash': torch.tensor([1, 2], dtype=torch.int32),
        "tab\tnewline\n": torch.tensor([3.0], dtype=torch.float64),
        "layer1.0.conv1.weight": torch.ones(2, 1, 1, 1),
        "名前": torch.tensor([True]),
    }
    odd_metadata = {"format": "pt", "note": "é ✓ \"quoted\" \u0001", "epoch": "7"}
    save_file(odd, os.path.join(HERE, "python_metadata.safetensors"), metadata=odd_metadata)

    values = {
        "python.safetensors": describe(named, metadata),
        "python_metadata.safetensors": describe(odd, odd_metadata),
    }
    with open(os.path.join(HERE, "python_values.json"), "w") as f:
        json.dump(values, f, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
