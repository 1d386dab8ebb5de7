# make bench: build the drop generator and print one table comparing tcpdrop with its peers.

BENCH_BIN := $(OUT)/bench/dropgen
REF_BIN := $(OUT)/bench/refprobe $(OUT)/bench/refprobe.bpf.o

# The generator travels into the namespace it makes: libc only, with threads.
$(BENCH_BIN): bench/dropgen.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -pthread $< -o $@

# The reference probe that tcpdrop's BPF cost is compared with, in the same run.
$(OUT)/bench/refprobe.bpf.o: bench/refprobe.bpf.c bpf/kernel.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bench/refprobe: bench/refprobe.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror $< -o $@ $(shell $(PKG_CONFIG) --libs libbpf)

.PHONY: bench
bench: tcpdrop $(BENCH_BIN) $(REF_BIN) $(OUT)/tests/pcapfilter_check $(OUT)/tests/kcount_check
	$(Q)sh bench/deps.sh
	$(Q)sh bench/run.sh
