package gdbmi

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	_ "unsafe" // go:linkname, for the library's own parser

	_ "github.com/cyrus-and/gdb" // the reader libParseRecord belongs to
)

// The relay exists so that cyrus-and/gdb's reader, which panics the whole
// process on a line its grammar rejects, only ever sees canonical records.
// These targets hold our parser and encoder to that: whatever gdb prints,
// what the relay writes parses again, to the same value, with our parser
// and with the library's own.

// libParseRecord is cyrus-and/gdb's parser, the one its reader runs on every
// line (it is unexported; there is no other way to call it without a gdb).
//
//go:linkname libParseRecord github.com/cyrus-and/gdb.parseRecord
func libParseRecord(string) map[string]interface{}

// libraryParse runs the library's parser and turns its panic into an error.
func libraryParse(line string) (out map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cyrus-and/gdb panics on %q: %v", line, r)
		}
	}()
	return libParseRecord(line), nil
}

// libraryWants is the map the library should produce for r.
func libraryWants(r record) map[string]any {
	types := map[byte]string{'*': "exec", '+': "status", '=': "notify", '~': "console", '@': "target", '&': "log"}
	switch r.kind {
	case '~', '@', '&':
		return map[string]any{"type": types[r.kind], "payload": r.stream}
	case '^':
		m := map[string]any{"sequence": r.token, "class": r.class}
		if len(r.fields) > 0 {
			m["payload"] = libraryShape(r.fields)
		}
		return m
	}
	m := map[string]any{"type": types[r.kind], "class": r.class}
	if len(r.fields) > 0 {
		m["payload"] = libraryShape(r.fields)
	}
	return m
}

// checkCanonical checks one line as the relay writes it: short enough, and
// parsed by both parsers to rec.
func checkCanonical(t *testing.T, line string, rec record) {
	t.Helper()
	if len(line) > maxLine {
		t.Fatalf("relay line of %d bytes, over maxLine %d", len(line), maxLine)
	}
	if strings.ContainsAny(line, "\n") {
		t.Fatalf("relay line holds a newline: %q", line)
	}
	again, err := parseRecord(line)
	if err != nil {
		t.Fatalf("our parser rejects the canonical line %q: %v", line, err)
	}
	if !reflect.DeepEqual(again, rec) {
		t.Fatalf("canonical line %q parses to %#v, want %#v", line, again, rec)
	}
	lib, err := libraryParse(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := libraryWants(rec); !reflect.DeepEqual(lib, want) {
		t.Fatalf("cyrus-and/gdb reads %q as %#v, want %#v", line, lib, want)
	}
}

// transcriptLines are the MI lines gdb, rr and UDB printed in the recorded
// transcripts of testdata/dialect.
func transcriptLines(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "dialect", "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no transcripts in testdata/dialect: %v", err)
	}
	var lines []string
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "> ") {
				continue
			}
			lines = append(lines, line)
		}
	}
	return lines
}

// FuzzParseRecord: the parser never panics, and every line it accepts
// encodes to a canonical line that both parsers read back to the same
// record.
func FuzzParseRecord(f *testing.F) {
	for _, line := range transcriptLines(f) {
		f.Add(line)
	}
	f.Add(`^done,value="\303\251\x1b\e\q",list=[[],{},"a"],res=[a="1",a="2"]`)
	f.Add(`~"tab\there"`)
	f.Fuzz(func(t *testing.T, line string) {
		rec, err := parseRecord(line)
		if err != nil {
			return
		}
		canon := rec.encode()
		checkCanonical(t, canon, rec)
		if again, _ := parseRecord(canon); again.encode() != canon {
			t.Fatalf("encoding is not canonical: %q then %q", canon, again.encode())
		}
	})
}

// valueBuilder makes MI values out of fuzz bytes: each byte picks what
// comes next, so that the fuzzer explores shapes as well as contents.
type valueBuilder struct {
	b     []byte
	depth int
}

func (v *valueBuilder) next() byte {
	if len(v.b) == 0 {
		return 0
	}
	c := v.b[0]
	v.b = v.b[1:]
	return c
}

// text takes a length byte and that many bytes, any values at all.
func (v *valueBuilder) text() string {
	n := min(int(v.next()%32), len(v.b))
	s := string(v.b[:n])
	v.b = v.b[n:]
	return s
}

// name is a variable name: never empty, only the characters gdb uses.
func (v *valueBuilder) name() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
	n := 1 + int(v.next()%6)
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[int(v.next())%len(alphabet)])
	}
	return b.String()
}

func (v *valueBuilder) value() any {
	c := v.next()
	if v.depth > 8 || len(v.b) == 0 {
		return v.text()
	}
	v.depth++
	defer func() { v.depth-- }()
	switch c % 4 {
	case 1:
		return v.fields()
	case 2: // a list of values
		items := []any{}
		for range int(v.next() % 5) {
			items = append(items, v.value())
		}
		return items
	case 3: // a list of results
		items := []any{}
		for _, f := range v.fields() {
			items = append(items, f)
		}
		return items
	}
	return v.text()
}

func (v *valueBuilder) fields() []field {
	fs := []field{}
	for range int(v.next() % 5) {
		fs = append(fs, field{v.name(), v.value()})
	}
	return fs
}

