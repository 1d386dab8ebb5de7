/*
 * The -w writer: whole pcapng blocks, written out at least once a second, never half a block.
 * Full buffers go to a thread of their own: a file's write() costs the page cache's copy (and,
 * where pages are zeroed on allocation, a memset) for every byte, which would otherwise come
 * out of the time the reader has to drain the rings in a storm.
 *
 * They go through a queue, not a single hand-over slot: on a busy machine the writer thread
 * waits for a CPU like any other (perf sched: up to 160 ms in the bench's record row), and a
 * reader that waited for it lost 1.2 s of an 8 s storm that way. The reader only waits once
 * QUEUE_BYTES are waiting, when the disk truly cannot keep up.
 */
#include "capture/capture.h"
#include "sym/sym.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_BYTES (256u << 10) /* write out once this much is buffered */
#define QUEUE_BYTES (16u << 20) /* handed to the writer and not yet written, at most */
#define SPARES 8 /* written buffers kept for reuse, so that a storm does not malloc each one */

/* A buffer of whole blocks handed to the writer thread. */
struct chunk {
	struct pcapng_buf b;
	uint64_t events;
	struct chunk *next;
};

struct recorder {
	int fd;
	char *path; /* for messages */
	int created; /* we made the file: remove it if the run never starts */
	int is_reg; /* a regular file: can be cut back to the last whole block */
	struct pcapng_enc *enc; /* formats drops; keeps what a storm repeats */
	struct pcapng_buf buf; /* being filled */
	uint64_t buffered; /* events in buf */
	uint64_t max_events, taken;
	int said_unnamed; /* that frames without a symbol are written as "?" */
	uint64_t start;
	pthread_t owner; /* the thread that records (recorder__write) */
	/* The writer's, while it runs; the caller's when the queue is empty (see wait_idle). */
	uint64_t file_len; /* bytes safely written */
	uint64_t written; /* events in the file */
	int err; /* the first write error, as -errno (read atomically) */
	/* The writer thread, started at the first full buffer; the rest under lock. */
	pthread_t thread;
	int threaded, quit;
	struct chunk *head, *tail; /* to be written, oldest first */
	struct chunk *spare; /* written, for reuse */
	unsigned int n_spare;
	size_t queued; /* bytes of the queue's chunks and of the one being written */
	pthread_mutex_t lock;
	pthread_cond_t work; /* the writer: a chunk came, or quit */
	pthread_cond_t idle; /* the reader: a chunk was written */
};

static int open_out(struct recorder *r, const struct recorder_opts *ro)
{
	struct stat st;
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC;

	if (!strcmp(ro->path, "-")) {
		if (isatty(STDOUT_FILENO)) {
			msg("-w -: standard output is a terminal; pipe it (e.g. into tshark -r -) "
			    "or give a file name");
			return -EINVAL;
		}
		/* The real stdout is the file's; what else writes to fd 1 goes to stderr. */
		fflush(stdout);
		r->fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (r->fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			int err = -errno;

			msg("-w -: cannot set up standard output: %s", strerror(-err));
			return err;
		}
		r->is_reg = !fstat(r->fd, &st) && S_ISREG(st.st_mode);
		return 0;
	}
	if (!stat(ro->path, &st)) {
		if (S_ISREG(st.st_mode) && !ro->force) {
			msg("%s exists; use --force to replace it", ro->path);
			return -EEXIST;
		}
		if (S_ISDIR(st.st_mode)) {
			msg("cannot write %s: it is a directory", ro->path);
			return -EISDIR;
		}
		/* A FIFO or a device (e.g. for `wireshark -k -i FIFO`) is written, not replaced. */
		if (S_ISREG(st.st_mode))
			flags |= O_TRUNC;
	} else {
		flags |= O_EXCL;
		r->created = 1;
	}
	r->fd = open(ro->path, flags, 0666);
	if (r->fd < 0) {
		int err = -errno;

		msg("cannot create %s: %s", ro->path, strerror(errno));
		r->created = 0;
		return err;
	}
	r->is_reg = !fstat(r->fd, &st) && S_ISREG(st.st_mode);
	return 0;
}

/* Bytes of buf that form whole blocks within its first n bytes, and the events among them. */
static size_t whole_blocks(const struct pcapng_buf *b, size_t n, uint64_t *events)
{
	size_t at = 0;

	*events = 0;
	while (at + 8 <= n) {
		uint32_t type, len;

		memcpy(&type, b->p + at, 4);
		memcpy(&len, b->p + at + 4, 4);
		if (at + len > n)
			break;
		if (type == 6)
			(*events)++;
		at += len;
	}
	return at;
}

