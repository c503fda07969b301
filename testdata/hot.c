/*
 * hot.c: known call paths for profile exports and flame graphs.
 *
 *   hot cpu [N]         main -> hot_caller -> hot_function burns CPU
 *                       (about 9/10 of the work, in hot_inlined, inlined
 *                       into it), main -> cold_function the rest; N scales
 *                       the work (default 200).
 *   hot sleep [MS] [K]  main -> sleep_outer -> sleep_inner -> nanosleep,
 *                       K times MS milliseconds (default 100 ms, 5 times);
 *                       prints the total requested sleep in ns.
 *
 * Build with frame pointers so that perf's -g (fp) callchains are whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile unsigned long sink;

/* Each function burns CPU in its own loop, so that it is the leaf. */
#define BURN(n)                                         \
	do {                                            \
		unsigned long x = 0, i;                 \
		for (i = 0; i < (n); i++)               \
			x += i * i ^ (x >> 3);          \
		sink = x;                               \
	} while (0)

/* Inlined even at -O0: its code is hot_function's, its DWARF says so. */
static inline __attribute__((always_inline)) void hot_inlined(unsigned long n)
{
	BURN(n);
}

__attribute__((noinline)) void hot_function(unsigned long n)
{
	hot_inlined(n * 9);
}

__attribute__((noinline)) void hot_caller(unsigned long n)
{
	hot_function(n);
}

__attribute__((noinline)) void cold_function(unsigned long n)
{
	BURN(n);
}

/*
 * The nanosleep system call is made right here rather than through libc,
 * whose wrappers have no frame pointer: the stack recorded at the context
 * switch then shows sleep_inner itself.
 */
__attribute__((noinline)) void sleep_inner(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	long ret;

	do {
#if defined(__x86_64__)
		__asm__ volatile("syscall"
				 : "=a"(ret)
				 : "0"(35L /* __NR_nanosleep */), "D"(&ts), "S"(&ts)
				 : "rcx", "r11", "memory");
#else
		ret = nanosleep(&ts, &ts);
#endif
	} while (ret != 0);
}

__attribute__((noinline)) void sleep_outer(long ms)
{
	sleep_inner(ms);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sleep") == 0) {
		long ms = argc > 2 ? atol(argv[2]) : 100;
		int k = argc > 3 ? atoi(argv[3]) : 5, i;

		for (i = 0; i < k; i++)
			sleep_outer(ms);
		printf("slept %lld ns\n", (long long)ms * k * 1000000LL);
		return 0;
	}
	unsigned long n = (argc > 2 ? strtoul(argv[2], NULL, 0) : 200) * 100000UL;
	int i;

	for (i = 0; i < 10; i++) {
		hot_caller(n / 10);
		cold_function(n / 10);
	}
	return 0;
}
