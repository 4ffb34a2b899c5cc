package pyext

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// oracleFile is what testdata/pyext/oracle.py writes at exit.
type oracleFile struct {
	Python  string         `json:"python"`
	Records []oracleRecord `json:"records"`
}

// oracleRecord is what Python said at one checkpoint.
type oracleRecord struct {
	Label  string `json:"label"`
	Frames []struct {
		Qualname    string `json:"qualname"`
		File        string `json:"file"`
		FirstLineno int    `json:"firstlineno"`
		Line        *int   `json:"line"`
		Locals      map[string]struct {
			Value   string `json:"value"`
			Builtin bool   `json:"builtin"`
		} `json:"locals"`
	} `json:"frames"`
}

// stop is what pyext said at one checkpoint.
type stop struct {
	frames []Frame
	locals map[int]LocalsReply // by depth
	evals  map[string]evalResult
}

type evalResult struct {
	reply EvalReply
	err   string
	word  string // the pointer stored at reply.Slot, read by gdb
}

func testdataDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs("../testdata/pyext")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// runOracle runs prog under gdb, stopping at every checkpoint, and returns
// pyext's answers and the oracle's records.
func runOracle(t *testing.T, python, prog string, evals map[string][]string) ([]stop, oracleFile) {
	return runOracleWith(t, python, prog, evals, oracleHooks{})
}

// oracleHooks adds to runOracle: gdb commands after the gdb side is loaded,
// and a function called at each checkpoint once pyext has read it.
type oracleHooks struct {
	setup []string
	at    func(m *gdbtest.Session)
}

