package dwarfline

import (
	"debug/elf"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// exercise runs the queries probe makes; they may fail, never panic.
func exercise(b *Binary) {
	b.Symbols()
	b.FindLineRange(LineRangeSpec{Function: "ldlm_res_hash_dump", End: math.MaxInt32})
	b.FindLineRange(LineRangeSpec{File: "ldlm.c", Start: 90, End: 120})
	for _, spec := range []PointSpec{{Function: "ldlm_res_hash_dump", Line: 8}, {Function: "ldlm_resource_new"}, {File: "ldlm.c", Line: 107}} {
		ps, _ := b.Resolve(spec)
		for _, p := range ps {
			b.Vars(p, true)
			b.ScopeVars(p, true)
			b.TranslateArg(p, ArgSpec{Var: "res", Fields: []Field{{Name: "lr_name", Ref: true}, {Name: "name"}, {IsIndex: true, Index: 1}}}, TranslateOptions{})
			b.TranslateArg(p, ArgSpec{Var: "res", Fields: []Field{{Name: "lr_granted_count", Ref: true}}}, TranslateOptions{Uprobe: true})
		}
	}
}

// TestOpenMalformed opens truncated and corrupted copies of a fixture:
// every query returns, with an error or not, and nothing panics.
func TestOpenMalformed(t *testing.T) {
	testutil.Requires(t, testutil.Gcc)
	src := testutil.BuildC(t, testutil.O2, "ldlm.c")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var dw [][2]int // offset, size of each debug section
	if ef, err := elf.Open(src); err == nil {
		for _, sec := range ef.Sections {
			if strings.HasPrefix(sec.Name, ".debug_") && sec.Size > 0 && sec.Type != elf.SHT_NOBITS {
				dw = append(dw, [2]int{int(sec.Offset), int(sec.Size)})
			}
		}
		ef.Close()
	}
	if len(dw) == 0 {
		t.Fatal("fixture has no debug sections")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(1))
	n := 60
	if v := os.Getenv("GPERF_MALFORMED_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	if testing.Short() {
		n = 10
	}
	for i := 0; i < n; i++ {
		d := append([]byte(nil), data...)
		switch i % 3 {
		case 0:
			d = d[:rng.Intn(len(d))]
		case 1:
			for k := 0; k < 1+i%7; k++ {
				d[rng.Intn(len(d))] = byte(rng.Intn(256))
			}
		default:
			// Corrupt the DWARF itself, where the parsers work.
			r := dw[rng.Intn(len(dw))]
			for k := 0; k < 1+i%5; k++ {
				d[r[0]+rng.Intn(r[1])] = byte(rng.Intn(256))
			}
		}
		p := filepath.Join(dir, "bad")
		if err := os.WriteFile(p, d, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := Open(p)
		if err != nil {
			continue
		}
		exercise(b)
		b.Close()
	}
}

// TestNoDWARF: a stripped binary opens; DWARF queries fail with ErrNoDWARF.
func TestNoDWARF(t *testing.T) {
	testutil.Requires(t, testutil.Gcc)
	b, err := Open(testutil.BuildC(t, testutil.O2|testutil.NoDebug, "ldlm.c"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.HasDWARF() {
		t.Fatal("HasDWARF on a binary built without -g")
	}
	if _, err := b.Resolve(PointSpec{Function: "main"}); !errors.Is(err, ErrNoDWARF) {
		t.Errorf("Resolve: %v, want ErrNoDWARF", err)
	}
	if syms, err := b.Symbols(); err != nil || len(syms) == 0 {
		t.Errorf("Symbols: %d, %v", len(syms), err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v, want os.ErrClosed", err)
	}
}

// TestPointAtRoundTrip: resolving FUNC:LINE and mapping the address back
// gives the same function and line (what `perf probe -l` prints).
func TestPointAtRoundTrip(t *testing.T) {
	testutil.Requires(t, testutil.Gcc)
	for _, fl := range []testutil.BuildFlags{0, testutil.O2} {
		b, err := Open(testutil.BuildC(t, fl, "ldlm.c"))
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range []PointSpec{{Function: "ldlm_res_hash_dump", Line: 6}, {Function: "ldlm_namespace_dump", Line: 8}, {Function: "ldlm_resource_dump"}} {
			ps, err := b.Resolve(spec)
			if err != nil {
				t.Fatalf("%s: %+v: %v", fl, spec, err)
			}
			for _, p := range ps {
				loc, err := b.PointAt(p.Addr)
				if err != nil {
					t.Fatal(err)
				}
				if loc.Function != spec.Function || loc.Line != spec.Line || loc.Offset != 0 {
					t.Errorf("%s: %s:%d at %#x maps back to %+v", fl, spec.Function, spec.Line, p.Addr, loc)
				}
			}
		}
		b.Close()
	}
}

// Benchmarks of the queries probe makes, on the -O2 ldlm fixture; the
// comparison with perf is bench/probe_dwarf.sh.
func benchBinary(b *testing.B) *Binary {
	testutil.Requires(b, testutil.Gcc)
	bin, err := Open(testutil.BuildC(b, testutil.O2, "ldlm.c"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bin.Close() })
	return bin
}

func BenchmarkOpenResolveTranslate(b *testing.B) {
	path := testutil.BuildC(b, testutil.O2, "ldlm.c")
	for b.Loop() {
		bin, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		ps, err := bin.Resolve(PointSpec{Function: "ldlm_res_hash_dump", Line: 8, Uprobe: true, WithVars: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bin.TranslateArg(ps[0], ArgSpec{Var: "res", Fields: []Field{{Name: "lr_refcount", Ref: true}, {Name: "counter"}}}, TranslateOptions{Uprobe: true}); err != nil {
			b.Fatal(err)
		}
		bin.Close()
	}
}

func BenchmarkFindLineRange(b *testing.B) {
	bin := benchBinary(b)
	for b.Loop() {
		if _, err := bin.FindLineRange(LineRangeSpec{Function: "ldlm_namespace_dump", End: math.MaxInt32}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVars(b *testing.B) {
	bin := benchBinary(b)
	ps, err := bin.Resolve(PointSpec{Function: "ldlm_res_hash_dump", Line: 8})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := bin.Vars(ps[0], true); err != nil {
			b.Fatal(err)
		}
	}
}
