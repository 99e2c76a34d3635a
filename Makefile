# Thin wrapper: set-up, build and the two commands the README shows first.
#   make run      install what is missing, build, run the main job on its default config
#   make test     install what is missing, build, run the whole test suite (ctest)
#   make figures  run configs/paper/*.yaml and write results/figures/*.png and .pdf
#   make bench    build and run the benchmarks against the numpy baseline
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DTVK_WERROR=ON

# Debian packages: the C++ stack, and python3 modules for plotting and the numpy checks.
APT_PACKAGES := cmake g++ make git clang-format libeigen3-dev libboost-math-dev \
  libboost-random-dev libhdf5-dev libtbb-dev libyaml-cpp-dev libgtest-dev libgmock-dev \
  libbenchmark-dev libopenmpi-dev openmpi-bin python3 python3-numpy python3-h5py \
  python3-pandas python3-matplotlib

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps bert-deps build run test figures bench format clean

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

build: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/tvk run configs/quickstart.yaml
	$(BUILD_DIR)/tvk run configs/bert_minilm.yaml

test: build bert-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# Every figure: configs/paper/*.yaml through tvk run, then plotting/*.py (results/figures/).
figures: build
	bash plotting/make_figures.sh

bench: build
	python3 bench/run_bench.py --build $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD_DIR)