func (v *valueBuilder) record() record {
	kinds := "^*+=~@&"
	r := record{kind: kinds[int(v.next())%len(kinds)]}
	switch r.kind {
	case '~', '@', '&':
		r.stream = v.text()
		return r
	}
	if c := v.next(); c%2 == 1 {
		r.token = strconv.Itoa(int(c))
	}
	r.class = v.name()
	for _, f := range v.fields() {
		r.fields = append(r.fields, f)
	}
	return r
}

// FuzzEncodeRecord: every record, whatever its strings hold, encodes to a
// line both parsers read back as that record.
func FuzzEncodeRecord(f *testing.F) {
	f.Add([]byte("\x00\x05hello"))
	f.Add([]byte("\x03\x01\x02ab\x03\x01\x02cd\x02\x03\"\\\n"))
	f.Add([]byte("\x04\x00\x00\x04\x05\x00\x01\x07\x03\x05\x06\x07\x08\x02\x03\x00\x01\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vb := &valueBuilder{b: data}
		rec := vb.record()
		checkCanonical(t, rec.encode(), rec)
	})
}

// FuzzRelayLine: whatever line gdb prints (MI, program output, binary
// junk, a record longer than the library's scanner takes), the relay
// writes lines both parsers accept; text that is not MI comes through
// whole as target output, and a record comes through unchanged.
func FuzzRelayLine(f *testing.F) {
	for _, line := range transcriptLines(f) {
		f.Add(line)
	}
	f.Add("hello from the program \xff\xfe")
	f.Add(`1^done,big="` + strings.Repeat(`\303\251`, 30000) + `"`)
	f.Add(strings.Repeat("é", 40000))
	spool := f.TempDir()
	f.Fuzz(func(t *testing.T, line string) {
		line = strings.TrimRight(line, "\r\n") // readLine never hands over a line ending
		if strings.Contains(line, "\n") {
			return // not one line
		}
		var out bytes.Buffer
		r := &relay{out: bufio.NewWriter(&out), pending: map[string]string{"1": "data-evaluate-expression", "7": "gdb-exit"}, spoolDir: spool}
		r.gdbLine(line)
		_ = r.out.Flush()

		var streams strings.Builder
		var recs []record
		for _, l := range strings.SplitAfter(out.String(), "\n") {
			if l == "" {
				continue
			}
			if !strings.HasSuffix(l, "\n") {
				t.Fatalf("relay output does not end its line: %q", l)
			}
			l = strings.TrimSuffix(l, "\n")
			rec, err := parseRecord(l)
			if err != nil {
				t.Fatalf("relay wrote %q, which it cannot parse: %v", l, err)
			}
			checkCanonical(t, l, rec)
			for _, f := range rec.fields {
				if p, _ := f.value.(string); f.name == spoolField && filepath.Dir(p) != spool {
					// The session reads and deletes the file a spool field names.
					t.Fatalf("relay passes %q, whose %s names a file of its own choosing", l, spoolField)
				}
			}
			if rec.kind == '@' {
				streams.WriteString(rec.stream)
			}
			recs = append(recs, rec)
		}
		if line == "(gdb)" || line == "(gdb) " {
			if len(recs) != 0 {
				t.Fatalf("the prompt came through as %v", recs)
			}
			return
		}
		in, err := parseRecord(line)
		if err == nil && slices.ContainsFunc(in.fields, func(f field) bool { return f.name == spoolField }) {
			err = errNotMI // a spool field from gdb is the relay's to refuse
		}
		if err != nil {
			if got := streams.String(); got != line+"\n" {
				t.Fatalf("non-MI line %q came through as %q", line, got)
			}
			return
		}
		if len(recs) == 0 {
			t.Fatalf("record %q was dropped", line)
		}
		if in.kind == '~' || in.kind == '@' || in.kind == '&' {
			var got strings.Builder
			for _, r := range recs {
				if r.kind != in.kind {
					t.Fatalf("stream %q came through as %c records", line, r.kind)
				}
				got.WriteString(r.stream)
			}
			if got.String() != in.stream {
				t.Fatalf("stream %q came through as %q", in.stream, got.String())
			}
			return
		}
		if len(recs) != 1 {
			t.Fatalf("record %q came through as %d records", line, len(recs))
		}
		got := recs[0]
		if len(got.fields) == 1 && got.fields[0].name == spoolField {
			data, err := os.ReadFile(got.fields[0].value.(string))
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(got.fields[0].value.(string))
			if got, err = parseRecord(string(data)); err != nil {
				t.Fatalf("spooled record does not parse: %v", err)
			}
		}
		if in.kind == '^' && in.token != "1" && in.token != "7" {
			// Nobody waits for it: it becomes a notification.
			want := record{kind: '=', class: "timelens-unexpected-result",
				fields: append([]field{{"class", in.class}, {"token", in.token}}, in.fields...)}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("unexpected result %q came through as %#v", line, got)
			}
			return
		}
		if !reflect.DeepEqual(got, in) {
			t.Fatalf("record %q came through as %#v, want %#v", line, got, in)
		}
	})
}
