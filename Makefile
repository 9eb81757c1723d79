# samtale: thin wrapper over CMake. `make run` starts samtale; `make test` runs every test.
# Both install what is missing first (scripts/deps.sh), so they work on a fresh Debian 12.

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build run test deps bench model clean

all: build

deps:
	@scripts/deps.sh --check >/dev/null 2>&1 || scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Starts samtale on http://127.0.0.1:8080/ with its database under ./var/.
# The first start creates a workspace and an owner and prints how to log in.
run: build
	$(BUILD)/samtale serve

# Unit, integration and browser tests, plus the unit and integration tests again under
# AddressSanitizer and UndefinedBehaviorSanitizer (built with clang).
test: deps
	@scripts/test.sh

bench: build
	@bench/footprint.sh $(BUILD)/samtale

# Trains the language model again from the data folder (docs/models.md) and measures it;
# the build never trains. DATA is the data folder (default ../shared/data).
DATA ?= $(or $(SAMTALE_DATA_DIR),../shared/data)
model: build
	@cmake --build $(BUILD) --target train_lang
	$(BUILD)/train_lang $(DATA) src/text/model/lang.bin
	@cmake --build $(BUILD) -j$(JOBS)

clean:
	rm -rf $(BUILD) build-asan
