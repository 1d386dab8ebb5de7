/* Unit tests of core/opts.c: option parsing, address filters, ports and the error lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define CHECK_SUITE "opts"
#include "check.h"

static struct options o;
static char err[256];

/* Parse the words after the program name; the return of opts_parse. */
static int parse_words(const char *const *words)
{
	static char *argv[64]; /* options point into argv: it outlives the parse */
	int argc = 0;

	argv[argc++] = "tcpdrop";
	for (; *words && argc < 63; words++)
		argv[argc++] = (char *)*words;
	argv[argc] = NULL;
	opts_free(&o);
	return opts_parse(&o, argc, argv, err, sizeof(err));
}

#define parse(...) parse_words((const char *const[]){ __VA_ARGS__, NULL })
#define parse_none() parse_words((const char *const[]){ NULL })

/* An accepted command line. */
static void ok(const char *name, int ret)
{
	check(name, ret == 0, "rejected: %d '%s'", ret, err);
}

/* A rejected command line, with this exact one-line reason. */
static void bad(const char *name, int ret, const char *want)
{
	if (ret != -EINVAL)
		check(name, 0, "returned %d, want -EINVAL ('%s')", ret, err);
	else
		check(name, !strcmp(err, want) && !strchr(err, '\n'), "error '%s', want '%s'", err,
		      want);
}

static void net_is(const char *name, const char *spec, int family, const char *net_str,
		   const char *mask_str)
{
	struct tcpdrop_net n;
	unsigned char want_net[16] = { 0 }, want_mask[16] = { 0 };
	int af = family == 4 ? AF_INET : AF_INET6;
	int ret = parse_net(spec, &n);

	inet_pton(af, net_str, want_net);
	inet_pton(af, mask_str, want_mask);
	if (ret)
		check(name, 0, "parse_net(%s) = %d", spec, ret);
	else
		check(name,
		      n.family == family && !memcmp(n.net, want_net, 16) &&
			      !memcmp(n.mask, want_mask, 16),
		      "parse_net(%s): family %d, net or mask differ", spec, n.family);
}

static void net_bad(const char *name, const char *spec)
{
	struct tcpdrop_net n;

	check(name, parse_net(spec, &n) == -EINVAL, "parse_net(%s) accepted", spec);
}

static void test_basics(void)
{
	ok("no options", parse_none());
	check("defaults",
	      !o.script && !o.count && o.duration == 0 && o.probe == PROBE_AUTO &&
		      !o.filter.family && !o.netns_id && !o.no_stack && !o.nscript_args &&
		      !o.pcap_expr && !o.reasons,
	      "unexpected non-default field");
	check("default stack rate", o.stack_rate == TCPDROP_DEFAULT_STACK_RATE, "stack_rate %u",
	      o.stack_rate);

	ok("script options",
	   parse("-s", "top.lua", "-f", "e.dport == 443", "-e", "count(e.reason)", "-d", "2.5",
		 "-c", "10", "-i", "0.5", "-v", "-v", "--no-stack", "--keep-going"));
	check("script options values",
	      !strcmp(o.script, "top.lua") && !strcmp(o.filter_expr, "e.dport == 443") &&
		      !strcmp(o.exec_code, "count(e.reason)") && o.duration == 2.5 &&
		      o.count == 10 && o.interval == 0.5 && o.verbose == 2 && o.no_stack &&
		      o.keep_going,
	      "script=%s d=%g c=%llu i=%g v=%d", o.script, o.duration, (unsigned long long)o.count,
	      o.interval, o.verbose);
	ok("long forms", parse("--script=classic", "--duration", "1", "--count=3"));
	check("long forms values", !strcmp(o.script, "classic") && o.duration == 1 && o.count == 3,
	      "script=%s d=%g c=%llu", o.script, o.duration, (unsigned long long)o.count);
	ok("help", parse("-h"));
	check("help flag", o.help, "help not set");
	ok("version", parse("--version"));
	check("version flag", o.version, "version not set");
	ok("list flags", parse("--list-reasons", "--list-scripts", "--show-script", "json"));
	check("list flags values",
	      o.list_reasons && o.list_scripts && !strcmp(o.show_script, "json"), "not set");
}

