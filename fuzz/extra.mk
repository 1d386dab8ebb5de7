# fuzz/: libFuzzer targets beside fuzz.mk's pcapng one, on the core as it ships (clang).
#   make fuzz-extra      $(OUT)/fuzz/fuzz_opts (the command line) and fuzz_script (loading -s/-f/-e)
#   tests/fuzz/run.sh    builds them and fuzz_pcapng, runs each a bounded time from its seeds
# The core is compiled once more, instrumented, into $(OUT)/fuzz/obj/: every room's sources as the
# Makefile finds them (CORE_SRCS), so that a file added to or split in a room needs nothing here.
FUZZ_CC ?= clang
FUZZX_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZX_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
		$(FUZZX_SAN) $(shell $(PKG_CONFIG) --cflags $(PKGS)) -I$(OUT) -Icore -Ibpf \
		-DTCPDROP_VERSION='"$(VERSION)"'
FUZZX_OBJS := $(patsubst core/%.c,$(OUT)/fuzz/obj/%.o,$(CORE_SRCS)) $(OUT)/fuzz/obj/embed.o
FUZZX_BINS := $(OUT)/fuzz/fuzz_opts $(OUT)/fuzz/fuzz_script
# fuzz_script fences the Lua state in by wrapping these (see fuzz/fuzz_script.c).
FUZZX_WRAP := -Wl,--wrap=luaL_newstate,--wrap=luaL_openlibs,--wrap=actions__spawn \
	      -Wl,--wrap=actions__syslog

.PHONY: fuzz-extra

$(OUT)/fuzz/obj/%.o: core/%.c | $(OUT)/tcpdrop.skel.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZX_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c $< -o $@

$(OUT)/fuzz/obj/embed.o: $(OUT)/embed.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZX_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c $< -o $@

$(OUT)/fuzz/fuzz_opts: fuzz/fuzz_opts.c $(FUZZX_OBJS) $(wildcard core/*.h core/*/*.h)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZX_CFLAGS) -fsanitize=fuzzer $(filter-out %.h,$^) $(LDLIBS) -o $@

$(OUT)/fuzz/fuzz_script: fuzz/fuzz_script.c $(FUZZX_OBJS) $(wildcard core/*.h core/*/*.h)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZX_CFLAGS) -fsanitize=fuzzer $(FUZZX_WRAP) $(filter-out %.h,$^) \
		$(LDLIBS) -o $@

fuzz-extra: $(FUZZX_BINS)

-include $(wildcard $(OUT)/fuzz/obj/*.d $(OUT)/fuzz/obj/*/*.d)
