package probe_test

import (
	"testing"

	"github.com/gperf-dev/gperf/probe"
)

var specSeeds = []string{
	"ldlm_res_hash_dump",
	"grp:ev=ldlm_res_hash_dump:6 res->lr_refcount res->lr_name.name[0] level:x32",
	"ldlm.c:95 x=res->lr_hash.next",
	"ldlm_res_hash_dump@ldlm.c:6",
	"ldlm_res_hash_dump;res->lr_refcount*",
	"ldlm.c;ldlm_resource_dump(level*",
	"ldlm_res_hash_dump%return $retval",
	"ldlm_res_hash_dump+4 %di +8(%si):u32 @sym $comm $vars $params",
	"0x1176 a=%ax",
	"%sdt_libc:setjmp@/lib/libc.so.6",
	"sdt_x:y",
	`f\:x=g\;h`,
	"f:x", "a=b=c", ":6", "foo=", "f%foo", "f@a.c@b.c", "f:3+4",
	"f s->a[1].b->c[0x10]:string", "f p@user:ustring", "f a[", "f a-b", "f a->",
}

// FuzzParseSpec: ParseSpec never panics, and what it accepts it formats
// back into a definition that parses to the same text.
func FuzzParseSpec(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is not for -short")
	}
	for _, s := range specSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := probe.ParseSpec(s)
		if err != nil {
			if sp != nil {
				t.Fatalf("ParseSpec(%q) returned a spec and %v", s, err)
			}
			return
		}
		for _, a := range sp.Args {
			_ = a.String()
			_ = a.EventArgName()
		}
		_ = sp.Point.String()
		_ = sp.String()
	})
}

// FuzzParseArg: ParseArg never panics, and an accepted argument formats
// back (Arg.String) into one that parses to the same Arg.
func FuzzParseArg(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is not for -short")
	}
	for _, s := range []string{
		"level", "x=level:x32", "res->lr_name.name[0]", "s->a[1].b->c[0x10]:string",
		"p@user:ustring", "%di", "+8(%si):u32", "@sym", "$retval", "$comm", "a[", "a-b", "a->",
		"=x", "x=", "a:", "a[-1]", "a.b.c.d", "a[1][2]", "_a->b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := probe.ParseArg(s)
		if err != nil {
			return
		}
		if a.User {
			// @user is not part of String's form.
			return
		}
		b, err := probe.ParseArg(a.String())
		if err != nil {
			t.Fatalf("ParseArg(%q) = %+v, whose String %q does not parse: %v", s, a, a.String(), err)
		}
		if b.String() != a.String() {
			t.Fatalf("ParseArg(%q).String() = %q, reparsed %q", s, a.String(), b.String())
		}
	})
}

// FuzzParseFilter: filters never panic, and String gives a filter that
// parses back to the same String.
func FuzzParseFilter(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is not for -short")
	}
	for _, s := range []string{"*", "probe_ldlm:*", "!_* & !*@plt", "(a|b)&!c", "a&", "!(a|b)", "a b", "[a-z]*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := probe.ParseFilter(s)
		if err != nil {
			return
		}
		flt.Match(s)
		g, err := probe.ParseFilter(flt.String())
		if err != nil {
			t.Fatalf("ParseFilter(%q).String() = %q does not parse: %v", s, flt.String(), err)
		}
		if g.String() != flt.String() {
			t.Fatalf("ParseFilter(%q): %q reparsed as %q", s, flt.String(), g.String())
		}
	})
}

// FuzzParseDefinition: kernel listings never make the parser panic, and
// what parses formats back to a definition that parses the same.
func FuzzParseDefinition(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is not for -short")
	}
	for _, s := range []string{
		"p:probe_ldlm/ldlm_res_hash_dump_L6 /bin/ldlm:0x00000000000011f6 lr_refcount=+24(-8(%bp)):x32 level=-12(%bp):s32",
		"r:probe_ldlm/f__return /bin/ldlm:0x0000000000001310 arg1=$retval",
		"p:probe/vfs_read vfs_read+0 arg1=%di",
		"p:probe/f ldlm_demo:ldlm_res_hash_dump+8",
		"p:g/e /lib/x.so:0x10(0x20)",
		"p:probe/abs 0xffffffff81000000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := probe.ParseDefinition(s)
		if err != nil {
			return
		}
		e, err := probe.ParseDefinition(d.String())
		if err != nil {
			t.Fatalf("ParseDefinition(%q).String() = %q does not parse: %v", s, d.String(), err)
		}
		if e.String() != d.String() {
			t.Fatalf("ParseDefinition(%q): %q reparsed as %q", s, d.String(), e.String())
		}
	})
}
