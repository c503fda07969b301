/*
 * shapes.c: a fixture for gperf's DWARF resolver (dwarfline) and probe
 * tests. Linked with shapes2.c. It has what `perf probe -L/-V` and fetch-arg
 * translation must handle: nested structs, a union, arrays, bitfields, an
 * enum, globals, static locals, char * strings, an inlined static function
 * (rect_area), and a static function named helper in both units.
 *
 * Each shape is printed by the program itself, so tests can check fetched
 * values against what the program had:
 *   shape round=R id=N kind=K area=A name=S tag=T visible=V layer=L color=C depth=D scale=X
 *
 * Usage: shapes [rounds]   (default 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum shape_kind {
	SHAPE_CIRCLE = 1,
	SHAPE_RECT = 2,
	SHAPE_TRI = 3,
};

struct point {
	int x, y;
};

struct rect {
	struct point min, max;
};

union payload {
	long radius;
	struct rect box;
	unsigned char raw[8];
};

struct shape {
	int id;
	enum shape_kind kind;
	const char *name;
	char tag[8];
	unsigned int visible : 1;
	unsigned int layer : 5;
	unsigned int color : 10;
	int depth : 6;
	union payload u;
	struct point pts[4];
	struct shape *next;
	struct {
		long area;
		short scale;
	} m;
};

struct shape_list {
	struct shape *head;
	int count;
};

int shapes_debug = 1;
const char *shapes_banner = "gperf shapes";
static struct shape_list all_shapes;

int helper_total(int n); /* shapes2.c */

static inline long rect_area(const struct rect *r)
{
	long w = r->max.x - r->min.x;
	long h = r->max.y - r->min.y;

	return w * h;
}

/* shapes2.c has a static helper() too. */
static __attribute__((noinline)) int helper(int x)
{
	static int calls;

	calls++;
	return x * 2 + calls;
}

__attribute__((noinline)) long shape_area(struct shape *s)
{
	long area;

	switch (s->kind) {
	case SHAPE_CIRCLE:
		area = 3 * s->u.radius * s->u.radius;
		break;
	case SHAPE_RECT:
		area = rect_area(&s->u.box);
		break;
	default:
		area = (long)(s->pts[1].x - s->pts[0].x) * (s->pts[2].y - s->pts[0].y) / 2;
		break;
	}
	s->m.area = area;
	return area;
}

__attribute__((noinline)) void shape_print(struct shape *s, int round)
{
	const char *name = s->name;
	int layer = s->layer;

	printf("shape round=%d id=%d kind=%d area=%ld name=%s tag=%s visible=%u layer=%d color=%u depth=%d scale=%d\n",
	       round, s->id, (int)s->kind, s->m.area, name, s->tag,
	       s->visible, layer, s->color, s->depth, s->m.scale);
	fflush(stdout);
}

__attribute__((noinline)) int shape_walk(struct shape_list *l, int round)
{
	struct shape *s;
	int n = 0;

	for (s = l->head; s != NULL; s = s->next) {
		shape_area(s);
		shape_print(s, round);
		n += helper(s->id);
	}
	return n;
}

static struct shape *shape_new(int id, enum shape_kind kind, const char *name)
{
	struct shape *s = calloc(1, sizeof(*s));

	s->id = id;
	s->kind = kind;
	s->name = name;
	snprintf(s->tag, sizeof(s->tag), "t%d", id);
	s->visible = id & 1;
	s->layer = (id * 3) & 0x1f;
	s->color = (id * 97) & 0x3ff;
	s->depth = -(id % 20);
	s->m.scale = (short)(id * 10);
	if (kind == SHAPE_CIRCLE) {
		s->u.radius = id + 1;
	} else if (kind == SHAPE_RECT) {
		s->u.box.min.x = id;
		s->u.box.min.y = 1;
		s->u.box.max.x = id * 4;
		s->u.box.max.y = id + 5;
	} else {
		s->pts[1].x = id * 2;
		s->pts[2].y = id * 3;
	}
	s->next = all_shapes.head;
	all_shapes.head = s;
	all_shapes.count++;
	return s;
}

int main(int argc, char **argv)
{
	static const char *names[] = { "circle", "rect", "triangle" };
	int rounds = argc > 1 ? atoi(argv[1]) : 1;
	int i, total = 0;

	for (i = 1; i <= 6; i++)
		shape_new(i, (enum shape_kind)(i % 3 + 1), names[i % 3]);
	for (i = 0; i < rounds; i++)
		total += shape_walk(&all_shapes, i);
	if (shapes_debug)
		printf("%s: total=%d helpers=%d\n", shapes_banner, total, helper_total(all_shapes.count));
	return 0;
}
