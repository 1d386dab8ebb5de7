# `make test-kernels`: boot 5.10, 6.1 and 6.12 under qemu and run the smoke and live tests in each.
# KERNELS="6.1 host" runs a subset; downloads are cached in /var/cache/tcpdrop-kernels.
.PHONY: test-kernels kernels-deps

kernels-deps:
	$(Q)sh tests/kernels/deps.sh

test-kernels: deps kernels-deps
	$(Q)$(MAKE) --no-print-directory static $(HELPER_BINS)
	$(Q)sh tests/kernels/run.sh $(KERNELS)
