/*
 * ldlm.c: a user-space model of Lustre's lock resource hash, the story of
 * the talk gperf comes from. A namespace hashes struct ldlm_resource
 * objects; ldlm_namespace_dump() walks the hash and calls
 * ldlm_res_hash_dump() on each node, which reaches the resource
 * container_of-style (as Lustre does) and dumps it.
 *
 * Each resource is printed by the program itself, so tests can check that
 * the values a probe fetched are the values the program had:
 *   dump res=0x... refcount=N name0=0x... type=N granted=N
 *
 * Usage: ldlm [rounds]   (default 1 round over 8 resources)
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct hlist_node {
	struct hlist_node *next, **pprev;
};

struct list_head {
	struct list_head *next, *prev;
};

typedef struct {
	int counter;
} atomic_t;

typedef struct {
	volatile unsigned int slock;
} spinlock_t;

enum ldlm_type {
	LDLM_PLAIN = 10,
	LDLM_EXTENT = 11,
	LDLM_FLOCK = 12,
	LDLM_IBITS = 13,
};

struct ldlm_res_id {
	unsigned long long name[4];
};

struct ldlm_ns_bucket;

struct ldlm_resource {
	struct ldlm_ns_bucket *lr_ns_bucket;
	struct hlist_node lr_hash;
	atomic_t lr_refcount;
	spinlock_t lr_lock;
	struct list_head lr_granted;
	struct list_head lr_waiting;
	struct ldlm_res_id lr_name;
	enum ldlm_type lr_type;
	int lr_lvb_len;
	unsigned int lr_granted_count : 12;
	unsigned int lr_waiting_count : 4;
	unsigned int lr_lvb_initialized : 1;
	char *lr_ns_name;
};

#define NS_HASH_SIZE 4

struct ldlm_namespace {
	const char *ns_name;
	struct hlist_node *ns_hash[NS_HASH_SIZE];
	int ns_nr_resources;
};

struct ldlm_ns_bucket {
	struct ldlm_namespace *nsb_namespace;
};

static struct ldlm_namespace demo_ns = { .ns_name = "filter-testfs0-OST0000_UUID" };
static struct ldlm_ns_bucket demo_bucket = { .nsb_namespace = &demo_ns };
int ldlm_dump_level = 1;

__attribute__((noinline)) void ldlm_resource_dump(int level, struct ldlm_resource *res)
{
	if (level < 1)
		return;
	printf("dump res=%p refcount=%d name0=%#llx type=%d granted=%u\n",
	       (void *)res, res->lr_refcount.counter, res->lr_name.name[0],
	       (int)res->lr_type, (unsigned)res->lr_granted_count);
	fflush(stdout);
}

__attribute__((noinline)) int ldlm_res_hash_dump(struct hlist_node *hnode, void *arg)
{
	struct ldlm_resource *res = container_of(hnode, struct ldlm_resource, lr_hash);
	int level = (int)(unsigned long)arg;

	res->lr_refcount.counter++;
	ldlm_resource_dump(level, res);
	res->lr_refcount.counter--;
	return 0;
}

__attribute__((noinline)) int ldlm_namespace_dump(struct ldlm_namespace *ns, int level)
{
	int i, n = 0;

	for (i = 0; i < NS_HASH_SIZE; i++) {
		struct hlist_node *h;

		for (h = ns->ns_hash[i]; h != NULL; h = h->next) {
			ldlm_res_hash_dump(h, (void *)(unsigned long)level);
			n++;
		}
	}
	return n;
}

static struct ldlm_resource *ldlm_resource_new(unsigned long long id, int refs)
{
	struct ldlm_resource *res = calloc(1, sizeof(*res));
	unsigned int b = id % NS_HASH_SIZE;

	res->lr_ns_bucket = &demo_bucket;
	res->lr_refcount.counter = refs;
	res->lr_name.name[0] = id;
	res->lr_name.name[1] = id >> 8;
	res->lr_type = LDLM_PLAIN + (int)(id % 4);
	res->lr_lvb_len = 0x38;
	res->lr_granted_count = (unsigned int)(id * 7) & 0xfff;
	res->lr_waiting_count = (unsigned int)id & 0xf;
	res->lr_lvb_initialized = 1;
	res->lr_ns_name = (char *)demo_ns.ns_name;
	res->lr_hash.next = demo_ns.ns_hash[b];
	demo_ns.ns_hash[b] = &res->lr_hash;
	demo_ns.ns_nr_resources++;
	return res;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1;
	int i;

	for (i = 0; i < 8; i++)
		ldlm_resource_new(0x28 + i * 0x101, 0x145d7 + i * 3);
	for (i = 0; i < rounds; i++)
		ldlm_namespace_dump(&demo_ns, ldlm_dump_level);
	return 0;
}