func runOracleWith(t *testing.T, python, prog string, evals map[string][]string, h oracleHooks) ([]stop, oracleFile) {
	out := filepath.Join(t.TempDir(), "oracle.json")
	m := readerSession(t, python, []string{"TIMELENS_ORACLE_OUT=" + out}, filepath.Join(testdataDir(t), prog))
	for _, c := range h.setup {
		m.Do(c)
	}
	var stops []stop
	reason := m.Run("-exec-run")
	for strings.HasPrefix(reason, "syscall-") {
		if reason != "syscall-entry" {
			reason = m.Run("-exec-continue")
			continue
		}
		fr := readFrames(t, m, python)
		if len(fr.Frames) > 0 && fr.Frames[0].Qualname == "checkpoint" {
			st := stop{frames: fr.Frames, locals: map[int]LocalsReply{}, evals: map[string]evalResult{}}
			for _, f := range fr.Frames {
				js, ok := m.Call(fmt.Sprintf("-timelens-locals --depth %d", f.Depth))
				if !ok {
					t.Fatalf("-timelens-locals --depth %d: %s", f.Depth, js)
				}
				var lr LocalsReply
				if err := DecodeString(js, &lr); err != nil {
					t.Fatal(err)
				}
				st.locals[f.Depth] = lr
			}
			checkSnapshot(t, m, st)
			label := ""
			for _, v := range st.locals[0].Locals {
				if v.Name == "label" {
					label, _ = strconv.Unquote(strings.ReplaceAll(v.Value, "'", `"`))
				}
			}
			for _, path := range evals[label] {
				js, ok := m.Call("-timelens-eval --depth 1 " + path)
				er := evalResult{}
				if !ok {
					er.err = js
				} else if err := DecodeString(js, &er.reply); err != nil {
					t.Fatal(err)
				} else {
					v, _ := m.MustMI("-data-evaluate-expression", "*(unsigned long *)"+er.reply.Slot)["value"].(string)
					n, _ := strconv.ParseUint(v, 10, 64)
					er.word = fmt.Sprintf("0x%x", n)
				}
				st.evals[path] = er
			}
			if h.at != nil {
				h.at(m)
			}
			stops = append(stops, st)
		}
		reason = m.Run("-exec-continue")
	}
	if !strings.HasPrefix(reason, "exited") {
		t.Fatalf("program stopped for %q", reason)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	var of oracleFile
	if err := json.Unmarshal(raw, &of); err != nil {
		t.Fatal(err)
	}
	return stops, of
}

// TestOracle compares pyext's frames and locals with what Python itself says
// at each checkpoint of testdata/pyext/values.py, for every Python found.
func TestOracle(t *testing.T) {
	for _, python := range gdbtest.Pythons(t) {
		python := python
		ver := gdbtest.PythonVersion(t, python)
		t.Run(ver+"_"+filepath.Base(python), func(t *testing.T) {
			stops, of := runOracle(t, python, "values.py", oracleEvals)
			checkOracle(t, ver, python, stops, of)
		})
	}
}

// oracleEvals are the paths TestOracle evaluates, by checkpoint label.
var oracleEvals = map[string][]string{
	"instances": {"p.a", "p2.extra", "p2.b", "sl.x", "sc.z", "sc.x", "pt.tags", "sp.y", "child.parent.name",
		"root.children", "G_INT", "len", "many.attr39", "p4.viadict", "Plain.__init__", "nosuch", "p.nosuch", "mod.sep"},
	"closure-inner": {"counter", "shared", "step"},
}

// checkOracle compares what pyext read at each checkpoint with what the
// oracle recorded, and logs the tallies.
func checkOracle(t *testing.T, ver, python string, stops []stop, of oracleFile) {
	t.Helper()
	if len(stops) != len(of.Records) {
		t.Fatalf("%d checkpoints seen by pyext, %d recorded by the oracle", len(stops), len(of.Records))
	}
	var c counts
	for i, rec := range of.Records {
		c.compare(t, rec.Label, stops[i], rec)
	}
	compareEvals(t, &c, stops, of)
	t.Logf("%s %s: %d/%d checkpoints, %d/%d frames, %d/%d locals agree (builtin %d/%d, other %d/%d), %d/%d evals",
		ver, python, len(stops), len(of.Records), c.framesOK, c.frames, c.builtinOK+c.otherOK, c.builtin+c.other,
		c.builtinOK, c.builtin, c.otherOK, c.other, c.evalsOK, c.evals)
	if c.failures > 0 {
		t.Errorf("%d disagreements", c.failures)
	}
}

type counts struct {
	frames, framesOK     int
	builtin, builtinOK   int
	other, otherOK       int
	evals, evalsOK       int
	failures, reportLeft int
}

func (c *counts) fail(t *testing.T, format string, args ...any) {
	t.Helper()
	c.failures++
	if c.failures <= 60 {
		t.Errorf(format, args...)
	}
}

func (c *counts) compare(t *testing.T, label string, st stop, rec oracleRecord) {
	t.Helper()
	if len(st.frames)-1 != len(rec.Frames) {
		c.fail(t, "%s: pyext sees %d caller frames, Python %d", label, len(st.frames)-1, len(rec.Frames))
	}
	for j, of := range rec.Frames {
		if j+1 >= len(st.frames) {
			break
		}
		c.frames++
		pf := st.frames[j+1]
		line := func(p *int) string {
			if p == nil {
				return "None"
			}
			return strconv.Itoa(*p)
		}
		if pf.Qualname != of.Qualname || pf.File != of.File || pf.FirstLineno != of.FirstLineno || line(pf.Line) != line(of.Line) {
			c.fail(t, "%s: frame %d: pyext %s %s:%s (first %d), Python %s %s:%s (first %d)", label, j+1,
				pf.Qualname, filepath.Base(pf.File), line(pf.Line), pf.FirstLineno, of.Qualname, filepath.Base(of.File), line(of.Line), of.FirstLineno)
		} else {
			c.framesOK++
		}
		got := map[string]Variable{}
		for _, v := range st.locals[j+1].Locals {
			got[v.Name] = v
		}
		for name, want := range of.Locals {
			if want.Builtin {
				c.builtin++
			} else {
				c.other++
			}
			g, ok := got[name]
			switch {
			case !ok:
				c.fail(t, "%s: %s: local %s missing (Python: %s)", label, of.Qualname, name, want.Value)
			case g.Value != want.Value:
				c.fail(t, "%s: %s: local %s:\n  pyext:  %s\n  Python: %s", label, of.Qualname, name, g.Value, want.Value)
			case want.Builtin:
				c.builtinOK++
			default:
				c.otherOK++
			}
			delete(got, name)
		}
		for name, g := range got {
			c.fail(t, "%s: %s: pyext shows %s = %s (%s), Python has no such local", label, of.Qualname, name, g.Value, g.Kind)
		}
	}
}

// compareEvals checks -timelens-eval against the oracle's locals and the
// storage slot against memory.
func compareEvals(t *testing.T, c *counts, stops []stop, of oracleFile) {
	t.Helper()
	wantErr := map[string]bool{"nosuch": true, "p.nosuch": true}
	for i, rec := range of.Records {
		for path, er := range stops[i].evals {
			c.evals++
			if wantErr[path] {
				if er.err == "" {
					c.fail(t, "eval %s: want an error, got %+v", path, er.reply)
				} else {
					c.evalsOK++
				}
				continue
			}
			if er.err != "" {
				c.fail(t, "eval %s at %s: %s", path, rec.Label, er.err)
				continue
			}
			word := er.word
			if er.reply.StackRef {
				n, _ := strconv.ParseUint(word, 0, 64)
				word = fmt.Sprintf("0x%x", n&^3)
			}
			if word != er.reply.Address {
				c.fail(t, "eval %s: slot %s holds %s, not the value's address %s", path, er.reply.Slot, er.word, er.reply.Address)
				continue
			}
			if want, ok := rec.Frames[0].Locals[path]; ok && want.Value != er.reply.Value {
				c.fail(t, "eval %s: pyext %s, Python %s", path, er.reply.Value, want.Value)
				continue
			}
			c.evalsOK++
		}
	}
}

// checkSnapshot checks that -timelens-snapshot, the one-round-trip reply the
// backend uses, says what -timelens-frames and -timelens-locals said.
func checkSnapshot(t *testing.T, m *gdbtest.Session, st stop) {
	t.Helper()
	js, ok := m.Call("-timelens-snapshot")
	if !ok {
		t.Fatalf("-timelens-snapshot: %s", js)
	}
	var sr SnapshotReply
	if err := DecodeString(js, &sr); err != nil {
		t.Fatal(err)
	}
	if len(sr.Frames) != len(st.frames) {
		t.Fatalf("snapshot has %d frames, -timelens-frames %d", len(sr.Frames), len(st.frames))
	}
	for _, f := range sr.Frames {
		want := map[string]string{}
		for _, v := range st.locals[f.Depth].Locals {
			if v.Kind == "dict" && strings.HasPrefix(v.Name, "__") && strings.HasSuffix(v.Name, "__") {
				continue
			}
			want[v.Name] = v.Value
		}
		got := map[string]string{}
		for _, v := range f.Locals {
			got[v.Name] = v.Value
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("snapshot frame %d (%s): %v\nwant %v", f.Depth, f.Qualname, got, want)
		}
		if f.Qualname == "checkpoint" && len(f.Stores) == 0 {
			t.Errorf("snapshot frame %d (%s) has no stores for %s", f.Depth, f.Qualname, f.File)
		}
	}
}
