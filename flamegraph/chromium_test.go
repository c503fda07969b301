package flamegraph_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gperf-dev/gperf/flamegraph"
	"github.com/gperf-dev/gperf/internal/testutil"
)

// BrowserCheck opens an SVG flame graph in headless Chromium and drives it
// like a user: it checks the page loads with no script error and fetches
// nothing but itself, the screenshot is not blank and shows the frame
// colours where the frames are, a click on the frame named zoomName makes
// it span the whole width (its siblings hidden), the search box highlights
// matches and prints the matched share, and Reset Zoom restores the graph.
// With GPERF_TEST_KEEP set, the SVG and the screenshots are kept in a
// directory named in the log.
func BrowserCheck(t *testing.T, svgPath string, width int, zoomName, searchTerm string) {
	t.Helper()
	dir := t.TempDir()
	if os.Getenv("GPERF_TEST_KEEP") != "" {
		d, err := os.MkdirTemp("", "gperf-keep-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
		t.Logf("keeping the SVG and screenshots in %s", dir)
	}
	data, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	frames := ParseSVG(t, data)
	var target *SVGFrame
	for i, f := range frames {
		if f.Name == zoomName && (target == nil || f.W > target.W) {
			target = &frames[i]
		}
	}
	if target == nil {
		t.Fatalf("no frame named %q in %s", zoomName, svgPath)
	}
	height := int(frames[0].Y) + 16 + 34
	c := startChromium(t, width, height)
	c.open(svgPath)
	fileURL := "file://" + mustAbs(t, svgPath)
	for _, u := range c.requests() {
		if u != fileURL {
			t.Errorf("the page fetched %s; a flame graph must be self-contained", u)
		}
	}

	// The screenshot shows the graph: not one colour, and the target
	// frame's fill at its place.
	os.WriteFile(filepath.Join(dir, filepath.Base(svgPath)), data, 0o644)
	shot := c.screenshot()
	os.WriteFile(filepath.Join(dir, "flamegraph.png"), shot, 0o644)
	img := decodePNG(t, shot)
	if n := distinctColors(img); n < 8 {
		t.Fatalf("screenshot has %d distinct colours: blank page?", n)
	}
	// Sample the pixel near the frame's lower right corner, away from
	// its text.
	px := img.At(int(target.X+target.Width)-2, int(target.Y)+13)
	if !sameColor(px, target.Fill) {
		t.Errorf("pixel at frame %q is %v, want its fill %s", zoomName, px, target.Fill)
	}

	// Click the frame: it spans the usable width, and an ancestor spans
	// it too, faded; frames beside it are hidden.
	c.click(target.X+target.Width/2, float64(target.Y)+8)
	var st struct {
		Width   float64 `json:"width"`
		Hidden  int     `json:"hidden"`
		Parents int     `json:"parents"`
		Reset   bool    `json:"reset"`
	}
	state := fmt.Sprintf(`(() => {
		const gs = [...document.querySelectorAll("#frames g")];
		const g = gs.find(g => g.getAttribute("data-x") == "%d" && g.querySelector("title").textContent.startsWith(%q + " ("));
		return {
			width: Number(g.querySelector("rect").getAttribute("width")),
			hidden: gs.filter(g => getComputedStyle(g).display == "none").length,
			parents: gs.filter(g => g.classList.contains("parent")).length,
			reset: getComputedStyle(document.getElementById("unzoom")).display != "none",
		};
	})()`, target.Offset, zoomName)
	c.eval(state, &st)
	if math.Abs(st.Width-float64(width-20)) > 0.01 || st.Parents != target.Depth || !st.Reset {
		t.Errorf("after clicking %q: %+v, want width %d, %d faded parents, reset shown", zoomName, st, width-20, target.Depth)
	}
	if target.W < frames[0].W && st.Hidden == 0 {
		t.Errorf("after clicking %q no frame is hidden", zoomName)
	}
	zoomedShot := c.screenshot()
	os.WriteFile(filepath.Join(dir, "flamegraph-zoomed.png"), zoomedShot, 0o644)
	if bytes.Equal(zoomedShot, shot) {
		t.Errorf("zooming did not change the picture")
	}

	// Search: click into the box and type, as a user does.
	var box struct{ X, Y float64 }
	c.eval(`(() => { const r = document.getElementById("search").getBoundingClientRect(); return {X: r.x + r.width/2, Y: r.y + r.height/2}; })()`, &box)
	c.click(box.X, box.Y)
	if err := c.call("Input.insertText", map[string]any{"text": searchTerm}, nil); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Matched string `json:"matched"`
		Hits    int    `json:"hits"`
	}
	c.eval(`({matched: document.getElementById("matched").textContent, hits: document.querySelectorAll("#frames g.match").length})`, &got)
	// The expected share, from the SVG's frames: matching frames not
	// nested in another match.
	var sum uint64
	end := uint64(0)
	hits := 0
	for _, f := range sortedByOffset(frames) {
		if f.Depth > 0 && strings.Contains(f.Name, searchTerm) {
			hits++
			if f.Offset >= end {
				sum += f.W
				end = f.Offset + f.W
			}
		}
	}
	want := fmt.Sprintf("Matched: %.2f%%", 100*float64(sum)/float64(frames[0].W))
	if got.Matched != want || got.Hits != hits || hits == 0 {
		t.Errorf("search %q: %q with %d highlighted, want %q with %d", searchTerm, got.Matched, got.Hits, want, hits)
	}

	// Reset Zoom puts every frame back.
	var reset struct{ X, Y float64 }
	c.eval(`(() => { const r = document.getElementById("unzoom").getBoundingClientRect(); return {X: r.x + r.width/2, Y: r.y + r.height/2}; })()`, &reset)
	c.click(reset.X, reset.Y)
	var after struct {
		Width  float64 `json:"width"`
		Hidden int     `json:"hidden"`
	}
	c.eval(state, &after)
	if math.Abs(after.Width-target.Width) > 0.01 || after.Hidden != 0 {
		t.Errorf("after Reset Zoom: %+v, want width %.2f and nothing hidden", after, target.Width)
	}
	if errs := c.consoleErrors(); len(errs) > 0 {
		t.Errorf("script errors: %s", strings.Join(errs, "\n"))
	}
}