static int fail(struct recorder *r, struct pcapng_buf *b, uint64_t *buffered, int err, size_t done)
{
	uint64_t events;
	size_t keep = whole_blocks(b, done, &events);

	__atomic_store_n(&r->err, err, __ATOMIC_RELAXED);
	r->written += events;
	/* Cut a half-written block off, so that readers find the file whole up to its end. */
	if (r->is_reg && keep < done && ftruncate(r->fd, (off_t)(r->file_len + keep)) == 0)
		done = keep;
	r->file_len += done;
	msg("writing %s: %s; it holds the first %llu drops%s", r->path, strerror(-err),
	    (unsigned long long)r->written,
	    keep < done ? ", then part of a block readers will report as cut short" : "");
	b->len = 0;
	*buffered = 0;
	return err;
}

/* b's blocks (holding *buffered events) into the file; b emptied. 0 or -errno (said once). */
static int write_out(struct recorder *r, struct pcapng_buf *b, uint64_t *buffered)
{
	size_t done = 0;

	if (r->err)
		return r->err;
	while (done < b->len) {
		ssize_t n = write(r->fd, b->p + done, b->len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(r, b, buffered, -errno, done);
		}
		if (n == 0)
			return fail(r, b, buffered, -ENOSPC, done);
		done += (size_t)n;
	}
	r->file_len += done;
	r->written += *buffered;
	b->len = 0;
	*buffered = 0;
	return 0;
}

