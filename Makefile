# Thin front over meson. `make run` and `make test` are the two commands anyone types.
BUILD      ?= build
TESTBUILD  ?= build-test
DATA       ?= data
PREFIX     ?= /usr/local

.PHONY: all deps build install run demo test unit fuzz soak bench format clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The binaries, the systemd unit, its sysusers.d user, doorman.env.example and the operations
# guide under PREFIX (docs/operations.md, Install); DESTDIR=DIR stages them under DIR instead.
install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	meson install -C $(BUILD) --quiet $(if $(DESTDIR),--destdir $(abspath $(DESTDIR)))

run: build
	./$(BUILD)/src/doorman serve --data $(DATA)

demo: build
	./$(BUILD)/src/doorman demo

test:
	@scripts/test.sh

fuzz:
	@scripts/fuzz.sh long

# kill -9 during the long operations, restart, check against tgsim (not part of `make test`)
soak:
	@scripts/soak.sh

bench: build
	@scripts/bench.sh

# Generated files (marked "do not edit") stay as their generators write them.
format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'tools/*.c' 'bench/*.c' | xargs grep -L 'do not edit')

clean:
	rm -rf $(BUILD) $(TESTBUILD)
