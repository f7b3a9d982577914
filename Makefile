# Blockwise — set-up, build, test. `make demo` and `make test` each install what is missing first.
#
# LIBTORCH=/path/to/torch builds against another libtorch (a pip torch package folder);
# it gets its own build folder so the two builds never mix.

SWIFT ?= swift
APT_PACKAGES := libtorch-dev libgloo-dev libopenblas0-pthread dataset-fashion-mnist libturbojpeg0-dev libpng-dev zlib1g-dev
# The tests also compare with torchvision itself (on photos made from scikit-learn's samples)
# and render the HTML report in a browser.
TEST_APT_PACKAGES := python3-torchvision python3-sklearn chromium
SCRATCH := $(if $(LIBTORCH),.build-libtorch,.build)
SWIFT_FLAGS := --scratch-path $(SCRATCH)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The torch 2.x wheel of this machine image, for `make test-torch2`.
TORCH2_WHEEL ?= $(firstword $(wildcard /opt/wheels/torch-2*.whl))
# PyPI's default torch wheel (a CUDA build) for `make test-cuda-build`, pinned so that every
# machine builds against the same libraries; with it pip brings its nvidia-* wheels (CUDA
# runtime, cuBLAS, cuDNN, NCCL, …), which libtorch_cuda finds through its own rpath. The
# `crt` and `cccl` extras of the CUDA toolkit torch pins add the headers cuda_runtime.h and
# cuda_fp16.h include, which
# the bridge's NCCL and allocator code compile against.
TORCH_CUDA_VERSION ?= 2.13.0
CUDA_SITE := .build-cuda/site

.PHONY: all deps build release demo test test-torch2 test-cuda-build bench clean

all: build

deps:
	@command -v $(SWIFT) >/dev/null || { echo "error: swift not found: install a Swift 6.2+ toolchain (swift.org) and put it on PATH"; exit 1; }
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

PACKAGES = $(APT_PACKAGES)
test test-torch2: PACKAGES = $(APT_PACKAGES) $(TEST_APT_PACKAGES)

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

release: deps
	$(SWIFT) build $(SWIFT_FLAGS) -c release

demo: release
	$(SCRATCH)/release/blockwise demo

test: deps
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	$(SWIFT) test $(SWIFT_FLAGS) --skip-build

# The same tests against libtorch 2.x, unpacked from the machine's wheel.
test-torch2: deps
	@[ -n "$(TORCH2_WHEEL)" ] || { echo "error: no torch 2.x wheel in /opt/wheels; set TORCH2_WHEEL=/path/to/torch-2*.whl"; exit 1; }
	@[ -d .build-torch2/torch ] || { mkdir -p .build-torch2 && cd .build-torch2 && python3 -m zipfile -e $(TORCH2_WHEEL) . >/dev/null; }
	$(MAKE) test LIBTORCH=$(CURDIR)/.build-torch2/torch

# The same tests against PyPI's CUDA build of torch, installed with its nvidia-* wheels into a
# folder of its own (about 4.5 GB; no Python environment is touched). The bridge then has
# NCCL process groups; without a GPU the CUDA cases skip. The machine's pip configuration is
# set aside: its find-links hold the +cpu wheel, which also answers `torch==$(TORCH_CUDA_VERSION)`.
# It builds in a scratch folder of its own, apart from test-torch2's.
test-cuda-build: deps
	@[ -f $(CUDA_SITE)/torch/lib/libtorch_cuda.so ] || { \
	  echo "installing torch==$(TORCH_CUDA_VERSION) (CUDA) and its nvidia-* wheels into $(CUDA_SITE)"; \
	  rm -rf $(CUDA_SITE) && PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= python3 -m pip install --quiet --no-compile \
	    --only-binary=:all: --root-user-action=ignore --target $(CUDA_SITE) torch==$(TORCH_CUDA_VERSION) "cuda-toolkit[crt,cccl]"; }
	$(MAKE) test LIBTORCH=$(CURDIR)/$(CUDA_SITE)/torch SCRATCH=.build-cuda/swift

bench: release
	$(SCRATCH)/release/blockwise bench --ops

# The installed CUDA wheels (.build-cuda/site) are kept: they are downloads, not build output.
clean:
	rm -rf .build .build-libtorch .build-cuda/swift
