# mpt front door. `make test` and `make demo` set up, build and run.
BUILD_DIR ?= build
LLVM_PREFIX ?= /usr/lib/llvm-22
BUILD_TYPE ?= Release
PYTHON ?= /usr/bin/python3
EXAMPLE ?= mlp

.PHONY: all setup configure build test check unittest demo docs format format-check bench fuzz clean

all: build

setup:
	@PYTHON=$(PYTHON) ./scripts/setup.sh

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

# The second part trains examples/digits/ on scikit-learn's digits (mpt
# FP32/f16/bf16, PyTorch beside them when torch is there): it needs
# scikit-learn, which the project's .venv holds (make setup).
DEMO_PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,$(PYTHON))
demo: build
	PYTHONPATH=python $(PYTHON) -m mpt.demo --example $(EXAMPLE) \
	  --tools $(BUILD_DIR)/bin --llvm-tools $(LLVM_PREFIX)/bin
	PYTHONPATH=python $(DEMO_PYTHON) -m mpt.demo_digits --tools $(BUILD_DIR)/bin \
	  --llvm-tools $(LLVM_PREFIX)/bin --out $(BUILD_DIR)/demo

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
	$(PYTHON) bench/lower_compile_time.py --tools $(BUILD_DIR)/bin

# Defect search (docs/Testing.md): random training graphs FP32 vs f16/bf16,
# then mutated examples through mpt-opt, FUZZ_TIME seconds in all (half
# each), from FUZZ_SEED; failures are minimised and saved under FUZZ_OUT.
# Re-check saved failures with FUZZ_REPRO=1.
FUZZ_TIME ?= 600
FUZZ_SEED ?= $(shell date +%s)
FUZZ_OUT ?= fuzz-out
FUZZ_ENV = PYTHONPATH=python MPT_TOOLS_DIR=$(BUILD_DIR)/bin \
  MPT_LLVM_TOOLS_DIR=$(LLVM_PREFIX)/bin
fuzz: build
ifdef FUZZ_REPRO
	$(FUZZ_ENV) $(PYTHON) -m mpt.testing.fuzzgraph --repro $(FUZZ_OUT)/graphs; g=$$?; \
	$(FUZZ_ENV) $(PYTHON) -m mpt.testing.fuzzmutate --repro $(FUZZ_OUT)/mutations; \
	m=$$?; exit $$((g | m))
else
	@echo "fuzz: FUZZ_SEED=$(FUZZ_SEED) FUZZ_TIME=$(FUZZ_TIME) -> $(FUZZ_OUT)/"
	$(FUZZ_ENV) $(PYTHON) -m mpt.testing.fuzzgraph --time $$(( $(FUZZ_TIME) / 2 )) \
	  --start $(FUZZ_SEED) --out $(FUZZ_OUT)/graphs; g=$$?; \
	$(FUZZ_ENV) $(PYTHON) -m mpt.testing.fuzzmutate --time $$(( $(FUZZ_TIME) / 2 )) \
	  --seed $(FUZZ_SEED) --out $(FUZZ_OUT)/mutations; m=$$?; \
	exit $$((g | m))
endif

clean:
	rm -rf $(BUILD_DIR)
