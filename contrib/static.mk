# `make static`: one fully static tcpdrop-static from the same objects, to copy to any host.
# Debian ships every library as a .a; the Lua runtime reaches C through FFI function pointers,
# not ffi.C, so nothing needs -Wl,-E or a dynamic symbol table.
STATIC_BIN := tcpdrop-static
static_comma := ,
# libpcap's static flags name -lsystemd, which Debian ships only as a .so: the two calls
# libdbus-1.a makes into it come from contrib/static-stubs.c instead.
# libmicrohttpd's static flags name GnuTLS and what it needs (p11-kit, libunistring: no .a in
# Debian): tcpdrop serves no TLS, and contrib/static-gnutls.c stands in for the GnuTLS calls.
STATIC_LDLIBS := $(filter-out -Wl$(static_comma)-E -lsystemd,\
		   $(shell $(PKG_CONFIG) --static --libs $(filter-out libmicrohttpd,$(PKGS)))) \
		 -lmicrohttpd -lm

.PHONY: static
static: $(STATIC_BIN)

$(OUT)/static-stubs.o: contrib/static-stubs.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# glibc warns about each call that goes through NSS or dlopen (LuaJIT's ffi.load, libpcap's
# name lookups, libdbus's user lookups): in a static binary those need the target's glibc at
# run time. tcpdrop never calls ffi.load; a pcap filter that names hosts or services resolves
# them through the target's NSS (numbers never need it). Those warnings are expected and
# filtered; any other linker message is shown.
$(OUT)/static-gnutls.o: contrib/static-gnutls.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(STATIC_BIN): $(MAIN_OBJ) $(CORE_OBJS) $(OUT)/static-stubs.o $(OUT)/static-gnutls.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -static $^ $(STATIC_LDLIBS) -o $@ 2>$(OUT)/static-link.log || \
		{ cat $(OUT)/static-link.log >&2; exit 1; }
	$(Q)grep -v -e 'statically linked applications requires at runtime' \
		-e ': in function ' $(OUT)/static-link.log >&2 || true
	$(Q)file $@ | grep -q 'statically linked' || { echo "$@: not static" >&2; exit 1; }