static void *writer(void *arg)
{
	struct recorder *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct chunk *c;
		size_t len;

		while (!r->head && !r->quit)
			pthread_cond_wait(&r->work, &r->lock);
		c = r->head;
		if (!c)
			break; /* quit, and all written */
		r->head = c->next;
		if (!r->head)
			r->tail = NULL;
		pthread_mutex_unlock(&r->lock);
		len = c->b.len;
		write_out(r, &c->b, &c->events);
		c->b.len = 0; /* after an error too: what failed is said and counted once */
		pthread_mutex_lock(&r->lock);
		r->queued -= len;
		if (r->n_spare < SPARES) {
			c->next = r->spare;
			r->spare = c;
			r->n_spare++;
		} else {
			pcapng_buf__free(&c->b);
			free(c);
		}
		pthread_cond_broadcast(&r->idle);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Until the thread has written all it was given: then the file's fields are ours. */
static void wait_idle(struct recorder *r)
{
	if (!r->threaded)
		return;
	pthread_mutex_lock(&r->lock);
	while (r->queued)
		pthread_cond_wait(&r->idle, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

/* Queue buf for the thread (started now if need be), or write it here if none can start. */
static int hand_over(struct recorder *r)
{
	struct pcapng_buf t;
	struct chunk *c;

	if (!r->buf.len)
		return 0;
	if (!r->threaded) {
		sigset_t all, old;
		int err;

		/* Signals are the main loop's (a signalfd): none may land on this thread. */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		err = pthread_create(&r->thread, NULL, writer, r);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (err)
			return write_out(r, &r->buf, &r->buffered);
		r->threaded = 1;
	}
	pthread_mutex_lock(&r->lock);
	/* The disk is slower than the drops: wait, and the rings take the rest (counted). */
	while (r->queued && r->queued + r->buf.len > QUEUE_BYTES)
		pthread_cond_wait(&r->idle, &r->lock);
	c = r->spare;
	if (c) {
		r->spare = c->next;
		r->n_spare--;
	}
	pthread_mutex_unlock(&r->lock);
	if (!c)
		c = xcalloc(1, sizeof(*c));
	/* The chunk takes the filled buffer; buf takes the chunk's old one, empty, to refill. */
	t = c->b;
	c->b = r->buf;
	r->buf = t;
	r->buf.len = 0;
	c->events = r->buffered;
	c->next = NULL;
	r->buffered = 0;
	pthread_mutex_lock(&r->lock);
	if (r->tail)
		r->tail->next = c;
	else
		r->head = c;
	r->tail = c;
	r->queued += c->b.len;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->lock);
	return __atomic_load_n(&r->err, __ATOMIC_RELAXED);
}

int recorder__flush(struct recorder *r)
{
	if (!r)
		return 0;
	/* The recording thread's once a second: to the writer, which writes it at once. */
	if (r->threaded && pthread_equal(pthread_self(), r->owner))
		return hand_over(r);
	/* Anyone else's (the watchdog's, while the recording thread is stuck in a hook): in the
	 * file before we return. */
	if (r->threaded) {
		hand_over(r);
		wait_idle(r);
		return __atomic_load_n(&r->err, __ATOMIC_RELAXED);
	}
	return write_out(r, &r->buf, &r->buffered);
}

int recorder__open(const struct recorder_opts *ro, struct names *nm, struct ksyms *ks,
		   struct recorder **out)
{
	struct recorder *r = xcalloc(1, sizeof(*r));
	struct pcapng_section s = { 0 };
	char userappl[64], os[256], host[256 + 16];
	struct utsname u;
	int err;

	r->fd = -1;
	r->owner = pthread_self();
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->idle, NULL);
	r->path = xstrdup(strcmp(ro->path, "-") ? ro->path : "standard output");
	r->enc = pcapng_enc__new(nm, ks);
	r->max_events = ro->max_events;
	err = open_out(r, ro);
	if (err) {
		recorder__close(r, NULL); /* nothing started, nothing created: only the freeing */
		return err;
	}
	snprintf(userappl, sizeof(userappl), "tcpdrop %s", TCPDROP_VERSION);
	s.userappl = userappl;
	if (!uname(&u)) {
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
		snprintf(host, sizeof(host), "host %s", u.nodename);
		s.os = os;
		s.hardware = u.machine;
		s.comment = host;
	}
	s.nm = nm;
	pcapng__put_shb(&r->buf, &s);
	/* Headers plus payload: what one EPB can hold. */
	pcapng__put_idb(&r->buf, PCAPNG_LINKTYPE_RAW,
			TCPDROP_HDR_MAX + ro->snaplen < TCPDROP_PKT_MAX
				? TCPDROP_HDR_MAX + ro->snaplen
				: TCPDROP_PKT_MAX,
			"tcpdrop", "TCP packets the kernel dropped");
	err = recorder__flush(r);
	if (err) {
		recorder__close(r, NULL);
		return err;
	}
	*out = r;
	return 0;
}

void recorder__start(struct recorder *r)
{
	if (!r)
		return;
	r->start = now_ns(CLOCK_REALTIME);
	pcapng__put_isb(&r->buf, r->start, r->start, 0, NULL, 0);
	recorder__flush(r);
}

int recorder__write(struct recorder *r, const struct tcpdrop_event *ev, unsigned int n)
{
	int err = __atomic_load_n(&r->err, __ATOMIC_RELAXED);

	if (err)
		return err;
	if (r->max_events && r->taken + n > r->max_events)
		n = (unsigned int)(r->max_events - r->taken);
	for (unsigned int i = 0; i < n; i++)
		pcapng_enc__put_event(r->enc, &r->buf, &ev[i]);
	if (!r->said_unnamed && pcapng_enc__unnamed(r->enc)) {
		msg("writing %s: frames without a kernel symbol are written as \"%s\" (no kernel "
		    "address goes into a file; naming frames needs CAP_SYSLOG)",
		    r->path, KSYMS_UNKNOWN);
		r->said_unnamed = 1;
	}
	r->taken += n;
	r->buffered += n;
	if (r->buf.len >= FLUSH_BYTES)
		return hand_over(r);
	return 0;
}

int recorder__close(struct recorder *r, const struct run_stats *st)
{
	int err = 0;

	if (!r)
		return 0;
	if (r->threaded) {
		pthread_mutex_lock(&r->lock);
		r->quit = 1; /* once the queue is written */
		pthread_cond_broadcast(&r->work);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
		r->threaded = 0;
	}
	if (st) {
		uint64_t end = now_ns(CLOCK_REALTIME);

		if (!r->err)
			pcapng__put_isb(&r->buf, end, r->start, end, st, r->written + r->buffered);
		err = recorder__flush(r);
		if (!err && r->fd >= 0 && close(r->fd)) {
			msg("writing %s: %s", r->path, strerror(errno));
			err = -EIO;
		}
		r->fd = -1;
	} else if (r->created && !r->written) {
		unlink(r->path);
	}
	if (r->fd >= 0)
		close(r->fd);
	pcapng_buf__free(&r->buf);
	while (r->spare) {
		struct chunk *c = r->spare;

		r->spare = c->next;
		pcapng_buf__free(&c->b);
		free(c);
	}
	pcapng_enc__free(r->enc);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->idle);
	free(r->path);
	free(r);
	return err;
}
