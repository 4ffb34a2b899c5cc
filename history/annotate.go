package history

import (
	"fmt"
	"strings"
)

// Annotate renders source text with line hints at the ends of their lines,
// as an editor shows inlay hints, numbered, with the current line marked:
//
//	   22 │     for i in range(5):  ⟨i = 0 → 1 → 2 … → 4 (5×)⟩
//	▶  28 │     name = "café ☕"
//
// current is the 1-based current line (0: none). caller, when the current
// line is in another file, is the line of this file's innermost frame on
// the stack (0: none), marked ▷: where its code waits for the call to
// return.
func Annotate(src string, hints []LineHint, current, caller int) string {
	byLine := map[int]string{}
	for _, h := range hints {
		byLine[h.Line] = h.Label
	}
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	width := len(fmt.Sprint(len(lines)))
	var b strings.Builder
	for i, text := range lines {
		n := i + 1
		mark := "  "
		switch n {
		case current:
			mark = "▶ "
		case caller:
			mark = "▷ "
		}
		fmt.Fprintf(&b, "%s%*d │ %s", mark, width, n, strings.TrimRight(text, " \t\r"))
		if label, ok := byLine[n]; ok {
			b.WriteString("  ⟨" + label + "⟩")
		}
		b.WriteByte('\n')
	}
	return b.String()
}
