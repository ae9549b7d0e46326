# mpt front door. `make test` and `make demo` set up, build and run.
BUILD_DIR ?= build
LLVM_PREFIX ?= /usr/lib/llvm-22
BUILD_TYPE ?= Release
PYTHON ?= /usr/bin/python3
EXAMPLE ?= mlp

.PHONY: all setup configure build test check unittest demo docs format format-check bench clean

all: build

setup:
	@./scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake -G Ninja -S . -B $(BUILD_DIR) -DCMAKE_PREFIX_PATH=$(LLVM_PREFIX) \
	  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD_DIR)/build.ninja

build: setup configure
	cmake --build $(BUILD_DIR)

# lit tests (check-mpt) then the GoogleTest unit tests (ctest).
test: build
	cmake --build $(BUILD_DIR) --target check-mpt
	cmake --build $(BUILD_DIR) --target mpt-unittests
	cd $(BUILD_DIR) && ctest --output-on-failure
	cmake --build $(BUILD_DIR) --target check-docs

check: test

demo: build
	PYTHONPATH=python $(PYTHON) -m mpt.demo --example $(EXAMPLE) \
	  --tools $(BUILD_DIR)/bin --llvm-tools $(LLVM_PREFIX)/bin

# Regenerate docs/generated from the TableGen sources.
docs: configure
	cmake --build $(BUILD_DIR) --target mpt-docs

FORMAT_FILES = $(shell git ls-files '*.cpp' '*.h')
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

bench: build
	$(PYTHON) bench/amp_compile_time.py --tools $(BUILD_DIR)/bin \
	  --llvm-tools $(LLVM_PREFIX)/bin

clean:
	rm -rf $(BUILD_DIR)
