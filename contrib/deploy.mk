# Install and deploy: the man pages (`make man`) so far. Owned by contrib/; the Makefile
# includes it.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/tcpdrop
COMPDIR ?= $(DATADIR)/bash-completion/completions
IMAGE ?= localhost/tcpdrop:$(VERSION)

MAN_PAGES := $(OUT)/man/tcpdrop.8 $(OUT)/man/tcpdrop-lua.7
UNITS := tcpdrop-prom.service tcpdrop@.service alert.env
INSTALL ?= install

.PHONY: man

man: $(MAN_PAGES)

# OPTIONS come from the binary's own -h: the page cannot list an option tcpdrop lacks.
$(OUT)/man/tcpdrop.8: docs/man/tcpdrop.8.in docs/man/mkman.sh tcpdrop
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sh docs/man/mkman.sh tcpdrop.8 ./tcpdrop $< $(VERSION) $(DATADIR) > $@

$(OUT)/man/tcpdrop-lua.7: docs/scripting.md docs/man/mkman.sh
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sh docs/man/mkman.sh tcpdrop-lua.7 $< $(VERSION) > $@

