package gdbmi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file holds a small, strict GDB/MI output parser and a canonical
// encoder. The relay (relay.go) uses them to make sure that every line reaching
// cyrus-and/gdb's reader is one its grammar accepts: that reader panics the
// whole process on anything else.

// record is one parsed line of GDB/MI output.
type record struct {
	token  string
	kind   byte // one of ^ * + = ~ @ &
	class  string
	fields []field // result records and async records
	stream string  // stream records (~ @ &), decoded
}

// field is one name=value pair of a tuple or result list. value is a string,
// a []field (tuple) or a []any of strings, []field tuples or fields (list).
type field struct {
	name  string
	value any
}

// errNotMI reports a line that is not a GDB/MI record.
var errNotMI = errors.New("not a GDB/MI record")

// parseRecord parses one line of MI output (without the newline).
func parseRecord(line string) (record, error) {
	p := miParser{s: line}
	var r record
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	r.token = p.s[:p.i]
	if p.i >= len(p.s) {
		return r, errNotMI
	}
	r.kind = p.s[p.i]
	p.i++
	switch r.kind {
	case '~', '@', '&':
		if r.token != "" {
			return r, errNotMI
		}
		s, err := p.cstring()
		if err != nil {
			return r, err
		}
		r.stream = s
	case '^', '*', '+', '=':
		r.class = p.word()
		if r.class == "" {
			return r, fmt.Errorf("%w: no class after %q", errNotMI, r.kind)
		}
		for p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			f, err := p.field()
			if err != nil {
				return r, err
			}
			r.fields = append(r.fields, f)
		}
	default:
		return r, errNotMI
	}
	if p.i != len(p.s) {
		return r, fmt.Errorf("%w: trailing text at byte %d", errNotMI, p.i)
	}
	return r, nil
}

type miParser struct {
	s     string
	i     int
	depth int
}

// word reads a variable or class name.
func (p *miParser) word() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *miParser) field() (field, error) {
	name := p.word()
	if name == "" || p.i >= len(p.s) || p.s[p.i] != '=' {
		return field{}, fmt.Errorf("%w: expected name= at byte %d", errNotMI, p.i)
	}
	p.i++
	v, err := p.value()
	return field{name, v}, err
}

const maxDepth = 200

func (p *miParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("%w: value expected at end of line", errNotMI)
	}
	switch p.s[p.i] {
	case '"':
		return p.cstring()
	case '{':
		return p.tuple()
	case '[':
		return p.list()
	}
	return nil, fmt.Errorf("%w: value expected at byte %d", errNotMI, p.i)
}

func (p *miParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", errNotMI, maxDepth)
	}
	return nil
}

func (p *miParser) tuple() ([]field, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.i++ // {
	fields := []field{}
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return fields, nil
	}
	for {
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("%w: unterminated tuple", errNotMI)
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return fields, nil
		default:
			return nil, fmt.Errorf("%w: unexpected %q in tuple", errNotMI, p.s[p.i])
		}
	}
}

func (p *miParser) list() ([]any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.i++ // [
	items := []any{}
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return items, nil
	}
	// A list holds either values or name=value results, never both: the
	// library's grammar rejects a mix.
	results := p.i < len(p.s) && p.s[p.i] != '"' && p.s[p.i] != '{' && p.s[p.i] != '['
	for {
		var item any
		var err error
		if results {
			item, err = p.field()
		} else {
			item, err = p.value()
		}
		if err != nil {
			return nil, err
		}
		items = append(items, item)
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("%w: unterminated list", errNotMI)
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return items, nil
		default:
			return nil, fmt.Errorf("%w: unexpected %q in list", errNotMI, p.s[p.i])
		}
	}
}

// cstring decodes a C string as gdb writes it: backslash escapes including
// octal (\303) and hex (\x1b).
func (p *miParser) cstring() (string, error) {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", fmt.Errorf("%w: string expected at byte %d", errNotMI, p.i)
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.i >= len(p.s) {
				return "", fmt.Errorf("%w: dangling backslash", errNotMI)
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'v':
				b.WriteByte('\v')
			case 'e':
				b.WriteByte(0x1b)
			case 'x':
				n, j := 0, 0
				for j < 2 && p.i < len(p.s) && isHex(p.s[p.i]) {
					n = n*16 + hexVal(p.s[p.i])
					p.i++
					j++
				}
				if j == 0 {
					b.WriteByte('x')
				} else {
					b.WriteByte(byte(n))
				}
			case '0', '1', '2', '3', '4', '5', '6', '7':
				n := int(e - '0')
				for j := 0; j < 2 && p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '7'; j++ {
					n = n*8 + int(p.s[p.i]-'0')
					p.i++
				}
				b.WriteByte(byte(n))
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("%w: unterminated string", errNotMI)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// encode writes r in the canonical form cyrus-and/gdb's lexer understands:
// only the escapes it knows, everything else raw.
func (r record) encode() string {
	var b strings.Builder
	b.WriteString(r.token)
	b.WriteByte(r.kind)
	switch r.kind {
	case '~', '@', '&':
		quote(&b, r.stream)
	default:
		b.WriteString(r.class)
		for _, f := range r.fields {
			b.WriteByte(',')
			f.encode(&b)
		}
	}
	return b.String()
}

func (f field) encode(b *strings.Builder) {
	b.WriteString(f.name)
	b.WriteByte('=')
	encodeValue(b, f.value)
}

func encodeValue(b *strings.Builder, v any) {
	switch v := v.(type) {
	case string:
		quote(b, v)
	case []field:
		b.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			f.encode(b)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if f, ok := item.(field); ok {
				f.encode(b)
			} else {
				encodeValue(b, item)
			}
		}
		b.WriteByte(']')
	}
}

func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// libraryShape converts parsed fields into the representation cyrus-and/gdb
// hands out (maps for tuples, slices for lists), so that spooled records look
// the same to callers as records that went through the library.
func libraryShape(fields []field) map[string]any {
	m := make(map[string]any, len(fields))
	for _, f := range fields {
		m[f.name] = libraryValue(f.value)
	}
	return m
}

func libraryValue(v any) any {
	switch v := v.(type) {
	case []field:
		return libraryShape(v)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			if f, ok := item.(field); ok {
				out[i] = map[string]any{f.name: libraryValue(f.value)}
			} else {
				out[i] = libraryValue(item)
			}
		}
		return out
	}
	return v
}

// quoteArg quotes a CLI argument for gdb's MI command parser.
func quoteArg(s string) string { return strconv.Quote(s) }
