package lsp

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// TestRunToLine: the run commands through the server, over a trace backend
// (historytest's LineRunner): lines are 0-based both ways, the condition
// reaches the backend, a run that finds nothing is refused without moving,
// and bad arguments say what is expected.
func TestRunToLine(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	at := func(line int) map[string]any { return map[string]any{"uri": loop, "line": line} }

	// loop.py line 23 (0-based 22): total += i, once per iteration.
	p := s.must(cmdRunToLine, at(22))
	if p.Line != 22 || p.Locals["i"] != "0" {
		t.Fatalf("runToLine 22: %+v", p)
	}
	if p = s.must(cmdRunToLine, at(22)); p.Locals["i"] != "1" {
		t.Fatalf("runToLine 22 again: %+v", p)
	}
	cond := at(22)
	cond["condition"] = " i == 3 "
	if p = s.must(cmdRunToLine, cond); p.Line != 22 || p.Locals["i"] != "3" {
		t.Fatalf("runToLine 22 where i == 3: %+v", p)
	}
	if p = s.must(cmdReverseRunToLine, at(22)); p.Locals["i"] != "2" {
		t.Fatalf("reverseRunToLine 22: %+v", p)
	}
	// Into another function: deposit's first line, where amount == 40.
	dep := at(7)
	dep["condition"] = "amount == 40"
	if p = s.must(cmdRunToLine, dep); p.Function != "Account.deposit" || p.Line != 7 || p.Locals["amount"] != "40" {
		t.Fatalf("runToLine deposit where amount == 40: %+v", p)
	}
	// Nothing earlier where amount == 40: refused, time unchanged.
	before := s.must(cmdWhere)
	if _, err := s.exec(cmdReverseRunToLine, dep); err == nil || rpcCode(err) != codeRequestFailed ||
		!strings.Contains(err.Error(), "timelens.reverseRunToLine") {
		t.Fatalf("reverseRunToLine with nothing before: %v", err)
	}
	if now := s.must(cmdWhere); now.Time != before.Time {
		t.Fatalf("a refused run moved time: %s -> %s", before.Time, now.Time)
	}

	for _, c := range []struct {
		cmd  string
		args any
	}{
		{cmdRunToLine, map[string]any{"uri": loop}},
		{cmdRunToLine, map[string]any{"line": 3}},
		{cmdReverseRunToLine, at(-1)},
		{cmdRunToLine, at(500)},
		{cmdLineRuns, map[string]any{"uri": loop, "line": 22, "limit": 0}},
	} {
		if _, err := s.exec(c.cmd, c.args); rpcCode(err) != jsonrpc2.InvalidParams {
			t.Errorf("%s %v: %v, want InvalidParams", c.cmd, c.args, err)
		}
	}
	if now := s.must(cmdWhere); now.Time != before.Time {
		t.Fatalf("bad arguments moved time: %s -> %s", before.Time, now.Time)
	}
}

// TestLineRuns: timelens.lineRuns lists every run of a line, oldest first,
// with what the line assigned; limit bounds the list; time does not change.
func TestLineRuns(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	before := s.must(cmdWhere)
	runs := func(args map[string]any) []lineRun {
		raw, _ := json.Marshal(args)
		res, err := s.server.ExecuteCommand(s.ctx, &protocol.ExecuteCommandParams{Command: cmdLineRuns, Arguments: []protocol.LSPAny{raw}})
		if err != nil {
			t.Fatalf("lineRuns %v: %v", args, err)
		}
		var out []lineRun
		if err := json.Unmarshal(res, &out); err != nil {
			t.Fatalf("lineRuns returned %s: %v", res, err)
		}
		return out
	}
	all := runs(map[string]any{"uri": loop, "line": 22})
	var totals []string
	for _, r := range all {
		if r.Function != "main" || r.Depth != 0 || r.Time == "" {
			t.Errorf("run %+v", r)
		}
		totals = append(totals, r.Assigned["total"])
	}
	if want := []string{"0", "1", "3", "6", "10"}; !slices.Equal(totals, want) {
		t.Errorf("total after each run of line 23: %q, want %q", totals, want)
	}
	if two := runs(map[string]any{"uri": loop, "line": 22, "limit": 2}); len(two) != 2 || two[1].Time != all[1].Time {
		t.Errorf("limit 2: %+v", two)
	}
	if now := s.must(cmdWhere); now.Time != before.Time {
		t.Fatalf("lineRuns moved time: %s -> %s", before.Time, now.Time)
	}
	// A run's time is a place to go.
	if p := s.must(cmdGoto, map[string]string{"time": all[3].Time}); p.Line != 22 || p.Locals["i"] != "3" {
		t.Fatalf("goto the fourth run: %+v", p)
	}
}

// TestRunCodeActions: every line of code offers running back and forward
// to it; blank lines and comments do not.
func TestRunCodeActions(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	titles := func(line uint32) []string {
		var out []string
		for _, a := range s.codeActions(&protocol.CodeActionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: loop},
			Range:        protocol.Range{Start: protocol.Position{Line: line}, End: protocol.Position{Line: line}},
		}) {
			ca := a.(*protocol.CodeAction)
			if strings.Contains(ca.Title, "run ") {
				out = append(out, ca.Title)
				if ca.Command.Command != cmdRunToLine && ca.Command.Command != cmdReverseRunToLine {
					t.Errorf("%q runs %s", ca.Title, ca.Command.Command)
				}
			}
		}
		return out
	}
	if got, want := titles(22), []string{"timelens: ◀ run back to here", "timelens: run forward to here ▶"}; !slices.Equal(got, want) {
		t.Errorf("line 23's run actions: %q, want %q", got, want)
	}
	if got := titles(10); len(got) != 0 {
		t.Errorf("a blank line offers %q", got)
	}
}

// TestRunToLineAfterEdits: the line of a run command is the document's as
// edited; the recording's line is found through the line map (edits.go),
// and a line the user changed is refused, time unchanged.
func TestRunToLineAfterEdits(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	// Two lines typed above def main: total += i (line 23, 0-based 22) is now 0-based 24.
	s.change(loop, 2, protocol.Range{Start: protocol.Position{Line: 18}, End: protocol.Position{Line: 18}}, "# typed\n# while debugging\n")
	p := s.must(cmdRunToLine, map[string]any{"uri": loop, "line": 24, "condition": "i == 2"})
	if p.Line != 24 || p.Locals["i"] != "2" {
		t.Fatalf("runToLine at the edited document's line 24: %+v", p)
	}
	// The typed line has no recorded line: refused.
	before := s.must(cmdWhere)
	if _, err := s.exec(cmdReverseRunToLine, map[string]any{"uri": loop, "line": 18}); err == nil {
		t.Fatal("a run to a line typed since the recording was accepted")
	}
	if now := s.must(cmdWhere); now.Time != before.Time {
		t.Fatalf("a refused run moved time: %s -> %s", before.Time, now.Time)
	}
}
