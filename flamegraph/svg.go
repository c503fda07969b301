package flamegraph

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
)

// Options control how Render draws the graph.
type Options struct {
	// Title is drawn at the top; default "Flame Graph".
	Title string
	// Subtitle is drawn below the title when not empty, e.g. the event
	// and the sample count.
	Subtitle string
	// Width is the image width in pixels; default 1200.
	Width int
	// MinWidth elides frames narrower than this many pixels (and their
	// children), as flamegraph.pl's --minwidth; default 0.1. Elided
	// weight still counts in its parents.
	MinWidth float64
	// Unit names what the weights count: "samples" (the default),
	// "ns" for times in nanoseconds (shown as ms or s), or any other
	// word ("events", "period") printed after the number.
	Unit string
}

func (o Options) withDefaults() Options {
	if o.Title == "" {
		o.Title = "Flame Graph"
	}
	if o.Width <= 0 {
		o.Width = 1200
	}
	if o.MinWidth <= 0 {
		o.MinWidth = 0.1
	}
	if o.Unit == "" {
		o.Unit = "samples"
	}
	return o
}

// Layout constants, in pixels, in the proportions of flamegraph.pl's
// defaults.
const (
	frameHeight = 16
	fontSize    = 12
	fontWidth   = 0.59 // average character width, as a fraction of fontSize
	xPad        = 10
	yPadTop     = 60 // title, subtitle and controls
	yPadBottom  = 34 // the details line
)

// ErrEmpty is returned by Render when there is nothing to draw.
var ErrEmpty = errors.New("no samples to draw")

//go:embed flamegraph.js
var script string

// frame is one rectangle to draw.
type frame struct {
	n      *node
	depth  int
	offset uint64 // weight before this frame at its depth (its left edge)
}

// Render writes the stacks as one self-contained interactive SVG: frames
// sized by weight, merged by stack, sorted by name at each level, coloured
// by kind (user, kernel, inlined), with a hover title (name, weight,
// percent), click to zoom, a reset button and a search box that highlights
// matches and shows the matched percent. The JavaScript is inline; nothing
// is fetched when the file is opened.
func Render(w io.Writer, s *Stacks, opts Options) error {
	o := opts.withDefaults()
	total := s.Total()
	if total == 0 {
		return fmt.Errorf("render flame graph: %w", ErrEmpty)
	}
	sortTree(&s.root)
	usable := float64(o.Width - 2*xPad)
	if usable <= 0 {
		return fmt.Errorf("render flame graph: width %d leaves no room for frames", o.Width)
	}
	scale := usable / float64(total)

	// First pass: the frames wide enough to draw, and the depth.
	root := &node{Frame: Frame{Name: "all"}, total: total, sorted: s.root.sorted}
	frames := []frame{{n: root}}
	maxDepth := 0
	var walk func(n *node, depth int, offset uint64)
	walk = func(n *node, depth int, offset uint64) {
		for _, c := range n.sorted {
			if float64(c.total)*scale >= o.MinWidth {
				frames = append(frames, frame{n: c, depth: depth, offset: offset})
				maxDepth = max(maxDepth, depth)
				walk(c, depth+1, offset)
			}
			offset += c.total
		}
	}
	walk(root, 1, 0)

	height := yPadTop + (maxDepth+1)*frameHeight + yPadBottom
	base := height - yPadBottom // bottom edge of the root frame
	bw := bufio.NewWriterSize(w, 256<<10)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p(`<?xml version="1.0" standalone="no"?>` + "\n")
	p(`<svg version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">`+"\n",
		o.Width, height, o.Width, height)
	p("<!-- Flame graph drawn by gperf. Frames are merged stacks: width is weight, root at the bottom. -->\n")
	p(`<defs><linearGradient id="background" y1="0" y2="1" x1="0" x2="0"><stop stop-color="#eeeeee" offset="5%%"/><stop stop-color="#eeeeb0" offset="95%%"/></linearGradient></defs>` + "\n")
	p("<style>\n%s</style>\n", style)
	cfg, _ := json.Marshal(map[string]any{
		"total": total, "width": o.Width, "xpad": xPad, "base": base,
		"frameHeight": frameHeight, "fontSize": fontSize, "fontWidth": fontWidth,
		"unit": o.Unit, "minWidth": o.MinWidth,
	})
	p(`<rect x="0" y="0" width="%d" height="%d" fill="url(#background)"/>`+"\n", o.Width, height)
	p(`<text id="title" x="%d" y="24" text-anchor="middle">%s</text>`+"\n", o.Width/2, esc(o.Title))
	if o.Subtitle != "" {
		p(`<text id="subtitle" x="%d" y="44" text-anchor="middle">%s</text>`+"\n", o.Width/2, esc(o.Subtitle))
	}
	p(`<text id="unzoom" class="button hide" x="%d" y="24">Reset Zoom</text>`+"\n", xPad)
	// The search box is an HTML input in a foreignObject; both Chromium
	// and Firefox render it in a standalone SVG document.
	p(`<foreignObject x="%d" y="8" width="200" height="24"><input xmlns="http://www.w3.org/1999/xhtml" id="search" type="search" placeholder="Search (regexp)" spellcheck="false" autocomplete="off"/></foreignObject>`+"\n", o.Width-xPad-200)
	legendX := o.Width - xPad - 200
	for i, k := range []Kind{User, Kernel, Inlined} {
		x := legendX + i*70
		p(`<rect x="%d" y="36" width="10" height="10" fill="%s"/><text class="legend" x="%d" y="45">%s</text>`+"\n", x, color(Frame{Name: k.String(), Kind: k}), x+13, k)
	}
	p(`<text id="details" x="%d" y="%d"> </text>`+"\n", xPad, height-12)
	p(`<text id="matched" x="%d" y="%d" text-anchor="end"> </text>`+"\n", o.Width-xPad, height-12)
	p(`<g id="frames">` + "\n")
	var sb strings.Builder
	for _, f := range frames {
		x := float64(xPad) + float64(f.offset)*scale
		wd := float64(f.n.total) * scale
		y := base - (f.depth+1)*frameHeight
		sb.Reset()
		sb.WriteString(`<g class="f" data-x="`)
		sb.WriteString(strconv.FormatUint(f.offset, 10))
		sb.WriteString(`" data-w="`)
		sb.WriteString(strconv.FormatUint(f.n.total, 10))
		sb.WriteString(`"><title>`)
		sb.WriteString(esc(f.n.Name))
		sb.WriteString(" (")
		sb.WriteString(esc(formatWeight(f.n.total, o.Unit)))
		sb.WriteString(", ")
		sb.WriteString(strconv.FormatFloat(100*float64(f.n.total)/float64(total), 'f', 2, 64))
		sb.WriteString("%)</title><rect x=\"")
		sb.WriteString(strconv.FormatFloat(x, 'f', 2, 64))
		sb.WriteString(`" y="`)
		sb.WriteString(strconv.Itoa(y))
		sb.WriteString(`" width="`)
		sb.WriteString(strconv.FormatFloat(wd, 'f', 2, 64))
		sb.WriteString(`" height="`)
		sb.WriteString(strconv.Itoa(frameHeight - 1))
		sb.WriteString(`" fill="`)
		if f.n == root {
			sb.WriteString("rgb(200,200,200)")
		} else {
			sb.WriteString(color(f.n.Frame))
		}
		sb.WriteString(`" class="`)
		sb.WriteString(f.n.Kind.String())
		sb.WriteString(`"/><text x="`)
		sb.WriteString(strconv.FormatFloat(x+3, 'f', 2, 64))
		sb.WriteString(`" y="`)
		sb.WriteString(strconv.Itoa(y + frameHeight - 4))
		sb.WriteString(`">`)
		sb.WriteString(esc(fitText(f.n.Name, wd)))
		sb.WriteString("</text></g>\n")
		bw.WriteString(sb.String())
	}
	p("</g>\n")
	p("<script type=\"text/ecmascript\"><![CDATA[\nvar fgConfig = %s;\n%s]]></script>\n", cfg, cdataSafe(script))
	p("</svg>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render flame graph: %w", err)
	}
	return nil
}

