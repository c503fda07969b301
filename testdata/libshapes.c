/*
 * libshapes.c: a shared library for gperf's DWARF resolver tests: exported
 * and static functions, a struct with a bitfield and an array, a global.
 */
#include <stddef.h>
#include <string.h>

struct lib_item {
	const char *key;
	int weight;
	unsigned int hot : 1;
	unsigned int age : 7;
	long slots[4];
	struct lib_item *next;
};

int lib_calls;
static struct lib_item *lib_head;

static inline int lib_hash(const char *key)
{
	int h = 0;

	while (*key)
		h = h * 31 + *key++;
	return h;
}

static __attribute__((noinline)) void lib_link(struct lib_item *it)
{
	it->next = lib_head;
	lib_head = it;
}

int lib_add(struct lib_item *it, const char *key, int weight)
{
	it->key = key;
	it->weight = weight;
	it->hot = weight > 10;
	it->age = (unsigned int)lib_hash(key) & 0x7f;
	it->slots[weight & 3] = weight;
	lib_link(it);
	lib_calls++;
	return it->age;
}

long lib_sum(void)
{
	struct lib_item *it;
	long sum = 0;

	for (it = lib_head; it != NULL; it = it->next)
		sum += it->weight + it->slots[it->weight & 3];
	return sum;
}
