/*
 * shapes2.c: the second unit of the shapes fixture (see shapes.c). Its
 * static helper() has the same name as the one in shapes.c, so probes on
 * "helper" resolve to two functions, and "helper@shapes2.c" to one.
 */
#include <stdio.h>

struct counter {
	const char *label;
	long hits[3];
	unsigned char flags;
};

static struct counter helper_counter = { .label = "helpers" };

static __attribute__((noinline)) int helper(int n)
{
	int i, sum = 0;

	for (i = 0; i < n; i++)
		sum += i * i;
	helper_counter.hits[n % 3]++;
	return sum;
}

__attribute__((noinline)) int helper_total(int n)
{
	const int bias = 7; /* -O2: DW_AT_const_value, no location */
	int t = helper(n) + helper(n + 1) + bias;

	helper_counter.flags |= 1;
	printf("%s: n=%d t=%d bias=%d\n", helper_counter.label, n, t, bias);
	return t;
}
