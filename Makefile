# Vigil build. `make` builds the services and vigilctl; `make test` runs unit, fuzz-smoke and
# integration tests against the real PostgreSQL and Kafka; `make asan` does it all under
# AddressSanitizer + UBSan. Sources are found by folder: services/<svc>/**.c -> bin/vigil-<svc>.

SERVICES := portal ingest inventory fuzzer report
BUILD    ?= build
BIN      ?= bin
CC       ?= gcc
PYTHON   ?= /usr/bin/python3

PKGS := libpq rdkafka jansson libevent libevent_openssl libevent_pthreads openssl libcurl zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
        -Wpointer-arith -Wundef -Werror
OPT  ?= -O2 -g
ifdef SANITIZER
OPT  := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZER) -fno-sanitize-recover=all
endif
CFLAGS  := -std=c17 -D_GNU_SOURCE -pthread $(OPT) $(WARN) -Icommon/include $(PKG_CFLAGS) -MMD -MP
LDFLAGS := -pthread $(filter -fsanitize=%,$(OPT))
LDLIBS  := $(PKG_LIBS) -lm

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIBVIGIL   := $(BUILD)/libvigil.a

svc_src = $(wildcard services/$(1)/*.c services/$(1)/*/*.c)
svc_obj = $(patsubst %.c,$(BUILD)/%.o,$(call svc_src,$(1)))
# a service's objects without main.o, for unit tests and benchmarks
svc_lib_obj = $(if $(1),$(filter-out $(BUILD)/services/$(1)/main.o,$(call svc_obj,$(1))))

CTL_SRC := $(wildcard tools/vigilctl/*.c)
CTL_OBJ := $(CTL_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FIXTURE_SRC := $(wildcard tests/fixtures/*/main.c)
FIXTURE_BIN := $(patsubst tests/fixtures/%/main.c,$(BIN)/fixture-%,$(FIXTURE_SRC))
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BIN)/%)

ALL_BINS := $(SERVICES:%=$(BIN)/vigil-%) $(BIN)/vigilctl $(FIXTURE_BIN)

.SECONDEXPANSION:
.SECONDARY:
.PHONY: all check test integration asan fuzz fuzz-smoke bench format format-check clean \
        up down demo docs
all: $(ALL_BINS)

# V=1 shows the full commands
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC    $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIBVIGIL): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define svc_rule
$(BIN)/vigil-$(1): $(call svc_obj,$(1)) $(LIBVIGIL)
	@mkdir -p $(BIN)
	@$(if $(V),,echo "  LD    $$@")
	$(Q)$(CC) $(LDFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call svc_rule,$(s))))

$(BIN)/vigilctl: $(CTL_OBJ) $(LIBVIGIL)
	@mkdir -p $(BIN)
	@$(if $(V),,echo "  LD    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# test fixtures written in C (stand-in servers): tests/fixtures/<name>/*.c -> bin/fixture-<name>
fixture_obj = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/fixtures/$(1)/*.c))
$(BIN)/fixture-%: $$(call fixture_obj,$$*) $(LIBVIGIL)
	@mkdir -p $(BIN)
	@$(if $(V),,echo "  LD    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# unit tests: tests/unit/test_<svc>_*.c also link that service's objects (without main.o)
unit_svc = $(firstword $(filter $(SERVICES),$(word 2,$(subst _, ,$(1)))))
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $$(call svc_lib_obj,$$(call unit_svc,$$*)) $(LIBVIGIL)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/bench_%: $(BUILD)/bench/bench_%.o $$(call svc_lib_obj,$$(call unit_svc,bench_$$*)) $(LIBVIGIL)
	@mkdir -p $(BIN)
	@$(if $(V),,echo "  LD    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

check: $(UNIT_BIN)
	@set -e; fail=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t || fail=1; done; \
	  if [ $$fail -ne 0 ]; then echo "unit tests failed"; exit 1; fi

integration: all
	deploy/dev/stack.sh up
	VIGIL_BIN_DIR=$(abspath $(BIN)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

test: all check fuzz-smoke integration format-check

asan:
	$(MAKE) BUILD=build/asan BIN=bin/asan SANITIZER=address,undefined all check integration

# libFuzzer targets: tests/fuzz/fuzz_<svc>_<what>.c, built with clang with that service's
# sources (and common/) compiled in.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -pthread -g -O1 -fsanitize=fuzzer,address,undefined \
               -Icommon/include $(PKG_CFLAGS) -DVIGIL_FUZZING
fuzz_svc_src = $(filter-out services/$(1)/main.c,$(call svc_src,$(1)))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $$(call fuzz_svc_src,$$(call unit_svc,$$*))
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)
fuzz: $(FUZZ_BIN)
FUZZ_SECONDS ?= 10
fuzz-smoke: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); corpus=tests/fuzz/corpus/$${n#fuzz_}; \
	  mkdir -p $(BUILD)/fuzz/work-$$n; echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 $(BUILD)/fuzz/work-$$n \
	      $$( [ -d $$corpus ] && echo $$corpus ) 2>$(BUILD)/fuzz/$$n.log \
	    || { tail -40 $(BUILD)/fuzz/$$n.log; exit 1; }; done

bench: all $(BENCH_BIN)
	bench/run.sh

FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC) && echo "format-check: $(words $(FORMAT_SRC)) files ok"

up: all
	deploy/dev/up.sh
down:
	deploy/dev/down.sh
demo:
	deploy/dev/demo.sh

# the configuration table of the README, generated from the services' config tables
docs: all
	tools/gen-config-docs.sh

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
