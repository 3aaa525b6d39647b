# Makefile -- kpipe: one non-recursive build for lib/, cmd/*, tests and fuzzers
#
# CC, CFLAGS, LDFLAGS, PREFIX and DESTDIR are yours; project flags are
# appended. Everything is discovered by name, so adding lib/kp_x.c,
# cmd/<prog>/x.c, tests/unit/test_x.c or tests/fuzz/fuzz_x.c needs no edit
# here.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions

CC        ?= cc
CFLAGS    ?= -O2 -g
PKGS      := libbsd-overlay jansson zlib

PROGS     := kbroker kproduce kconsume ktopic kgroup kreplicate

ifeq ($(SAN),1)
BUILD     := build/san
SANFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
else
BUILD     := build/default
SANFLAGS  :=
endif

WARN      := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	     -Wmissing-prototypes -Wformat=2 -Wvla -Wimplicit-fallthrough
ifneq ($(WERROR),0)
WARN      += -Werror
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

KP_CPPFLAGS := -Ilib -DKP_VERSION='"$(VERSION)"' -D_GNU_SOURCE
KP_CFLAGS   := -std=c11 $(WARN) $(SANFLAGS) -MMD -MP
KP_LIBS      = $(PKG_LIBS) -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A     := $(BUILD)/libkpipe.a

BINS      := $(PROGS:%=$(BUILD)/bin/%)

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
# Small C programs tests need (fake peers, mock clusters); linked with
# librdkafka where a file asks for it by name (tests/tools/rk_*.c).
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

ALL_OBJ   := $(LIB_OBJ)

.SECONDARY:
.PHONY: all check deps run install uninstall clean fuzz tests bench-build soak bench

all: $(LIB_A) $(BINS)

deps:
	$(Q)sh scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(KP_CPPFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) $(KP_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# One rule per program: its objects are every .c in cmd/<prog>/, its own
# libraries in <prog>_LIBS (kbroker's cluster mode speaks to ZooKeeper).
kbroker_LIBS := -lzookeeper_mt
define PROG_template
$(1)_OBJ := $$(patsubst %.c,$(BUILD)/%.o,$$(sort $$(wildcard cmd/$(1)/*.c)))
ALL_OBJ += $$($(1)_OBJ)
$(BUILD)/bin/$(1): $$($(1)_OBJ) $(LIB_A)
	@mkdir -p $$(@D)
	@$$(if $(Q),echo "  LD      $$@")
	$(Q)$$(CC) $(SANFLAGS) $$(LDFLAGS) -o $$@ $$($(1)_OBJ) $(LIB_A) $$(KP_LIBS) $$($(1)_LIBS)
endef
$(foreach p,$(PROGS),$(eval $(call PROG_template,$(p))))

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(KP_LIBS)

$(BUILD)/tests/tools/rk_%: $(BUILD)/tests/tools/rk_%.o $(LIB_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(KP_LIBS) -lrdkafka

$(BUILD)/tests/tools/zk_%: $(BUILD)/tests/tools/zk_%.o $(LIB_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(KP_LIBS) -lzookeeper_mt

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIB_A)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(KP_LIBS)

$(BUILD)/bench/rk_%: $(BUILD)/bench/rk_%.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(KP_LIBS) -lrdkafka

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(KP_LIBS)

ALL_OBJ += $(UNIT_SRC:%.c=$(BUILD)/%.o) $(TOOL_SRC:%.c=$(BUILD)/%.o) \
	   $(BENCH_SRC:%.c=$(BUILD)/%.o)

tests: all $(UNIT_BIN) $(TOOL_BIN)

bench-build: all $(BENCH_BIN)

# make check: install what is missing, build, run every test, one closing
# line "N passed, N failed". Under SAN=1 everything runs from build/san.
check: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)KP_BUILD=$(BUILD) SAN=$(SAN) sh tests/run.sh

# Side-by-side figures against peers (QUICK=1 for a few minutes); the
# table lands in bench/results/.
bench: deps
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)QUICK=$(QUICK) KP_BUILD=$(BUILD) sh bench/run.sh

# The long fault run: crash cycles, hostile frames (tune SOAK_CYCLES,
# SOAK_FRAMES, SOAK_SEED).
soak: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)KP_BUILD=$(BUILD) sh tests/fault/soak.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	exec $(BUILD)/bin/kbroker

# Fuzzers need clang's libFuzzer; each runs FUZZ_TIME seconds.
FUZZ_TIME ?= 60
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard lib/*.h tests/unit/*.h)
	@mkdir -p $(@D)
	$(Q)clang $(KP_CPPFLAGS) $(PKG_CFLAGS) -std=c11 -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(LIB_SRC) $(KP_LIBS)
fuzz: deps $(FUZZ_BIN)
	$(Q)for f in $(FUZZ_BIN); do \
		n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
		seeds=; [ -d tests/fuzz/corpus/$$n ] && seeds=tests/fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_TIME)s"; \
		$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			build/fuzz/corpus/$$n $$seeds 2>build/fuzz/$$n.log || \
			{ tail -30 build/fuzz/$$n.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units' build/fuzz/$$n.log; \
	done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	$(if $(wildcard man/man1/*.1),install -m 644 $(wildcard man/man1/*.1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(wildcard man/man5/*.5),install -m 644 $(wildcard man/man5/*.5) $(DESTDIR)$(MANDIR)/man5/)
	$(if $(wildcard man/man7/*.7),install -m 644 $(wildcard man/man7/*.7) $(DESTDIR)$(MANDIR)/man7/)
	for p in $(PROGS); do \
		[ -f completions/bash/$$p ] && install -m 644 completions/bash/$$p $(DESTDIR)$(BASHCOMPDIR)/$$p; \
		[ -f completions/zsh/_$$p ] && install -m 644 completions/zsh/_$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p; \
	done; true

uninstall:
	for p in $(PROGS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANDIR)/man1/$$p.1 \
		      $(DESTDIR)$(BASHCOMPDIR)/$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p; \
	done
	rm -f $(DESTDIR)$(MANDIR)/man5/kbroker.conf.5 $(DESTDIR)$(MANDIR)/man7/kpipe.7

clean:
	rm -rf build

-include $(ALL_OBJ:.o=.d)
