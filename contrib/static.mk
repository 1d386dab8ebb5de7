# `make static`: one fully static tcpdrop-static from the same objects, to copy to any host.
# Debian ships every library as a .a; the Lua runtime reaches C through FFI function pointers,
# not ffi.C, so nothing needs -Wl,-E or a dynamic symbol table.
STATIC_BIN := tcpdrop-static
static_comma := ,
STATIC_LDLIBS := $(filter-out -Wl$(static_comma)-E,$(shell $(PKG_CONFIG) --static --libs $(PKGS))) -lm

.PHONY: static
static: $(STATIC_BIN)

# glibc warns that dlopen in a static binary needs its own version at run time: LuaJIT links
# it for ffi.load, which tcpdrop never calls; the warning is filtered, any other one is shown.
$(STATIC_BIN): $(OUT)/main.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -static $^ $(STATIC_LDLIBS) -o $@ 2>$(OUT)/static-link.log || \
		{ cat $(OUT)/static-link.log >&2; exit 1; }
	$(Q)grep -v -e 'statically linked applications requires at runtime' \
		-e 'in function' $(OUT)/static-link.log >&2 || true
	$(Q)file $@ | grep -q 'statically linked' || { echo "$@: not static" >&2; exit 1; }