func sortedByOffset(frames []SVGFrame) []SVGFrame {
	out := append([]SVGFrame(nil), frames...)
	// Stable by depth within equal offsets: outer frames first.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Offset < out[j-1].Offset || out[j].Offset == out[j-1].Offset && out[j].W > out[j-1].W); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	return img
}

func distinctColors(img image.Image) int {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	return len(seen)
}

// sameColor compares a pixel with an "rgb(r,g,b)" fill, allowing for
// colour management rounding.
func sameColor(px interface{ RGBA() (r, g, b, a uint32) }, fill string) bool {
	var r, g, b int
	if _, err := fmt.Sscanf(fill, "rgb(%d,%d,%d)", &r, &g, &b); err != nil {
		return false
	}
	pr, pg, pb, _ := px.RGBA()
	d := func(a uint32, b int) bool { return math.Abs(float64(a>>8)-float64(b)) <= 3 }
	return d(pr, r) && d(pg, g) && d(pb, b)
}

func TestChromiumSynthetic(t *testing.T) {
	requireChromium(t)
	s := &flamegraph.Stacks{}
	// A small program: main calls hot (mostly) and cold, hot calls an
	// inlined helper and a kernel write path.
	k := func(n string) flamegraph.Frame { return flamegraph.Frame{Name: n, Kind: flamegraph.Kernel} }
	u := func(n string) flamegraph.Frame { return flamegraph.Frame{Name: n} }
	s.Add([]flamegraph.Frame{u("prog"), u("main"), u("hot_function")}, 700)
	s.Add([]flamegraph.Frame{u("prog"), u("main"), u("hot_function"), {Name: "hot_helper", Kind: flamegraph.Inlined}}, 120)
	s.Add([]flamegraph.Frame{u("prog"), u("main"), u("hot_function"), u("write"), k("entry_SYSCALL_64"), k("ksys_write")}, 60)
	s.Add([]flamegraph.Frame{u("prog"), u("main"), u("cold_function")}, 90)
	s.Add([]flamegraph.Frame{u("swapper"), k("cpu_startup_entry"), k("default_idle")}, 30)
	dir := t.TempDir()
	path := filepath.Join(dir, "synthetic.svg")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := flamegraph.Render(f, s, flamegraph.Options{Title: "synthetic", Width: 1000}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	BrowserCheck(t, path, 1000, "hot_function", "hot")
}

func requireChromium(t *testing.T) { testutil.Requires(t, testutil.Chromium) }
