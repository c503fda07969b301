package flamegraph

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Kind says where a frame's code lives; it picks the frame's colour.
type Kind uint8

const (
	User    Kind = iota // user-space code (and the comm frame)
	Kernel              // kernel code; "_[k]" in folded stacks
	Inlined             // a function inlined into its caller; "_[i]" in folded stacks
)

// suffix is the annotation stackcollapse-perf.pl --all appends to a frame
// name in folded stacks, and flamegraph.pl --colors=java understands.
func (k Kind) suffix() string {
	switch k {
	case Kernel:
		return "_[k]"
	case Inlined:
		return "_[i]"
	}
	return ""
}

func (k Kind) String() string {
	switch k {
	case Kernel:
		return "kernel"
	case Inlined:
		return "inlined"
	}
	return "user"
}

// Frame is one function in a stack.
type Frame struct {
	Name string
	Kind Kind
}

// node is one frame in the merged call tree: the frames of all stacks
// that share the same path from the root.
type node struct {
	Frame
	self, total uint64
	children    map[Frame]*node
	sorted      []*node // children sorted by name, filled by sortTree
}

func (n *node) child(f Frame) *node {
	c := n.children[f]
	if c == nil {
		if n.children == nil {
			n.children = make(map[Frame]*node)
		}
		c = &node{Frame: f}
		n.children[f] = c
	}
	return c
}

// Stacks is a set of weighted stacks merged into a call tree. The weight
// is whatever the caller counts: samples, event periods, or nanoseconds
// off CPU. The zero value is empty and ready to use.
type Stacks struct {
	root node
}

// Add adds weight to the stack, given root first (for a process:
// comm, main, ..., the sampled function). Empty stacks and zero weights
// are ignored. In names, semicolons and line breaks, which would split a
// folded line, become ':' and ' ', and an empty name is "[unknown]".
func (s *Stacks) Add(stack []Frame, weight uint64) {
	if len(stack) == 0 || weight == 0 {
		return
	}
	n := &s.root
	n.total += weight
	for _, f := range stack {
		f.Name = cleanName(f.Name)
		n = n.child(f)
		n.total += weight
	}
	n.self += weight
}

var nameCleaner = strings.NewReplacer(";", ":", "\n", " ", "\r", " ")

func cleanName(name string) string {
	if name == "" {
		return "[unknown]"
	}
	if strings.ContainsAny(name, ";\n\r") {
		return nameCleaner.Replace(name)
	}
	return name
}

// Total is the sum of the weights added.
func (s *Stacks) Total() uint64 { return s.root.total }

// sortTree orders every level's children by their folded name (the name
// with its kind annotation), as flamegraph.pl does by sorting the folded
// lines.
func sortTree(n *node) {
	if len(n.children) == 0 || n.sorted != nil {
		return
	}
	n.sorted = make([]*node, 0, len(n.children))
	for _, c := range n.children {
		n.sorted = append(n.sorted, c)
	}
	slices.SortFunc(n.sorted, func(a, b *node) int {
		return strings.Compare(foldedName(a.Frame), foldedName(b.Frame))
	})
	for _, c := range n.sorted {
		sortTree(c)
	}
}

// foldedName is a frame as it appears in a folded line: its name (made
// safe by Add) and the kind annotation.
func foldedName(f Frame) string { return f.Name + f.Kind.suffix() }

// WriteFolded writes the stacks in Brendan Gregg's folded format, one
// "frame;frame;frame weight" line per distinct stack, root first, lines in
// sorted order. Kernel frames carry the suffix "_[k]" and inlined frames
// "_[i]" (stackcollapse-perf.pl --all), which flamegraph.pl --colors=java,
// inferno and speedscope understand.
func (s *Stacks) WriteFolded(w io.Writer) error {
	sortTree(&s.root)
	bw := bufio.NewWriterSize(w, 64<<10)
	var path []string
	var walk func(n *node) error
	walk = func(n *node) error {
		path = append(path, foldedName(n.Frame))
		defer func() { path = path[:len(path)-1] }()
		if n.self > 0 {
			for i, p := range path {
				if i > 0 {
					bw.WriteByte(';')
				}
				bw.WriteString(p)
			}
			bw.WriteByte(' ')
			bw.WriteString(strconv.FormatUint(n.self, 10))
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
		}
		for _, c := range n.sorted {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range s.root.sorted {
		if err := walk(c); err != nil {
			return fmt.Errorf("write folded stacks: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write folded stacks: %w", err)
	}
	return nil
}

// maxFoldedLine bounds one folded line; deeper stacks than this are not
// produced by any tool we know of.
const maxFoldedLine = 16 << 20

// ParseFolded reads folded stacks ("frame;frame;frame weight" lines, as
// written by WriteFolded, stackcollapse-*.pl or inferno-collapse-*) and
// merges them. Lines with the same stack add up. A frame ending in "_[k]"
// is a kernel frame and one ending in "_[i]" an inlined frame; "_[j]" and
// "_[w]" annotations are kept in the name. Blank lines are skipped; any
// other malformed line is an error naming its line number. The input is
// untrusted.
func ParseFolded(r io.Reader) (*Stacks, error) {
	s := &Stacks{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxFoldedLine)
	var frames []Frame
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("parse folded stacks: line %d: no weight after the stack", ln)
		}
		w, err := strconv.ParseUint(line[sp+1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse folded stacks: line %d: weight %q is not a number", ln, clip(line[sp+1:]))
		}
		stack := line[:sp]
		if stack == "" {
			return nil, fmt.Errorf("parse folded stacks: line %d: empty stack", ln)
		}
		if s.root.total+w < s.root.total {
			return nil, fmt.Errorf("parse folded stacks: line %d: total weight overflows 64 bits", ln)
		}
		frames = frames[:0]
		for name := range strings.SplitSeq(stack, ";") {
			f := Frame{Name: name}
			switch {
			case strings.HasSuffix(name, "_[k]"):
				f = Frame{Name: name[:len(name)-4], Kind: Kernel}
			case strings.HasSuffix(name, "_[i]"):
				f = Frame{Name: name[:len(name)-4], Kind: Inlined}
			}
			frames = append(frames, f)
		}
		s.Add(frames, w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse folded stacks: %w", err)
	}
	return s, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
