# Install and deploy: `make install` / `make uninstall` (PREFIX, DESTDIR), the man pages
# (`make man`), the container image (`make image`). Owned by contrib/; the Makefile includes it.
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

.PHONY: man install uninstall image

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

# The shipped scripts stay embedded in the binary; the copies are for reading and adapting.
install: tcpdrop $(MAN_PAGES)
	$(Q)$(INSTALL) -D -m 0755 tcpdrop $(DESTDIR)$(SBINDIR)/tcpdrop
	$(Q)$(INSTALL) -D -m 0644 $(OUT)/man/tcpdrop.8 $(DESTDIR)$(MANDIR)/man8/tcpdrop.8
	$(Q)$(INSTALL) -D -m 0644 $(OUT)/man/tcpdrop-lua.7 $(DESTDIR)$(MANDIR)/man7/tcpdrop-lua.7
	$(Q)$(INSTALL) -D -m 0644 contrib/bash-completion/tcpdrop $(DESTDIR)$(COMPDIR)/tcpdrop
	$(Q)$(INSTALL) -d $(DESTDIR)$(DATADIR)/tcpdrop/scripts $(DESTDIR)$(DATADIR)/tcpdrop/systemd \
		$(DESTDIR)$(DATADIR)/tcpdrop/kubernetes $(DESTDIR)$(DATADIR)/tcpdrop/containers \
		$(DESTDIR)$(DOCDIR)
	$(Q)$(INSTALL) -m 0644 $(SCRIPTS) $(DESTDIR)$(DATADIR)/tcpdrop/scripts/
	$(Q)for f in $(UNITS); do \
		sed -e 's#@sbindir@#$(SBINDIR)#g' -e 's#@datadir@#$(DATADIR)#g' contrib/systemd/$$f \
			> $(DESTDIR)$(DATADIR)/tcpdrop/systemd/$$f && \
		chmod 0644 $(DESTDIR)$(DATADIR)/tcpdrop/systemd/$$f || exit 1; \
	done
	$(Q)$(INSTALL) -m 0644 contrib/kubernetes/tcpdrop.yaml $(DESTDIR)$(DATADIR)/tcpdrop/kubernetes/
	$(Q)$(INSTALL) -m 0644 contrib/containers/seccomp.sh $(DESTDIR)$(DATADIR)/tcpdrop/containers/
	$(Q)$(INSTALL) -m 0644 README.md docs/scripting.md $(DESTDIR)$(DOCDIR)/
	@echo "tcpdrop installed in $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tcpdrop $(DESTDIR)$(MANDIR)/man8/tcpdrop.8 \
		$(DESTDIR)$(MANDIR)/man7/tcpdrop-lua.7 $(DESTDIR)$(COMPDIR)/tcpdrop
	rm -rf $(DESTDIR)$(DATADIR)/tcpdrop $(DESTDIR)$(DOCDIR)

# An OCI image FROM scratch: the static binary alone, built with buildah from local files.
image: $(STATIC_BIN)
	$(Q)sh contrib/containers/image.sh $(IMAGE) $(STATIC_BIN) $(VERSION)
