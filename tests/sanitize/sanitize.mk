# tests/sanitize: the suites again, against a second build made with ASan and UBSan.
#   make sanitize-build     build/san/ (inside build/: ignored by git, gone with make clean): the core, build/san/tcpdrop, the unit tests and tools
#   make check-sanitize     that build, then the sanitize suite alone (tests/sanitize/run.sh)
# The second build is this Makefile run again with OUT=build/san; CFLAGS and LDFLAGS go through
# the environment so that the Makefile's own += flags still apply. clang, because gcc's UBSan
# ignores log_path, where the suite looks for reports; MULTIARCH stays the one cc named.
SAN_CC ?= clang
SAN_OUT := build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: sanitize-build check-sanitize out-tests-build

# What the suites run, all under $(OUT): the binary is $(OUT)/tcpdrop, never ./tcpdrop.
$(OUT)/tcpdrop: $(MAIN_OBJ) $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# clang (not gcc) takes the comm strings there, split in two literals, for a missing comma.
$(SAN_OUT)/tests/pcapng_bench: CFLAGS += -Wno-string-concatenation


out-tests-build: $(OUT)/tcpdrop $(UNIT_BINS) $(TOOL_BINS) $(HELPER_BINS) $(OUT)/tests/pcapng_synth

sanitize-build:
	$(Q)CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
		$(MAKE) --no-print-directory OUT=$(SAN_OUT) CC=$(SAN_CC) MULTIARCH=$(MULTIARCH) \
		out-tests-build

check-sanitize: sanitize-build
	$(Q)SUITES=sanitize sh tests/run.sh