static void test_numbers(void)
{
	ok("-d fraction", parse("-d", "0.25"));
	bad("-d zero", parse("-d", "0"), "-d: '0' is not a duration in seconds");
	bad("-d negative", parse("-d", "-1"), "-d: '-1' is not a duration in seconds");
	bad("-d word", parse("-d", "abc"), "-d: 'abc' is not a duration in seconds");
	bad("-d trailing", parse("-d", "5s"), "-d: '5s' is not a duration in seconds");
	bad("-d inf", parse("-d", "inf"), "-d: 'inf' is not a duration in seconds");
	bad("-d nan", parse("-d", "nan"), "-d: 'nan' is not a duration in seconds");
	bad("-d too long", parse("-d", "1e10"), "-d: '1e10' is not a duration in seconds");
	bad("-d empty", parse("-d", ""), "-d: '' is not a duration in seconds");
	ok("-c max", parse("-c", "18446744073709551615"));
	check("-c max value", o.count == UINT64_MAX, "count %llu", (unsigned long long)o.count);
	bad("-c overflow", parse("-c", "18446744073709551616"),
	    "-c: '18446744073709551616' is not a count > 0");
	bad("-c zero", parse("-c", "0"), "-c: '0' is not a count > 0");
	bad("-c negative", parse("-c", "-1"), "-c: '-1' is not a count > 0");
	bad("-c plus", parse("-c", "+1"), "-c: '+1' is not a count > 0");
	bad("-c hex", parse("-c", "0x10"), "-c: '0x10' is not a count > 0");
	bad("-i zero", parse("-i", "0"), "-i: '0' is not an interval in seconds");
	ok("--stack-rate", parse("--stack-rate", "0"));
	check("--stack-rate 0 disables the guard", o.stack_rate == 0, "stack_rate %u",
	      o.stack_rate);
	bad("--stack-rate word", parse("--stack-rate", "x"), "--stack-rate: 'x' is not a number");
}

static void test_family_netns_probe(void)
{
	ok("-4", parse("-4"));
	check("-4 value", o.filter.family == 4, "family %d", o.filter.family);
	ok("-6 twice", parse("--ipv6", "-6"));
	check("-6 value", o.filter.family == 6, "family %d", o.filter.family);
	bad("-4 -6", parse("-4", "-6"), "-4 and -6 exclude each other");
	bad("-46 cluster", parse("-46"), "-4 and -6 exclude each other");

	ok("--netns-id", parse("--netns-id", "4026531840"));
	check("--netns-id value", o.netns_id == 4026531840u, "netns_id %u", o.netns_id);
	ok("--netns-id max", parse("--netns-id", "4294967295"));
	bad("--netns-id too big", parse("--netns-id", "4294967296"),
	    "--netns-id: '4294967296' is not a namespace inode");
	bad("--netns-id zero", parse("--netns-id", "0"),
	    "--netns-id: '0' is not a namespace inode");
	bad("--netns-id word", parse("--netns-id", "net:[1]"),
	    "--netns-id: 'net:[1]' is not a namespace inode");
	ok("--pid-netns", parse("--pid-netns", "1"));
	check("--pid-netns value", o.pid_netns == 1, "pid_netns %d", o.pid_netns);
	bad("--pid-netns zero", parse("--pid-netns", "0"), "--pid-netns: '0' is not a pid");
	bad("--pid-netns too big", parse("--pid-netns", "2147483648"),
	    "--pid-netns: '2147483648' is not a pid");
	bad("--netns-id with --pid-netns", parse("--netns-id", "5", "--pid-netns", "1"),
	    "--netns-id and --pid-netns exclude each other");

	for (int m = PROBE_AUTO; m <= PROBE_FENTRY; m++) {
		char name[64];
		const char *mode = probe_mode_name((enum probe_mode)m);

		snprintf(name, sizeof(name), "--probe %s", mode);
		ok(name, parse("--probe", mode));
		check(name, o.probe == (enum probe_mode)m, "mode %d, want %d", o.probe, m);
	}
	bad("--probe unknown", parse("--probe", "uprobe"),
	    "--probe: 'uprobe' is not one of auto, tp_btf, raw_tp, tracepoint, kprobe, fentry");
	check("probe_mode_name out of range", !strcmp(probe_mode_name((enum probe_mode)99), "?"),
	      "'%s'", probe_mode_name((enum probe_mode)99));
}

