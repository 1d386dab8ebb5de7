/* Static build only: the two libsystemd calls libdbus-1.a links for socket activation. */
#include <errno.h>

/*
 * Debian ships no libsystemd.a. libpcap.a pulls in libdbus-1.a (its D-Bus capture
 * source), and libdbus-1.a asks systemd for activation sockets only when it runs as a
 * bus daemon; tcpdrop opens no capture device, so these answer "none, not supported".
 */
int sd_listen_fds(int unset_environment);
int sd_is_socket(int fd, int family, int type, int listening);

int sd_listen_fds(int unset_environment)
{
	(void)unset_environment;
	return 0;
}

int sd_is_socket(int fd, int family, int type, int listening)
{
	(void)fd;
	(void)family;
	(void)type;
	(void)listening;
	return -ENOSYS;
}
