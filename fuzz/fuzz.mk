# fuzz/: the libFuzzer target for the pcapng/pcap reader (clang), and the record/replay suite's tool.
#   make fuzz                          build $(OUT)/fuzz/fuzz_pcapng
#   make fuzz-run FUZZ_SECONDS=60      fuzz from fuzz/corpus; crashes land in $(OUT)/fuzz/
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BIN := $(OUT)/fuzz/fuzz_pcapng
# The capture room without its libpcap and -w parts: the reader, the codec and their helpers.
FUZZ_CAPTURE := $(filter-out core/capture/pcapfilter.c core/capture/record.c, \
		  $(wildcard core/capture/*.c))
FUZZ_SRCS := fuzz/fuzz_pcapng.c $(FUZZ_CAPTURE) $(wildcard core/sym/*.c) core/util/util.c \
	     core/util/privs.c
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	       $(shell $(PKG_CONFIG) --cflags libbpf) -Icore -Ibpf -DTCPDROP_VERSION='"$(VERSION)"'

.PHONY: fuzz fuzz-run

$(FUZZ_BIN): $(FUZZ_SRCS) core/drop.h $(wildcard core/*/*.h) bpf/tcpdrop.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SRCS) $(shell $(PKG_CONFIG) --libs libbpf libbsd) -o $@

fuzz: $(FUZZ_BIN)

# New inputs go to $(OUT)/fuzz/corpus; fuzz/corpus (the seeds) is only read.
fuzz-run: $(FUZZ_BIN)
	$(Q)mkdir -p $(OUT)/fuzz/corpus
	$(Q)$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=2 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix=$(OUT)/fuzz/ $(OUT)/fuzz/corpus fuzz/corpus

# tests/pcapng's tool: odd events through the -w writer and the runtime (a live run without a kernel).
$(OUT)/tests/pcapng_synth: tests/pcapng/synth.c $(CORE_OBJS) | $(OUT)/tcpdrop.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Icore $< $(CORE_OBJS) $(LDLIBS) -o $@

tests-build: $(OUT)/tests/pcapng_synth
