package probe

import (
	"fmt"
	"strings"
)

// globMatch reports whether str matches the glob pat with perf's rules
// (strglobmatch in tools/perf/util/string.c): '*', '?', character classes
// "[a-z]" and "[!x]", and '\' escaping the next character.
func globMatch(pat, str string) bool { return matchGlob(str, pat, false) }

// LazyMatch reports whether a source line matches a lazy pattern (the
// ;PTN of a probe point): a glob where white space is ignored on both
// sides (perf's strlazymatch).
func LazyMatch(pat, line string) bool { return matchGlob(line, pat, true) }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func matchGlob(str, pat string, ignoreSpace bool) bool {
	for len(str) > 0 && len(pat) > 0 && pat[0] != '*' {
		if ignoreSpace {
			if isSpace(str[0]) {
				str = str[1:]
				continue
			}
			if isSpace(pat[0]) {
				pat = pat[1:]
				continue
			}
		}
		switch pat[0] {
		case '?':
			str, pat = str[1:], pat[1:]
			continue
		case '[':
			rest, ok := matchCharClass(pat[1:], str[0])
			if !ok {
				return false
			}
			str, pat = str[1:], rest
			continue
		case '\\':
			pat = pat[1:]
			if len(pat) == 0 {
				return false
			}
		}
		if str[0] != pat[0] {
			return false
		}
		str, pat = str[1:], pat[1:]
	}
	if len(pat) > 0 && pat[0] == '*' {
		for len(pat) > 0 && pat[0] == '*' {
			pat = pat[1:]
		}
		if len(pat) == 0 {
			return true
		}
		for len(str) > 0 {
			if matchGlob(str, pat, ignoreSpace) {
				return true
			}
			str = str[1:]
		}
	}
	if ignoreSpace {
		str = strings.TrimLeft(str, " \t\n\v\f\r")
		pat = strings.TrimLeft(pat, " \t\n\v\f\r")
	}
	return len(str) == 0 && len(pat) == 0
}

// matchCharClass matches c against the class that starts at pat (after
// '['), returning the pattern after the closing ']' (perf's
// __match_charclass). A class without ']' never matches.
func matchCharClass(pat string, c byte) (string, bool) {
	complement := false
	if len(pat) > 0 && pat[0] == '!' {
		complement = true
		pat = pat[1:]
	}
	if len(pat) == 0 {
		return "", false
	}
	matched := false
	i := 0
	if pat[0] == c { // the first character is literal, even ']'
		matched = true
	}
	i = 1
	for !matched && i < len(pat) && pat[i] != ']' {
		if pat[i] == '-' && i+1 < len(pat) && pat[i+1] != ']' {
			lo, hi := pat[i-1], pat[i+1]
			if lo <= c && c <= hi {
				matched = true
				break
			}
			if lo > hi {
				return "", false
			}
			i += 2
			continue
		}
		if pat[i] == c {
			matched = true
			break
		}
		i++
	}
	for i < len(pat) && pat[i] != ']' {
		i++
	}
	if i >= len(pat) {
		return "", false
	}
	if complement {
		matched = !matched
	}
	return pat[i+1:], matched
}

// Filter is perf's string filter (tools/perf/util/strfilter.c): globs
// combined with '!', '&', '|' and parentheses, e.g. "probe_ldlm:*&!*_L6".
// '&' binds tighter than '|'.
type Filter struct{ root *filterNode }

type filterNode struct {
	op   byte // 0 for a leaf, '!', '&' or '|'
	pat  string
	l, r *filterNode
}

// FilterError is a filter that does not parse; Pos is the 1-based
// position perf reports.
type FilterError struct {
	Src string
	Pos int
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("parse filter %q: syntax error at %d", e.Src, e.Pos)
}

// Perf returns the message perf prints for the error.
func (e *FilterError) Perf() string {
	return fmt.Sprintf("Filter parse error at %d.\nSource: \"%s\"\n         %*c\n", e.Pos, e.Src, e.Pos, '^')
}

// ParseFilter parses a perf string filter.
func ParseFilter(s string) (*Filter, error) {
	n, end, ok := parseFilterNode(s, 0)
	if !ok || end < len(s) {
		return nil, &FilterError{Src: s, Pos: end + 1}
	}
	return &Filter{root: n}, nil
}

// Or adds s as an alternative: the filter matches what it matched before
// or what s matches (strfilter__or; perf joins repeated -d, -l or
// --filter options this way).
func (f *Filter) Or(s string) error {
	g, err := ParseFilter(s)
	if err != nil {
		return err
	}
	if f.root == nil {
		f.root = g.root
		return nil
	}
	f.root = &filterNode{op: '|', l: f.root, r: g.root}
	return nil
}

const filterOps = "|&!()"

// filterToken returns the token at s[i:] after spaces: its start and end.
func filterToken(s string, i int) (start, end int) {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i >= len(s) {
		return i, i
	}
	j := i + 1
	if !strings.ContainsRune(filterOps, rune(s[i])) {
		for j < len(s) && !strings.ContainsRune(filterOps, rune(s[j])) && !isSpace(s[j]) {
			j++
		}
	}
	return i, j
}

// parseFilterNode mirrors strfilter_node__new: it parses from s[i:] up to
// the end or an unmatched ')', and returns the tree and where it stopped
// (the position of the error when !ok).
func parseFilterNode(s string, i int) (*filterNode, int, bool) {
	root := &filterNode{}
	cur, lastOp := root, root
	start, end := filterToken(s, i)
	for start < len(s) && s[start] != ')' {
		switch s[start] {
		case '&':
			if cur.r == nil || lastOp.r == nil {
				return nil, start, false
			}
			cur = &filterNode{op: '&', l: lastOp.r}
			lastOp.r = cur
			lastOp = cur
		case '|':
			if cur.r == nil || root.r == nil {
				return nil, start, false
			}
			cur = &filterNode{op: '|', l: root.r}
			root.r = cur
			lastOp = cur
		case '!':
			if cur.r != nil {
				return nil, start, false
			}
			cur.r = &filterNode{op: '!'}
			cur = cur.r
		case '(':
			if cur.r != nil {
				return nil, start, false
			}
			n, stop, ok := parseFilterNode(s, start+1)
			if !ok {
				return nil, stop, false
			}
			if n == nil || stop >= len(s) || s[stop] != ')' {
				return nil, stop, false
			}
			cur.r = n
			end = stop + 1
		default:
			if cur.r != nil {
				return nil, start, false
			}
			cur.r = &filterNode{pat: s[start:end]}
		}
		start, end = filterToken(s, end)
	}
	if cur.r == nil {
		return nil, start, false
	}
	return root.r, start, true
}

// Match reports whether s passes the filter.
func (f *Filter) Match(s string) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.match(s)
}

func (n *filterNode) match(s string) bool {
	switch n.op {
	case '&':
		return n.l.match(s) && n.r.match(s)
	case '|':
		return n.l.match(s) || n.r.match(s)
	case '!':
		return !n.r.match(s)
	}
	return globMatch(n.pat, s)
}

// String writes the filter back as perf does (strfilter__string): an
// operand that is itself an operation is put in parentheses.
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return ""
	}
	return f.root.String()
}

func (n *filterNode) String() string {
	switch n.op {
	case '&', '|':
		return n.l.paren() + string(n.op) + n.r.paren()
	case '!':
		return "!" + n.r.paren()
	}
	return n.pat
}

func (n *filterNode) paren() string {
	if n.op != 0 {
		return "(" + n.String() + ")"
	}
	return n.String()
}
