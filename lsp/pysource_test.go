package lsp

import (
	"fmt"
	"strings"
	"testing"
)

const sample = `import os

@decorator
def top(a,
        b):
    """A docstring.
def not_a_def():
    """
    x = "def in a string"  # def in a comment
    def inner():
        class Local:
            def method(self):
                return self.value.attr
        return Local
    return inner

class Account:
    kind = 'plain'

    async def deposit(self, amount):
        self.balance += amount  # café ☕ 🐍
        return f"{amount}" + 'x'.upper() + str(x[0].y)

if __name__ == "__main__":
    top(1, 2)
`

func TestScopes(t *testing.T) {
	d := newDocument("file:///sample.py", "/sample.py", 1, sample)
	var got []string
	for _, s := range d.python().scopes {
		got = append(got, fmt.Sprintf("%s %d-%d", s.qualname, s.def+1, s.end+1))
	}
	want := "top 4-15 top.<locals>.inner 10-14 top.<locals>.inner.<locals>.Local 11-13 " +
		"top.<locals>.inner.<locals>.Local.method 12-13 Account 17-22 Account.deposit 20-22"
	if strings.Join(got, " ") != want {
		t.Errorf("scopes:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	for line, fn := range map[int]string{1: "<module>", 3: "<module>", 5: "top", 7: "top", 9: "top",
		13: "top.<locals>.inner.<locals>.Local.method", 14: "top.<locals>.inner", 18: "Account", 21: "Account.deposit", 25: "<module>"} {
		if got := d.python().functionAt(line - 1); got != fn {
			t.Errorf("line %d is in %s, want %s", line, got, fn)
		}
	}
}

func TestExprAt(t *testing.T) {
	d := newDocument("file:///sample.py", "/sample.py", 1, sample)
	// at: a line (1-based) and the text the cursor is on (its first byte),
	// optionally after a given prefix to pick one occurrence.
	cases := []struct {
		line     int
		at, want string
	}{
		{13, "return", ""},              // keyword
		{13, "self", "self"},            // the start of a chain
		{13, "value", "self.value"},     // a middle link: the chain up to it
		{13, "attr", "self.value.attr"}, // the last link
		{9, "def in", ""},               // in a string
		{9, "comment", ""},              // in a comment
		{21, "balance", "self.balance"}, // after the chain, non-ASCII in a comment
		{21, "café", ""},                // comment
		{22, "upper", ""},               // "x".upper: not a plain chain
		{22, "y)", ""},                  // x[0].y
		{22, "f\"", ""},                 // string prefix
		{22, "str", "str"},              // a builtin's name is a name
		{24, "__name__", "__name__"},    // dunder
		{25, "1", ""},                   // number
		{25, "top", "top"},              // call
		{4, "top", "top"},               // the def's own name: Eval decides
		{5, "b)", "b"},                  // a continuation line of a def
	}
	for _, c := range cases {
		line := d.line(c.line - 1)
		col := strings.Index(line, c.at)
		if col < 0 {
			t.Fatalf("line %d has no %q: %q", c.line, c.at, line)
		}
		got, _, _, _ := d.python().exprAt(d, c.line-1, col)
		if got != c.want {
			t.Errorf("line %d at %q: %q, want %q", c.line, c.at, got, c.want)
		}
	}
}

func TestPositionsAreUTF16(t *testing.T) {
	d := newDocument("file:///x.py", "/x.py", 1, "a = '☕🐍'\r\nb = 2\n")
	if got := d.lineEnd(0).Character; got != 9 {
		t.Errorf("line end %d, want 9 (☕ is one UTF-16 unit, 🐍 two; \\r not counted)", got)
	}
	if got := byteCol(d.line(0), 6); got != len("a = '☕") {
		t.Errorf("column 6 is byte %d", got)
	}
	if got := utf16Col(d.line(0), len("a = '☕🐍")); got != 8 {
		t.Errorf("byte after 🐍 is column %d, want 8", got)
	}
	if d.line(1) != "b = 2" || d.lineCount() != 3 {
		t.Errorf("lines: %q, %d", d.line(1), d.lineCount())
	}
}

func TestPathMap(t *testing.T) {
	m := newPathMap([][2]string{{"/build/src", "/home/ada/src"}})
	if got := m.ToEditor("/build/src/pkg/a.py"); got != "/home/ada/src/pkg/a.py" {
		t.Errorf("toEditor: %s", got)
	}
	if got := m.ToEditor("/build/srcx/a.py"); got != "/build/srcx/a.py" {
		t.Errorf("a prefix that is not a directory matched: %s", got)
	}
	if got := m.ToRecording("/home/ada/src/a.py"); got != "/build/src/a.py" {
		t.Errorf("toRecording: %s", got)
	}
}

func TestEncodeURIComponent(t *testing.T) {
	if got := encodeURIComponent(`[{"a":"x y/é"}]`); got != "%5B%7B%22a%22%3A%22x%20y%2F%C3%A9%22%7D%5D" {
		t.Errorf("got %s", got)
	}
}
