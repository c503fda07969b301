// SPDX-License-Identifier: GPL-2.0
/*
 * ldlm_demo: a kernel module with the shape of Lustre's ldlm resource hash,
 * the target of gperf's kernel lab (lab/run.sh). A namespace hashes struct
 * ldlm_resource objects; writing a level to
 * /sys/kernel/debug/ldlm_demo/dump_namespaces walks the hash, and the walk
 * calls ldlm_res_hash_dump() on each hash node, which reaches the resource
 * container_of-style (hlist_entry, as Lustre's cfs_hash_object does) and
 * dumps it with ldlm_resource_dump().
 *
 * ldlm_resource_dump() prints each resource (pointer, refcount, name) with
 * printk, so the lab can check that the values a probe fetched are the
 * values the module had:
 *   ldlm_demo: res=<ptr> refcount=<n> name0=<hex> type=<n>
 *
 * Each walk first takes one more reference on every resource, so two walks
 * never print the same refcounts.
 *
 * testdata/ldlm.c is the user-space analogue of this file.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

enum ldlm_type {
	LDLM_PLAIN = 10,
	LDLM_EXTENT = 11,
	LDLM_FLOCK = 12,
	LDLM_IBITS = 13,
};

struct ldlm_res_id {
	__u64 name[4];
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
};

#define LDLM_HASH_BITS 2
#define LDLM_HASH_SIZE (1 << LDLM_HASH_BITS)
#define LDLM_NR_RESOURCES 8

/* struct ldlm_hash plays the part of Lustre's struct cfs_hash. */
struct ldlm_hash {
	struct hlist_head hs_buckets[LDLM_HASH_SIZE];
	int hs_count;
};

typedef int (*ldlm_hash_for_each_cb_t)(struct ldlm_hash *hs,
				       struct hlist_node *hnode, void *arg);

struct ldlm_namespace {
	const char *ns_name;
	struct ldlm_hash *ns_rs_hash;
	atomic_t ns_dumps;
};

struct ldlm_ns_bucket {
	struct ldlm_namespace *nsb_namespace;
};

static struct ldlm_hash demo_hash;
static struct ldlm_namespace demo_ns = {
	.ns_name = "filter-testfs0-OST0000_UUID",
	.ns_rs_hash = &demo_hash,
};
static struct ldlm_ns_bucket demo_bucket = { .nsb_namespace = &demo_ns };
static struct ldlm_resource *demo_res[LDLM_NR_RESOURCES];
static struct dentry *demo_dir;

static void lock_res(struct ldlm_resource *res)
{
	spin_lock(&res->lr_lock);
}

static void unlock_res(struct ldlm_resource *res)
{
	spin_unlock(&res->lr_lock);
}

noinline void ldlm_resource_dump(int level, struct ldlm_resource *res)
{
	if (level < 1)
		return;
	pr_info("ldlm_demo: res=%px refcount=%d name0=%#llx type=%d\n", res,
		atomic_read(&res->lr_refcount), res->lr_name.name[0],
		(int)res->lr_type);
}

static noinline int ldlm_res_hash_dump(struct ldlm_hash *hs,
				       struct hlist_node *hnode, void *arg)
{
	struct ldlm_resource *res = hlist_entry(hnode, struct ldlm_resource,
						lr_hash);
	int level = (int)(unsigned long)arg;

	/* lab: a line without code */
	lock_res(res);
	ldlm_resource_dump(level, res);
	unlock_res(res);
	return 0;
}

/* ldlm_hash_for_each walks every bucket, as cfs_hash_for_each_nolock does. */
static noinline int ldlm_hash_for_each(struct ldlm_hash *hs,
				       ldlm_hash_for_each_cb_t cb, void *arg)
{
	struct hlist_node *hnode;
	int i, n = 0;

	for (i = 0; i < LDLM_HASH_SIZE; i++) {
		hlist_for_each(hnode, &hs->hs_buckets[i]) {
			if (cb(hs, hnode, arg))
				return n;
			n++;
		}
	}
	return n;
}

static noinline int ldlm_namespace_dump(int level, struct ldlm_namespace *ns)
{
	int n;

	pr_info("ldlm_demo: namespace %s dump %d: %d resources\n", ns->ns_name,
		atomic_inc_return(&ns->ns_dumps), ns->ns_rs_hash->hs_count);
	n = ldlm_hash_for_each(ns->ns_rs_hash, ldlm_res_hash_dump,
			       (void *)(unsigned long)level);
	pr_info("ldlm_demo: namespace %s dumped %d\n", ns->ns_name, n);
	return n;
}

static ssize_t dump_namespaces_write(struct file *file, const char __user *buf,
				     size_t count, loff_t *ppos)
{
	int level, i, err;

	err = kstrtoint_from_user(buf, count, 0, &level);
	if (err)
		return err;
	/* Each walk holds one more reference: the refcounts change per walk. */
	for (i = 0; i < LDLM_NR_RESOURCES; i++)
		atomic_inc(&demo_res[i]->lr_refcount);
	ldlm_namespace_dump(level, &demo_ns);
	return count;
}

static const struct file_operations dump_namespaces_fops = {
	.owner = THIS_MODULE,
	.write = dump_namespaces_write,
};

static struct ldlm_resource *ldlm_resource_new(__u64 id, int refs)
{
	struct ldlm_resource *res = kzalloc(sizeof(*res), GFP_KERNEL);

	if (!res)
		return NULL;
	res->lr_ns_bucket = &demo_bucket;
	atomic_set(&res->lr_refcount, refs);
	spin_lock_init(&res->lr_lock);
	INIT_LIST_HEAD(&res->lr_granted);
	INIT_LIST_HEAD(&res->lr_waiting);
	res->lr_name.name[0] = id;
	res->lr_name.name[1] = id >> 8;
	res->lr_type = LDLM_PLAIN + (int)(id % 4);
	res->lr_lvb_len = 0x38;
	hlist_add_head(&res->lr_hash,
		       &demo_hash.hs_buckets[id % LDLM_HASH_SIZE]);
	demo_hash.hs_count++;
	return res;
}

static void ldlm_demo_free(void)
{
	int i;

	for (i = 0; i < LDLM_NR_RESOURCES; i++) {
		if (demo_res[i]) {
			hlist_del(&demo_res[i]->lr_hash);
			kfree(demo_res[i]);
			demo_res[i] = NULL;
		}
	}
}

static int __init ldlm_demo_init(void)
{
	int i;

	for (i = 0; i < LDLM_NR_RESOURCES; i++) {
		demo_res[i] = ldlm_resource_new(0x28 + i * 0x101,
						0x145d7 + i * 3);
		if (!demo_res[i]) {
			ldlm_demo_free();
			return -ENOMEM;
		}
	}
	demo_dir = debugfs_create_dir("ldlm_demo", NULL);
	debugfs_create_file("dump_namespaces", 0200, demo_dir, NULL,
			    &dump_namespaces_fops);
	return 0;
}

static void __exit ldlm_demo_exit(void)
{
	debugfs_remove_recursive(demo_dir);
	ldlm_demo_free();
}

module_init(ldlm_demo_init);
module_exit(ldlm_demo_exit);
MODULE_DESCRIPTION("gperf kernel lab: a Lustre ldlm-shaped resource hash");
MODULE_LICENSE("GPL");
