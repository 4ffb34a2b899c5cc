package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
)

// Hover implements protocol.Server: on a name or a link of an attribute
// chain (hovering b in a.b.c means a.b), its value now, as the innermost
// call of the function around the cursor sees it, its last write before
// now and its next write after now, each with a link that goes there. Keywords, strings, comments, and
// code not on the stack have no hover.
func (s *server) Hover(ctx context.Context, params *protocol.HoverParams) (*protocol.Hover, error) {
	doc, err := s.document(params.TextDocument.URI)
	if err != nil {
		s.log.Debug("hover", zap.Error(err))
		return nil, nil
	}
	expr, rng, ok := exprAtPosition(doc, params.Position)
	if !ok {
		return nil, nil
	}
	line := int(params.Position.Line)
	return readNow(ctx, s, func(tl *history.Timeline) (*protocol.Hover, error) {
		depth, err := s.frameFor(ctx, tl, doc, line)
		if err != nil {
			s.log.Debug("hover: no frame", zap.String("expr", expr), zap.Error(err))
			return nil, nil
		}
		value, err := tl.Eval(ctx, depth, expr)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err() // cancelled, whatever the debugger said meanwhile
			}
			s.log.Debug("hover: eval", zap.String("expr", expr), zap.Error(err))
			return nil, nil // not a variable here: a builtin, a module, a def name
		}
		w, werr := tl.LastWrite(ctx, depth, expr)
		if werr != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		nw, nerr := tl.NextWrite(ctx, depth, expr)
		if nerr != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		md, err := hoverText(s, expr, value, []writeLine{{w, werr, false}, {nw, nerr, true}}, doc, params.Position)
		if err != nil {
			return nil, err
		}
		return &protocol.Hover{
			Contents: &protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: md},
			Range:    &rng,
		}, nil
	})
}

// writeLine is one of the hover's writes: the last one before now, or
// (forward) the next one after now.
type writeLine struct {
	w       history.Write
	err     error
	forward bool
}

// hoverText renders the hover markdown: the value, then the last and the
// next write, each with a link that goes there.
func hoverText(s *server, expr, value string, writes []writeLine, doc *document, at protocol.Position) (string, error) {
	var b strings.Builder
	fence := backticks(expr+" = "+value, 3)
	fmt.Fprintf(&b, "%spython\n%s = %s\n%s\n", fence, expr, value, fence)
	args, err := json.Marshal([]any{map[string]any{"uri": doc.uri, "position": at}})
	if err != nil {
		return "", err
	}
	for _, wl := range writes {
		label, link, cmd := "Last write", "[⏪ go to last write]", cmdLastWrite
		if wl.forward {
			label, link, cmd = "Next write", "[⏩ go to next write]", cmdNextWrite
		}
		if wl.err != nil {
			note := wl.err.Error()
			if errors.Is(wl.err, history.ErrNotSupported) {
				note = "not available with this backend (" + note + ")"
			}
			fmt.Fprintf(&b, "\n_%s: %s._\n", label, escapeMarkdown(note))
			continue
		}
		w := wl.w
		file := s.paths.ToEditor(w.File)
		line, _, _ := s.editorLine(w.File, w.Line-1) // where that line is in the editor now
		fmt.Fprintf(&b, "\n%s: %s at [%s:%d](%s#L%d) in %s, time %s\n\n",
			label, codeSpan(w.Value), escapeMarkdown(filepath.Base(file)), line+1, s.uriOf(file), line+1, codeSpan(w.Function), codeSpan(string(w.Time)))
		fmt.Fprintf(&b, "%s(command:%s?%s)\n", link, cmd, encodeURIComponent(string(args)))
	}
	return b.String(), nil
}

// encodeURIComponent escapes s as JavaScript's encodeURIComponent does,
// which is what editors undo on command: links.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func escapeMarkdown(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `\<`)
	return r.Replace(s)
}

// backticks returns a run of backticks longer than any run in s, and at
// least min long: a code span or fence made of it cannot be closed early by
// a value that holds backticks (a str such as '`' or '```').
func backticks(s string, min int) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(min, longest+1))
}

// codeSpan renders s as a markdown code span whatever it holds; newlines
// become spaces, as in any code span.
func codeSpan(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	ticks := backticks(s, 1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return ticks + s + ticks
}
