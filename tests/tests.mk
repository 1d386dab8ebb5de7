# Test programs and the `make test` entry point.
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(OUT)/tests/%,$(TOOL_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(OUT)/tests/%,$(HELPER_SRCS))

$(OUT)/tests/%: tests/unit/%.c $(CORE_OBJS) | $(OUT)/tcpdrop.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Icore $< $(CORE_OBJS) $(LDLIBS) -o $@

# Test tools that drive the core's own objects (no root): e.g. feeding synthetic events.
$(OUT)/tests/%: tests/tools/%.c $(CORE_OBJS) | $(OUT)/tcpdrop.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Icore $< $(CORE_OBJS) $(LDLIBS) -o $@

# Helpers travel into test guests: static, no library but libc.
$(OUT)/tests/%: tests/helpers/%.c tests/helpers/tcpseg.h tests/helpers/netns.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -static $< -o $@

tests-build: tcpdrop $(UNIT_BINS) $(TOOL_BINS) $(HELPER_BINS)

.PHONY: test check tests-build
# Everything, the qemu kernel matrix included (what CI runs).
test: deps kernels-deps
	$(Q)$(MAKE) --no-print-directory tests-build static
	$(Q)sh tests/run.sh

# The same without the kernel matrix: minutes less, for every commit.
check: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)SKIP=kernels sh tests/run.sh

# Test tools the kernel guests run too (tests/kernels/run.sh copies them): static, linked as
# tcpdrop-static is (contrib/static.mk), built with `make static`.
GUEST_TOOLS := $(OUT)/tests/guest/kcount_check
$(OUT)/tests/guest/%: tests/tools/%.c $(CORE_OBJS) $(OUT)/static-stubs.o $(OUT)/static-gnutls.o \
		     | $(OUT)/tcpdrop.skel.h
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Icore $(LDFLAGS) -static $< $(CORE_OBJS) $(OUT)/static-stubs.o \
		$(OUT)/static-gnutls.o $(STATIC_LDLIBS) -o $@ 2>$@.log || { cat $@.log >&2; exit 1; }
static: $(GUEST_TOOLS)
