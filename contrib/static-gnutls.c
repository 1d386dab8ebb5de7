/*
 * Static build only: the GnuTLS symbols libmicrohttpd.a refers to, none of which tcpdrop calls.
 *
 * Debian builds libmicrohttpd with HTTPS support, so its .a needs GnuTLS, and a static GnuTLS
 * needs p11-kit and libunistring, of which Debian ships no .a. tcpdrop never starts the server
 * with MHD_USE_TLS (core/metrics/server.c): only the library's constructor and destructor
 * (MHD_init, MHD_fini) call into GnuTLS, to set it up and down; here they succeed and do
 * nothing. Every other entry is reached only through TLS and ends the process loudly.
 * A dlopen() of libgnutls would need the target's own libgnutls: the point of a static binary is
 * not to.
 */
#include <stdio.h>
#include <stdlib.h>

int gnutls_global_init(void);
void gnutls_global_deinit(void);

int gnutls_global_init(void)
{
	return 0;
}

void gnutls_global_deinit(void)
{
}

static void no_tls(const char *fn) __attribute__((noreturn));

static void no_tls(const char *fn)
{
	fprintf(stderr, "tcpdrop: %s: this static build has no TLS\n", fn);
	abort();
}

/* A pointer libmicrohttpd reads for TLS buffers only. */
void *gnutls_malloc;

#define NO_TLS(fn)           \
	void fn(void);       \
	void fn(void)        \
	{                    \
		no_tls(#fn); \
	}

NO_TLS(gnutls_alpn_set_protocols)
NO_TLS(gnutls_bye)
NO_TLS(gnutls_certificate_allocate_credentials)
NO_TLS(gnutls_certificate_free_credentials)
NO_TLS(gnutls_certificate_server_set_request)
NO_TLS(gnutls_certificate_set_dh_params)
NO_TLS(gnutls_certificate_set_retrieve_function2)
NO_TLS(gnutls_certificate_set_retrieve_function3)
NO_TLS(gnutls_certificate_set_x509_key_mem)
NO_TLS(gnutls_certificate_set_x509_key_mem2)
NO_TLS(gnutls_certificate_set_x509_trust_mem)
NO_TLS(gnutls_cipher_get)
NO_TLS(gnutls_credentials_set)
NO_TLS(gnutls_deinit)
NO_TLS(gnutls_dh_params_deinit)
NO_TLS(gnutls_dh_params_import_pkcs3)
NO_TLS(gnutls_dh_params_init)
NO_TLS(gnutls_handshake)
NO_TLS(gnutls_init)
NO_TLS(gnutls_priority_deinit)
NO_TLS(gnutls_priority_init)
NO_TLS(gnutls_priority_set)
NO_TLS(gnutls_protocol_get_version)
NO_TLS(gnutls_psk_allocate_server_credentials)
NO_TLS(gnutls_psk_free_server_credentials)
NO_TLS(gnutls_psk_set_server_credentials_function)
NO_TLS(gnutls_record_check_pending)
NO_TLS(gnutls_record_get_direction)
NO_TLS(gnutls_record_recv)
NO_TLS(gnutls_record_send)
NO_TLS(gnutls_session_get_ptr)
NO_TLS(gnutls_session_set_ptr)
NO_TLS(gnutls_strerror)
NO_TLS(gnutls_transport_set_int2)
