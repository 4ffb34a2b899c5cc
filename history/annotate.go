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

// AnnotateBytecode renders a frame's instructions under the source lines
// they belong to, in the order they run from (dis's order, with the source
// beside it): each line as Annotate numbers it, then its instructions,
// indented, the current one marked ▶ (its line too); a specialized
// instruction shows its base name after it. src is the text of code's file
// as it ran ("" when unknown: lines show by number only).
//
//	  5 │             total += v
//	     L3:    48  LOAD_FAST_LOAD_FAST  18 (total, v)
//	            50  BINARY_OP_ADD_INT    13 (+=)  ← BINARY_OP
//	▶ 6 │     return total / len(values)
//	   ▶        64  LOAD_FAST            1 (total)
//
// A jump target shows the label dis (3.13+) names it by ("to L3").
//
// A line whose instructions are not all together (a loop's header, whose
// jump back comes last) is shown again where its instructions resume.
func AnnotateBytecode(src string, code Code) string {
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	maxLine, nameWidth := 0, 0
	for _, in := range code.Instructions {
		if in.Line != nil {
			maxLine = max(maxLine, *in.Line)
		}
		nameWidth = max(nameWidth, len(in.Opname))
	}
	width := len(fmt.Sprint(maxLine))
	var currentLine *int
	for _, in := range code.Instructions {
		if in.Current {
			currentLine = in.Line
		}
	}
	var b strings.Builder
	first := true
	var last *int
	for _, in := range code.Instructions {
		if first || !sameLine(in.Line, last) {
			mark := "  "
			if sameLine(in.Line, currentLine) && currentLine != nil {
				mark = "▶ "
			}
			if in.Line == nil {
				fmt.Fprintf(&b, "%s%s │ (no line)\n", mark, strings.Repeat("-", width))
			} else {
				text := ""
				if n := *in.Line; n >= 1 && n <= len(lines) && src != "" {
					text = strings.TrimRight(lines[n-1], " \t\r")
				}
				fmt.Fprintf(&b, "%s%*d │ %s\n", mark, width, *in.Line, text)
			}
			first, last = false, in.Line
		}
		mark := "  "
		if in.Current {
			mark = "▶ "
		}
		label := ""
		if in.Label > 0 {
			label = fmt.Sprintf("L%d:", in.Label)
		}
		row := fmt.Sprintf("%*s  %s%-4s%5d  %-*s", width, "", mark, label, in.Offset, nameWidth, in.Opname)
		switch {
		case in.Arg != nil && in.Argrepr != "":
			row += fmt.Sprintf("  %d (%s)", *in.Arg, in.Argrepr)
		case in.Arg != nil:
			row += fmt.Sprintf("  %d", *in.Arg)
		case in.Argrepr != "":
			row += fmt.Sprintf("  (%s)", in.Argrepr)
		}
		if in.BaseOpname != "" && in.BaseOpname != in.Opname {
			row += "  ← " + in.BaseOpname
		}
		b.WriteString(strings.TrimRight(row, " ") + "\n")
	}
	return b.String()
}

func sameLine(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