const style = `text { font-family: Verdana, sans-serif; font-size: 12px; fill: rgb(0,0,0); }
#title { font-size: 17px; }
#subtitle { fill: rgb(80,80,80); }
.legend { font-size: 11px; }
.button { cursor: pointer; fill: rgb(0,0,160); }
.button:hover { text-decoration: underline; }
.hide { display: none; }
#frames g { cursor: pointer; }
#frames g:hover rect { stroke: black; stroke-width: 0.5; }
#frames text { pointer-events: none; }
#frames g.parent { opacity: 0.5; }
#frames g.zoomed-out { display: none; }
#search { width: 194px; height: 18px; font: 12px Verdana, sans-serif; border: 1px solid #999; border-radius: 3px; padding: 1px 3px; background: #fff; }
`

// fitText truncates a frame's name to what fits in width pixels, with
// ".." marking the cut; names that cannot keep 3 characters are dropped.
// flamegraph.js does the same after a zoom.
func fitText(name string, width float64) string {
	chars := int(width / (fontSize * fontWidth))
	if chars < 3 {
		return ""
	}
	r := []rune(name)
	if len(r) <= chars {
		return name
	}
	return string(r[:chars-2]) + ".."
}

// color picks a frame's fill from its kind's palette, varying with a hash
// of the name so that a function keeps its colour across graphs (as
// flamegraph.pl --hash): user code red, kernel code orange,
// inlined code aqua.
func color(f Frame) string {
	h := fnv.New64a()
	h.Write([]byte(f.Name))
	v := h.Sum64()
	v1 := float64(v&0xffff) / 0xffff
	v2 := float64(v>>16&0xffff) / 0xffff
	var r, g, b float64
	switch f.Kind {
	case Kernel:
		r, g, b = 235+20*v1, 150+55*v2, 0+40*v1
	case Inlined:
		r, g, b = 50+60*v1, 165+55*v2, 165+55*v2
	default:
		r, g, b = 205+50*v1, 0+90*v2, 0+60*v1
	}
	return fmt.Sprintf("rgb(%d,%d,%d)", int(r), int(g), int(b))
}

// formatWeight prints a weight with its unit: "1,234 samples",
// "12.34 ms".
func formatWeight(w uint64, unit string) string {
	if unit == "ns" {
		switch {
		case w >= 1e9:
			return strconv.FormatFloat(float64(w)/1e9, 'f', 3, 64) + " s"
		case w >= 1e6:
			return strconv.FormatFloat(float64(w)/1e6, 'f', 3, 64) + " ms"
		case w >= 1e3:
			return strconv.FormatFloat(float64(w)/1e3, 'f', 3, 64) + " us"
		}
		return strconv.FormatUint(w, 10) + " ns"
	}
	return commas(w) + " " + unit
}

func commas(v uint64) string {
	s := strconv.FormatUint(v, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// esc escapes text for XML, dropping the control characters XML 1.0 does
// not allow.
func esc(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xfffe || r == 0xffff {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return escaper.Replace(s)
}

// cdataSafe keeps "]]>" from ending a CDATA section early.
func cdataSafe(s string) string { return strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") }
