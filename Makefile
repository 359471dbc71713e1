# Makefile - the commands a newcomer uses; CMake does the real work.
#   make run    build (release) and serve on the embedded SQLite default
#   make test   install what is missing, build with sanitizers, run all tests
#   make build  debug build with ASan/UBSan in build/
#   make bench  benchmarks (release build), see docs/benchmarks.md
BUILD_DIR   ?= build
RELEASE_DIR ?= build-release
WERROR      ?= OFF
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build release test run bench soak format clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug -DSC_SANITIZE=ON \
		-DSC_WERROR=$(WERROR) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

release: deps
	@cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release \
		-DSC_WERROR=$(WERROR) >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

test: build
	@SC_WERROR=$(WERROR) bash scripts/test.sh $(BUILD_DIR)

run: release
	@bash scripts/run.sh $(RELEASE_DIR)

bench: release
	@bash bench/run.sh $(RELEASE_DIR)

# memory and WAL over SOAK_MINUTES (10) of durable allocation
soak: release
	@bash bench/soak.sh $(RELEASE_DIR)

format:
	@find src tests bench -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(RELEASE_DIR)