static void test_ports(void)
{
	ok("--port list", parse("--port", "80,443", "--port", "8080"));
	check("--port values",
	      o.filter.nports == 3 && o.filter.ports[0] == 80 && o.filter.ports[1] == 443 &&
		      o.filter.ports[2] == 8080 && !o.filter.nsports && !o.filter.ndports,
	      "nports %d", o.filter.nports);
	ok("--sport --dport", parse("--sport", "1", "--dport", "65535"));
	check("--sport --dport values",
	      o.filter.nsports == 1 && o.filter.sports[0] == 1 && o.filter.ndports == 1 &&
		      o.filter.dports[0] == 65535 && !o.filter.nports,
	      "nsports %d ndports %d", o.filter.nsports, o.filter.ndports);
	bad("--port zero", parse("--port", "0"), "--port: '0' is not a port (1-65535)");
	bad("--port too big", parse("--port", "65536"), "--port: '65536' is not a port (1-65535)");
	bad("--dport negative", parse("--dport", "-1"), "--dport: '-1' is not a port (1-65535)");
	bad("--sport name", parse("--sport", "http"), "--sport: 'http' is not a port (1-65535)");
	bad("--port in list", parse("--port", "80,x1"), "--port: 'x1' is not a port (1-65535)");
	bad("--port empty", parse("--port", ","), "--port: no port given");
	bad("--port nine", parse("--port", "1,2,3,4,5,6,7,8,9"), "--port: at most 8 ports");
	bad("--port nine over two", parse("--port", "1,2,3,4,5", "--port", "6,7,8,9"),
	    "--port: at most 8 ports");
	ok("--port eight", parse("--port", "1,2,3,4,5,6,7,8"));
}

