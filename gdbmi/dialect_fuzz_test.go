package gdbmi

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// transcriptTimeOutputs are the console outputs of the time commands
// (info record, when, when-ticks, info time) in the recorded transcripts,
// each as ParseTime receives it.
func transcriptTimeOutputs(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "dialect", "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no transcripts in testdata/dialect: %v", err)
	}
	var outs []string
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		var console strings.Builder
		timeQuery := false
		flush := func() {
			if timeQuery && console.Len() > 0 {
				outs = append(outs, console.String())
			}
			console.Reset()
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "> "):
				q := strings.Contains(line, `"info record"`) || strings.Contains(line, `"when`) || strings.Contains(line, `"info time`) || strings.Contains(line, `"uinfo time`)
				if !q || !strings.Contains(line, `"when-ticks"`) {
					flush() // rr's when and when-ticks are read together
				}
				timeQuery = q
			case strings.HasPrefix(line, `~"`):
				if s, err := strconv.Unquote(line[1:]); err == nil {
					console.WriteString(s)
				}
			}
		}
		flush()
	}
	if len(outs) == 0 {
		tb.Fatal("no time query in the transcripts")
	}
	return outs
}

func allDialects(tb testing.TB) []Dialect {
	var ds []Dialect
	for _, k := range Kinds() {
		d, err := DialectFor(k)
		if err != nil {
			tb.Fatal(err)
		}
		ds = append(ds, d)
	}
	return ds
}

// FuzzParseTime: whatever a debugger prints for a time query, ParseTime
// either fails with a named error or returns times that go through the
// LSP's "time" field and back unchanged and that the backend can go to.
func FuzzParseTime(f *testing.F) {
	for _, out := range transcriptTimeOutputs(f) {
		f.Add(out)
	}
	f.Add("Current time is: 1,2,3:0xABC (in recorded range: [1 - 99,999])")
	dialects := allDialects(f)
	f.Fuzz(func(t *testing.T, console string) {
		for _, d := range dialects {
			rep, err := d.ParseTime(console)
			if err != nil {
				if !errors.Is(err, ErrTimeUnparsable) && !errors.Is(err, ErrTimeNoRecording) {
					t.Fatalf("%s: ParseTime(%q): unnamed error %v", d.Kind, console, err)
				}
				continue
			}
			for _, tm := range []Time{rep.Now, rep.Last} {
				if tm == rep.Last && tm.IsZero() {
					continue // not every backend says
				}
				if tm.Kind != d.Kind {
					t.Fatalf("%s: ParseTime(%q) gives a %s time", d.Kind, console, tm.Kind)
				}
				again, err := d.ParseTimeString(tm.Raw)
				if err != nil {
					t.Fatalf("%s: ParseTime(%q) gives time %q, which ParseTimeString refuses: %v", d.Kind, console, tm.Raw, err)
				}
				if again != tm {
					t.Fatalf("%s: time %q comes back as %q", d.Kind, tm.Raw, again.Raw)
				}
				if _, err := d.GotoCommands(tm); err != nil {
					t.Fatalf("%s: cannot go to time %q read from %q: %v", d.Kind, tm.Raw, console, err)
				}
				if !timeShown(d.Kind, tm.Raw, console) {
					t.Fatalf("%s: ParseTime(%q) reads time %q, which the output does not show", d.Kind, console, tm.Raw)
				}
			}
		}
	})
}

var leadingZeros = regexp.MustCompile(`(^|[^0-9])0+([0-9])`)

// timeShown says whether the numbers of raw are in the debugger's output:
// gdb's instruction number (0 before the first); rr's tick count and its event (or, from rr
// before 5.8, the event after it).
func timeShown(k Kind, raw, console string) bool {
	console = leadingZeros.ReplaceAllString(console, "$1$2") // 007 is 7
	switch k {
	case KindGDB:
		return strings.Contains(console, " "+raw+".") || raw == "0" && strings.Contains(console, "No instructions have been logged.")
	case KindRR:
		e, ticks, _ := strings.Cut(raw, ":")
		event, _ := strconv.ParseUint(e, 10, 64)
		return strings.Contains(console, "Current tick: "+ticks) &&
			(strings.Contains(console, "Completed event: "+e) || strings.Contains(console, "Current event: "+strconv.FormatUint(event+1, 10)) ||
				event == 0 && strings.Contains(console, "Current event: 0")) // no event completed yet: the start
	}
	return true
}

