package flamegraph_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/flamegraph"
)

// SVGFrame is one frame as drawn in a flame graph SVG.
type SVGFrame struct {
	Name         string
	Title        string
	Kind         string // the rect's class: user, kernel, inlined
	Offset, W    uint64 // data-x, data-w: weight before it and its weight
	X, Y, Width  float64
	Fill, Text   string
	Depth        int
	ParentOffset uint64
}

// ParseSVG reads the frames of a flame graph; it fails the test if the
// document is not well-formed XML or a frame lacks its parts.
func ParseSVG(tb testing.TB, data []byte) []SVGFrame {
	tb.Helper()
	var doc struct {
		Width  int `xml:"width,attr"`
		Height int `xml:"height,attr"`
		Groups []struct {
			ID     string `xml:"id,attr"`
			Frames []struct {
				X     string `xml:"data-x,attr"`
				W     string `xml:"data-w,attr"`
				Title string `xml:"title"`
				Rect  struct {
					X     string `xml:"x,attr"`
					Y     string `xml:"y,attr"`
					Width string `xml:"width,attr"`
					Fill  string `xml:"fill,attr"`
					Class string `xml:"class,attr"`
				} `xml:"rect"`
				Text string `xml:"text"`
			} `xml:"g"`
		} `xml:"g"`
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	if err := d.Decode(&doc); err != nil {
		tb.Fatalf("flame graph is not well-formed XML: %v", err)
	}
	var out []SVGFrame
	for _, g := range doc.Groups {
		if g.ID != "frames" {
			continue
		}
		for i, f := range g.Frames {
			var fr SVGFrame
			var err error
			num := func(s string) float64 {
				v, e := strconv.ParseFloat(s, 64)
				if e != nil && err == nil {
					err = e
				}
				return v
			}
			fr.Offset = uint64(num(f.X))
			fr.W = uint64(num(f.W))
			fr.X, fr.Y, fr.Width = num(f.Rect.X), num(f.Rect.Y), num(f.Rect.Width)
			fr.Title, fr.Fill, fr.Kind, fr.Text = f.Title, f.Rect.Fill, f.Rect.Class, f.Text
			j := strings.LastIndex(f.Title, " (")
			if err != nil || j < 0 {
				tb.Fatalf("frame %d: bad frame (%v): %+v", i, err, f)
			}
			fr.Name = f.Title[:j]
			out = append(out, fr)
		}
	}
	if len(out) == 0 {
		tb.Fatal("flame graph has no frames")
	}
	// Depth from y: the root ("all") is the lowest frame.
	base := out[0].Y
	for i := range out {
		out[i].Depth = int(math.Round((base - out[i].Y) / 16))
	}
	return out
}

// CheckGeometry checks what every flame graph must satisfy: the root
// carries the total, widths and positions are proportional to weights,
// children fit inside their parent and are sorted by name.
func CheckGeometry(tb testing.TB, frames []SVGFrame, width int, total uint64) {
	tb.Helper()
	root := frames[0]
	if root.Name != "all" || root.Depth != 0 || root.W != total || root.Offset != 0 {
		tb.Fatalf("root frame is %+v, want all with weight %d", root, total)
	}
	scale := float64(width-20) / float64(total)
	byDepth := map[int][]SVGFrame{}
	for _, f := range frames {
		if math.Abs(f.Width-float64(f.W)*scale) > 0.011 || math.Abs(f.X-(10+float64(f.Offset)*scale)) > 0.011 {
			tb.Errorf("frame %q: rect x=%.2f width=%.2f, want %.2f and %.2f from weight %d at %d of %d",
				f.Name, f.X, f.Width, 10+float64(f.Offset)*scale, float64(f.W)*scale, f.W, f.Offset, total)
		}
		byDepth[f.Depth] = append(byDepth[f.Depth], f)
	}
	for d := 1; byDepth[d] != nil; d++ {
		kids := byDepth[d]
		for _, k := range kids {
			var parent *SVGFrame
			for i, p := range byDepth[d-1] {
				if p.Offset <= k.Offset && k.Offset+k.W <= p.Offset+p.W {
					parent = &byDepth[d-1][i]
				}
			}
			if parent == nil {
				tb.Fatalf("frame %q at depth %d [%d,+%d) has no parent", k.Name, d, k.Offset, k.W)
			}
		}
		sort.Slice(kids, func(i, j int) bool { return kids[i].Offset < kids[j].Offset })
		for i := 1; i < len(kids); i++ {
			a, b := kids[i-1], kids[i]
			if a.Offset+a.W > b.Offset {
				tb.Errorf("frames %q and %q overlap at depth %d", a.Name, b.Name, d)
			}
			// Siblings (same parent) are sorted by name.
			if sameParent(byDepth[d-1], a, b) && a.Name > b.Name {
				tb.Errorf("siblings at depth %d not sorted: %q before %q", d, a.Name, b.Name)
			}
		}
	}
	if len(byDepth[len(byDepth)]) != 0 {
		tb.Errorf("frames skip a depth")
	}
}

func sameParent(parents []SVGFrame, a, b SVGFrame) bool {
	for _, p := range parents {
		if p.Offset <= a.Offset && a.Offset+a.W <= p.Offset+p.W {
			return p.Offset <= b.Offset && b.Offset+b.W <= p.Offset+p.W
		}
	}
	return false
}

// randomStacks builds n stacks over a small vocabulary, with some kernel
// and inlined frames, and returns them with their folded text as written
// by hand-rolled code (independent of WriteFolded).
func randomStacks(seed uint64, n int) (*flamegraph.Stacks, map[string]uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &flamegraph.Stacks{}
	folded := map[string]uint64{}
	names := []string{"main", "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
	for i := 0; i < n; i++ {
		depth := 1 + r.IntN(8)
		stack := []flamegraph.Frame{{Name: []string{"app", "worker", "swapper"}[r.IntN(3)]}}
		var parts []string
		parts = append(parts, stack[0].Name)
		for d := 0; d < depth; d++ {
			f := flamegraph.Frame{Name: names[r.IntN(len(names))]}
			suffix := ""
			switch r.IntN(10) {
			case 0:
				f.Kind, suffix = flamegraph.Kernel, "_[k]"
			case 1:
				f.Kind, suffix = flamegraph.Inlined, "_[i]"
			}
			stack = append(stack, f)
			parts = append(parts, f.Name+suffix)
		}
		w := uint64(1 + r.IntN(100))
		s.Add(stack, w)
		folded[strings.Join(parts, ";")] += w
	}
	return s, folded
}

func TestFoldedRoundTrip(t *testing.T) {
	s, want := randomStacks(1, 5000)
	var buf bytes.Buffer
	if err := s.WriteFolded(&buf); err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	var total, sum uint64
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// The vocabulary has no characters below ';', so per-level order is
	// also the byte order of whole lines.
	if !sort.StringsAreSorted(lines) {
		t.Errorf("folded lines are not sorted")
	}
	for _, l := range lines {
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseUint(l[i+1:], 10, 64)
		if err != nil {
			t.Fatalf("bad folded line %q", l)
		}
		if _, dup := got[l[:i]]; dup {
			t.Errorf("stack %q written twice", l[:i])
		}
		got[l[:i]] = v
		sum += v
	}
	for _, v := range want {
		total += v
	}
	if sum != total || s.Total() != total {
		t.Errorf("folded weights sum to %d, Total() = %d, added %d", sum, s.Total(), total)
	}
	if len(got) != len(want) {
		t.Errorf("%d folded stacks, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("stack %q: weight %d, want %d", k, got[k], v)
		}
	}
	// Parse it back: the same text again.
	s2, err := flamegraph.ParseFolded(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var buf2 bytes.Buffer
	s2.WriteFolded(&buf2)
	if buf2.String() != strings.Join(lines, "\n")+"\n" {
		t.Errorf("parse -> write is not stable")
	}
}

func TestParseFoldedErrors(t *testing.T) {
	for _, in := range []string{
		"a;b;c\n",
		"a;b x\n",
		"a;b 1\n 5\n",
		"a 18446744073709551615\nb 1\n",
		"a;b -3\n",
	} {
		if _, err := flamegraph.ParseFolded(strings.NewReader(in)); err == nil {
			t.Errorf("ParseFolded(%q) succeeded", in)
		} else if !strings.HasPrefix(err.Error(), "parse folded stacks: line ") {
			t.Errorf("ParseFolded(%q): error %q does not name the line", in, err)
		}
	}
}

func TestRenderGeometry(t *testing.T) {
	s, folded := randomStacks(2, 3000)
	var total uint64
	for _, v := range folded {
		total += v
	}
	for _, width := range []int{1200, 600} {
		var buf bytes.Buffer
		if err := flamegraph.Render(&buf, s, flamegraph.Options{Width: width, Title: "a <title> & more"}); err != nil {
			t.Fatal(err)
		}
		frames := ParseSVG(t, buf.Bytes())
		CheckGeometry(t, frames, width, total)
		// Each frame's weight is the sum of the folded lines whose
		// stack starts with that frame's path; check the top level.
		top := map[string]uint64{}
		for k, v := range folded {
			top[strings.SplitN(k, ";", 2)[0]] += v
		}
		for _, f := range frames {
			if f.Depth == 1 && top[f.Name] != f.W {
				t.Errorf("width %d: frame %q weight %d, folded lines sum to %d", width, f.Name, f.W, top[f.Name])
			}
		}
		kinds := map[string]int{}
		for _, f := range frames {
			kinds[f.Kind]++
		}
		if kinds["kernel"] == 0 || kinds["inlined"] == 0 || kinds["user"] == 0 {
			t.Errorf("frame kinds drawn: %v", kinds)
		}
	}
}

func TestRenderElidesTinyFrames(t *testing.T) {
	s := &flamegraph.Stacks{}
	s.Add([]flamegraph.Frame{{Name: "p"}, {Name: "big"}}, 1_000_000)
	for i := 0; i < 2000; i++ {
		s.Add([]flamegraph.Frame{{Name: "p"}, {Name: fmt.Sprintf("tiny%04d", i)}, {Name: "deeper"}}, 1)
	}
	var buf bytes.Buffer
	if err := flamegraph.Render(&buf, s, flamegraph.Options{}); err != nil {
		t.Fatal(err)
	}
	frames := ParseSVG(t, buf.Bytes())
	// 1180 px for 1,002,000: one unit is ~0.0012 px, under the 0.1 px
	// threshold, so only all, p and big remain.
	if len(frames) != 3 {
		t.Errorf("%d frames drawn, want 3 (all, p, big)", len(frames))
	}
	CheckGeometry(t, frames, 1200, 1_002_000)
	if frames[1].W != 1_002_000 {
		t.Errorf("frame p weight %d: elided children must still count", frames[1].W)
	}
	buf.Reset()
	if err := flamegraph.Render(&buf, s, flamegraph.Options{MinWidth: 0.0001}); err != nil {
		t.Fatal(err)
	}
	if n := len(ParseSVG(t, buf.Bytes())); n != 3+4000 {
		t.Errorf("%d frames drawn with a tiny threshold, want %d", n, 3+4000)
	}
}

func TestRenderEmpty(t *testing.T) {
	err := flamegraph.Render(&bytes.Buffer{}, &flamegraph.Stacks{}, flamegraph.Options{})
	if err == nil || !strings.Contains(err.Error(), "no samples") {
		t.Errorf("Render of nothing: %v", err)
	}
}

func TestRenderEscapes(t *testing.T) {
	s := &flamegraph.Stacks{}
	s.Add([]flamegraph.Frame{{Name: "a<b>&\"c'"}, {Name: "operator<<(std::ostream&, x)"}, {Name: "bad\x01ctl]]>"}}, 3)
	var buf bytes.Buffer
	if err := flamegraph.Render(&buf, s, flamegraph.Options{Title: "]]> <x>"}); err != nil {
		t.Fatal(err)
	}
	frames := ParseSVG(t, buf.Bytes())
	if frames[1].Name != "a<b>&\"c'" || frames[2].Name != "operator<<(std::ostream&, x)" || frames[3].Name != "badctl]]>" {
		t.Errorf("names after escaping: %q %q %q", frames[1].Name, frames[2].Name, frames[3].Name)
	}
}

func BenchmarkRender(b *testing.B) {
	s, _ := randomStacks(3, 200000)
	for b.Loop() {
		if err := flamegraph.Render(&bytes.Buffer{}, s, flamegraph.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseFolded(f *testing.F) {
	if testing.Short() {
		f.Skip("fuzzing is skipped with -short")
	}
	f.Add([]byte("a;b;c 1\na;b 2\n"))
	f.Add([]byte("swapper;cpu_idle_[k];x_[i] 10\n\n"))
	f.Add([]byte("x 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := flamegraph.ParseFolded(bytes.NewReader(data))
		if err != nil {
			return
		}
		var a bytes.Buffer
		if err := s.WriteFolded(&a); err != nil {
			t.Fatal(err)
		}
		s2, err := flamegraph.ParseFolded(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatalf("reparse of written folded stacks: %v\n%q", err, a.String())
		}
		var b bytes.Buffer
		s2.WriteFolded(&b)
		if a.String() != b.String() || s.Total() != s2.Total() {
			t.Fatalf("write -> parse -> write differs:\n%q\n%q", a.String(), b.String())
		}
		if s.Total() > 0 {
			var svg bytes.Buffer
			if err := flamegraph.Render(&svg, s, flamegraph.Options{}); err != nil {
				t.Fatal(err)
			}
			ParseSVG(t, svg.Bytes())
		}
	})
}
