package lsp

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pySource is what the server reads from Python source text without a
// parser: which bytes are code (not strings or comments), and the def and
// class blocks with their qualified names, as CPython's co_qualname spells
// them (Class.method, outer.<locals>.inner). It is a best effort on text
// that may be mid-edit; the timeline is the authority on what ran.
type pySource struct {
	mask   []byte // per byte of the text: codeByte, stringByte or commentByte
	scopes []scope
	// logical is true for each line that starts a logical line (a
	// statement, or a blank or comment line), false for the lines a
	// statement continues onto.
	logical []bool
}

const (
	codeByte byte = iota
	stringByte
	commentByte
)

// scope is one def or class block.
type scope struct {
	name     string
	qualname string
	class    bool
	def      int // 0-based line of the def or class keyword
	end      int // last line of its body
	indent   int
}

// moduleFunction is co_qualname of module-level code.
const moduleFunction = "<module>"

var defRE = regexp.MustCompile(`^[ \t]*(?:async[ \t]+)?(def|class)[ \t]+([\p{L}_][\p{L}\p{N}_]*)`)

func scanPython(d *document) *pySource {
	text := d.text
	p := &pySource{mask: make([]byte, len(text))}
	n := d.lineCount()
	logical := make([]bool, n)
	p.logical = logical
	var (
		quote     byte // open string's quote, 0 outside strings
		triple    bool
		depth     int
		continued bool
		line      int
	)
	logical[0] = true
	for i := 0; i < len(text); i++ {
		c := text[i]
		if quote != 0 {
			p.mask[i] = stringByte
			switch {
			case c == '\\' && i+1 < len(text):
				i++
				p.mask[i] = stringByte
				if text[i] == '\n' {
					line++
				}
			case triple && strings.HasPrefix(text[i:], strings.Repeat(string(quote), 3)):
				p.mask[i+1], p.mask[i+2] = stringByte, stringByte
				i += 2
				quote = 0
			case !triple && c == quote:
				quote = 0
			case c == '\n':
				line++
				if !triple { // unterminated: end it at the line's end
					quote = 0
					logical[line] = depth == 0
				}
			}
			continue
		}
		switch c {
		case '#':
			for ; i < len(text) && text[i] != '\n'; i++ {
				p.mask[i] = commentByte
			}
			i-- // let the newline be seen
		case '\'', '"':
			quote, triple = c, strings.HasPrefix(text[i:], strings.Repeat(string(c), 3))
			p.mask[i] = stringByte
			if triple {
				p.mask[i+1], p.mask[i+2] = stringByte, stringByte
				i += 2
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth = max(depth-1, 0)
		case '\\':
			if i+1 < len(text) && (text[i+1] == '\n' || text[i+1] == '\r') {
				continued = true
			}
		case '\n':
			line++
			logical[line] = depth == 0 && !continued
			continued = false
		}
	}

	var stack []int // indices into p.scopes of the open blocks
	prevCode := -1  // last non-blank line seen
	closeTo := func(indent int) {
		for len(stack) > 0 && p.scopes[stack[len(stack)-1]].indent >= indent {
			s := &p.scopes[stack[len(stack)-1]]
			s.end = max(prevCode, s.def)
			stack = stack[:len(stack)-1]
		}
	}
	for ln := range n {
		text := d.line(ln)
		trimmed := trimIndent(text)
		blank := trimmed == "" || trimmed[0] == '#'
		if logical[ln] && !blank {
			indent := indentOf(text)
			closeTo(indent)
			if m := defRE.FindStringSubmatch(text); m != nil {
				s := scope{name: m[2], class: m[1] == "class", def: ln, indent: indent}
				s.qualname = p.qualPrefix(stack) + s.name
				p.scopes = append(p.scopes, s)
				stack = append(stack, len(p.scopes)-1)
			}
		}
		if !blank {
			prevCode = ln
		}
	}
	closeTo(0)
	return p
}

func (p *pySource) qualPrefix(stack []int) string {
	var b strings.Builder
	for _, i := range stack {
		s := &p.scopes[i]
		b.WriteString(s.name)
		if s.class {
			b.WriteString(".")
		} else {
			b.WriteString(".<locals>.")
		}
	}
	return b.String()
}

func trimIndent(line string) string { return strings.TrimLeft(line, " \t\f") }

func indentOf(line string) int {
	n := 0
	for _, c := range line {
		switch c {
		case ' ':
			n++
		case '\t':
			n += 8 - n%8
		case '\f':
		default:
			return n
		}
	}
	return n
}

// innermost returns the innermost def or class block that contains line
// (0-based), or nil at module level.
func (p *pySource) innermost(line int) *scope {
	var in *scope
	for i := range p.scopes {
		s := &p.scopes[i]
		if s.def <= line && line <= s.end {
			in = s // later scopes that contain the line are nested deeper
		}
	}
	return in
}

// functionAt is co_qualname of the code that runs line (0-based).
func (p *pySource) functionAt(line int) string {
	if s := p.innermost(line); s != nil {
		return s.qualname
	}
	return moduleFunction
}

// defs are the function blocks (not classes), in source order.
func (p *pySource) defs() []scope {
	var out []scope
	for _, s := range p.scopes {
		if !s.class {
			out = append(out, s)
		}
	}
	return out
}

// Functions returns the qualified names, as co_qualname spells them, of the
// def blocks of Python source text, in source order (timelens annotate
// --past-calls asks the timeline for each one's latest call).
func Functions(src string) []string {
	return newDocument("", "", 0, src).python().functions()
}

// functions are the qualified names of the def blocks, in source order.
func (p *pySource) functions() []string {
	var names []string
	for _, s := range p.defs() {
		names = append(names, s.qualname)
	}
	return names
}

// pyKeywords are the names that are never variables. Soft keywords
// (match, case, type, _) can be, and are not listed.
var pyKeywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true,
	"async": true, "await": true, "break": true, "class": true, "continue": true,
	"def": true, "del": true, "elif": true, "else": true, "except": true, "finally": true,
	"for": true, "from": true, "global": true, "if": true, "import": true, "in": true,
	"is": true, "lambda": true, "nonlocal": true, "not": true, "or": true, "pass": true,
	"raise": true, "return": true, "try": true, "while": true, "with": true, "yield": true,
}