// FuzzTimeString: a time string from the editor is refused with
// ErrTimeInvalid or made canonical; the canonical form is a fixed point,
// orders like the original, and becomes goto commands of one line each.
func FuzzTimeString(f *testing.F) {
	f.Add("1234", "0")
	f.Add("1042:5123456", "1042:5123457")
	f.Add("11,571:0x5555555552df", "11571:0x5555555552DF")
	f.Add(" 7 ", "+7")
	f.Add("5:0x0", "5")
	dialects := allDialects(f)
	f.Fuzz(func(t *testing.T, x, y string) {
		for _, d := range dialects {
			tx, errX := d.ParseTimeString(x)
			ty, errY := d.ParseTimeString(y)
			for _, e := range []error{errX, errY} {
				if e != nil && !errors.Is(e, ErrTimeInvalid) {
					t.Fatalf("%s: unnamed error %v", d.Kind, e)
				}
			}
			if errX != nil {
				continue
			}
			again, err := d.ParseTimeString(tx.Raw)
			if err != nil || again != tx {
				t.Fatalf("%s: canonical time %q of %q parses as %q, %v", d.Kind, tx.Raw, x, again.Raw, err)
			}
			cmds, err := d.GotoCommands(tx)
			if err != nil || len(cmds) == 0 {
				t.Fatalf("%s: GotoCommands(%q) = %q, %v", d.Kind, tx.Raw, cmds, err)
			}
			for _, c := range cmds {
				if strings.ContainsAny(c, "\r\n\"\\") {
					t.Fatalf("%s: goto command %q for %q is not one plain CLI line", d.Kind, c, x)
				}
			}
			if c, err := d.Compare(tx, tx); err != nil || c != 0 {
				t.Fatalf("%s: Compare(%q, itself) = %d, %v", d.Kind, tx.Raw, c, err)
			}
			if errY != nil {
				continue
			}
			cxy, err1 := d.Compare(tx, ty)
			cyx, err2 := d.Compare(ty, tx)
			if err1 != nil || err2 != nil || cxy != -cyx {
				t.Fatalf("%s: Compare(%q, %q) = %d, reversed %d (%v, %v)", d.Kind, tx.Raw, ty.Raw, cxy, cyx, err1, err2)
			}
			if (cxy == 0) != (tx == ty) {
				t.Fatalf("%s: %q and %q compare %d", d.Kind, tx.Raw, ty.Raw, cxy)
			}
		}
	})
}

// FuzzDialectText: stop classification, goto errors, bookmark commands and
// bookmark names never panic, and a bookmark command is one CLI line.
func FuzzDialectText(f *testing.F) {
	f.Add("No more reverse-execution history.\n", "no-history", "", "Target insn not found.", "create", "b1", "Checkpoint 3 at 0x1")
	f.Add("", "signal-received", "SIGKILL", "Already at target insn.", "goto", "x y", "")
	f.Add("", "exited-normally", "", "", "delete", "a\nb", "Checkpoint 99999999999999999999999 at")
	dialects := allDialects(f)
	f.Fuzz(func(t *testing.T, console, reason, signal, gotoMsg, op, name, created string) {
		for _, d := range dialects {
			for _, rev := range []bool{false, true} {
				e := d.Edge(StopInfo{Reason: reason, Signal: signal, Console: console, Reverse: rev})
				if e != EdgeNone && e != EdgeStart && e != EdgeEnd {
					t.Fatalf("%s: Edge = %d", d.Kind, e)
				}
			}
			_ = d.GotoError(gotoMsg)
			cmd, err := d.BookmarkCommand(op, name)
			if err == nil && strings.ContainsAny(cmd, "\r\n\"'\\") {
				t.Fatalf("%s: bookmark command %q for %q is not one plain CLI line", d.Kind, cmd, name)
			}
			if id, err := d.ParseBookmark(created, name); err == nil && d.Kind == KindRR {
				if id == "" || strings.Trim(id, "0123456789") != "" {
					t.Fatalf("rr: bookmark id %q from %q is not a checkpoint number", id, created)
				}
			}
		}
		if k, err := ParseKind(reason); err == nil {
			if _, err := DialectFor(k); err != nil {
				t.Fatalf("ParseKind(%q) = %q, which has no dialect", reason, k)
			}
		} else if !errors.Is(err, ErrHistoryUnknownBackend) {
			t.Fatalf("ParseKind(%q): unnamed error %v", reason, err)
		}
	})
}

// FuzzParseVersion: ParseVersion never panics, and a version it accepts
// is the one the text shows.
func FuzzParseVersion(f *testing.F) {
	f.Add("GNU gdb (Debian 16.3-1) 16.3\nCopyright (C) 2024 Free Software Foundation, Inc.\n")
	f.Add("GNU gdb (GDB) 13.1\n")
	f.Add("GNU gdb (UndoDB gdb) 12.1\n")
	f.Add("lldb-1500.0.22.8\n")
	f.Fuzz(func(t *testing.T, out string) {
		v, ok := ParseVersion(out)
		if !ok {
			return
		}
		if !strings.Contains(out, "GNU gdb") {
			t.Fatalf("ParseVersion(%q) accepts a text that does not name GNU gdb", out)
		}
		m := reVersion.FindStringSubmatch(out)
		major, err1 := strconv.Atoi(m[1])
		minor, err2 := strconv.Atoi(m[2])
		if err1 != nil || err2 != nil || major != v.Major || minor != v.Minor {
			t.Fatalf("ParseVersion(%q) = %s, but the text says %s.%s", out, v, m[1], m[2])
		}
		if strings.Contains(v.Text, "\n") {
			t.Fatalf("ParseVersion(%q).Text = %q is not one line", out, v.Text)
		}
	})
}
