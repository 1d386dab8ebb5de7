/* make bench's reference tracer: loads refprobe.bpf.o and counts its events; BPF cost's baseline.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_event(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	++*(unsigned long long *)ctx;
	return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct ring_buffer *rb;
	struct bpf_map *bss;
	__u32 zero = 0;
	struct timespec tick = { 0, 10 * 1000 * 1000 }, t0, now;
	unsigned long long seen = 0, lost = 0;
	double secs;
	int err;

	if (argc != 3 || (secs = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: refprobe OBJECT SECONDS\n");
		return 2;
	}
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "refprobe: cannot load %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "refprobe");
	link = prog ? bpf_program__attach(prog) : NULL;
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "ring")), on_event,
			      &seen, NULL);
	if (!link || !rb) {
		fprintf(stderr, "refprobe: cannot attach: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "refprobe: attached\n");
	/* The probe never wakes us: read every 10 ms, as tcpdrop's timer does. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		nanosleep(&tick, NULL);
		err = ring_buffer__consume(rb);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!stop && err >= 0 &&
		 (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	ring_buffer__consume(rb);
	bss = bpf_object__find_map_by_name(obj, ".bss");
	if (bss)
		bpf_map__lookup_elem(bss, &zero, sizeof(zero), &lost, sizeof(lost), 0);
	printf("refprobe: seen=%llu lost=%llu\n", seen, lost);
	ring_buffer__free(rb);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
