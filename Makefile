# ghaccess - GNU make build.
#
#   make              build/ghaccess and build/toml-decode (optimised)
#   make check        install missing packages, build with sanitizers, run every test
#   make demo         stand-in GitHub + ghaccess serve, ready for pip
#   make bench        benchmarks (bench/README.md)
#   make fuzz         libFuzzer harnesses for FUZZ_SECONDS each
#   make install      PREFIX=/usr/local DESTDIR=
#
# Sources are found by wildcard: a new .c file under src/ joins the library,
# a new tests/unit/<module>/test_*.c becomes a test program.

PKGS      := libmicrohttpd libcurl jansson libpcre2-8 inih libcrypto libmemcached libzip \
             libsodium cmocka
CC        ?= cc
BUILD     ?= build
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PREFIX    ?= /usr/local
SANITIZE  ?= 0

WARNINGS  := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wno-format-nonliteral
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -DPCRE2_CODE_UNIT_WIDTH=8 -DGHACCESS_VERSION='"$(VERSION)"' $(WARNINGS) \
             -Isrc -I$(BUILD)/generated $(shell pkg-config --cflags $(PKGS)) $(CFLAGS) -MMD -MP
LDLIBS    := $(shell pkg-config --libs $(PKGS)) -lpthread -lm

ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
endif

MAIN_SOURCES := src/main.c src/toml/toml_decode_main.c
LIB_SOURCES  := $(filter-out $(MAIN_SOURCES),$(shell find src -name '*.c' | sort))
LIB_OBJECTS  := $(LIB_SOURCES:%.c=$(BUILD)/obj/%.o)
GRAPHQL      := $(sort $(wildcard src/github/queries/*.graphql))
GRAPHQL_C    := $(BUILD)/generated/github_queries.c
TEST_SOURCES := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
TEST_HELPERS := $(filter-out $(TEST_SOURCES),$(shell find tests/unit -name '*.c' 2>/dev/null | sort))
TEST_BINS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SOURCES))
HELPER_OBJS  := $(TEST_HELPERS:%.c=$(BUILD)/obj/%.o)

.PHONY: all check deps test unit e2e demo bench bench-programs fuzz install clean lint
all: $(BUILD)/ghaccess $(BUILD)/toml-decode

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# GraphQL queries are plain .graphql files, embedded as C strings.
$(GRAPHQL_C): $(GRAPHQL) scripts/embed-graphql.sh
	@mkdir -p $(dir $@)
	scripts/embed-graphql.sh $(GRAPHQL) > $@.tmp && mv $@.tmp $@
GRAPHQL_OBJ := $(if $(GRAPHQL),$(BUILD)/obj/generated/github_queries.o)
$(BUILD)/obj/generated/github_queries.o: $(GRAPHQL_C)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libghaccess.a: $(LIB_OBJECTS) $(GRAPHQL_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/ghaccess: $(BUILD)/obj/src/main.o $(BUILD)/libghaccess.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/toml-decode: $(BUILD)/obj/src/toml/toml_decode_main.o $(BUILD)/libghaccess.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(HELPER_OBJS) $(BUILD)/libghaccess.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(TEST_BINS)

BENCH_SOURCES := $(wildcard bench/*.c)
BENCH_BINS    := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SOURCES))
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libghaccess.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
bench-programs: $(BENCH_BINS)

# The test entry point of the README and of CI.
# The benchmark programs are built too (not run), so that they never rot.
check:
	scripts/install-deps.sh
	$(MAKE) BUILD=build/check SANITIZE=1 all unit bench-programs
	$(MAKE) lint
	BUILD=build/check tests/run-tests.sh

test:
	$(MAKE) BUILD=build/check SANITIZE=1 all unit
	BUILD=build/check tests/run-tests.sh

lint:
	scripts/check-style.sh

demo: all
	scripts/demo.sh

bench: all bench-programs
	BUILD=$(BUILD) bench/run.sh

FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

install: all
	scripts/install.sh "$(DESTDIR)" "$(PREFIX)" "$(BUILD)"

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
