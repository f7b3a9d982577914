"""Parameter and buffer names of torchvision's ResNet-18 and ResNet-50 without the classifier
(fc), in state_dict order. Run with Debian's python3-torchvision:
    /usr/bin/python3 make_names.py"""
import torchvision

for name in ["resnet18", "resnet50"]:
    model = getattr(torchvision.models, name)()
    keys = [k for k in model.state_dict().keys() if not k.startswith("fc.")]
    with open(f"{name}_names.txt", "w") as f:
        f.write("\n".join(keys) + "\n")
