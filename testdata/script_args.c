/*
 * script_args.c: a fixture for gperf script's tests. target() takes
 * arguments of several C types (int, unsigned long long, long, char *, a
 * struct with bitfields) so that uprobes can fetch s32, u64, x64, string,
 * bitfield and array values; mid() and leaf() burn CPU under a known call
 * chain for cpu-clock -g recordings; clock_gettime() runs in the vDSO; each
 * round makes a few system calls.
 *
 * Usage: script_args [rounds]   (default 10)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct flags {
	unsigned int a : 3;
	unsigned int b : 5;
	unsigned int c : 1;
	int d;
};

static const char *names[] = { "alpha", "beta", "", "delta with space" };

__attribute__((noinline)) long target(int n, unsigned long long big, long neg,
				      const char *name, struct flags *f)
{
	return n * 3 + (long)big + neg + (long)strlen(name) + f->a + f->b + f->c + f->d;
}

__attribute__((noinline)) int leaf(int x)
{
	volatile int s = 0;
	for (int i = 0; i < 200000; i++)
		s += i ^ x;
	return s;
}

__attribute__((noinline)) int mid(int x)
{
	return leaf(x) + 1;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	long sum = 0;
	for (int i = 0; i < n; i++) {
		struct flags f;
		memset(&f, 0, sizeof(f));
		f.a = i & 7;
		f.b = (i * 3) & 31;
		f.c = i & 1;
		f.d = -i;
		sum += target(i - 5, 0xfffffffffULL * i, -1000L * i, names[i & 3], &f);
		sum += mid(i);
		for (int k = 0; k < 20000; k++) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			sum += ts.tv_nsec & 1;
		}
		if (getppid() == 0)
			sum++;
	}
	printf("%ld\n", sum);
	return 0;
}
