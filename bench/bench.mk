# make bench: build the drop generator and print one table comparing tcpdrop with its peers.

BENCH_BIN := $(OUT)/bench/dropgen

# The generator travels into the namespace it makes: libc only, with threads.
$(BENCH_BIN): bench/dropgen.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -pthread $< -o $@

.PHONY: bench
bench: tcpdrop $(BENCH_BIN) $(OUT)/tests/pcapfilter_check
	$(Q)sh bench/deps.sh
	$(Q)sh bench/run.sh