// exprAt finds the name or attribute chain at byte column col of line ln:
// hovering b in a.b.c means a.b. It returns the expression and its byte
// columns [start, end), or ok=false on keywords, strings, comments,
// numbers, and chains that do not start at a name (f().x, "s".upper).
func (p *pySource) exprAt(d *document, ln, col int) (expr string, start, end int, ok bool) {
	if ln < 0 || ln >= d.lineCount() {
		return "", 0, 0, false
	}
	line := d.line(ln)
	base := d.starts[ln]
	code := func(i int) bool { return i >= 0 && i < len(line) && p.mask[base+i] == codeByte }
	if col >= len(line) || !code(col) || !isIdent(runeAt(line, col)) {
		return "", 0, 0, false
	}
	start, end = identBounds(line, col)
	word := line[start:end]
	if !isIdentStart(runeAt(line, start)) || pyKeywords[word] {
		return "", 0, 0, false
	}
	if end < len(line) && (line[end] == '\'' || line[end] == '"') {
		return "", 0, 0, false // a string prefix: f"...", rb'...'
	}
	// Walk left over ".name" links.
	for start > 0 && line[start-1] == '.' && code(start-1) {
		dot := start - 1
		if dot == 0 || !isIdent(lastRune(line[:dot])) {
			return "", 0, 0, false // f().x, "s".x, x[0].y: not a plain chain
		}
		s, _ := identBounds(line, dot-1)
		if !isIdentStart(runeAt(line, s)) || pyKeywords[line[s:dot]] {
			return "", 0, 0, false
		}
		start = s
	}
	return line[start:end], start, end, true
}

// identBounds returns the identifier around byte column col.
func identBounds(line string, col int) (start, end int) {
	// col may be on any byte of a rune; step back to its start.
	for col > 0 && !utf8.RuneStart(line[col]) {
		col--
	}
	start, end = col, col
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(line[:start])
		if !isIdent(r) {
			break
		}
		start -= size
	}
	for end < len(line) {
		r, size := utf8.DecodeRuneInString(line[end:])
		if !isIdent(r) {
			break
		}
		end += size
	}
	return start, end
}

// runeAt is the character that byte i is part of; RuneError for a byte of
// no valid character (a stray continuation byte is not its neighbour's).
func runeAt(s string, i int) rune {
	j := i
	for j > 0 && !utf8.RuneStart(s[j]) {
		j--
	}
	r, size := utf8.DecodeRuneInString(s[j:])
	if j+size <= i {
		return utf8.RuneError
	}
	return r
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdent(r rune) bool { return isIdentStart(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) }
