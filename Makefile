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

.PHONY: all deps build release demo test test-torch2 bench clean

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

bench: release
	$(SCRATCH)/release/blockwise bench --ops

clean:
	rm -rf .build .build-libtorch
