# Front door for people: every target installs missing Debian packages first
# (scripts/deps.sh), then drives CMake presets. See README.md.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build demo test asan valgrind fuzz bench checksrc clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build build/release -j$(JOBS)

# The main job: start tritonc-server on models/ and run the examples against it.
demo: build
	@scripts/demo.sh build/release

# The tests: debug build with warnings as errors, every ctest case.
test: deps
	@cmake --preset dev >/dev/null
	@cmake --build build/dev -j$(JOBS)
	@ctest --test-dir build/dev --output-on-failure -j$(JOBS)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build build/asan -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir build/asan --output-on-failure -j$(JOBS)

valgrind: deps
	@cmake --preset valgrind >/dev/null
	@cmake --build build/valgrind -j$(JOBS)
	@ctest --test-dir build/valgrind -T memcheck -LE integration --output-on-failure -j$(JOBS)

# libFuzzer targets (clang); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build build/fuzz -j$(JOBS)
	@scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

bench: build
	@build/release/bench/tc_bench_infer --models models
	@build/release/bench/tc_bench_matrix --models models --results bench/RESULTS.md

checksrc:
	@scripts/checksrc.sh

clean:
	rm -rf build
