# tcpdrop: `make` builds ./tcpdrop; `make run` and `make test` also install what is missing.
VERSION := 0.1.0

CC ?= cc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
PKG_CONFIG ?= pkg-config
OUT := build
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/')
MULTIARCH := $(shell $(CC) -dumpmachine)
PKGS := libbpf libelf luajit libbsd zlib libpcap libmicrohttpd

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP \
	  $(shell $(PKG_CONFIG) --cflags $(PKGS)) -I$(OUT) -Icore -Ibpf \
	  -DTCPDROP_VERSION='"$(VERSION)"'
# libpcap is dlopen()ed only when a filter expression is given (core/pcapfilter.c): the dynamic
# build does not link it; -u makes the static one (contrib/static.mk) take it from libpcap.a.
LDLIBS += $(shell $(PKG_CONFIG) --libs $(filter-out libpcap,$(PKGS))) -lm -lpthread -ldl
PCAP_SYMS := pcap_open_dead pcap_compile pcap_geterr pcap_close pcap_freecode pcap_offline_filter
tcpdrop-static: LDFLAGS += $(foreach s,$(PCAP_SYMS),-Wl,-u,$(s))
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I/usr/include/$(MULTIARCH) -Ibpf \
	      -Wall -Werror

# core/ has one folder per stage (docs/DESIGN.md); objects keep the folder: build/run/trace.o.
CORE_SRCS := $(filter-out core/cli/main.c,$(wildcard core/*/*.c))
CORE_OBJS := $(patsubst core/%.c,$(OUT)/%.o,$(CORE_SRCS)) $(OUT)/embed.o
MAIN_OBJ := $(OUT)/cli/main.o
LUA_MODS := $(wildcard lua/*.lua) $(OUT)/fields.lua
SCRIPTS := $(wildcard scripts/*.lua)

.DELETE_ON_ERROR:
.PHONY: all deps run lint clean

all: tcpdrop

$(OUT):
	$(Q)mkdir -p $@

$(OUT)/tcpdrop.bpf.o: bpf/tcpdrop.bpf.c bpf/tcpdrop.h bpf/fields.h bpf/filter.h bpf/kernel.h \
		      bpf/owner.h bpf/owner_filter.h bpf/listen.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/tcpdrop.skel.h: $(OUT)/tcpdrop.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name tcpdrop_bpf > $@

# The Lua FFI declarations come from the same header as C's and the probe's.
$(OUT)/cdef.h: bpf/tcpdrop.h bpf/fields.h core/lua/cfuncs.h | $(OUT)
	$(call msg,GEN,$@)
	$(Q){ echo 'typedef uint8_t __u8; typedef uint16_t __u16;'; \
	      echo 'typedef uint32_t __u32; typedef uint64_t __u64;'; \
	      $(CC) -E -P -nostdinc -DTCPDROP_CDEF -x c bpf/tcpdrop.h; \
	      $(CC) -E -P -nostdinc -x c core/lua/cfuncs.h; } > $@

# Lua's list of the event's raw fields, from the same table as the struct.
$(OUT)/fields.lua: lua/fields.lua.in bpf/fields.h | $(OUT)
	$(call msg,GEN,$@)
	$(Q)$(CC) -E -P -nostdinc -Ibpf -x c lua/fields.lua.in > $@

$(OUT)/embed.c: core/lua/embed.sh $(OUT)/cdef.h $(LUA_MODS) $(SCRIPTS)
	$(call msg,EMBED,$@)
	$(Q)sh core/lua/embed.sh $(OUT)/cdef.h $(LUA_MODS) -- $(SCRIPTS) > $@

$(OUT)/embed.o: $(OUT)/embed.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/%.o: core/%.c | $(OUT)/tcpdrop.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# --version's commit: build/version.h, rewritten only when HEAD moves, so that main.o alone
# is rebuilt then, and nothing otherwise.
$(OUT)/version.h: FORCE | $(OUT)
	$(Q)c=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown); \
	l="#define TCPDROP_COMMIT \"$$c\""; \
	[ "$$(cat $@ 2>/dev/null)" = "$$l" ] || echo "$$l" > $@
$(MAIN_OBJ): $(OUT)/version.h
.PHONY: FORCE
FORCE:

tcpdrop: $(MAIN_OBJ) $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Install the Debian packages that building, running and testing need (root only).
deps:
	$(Q)sh contrib/deps.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	./tcpdrop $(ARGS)

include tests/tests.mk
# Fragments owned by their folders: static build, kernel matrix, benchmarks.
-include contrib/static.mk tests/kernels/kernels.mk bench/bench.mk fuzz/fuzz.mk tests/sanitize/sanitize.mk fuzz/extra.mk

lint:
	$(Q)sh contrib/lint.sh

clean:
	rm -rf $(OUT) tcpdrop tcpdrop-static

-include $(wildcard $(OUT)/*.d $(OUT)/*/*.d)
-include contrib/deploy.mk