static void test_nets(void)
{
	net_is("parse_net /8", "10.0.0.0/8", 4, "10.0.0.0", "255.0.0.0");
	net_is("parse_net masks the host part", "10.1.2.3/8", 4, "10.0.0.0", "255.0.0.0");
	net_is("parse_net /12", "172.31.255.1/12", 4, "172.16.0.0", "255.240.0.0");
	net_is("parse_net bare v4", "192.0.2.7", 4, "192.0.2.7", "255.255.255.255");
	net_is("parse_net /0", "1.2.3.4/0", 4, "0.0.0.0", "0.0.0.0");
	net_is("parse_net v6 /32", "2001:db8:1::5/32", 6, "2001:db8::", "ffff:ffff::");
	net_is("parse_net v6 /65", "fd00::ffff:0:0:1/65", 6, "fd00::8000:0:0:0",
	       "ffff:ffff:ffff:ffff:8000::");
	net_is("parse_net bare v6", "::1", 6, "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	net_bad("parse_net v4 /33", "10.0.0.0/33");
	net_bad("parse_net v6 /129", "fd00::/129");
	net_bad("parse_net empty prefix", "10.0.0.0/");
	net_bad("parse_net negative prefix", "10.0.0.0/-1");
	net_bad("parse_net prefix junk", "10.0.0.0/8x");
	net_bad("parse_net short v4", "1.2.3");
	net_bad("parse_net name", "localhost");
	net_bad("parse_net empty", "");
	net_bad("parse_net only prefix", "/8");
	net_bad("parse_net scope id", "fe80::1%eth0");
	net_bad("parse_net too long", "0000:0000:0000:0000:0000:0000:0000:0000:0000/128");

	ok("--saddr --daddr --addr",
	   parse("--saddr", "10.0.0.0/8", "--daddr", "fd00::/8", "--addr", "192.0.2.1"));
	check("address filter sides",
	      o.filter.nnets == 3 && o.filter.nets[0].side == TCPDROP_SIDE_SRC &&
		      o.filter.nets[1].side == TCPDROP_SIDE_DST &&
		      o.filter.nets[2].side == TCPDROP_SIDE_ANY && o.filter.nets[0].family == 4 &&
		      o.filter.nets[1].family == 6,
	      "nnets %d", o.filter.nnets);
	bad("--saddr bad", parse("--saddr", "10.0.0.300"),
	    "--saddr: '10.0.0.300' is not an IPv4/IPv6 address or CIDR");
	bad("--addr nine",
	    parse("--addr", "1.1.1.1", "--addr", "1.1.1.2", "--addr", "1.1.1.3", "--addr",
		  "1.1.1.4", "--addr", "1.1.1.5", "--saddr", "1.1.1.6", "--daddr", "1.1.1.7",
		  "--addr", "1.1.1.8", "--addr", "1.1.1.9"),
	    "--addr: at most 8 address filters in all");
}

static void test_words(void)
{
	ok("--reason list", parse("--reason", "NO_SOCKET", "--reason", "TCP_CSUM,TCP_FLAGS"));
	check("--reason joined", o.reasons && !strcmp(o.reasons, "NO_SOCKET,TCP_CSUM,TCP_FLAGS"),
	      "'%s'", o.reasons ? o.reasons : "(null)");

	ok("script args", parse("-s", "x.lua", "--", "a", "-b", "--"));
	check("script args values",
	      o.nscript_args == 3 && !strcmp(o.script_args[0], "a") &&
		      !strcmp(o.script_args[1], "-b") && !strcmp(o.script_args[2], "--") &&
		      !o.pcap_expr,
	      "nargs %d", o.nscript_args);
	ok("-- as an option's value", parse("-s", "--", "--", "a"));
	check("-- as an option's value",
	      o.script && !strcmp(o.script, "--") && o.nscript_args == 1 &&
		      !strcmp(o.script_args[0], "a"),
	      "script '%s' nargs %d", o.script ? o.script : "(null)", o.nscript_args);
	ok("cluster ending in a value option", parse("-4s", "x.lua", "--", "a"));
	check("cluster ending in a value option",
	      o.filter.family == 4 && o.script && !strcmp(o.script, "x.lua") && o.nscript_args == 1,
	      "script '%s' nargs %d", o.script ? o.script : "(null)", o.nscript_args);
	ok("--opt=-- is not the separator", parse("--filter=--", "--", "z"));
	check("--opt=-- is not the separator",
	      o.filter_expr && !strcmp(o.filter_expr, "--") && o.nscript_args == 1 &&
		      !strcmp(o.script_args[0], "z"),
	      "filter '%s' nargs %d", o.filter_expr ? o.filter_expr : "(null)", o.nscript_args);

	ok("pcap expression", parse("-4", "tcp", "port", "80", "--", "x"));
	check("pcap expression words",
	      o.pcap_expr && !strcmp(o.pcap_expr, "tcp port 80") && o.nscript_args == 1, "'%s'",
	      o.pcap_expr ? o.pcap_expr : "(null)");

	bad("--snaplen without -w", parse("--snaplen", "10"), "--snaplen goes with -w");
	ok("--snaplen with -w", parse("-w", "x.pcapng", "--snaplen", "10"));
	check("--snaplen value",
	      o.snaplen == 10 && o.snaplen_set && !strcmp(o.write_path, "x.pcapng"), "snaplen %u",
	      o.snaplen);
	{
		char want[128], big[32];

		snprintf(big, sizeof(big), "%d", TCPDROP_SNAPLEN_MAX + 1);
		snprintf(want, sizeof(want), "--snaplen: '%s' is not a byte count (0-%d)", big,
			 TCPDROP_SNAPLEN_MAX);
		bad("--snaplen too big", parse("-w", "x", "--snaplen", big), want);
	}
	bad("--force without -w", parse("--force"), "--force goes with -w");
	ok("-r", parse("-r", "in.pcapng"));
	check("-r value", o.read_path && !strcmp(o.read_path, "in.pcapng"), "not set");
}

static void test_errors(void)
{
	bad("unknown long option", parse("--bogus"), "unknown option or missing value: --bogus");
	bad("unknown short option", parse("-x"), "unknown option -x");
	bad("unknown short in cluster", parse("-4z"), "unknown option -z");
	bad("missing short value", parse("-d"), "option -d needs a value");
	bad("missing long value", parse("--port"), "unknown option or missing value: --port");
	bad("ambiguous abbreviation", parse("--p", "1"), "unknown option or missing value: --p");
	ok("unique abbreviation", parse("--dur", "3"));
	check("unique abbreviation value", o.duration == 3, "duration %g", o.duration);
	/* A failed parse must not leak into the next one (getopt keeps state between calls). */
	ok("clean parse after an error", parse("-4"));
	check("clean parse after an error", o.filter.family == 4 && !o.duration, "family %d",
	      o.filter.family);
}

/* The options of core/cli's later additions: -V, --max-keys, --user, --explain. */
static void test_cli_additions(void)
{
	ok("-V", parse("-V"));
	check("-V sets version", o.version, "version not set");
	ok("max-keys", parse("--max-keys", "500"));
	check("max-keys value", o.max_keys == 500, "max_keys %llu", (unsigned long long)o.max_keys);
	ok("max-keys top", parse("--max-keys=100000000"));
	bad("max-keys zero", parse("--max-keys", "0"),
	    "--max-keys: '0' is too small (1-100000000 keys)");
	bad("max-keys over", parse("--max-keys", "100000001"),
	    "--max-keys: '100000001' is too large (1-100000000 keys)");
	bad("max-keys word", parse("--max-keys", "1e3"),
	    "--max-keys: '1e3' is invalid (1-100000000 keys)");
	ok("no max-keys", parse_none());
	check("max-keys default", o.max_keys == 0, "max_keys %llu", (unsigned long long)o.max_keys);
	ok("user", parse("--user", "nobody"));
	check("user kept", o.user && !strcmp(o.user, "nobody"), "user '%s'", o.user);
	ok("explain", parse("--explain", "NO_SOCKET"));
	check("explain kept", o.explain && !strcmp(o.explain, "NO_SOCKET"), "explain '%s'",
	      o.explain);
}

/* A word with a newline or a terminal's escape stays on one line, escaped. */
static void test_escaped_words(void)
{
	bad("newline in a port", parse("--port", "8\n0"),
	    "--port: '8\\n0' is not a port (1-65535)");
	bad("escape in an address", parse("--addr", "\033[2J"),
	    "--addr: '\\033[2J' is not an IPv4/IPv6 address or CIDR");
	bad("control byte as an option", parse("-\001"), "unknown option -\\001");
	bad("newline in a long option", parse("--a\nb"),
	    "unknown option or missing value: --a\\nb");
}

/* A parse that stops inside a cluster, then another on other words: getopt starts afresh. */
static void test_getopt_reset(void)
{
	static char w1[] = "-4.d", w2[] = "-d", w3[] = "5";
	char *a1[] = { "tcpdrop", w1, NULL }, *a2[] = { "tcpdrop", w2, w3, NULL };

	opts_free(&o);
	check("cluster stops", opts_parse(&o, 2, a1, err, sizeof(err)) == -EINVAL, "accepted");
	opts_free(&o);
	check("next parse afresh", !opts_parse(&o, 3, a2, err, sizeof(err)) && o.duration == 5,
	      "'%s', duration %g", err, o.duration);
}

int main(void)
{
	test_basics();
	test_numbers();
	test_family_netns_probe();
	test_ports();
	test_nets();
	test_words();
	test_errors();
	test_cli_additions();
	test_escaped_words();
	test_getopt_reset();
	opts_free(&o);
	return failures ? 1 : 0;
}
