package pyext

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// updateLayouts rewrites timelens_gdb/layouts/3.X.json from the debug info
// of the suite's Pythons that the tables are made from (tableMakers).
var updateLayouts = flag.Bool("update-layouts", false, "rewrite timelens_gdb/layouts/*.json from the debug info of the suite's Pythons")

// tableMakers are the interpreters whose debug info each built-in table is
// made from, by label: pyenv's release builds, and sid's 3.14 (Debian's
// python3.14-dbg describes the release build python3.14).
var tableMakers = map[string]bool{"3.10-pyenv": true, "3.11-pyenv": true, "3.12-pyenv": true, "3.13-pyenv": true, "3.14-sid": true}

// layoutDump is one source's layout, as the gdb side's layout.dump writes
// it and layouts/3.X.json holds it.
type layoutDump struct {
	Python      string           `json:"python,omitempty"`
	Fields      map[string]int64 `json:"fields"`
	Sizes       map[string]int64 `json:"sizes"`
	Bits        map[string][]int `json:"bits"`
	FrameStates map[string]int   `json:"frame_states"`
	Opcodes     map[string]int   `json:"opcodes"`
	Caches      []int            `json:"caches"`
	Deopt       []int            `json:"deopt"`
}

// layoutReport is the reply of -timelens-layout.
type layoutReport struct {
	Python       string      `json:"python"`
	Source       string      `json:"source"`
	Unlisted     []string    `json:"unlisted"`
	DebugInfo    *layoutDump `json:"debug_info"`
	Builtin      *layoutDump `json:"builtin"`
	DebugOffsets *struct {
		Raw    map[string]any   `json:"raw"`
		Fields map[string]int64 `json:"fields"`
	} `json:"debug_offsets"`
	DebugOffsetsByType map[string]any `json:"debug_offsets_by_type"`
	OpcodeTargets      []string       `json:"opcode_targets"`
	HandlerLabels      map[string]struct {
		Op    int    `json:"op"`
		Label string `json:"label"`
	} `json:"handler_labels"`
}

func readLayout(t *testing.T, m *gdbtest.Session) layoutReport {
	t.Helper()
	js, ok := m.Call("-timelens-layout")
	if !ok {
		t.Fatalf("-timelens-layout: %s", js)
	}
	var r layoutReport
	if err := DecodeString(js, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// minor is "3.12" of "3.12.1".
func minor(version string) string {
	parts := strings.SplitN(version, ".", 3)
	return parts[0] + "." + parts[1]
}

// forceTables is the gdb command that makes the gdb side read layouts as
// it does without debug info (CPython's debug offsets over the built-in
// table, or the built-in table), though the debug info is there.
const forceTables = "python import timelens_gdb.layout as l; l.FORCE = 'tables'; l.forget()"

// TestLayoutSources checks every source of struct layouts against the debug
// info, field by field, on every suite Python that has debug info: the
// built-in table of its minor version (release builds: fields, sizes,
// bitfields, frame states, opcode numbers, cache sizes, the deopt map), and
// CPython's debug offsets (3.13+: the struct read from _PyRuntime with the
// gdb side's own description of it, against the same struct read through
// the debug info, and each offset against the field it names). With the
// tables forced, the oracle of TestOracle (testdata/pyext/values.py) must
// agree as it does with the debug info: the readers ask for no field the
// tables lack, and -timelens-layout lists none asked for outside the
// schema. A debug build refuses the tables. -update-layouts rewrites the
// tables from tableMakers instead.
func TestLayoutSources(t *testing.T) {
	for _, p := range gdbtest.SuitePythons(t, true) {
		p := p
		ver := gdbtest.PythonVersion(t, p.Path)
		t.Run(p.Label, func(t *testing.T) {
			if *updateLayouts {
				if tableMakers[p.Label] {
					writeLayoutTable(t, p.Path, ver)
				}
				return
			}
			if p.Debug {
				checkDebugBuildRefusesTables(t, p.Path, ver)
			}
			var last layoutReport
			h := oracleHooks{at: func(m *gdbtest.Session) { last = readLayout(t, m) }}
			if !p.Debug {
				h.setup = []string{forceTables}
			}
			stops, of := runOracleWith(t, p.Path, "values.py", oracleEvals, h)
			checkOracle(t, ver, p.Path, stops, of)
			r := last
			if r.DebugInfo == nil {
				gdbtest.SkipOrFail(t, "%s has no debug info here (the roots' have): nothing to check the layouts against", p.Path)
			}
			if len(r.Unlisted) > 0 {
				t.Errorf("readers asked for fields that layout.schema() does not list (a table would lack them): %v", r.Unlisted)
			}
			want := "debug info"
			switch {
			case p.Debug:
			case minor(ver) >= "3.13":
				want = "CPython's debug offsets"
			default:
				want = "built-in table for " + minor(ver)
			}
			if !p.Debug {
				compareLayouts(t, minor(ver), r.DebugInfo, r.Builtin)
			}
			if r.Source != want {
				t.Errorf("layout source %q, want %q", r.Source, want)
			}
			checkHandlers(t, r)
			if minor(ver) >= "3.13" {
				checkDebugOffsets(t, r)
			} else if r.DebugOffsets != nil {
				t.Errorf("%s has no _Py_DebugOffsets, yet the gdb side read some: %v", ver, r.DebugOffsets.Raw)
			}
		})
	}
}

// compareLayouts fails for every entry where the built-in table differs
// from the debug info, or has one the debug info lacks.
func compareLayouts(t *testing.T, minor string, di, bi *layoutDump) {
	t.Helper()
	if bi == nil {
		t.Fatalf("no built-in table for %s (timelens_gdb/layouts/%s.json)", minor, minor)
	}
	n := 0
	diff := func(what string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			n++
			if n <= 40 {
				t.Errorf("%s: debug info %v, built-in table for %s %v", what, a, minor, b)
			}
		}
	}
	keys := func(m any) []string {
		var out []string
		for _, k := range reflect.ValueOf(m).MapKeys() {
			out = append(out, k.String())
		}
		sort.Strings(out)
		return out
	}
	for _, k := range union(keys(di.Fields), keys(bi.Fields)) {
		diff("field "+k, opt(di.Fields, k), opt(bi.Fields, k))
	}
	for _, k := range union(keys(di.Sizes), keys(bi.Sizes)) {
		diff("sizeof "+k, opt(di.Sizes, k), opt(bi.Sizes, k))
	}
	for _, k := range union(keys(di.Bits), keys(bi.Bits)) {
		diff("bitfield "+k, di.Bits[k], bi.Bits[k])
	}
	diff("frame states", di.FrameStates, bi.FrameStates)
	diff("opcode numbers", di.Opcodes, bi.Opcodes)
	diff("inline cache sizes", di.Caches, bi.Caches)
	diff("deopt map", di.Deopt, bi.Deopt)
	if len(di.Fields) < 60 || len(di.Opcodes) < 100 {
		t.Errorf("the debug info gave %d fields and %d opcodes: too few to have checked anything", len(di.Fields), len(di.Opcodes))
	}
	t.Logf("built-in table for %s: %d fields, %d sizes, %d bitfields, %d opcodes checked against the debug info (%d differ)",
		minor, len(di.Fields), len(di.Sizes), len(di.Bits), len(di.Opcodes), n)
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range append(append([]string{}, a...), b...) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// opt is m[k], or "absent".
func opt(m map[string]int64, k string) any {
	if v, ok := m[k]; ok {
		return v
	}
	return "absent"
}

// checkDebugOffsets compares _Py_DebugOffsets as the gdb side reads it
// without debug info with the same struct read through the debug info, and
// each offset it maps to a field with that field's offset in the debug info.
func checkDebugOffsets(t *testing.T, r layoutReport) {
	t.Helper()
	if r.DebugOffsets == nil {
		t.Fatalf("%s: no _Py_DebugOffsets found at _PyRuntime", r.Python)
	}
	if r.DebugOffsetsByType == nil {
		t.Fatalf("%s: _PyRuntime.debug_offsets not readable through the debug info", r.Python)
	}
	for _, k := range union(mapKeys(r.DebugOffsets.Raw), mapKeys(r.DebugOffsetsByType)) {
		a, okA := r.DebugOffsets.Raw[k]
		b, okB := r.DebugOffsetsByType[k]
		if !okA || !okB || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("_Py_DebugOffsets.%s: read without debug info %v (%v), through the debug info %v (%v)", k, a, okA, b, okB)
		}
	}
	for k, v := range r.DebugOffsets.Fields {
		if d, ok := r.DebugInfo.Fields[k]; !ok || d != v {
			t.Errorf("debug offset for %s is %d, the debug info says %v", k, v, opt(r.DebugInfo.Fields, k))
		}
	}
	if len(r.DebugOffsets.Fields) < 30 {
		t.Errorf("only %d fields from the debug offsets", len(r.DebugOffsets.Fields))
	}
	t.Logf("%s: _Py_DebugOffsets: %d entries read as through the debug info, %d fields agree with it",
		r.Python, len(r.DebugOffsets.Raw), len(r.DebugOffsets.Fields))
}

func mapKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkDebugBuildRefusesTables: a debug build's layout is not a release
// build's, so without its debug info (here: the tables forced) the gdb side
// refuses it, saying what it is and what to install.
func checkDebugBuildRefusesTables(t *testing.T, python, ver string) {
	t.Helper()
	m := readerSession(t, python, nil, filepath.Join(testdataDir(t), "values.py"))
	m.Do(forceTables)
	reason := m.Run("-exec-run")
	for strings.HasPrefix(reason, "syscall-") {
		js, ok := m.Call("-timelens-frames")
		if !ok {
			e := AsError(&gdbmi.CommandError{Op: "-timelens-frames", Msg: js})
			if e.Code == CodeUnsupportedPython {
				if !strings.Contains(e.Message, "debug build") || !strings.Contains(e.Message, "-dbg") {
					t.Errorf("refusal does not say it is a debug build and what to install: %s", e.Message)
				}
				return
			}
		} else {
			t.Fatalf("%s: a debug build read with the built-in tables: %s", python, js)
		}
		reason = m.Run("-exec-continue")
	}
	t.Fatalf("%s ran to its end (%s) and the gdb side never refused its tables", python, reason)
}

// writeLayoutTable writes layouts/3.X.json from python's debug info.
func writeLayoutTable(t *testing.T, python, ver string) {
	t.Helper()
	m := readerSession(t, python, nil, filepath.Join(testdataDir(t), "values.py"))
	reason := m.Run("-exec-run")
	for strings.HasPrefix(reason, "syscall-") {
		if js, ok := m.Call("-timelens-frames"); ok && strings.Contains(js, `"checkpoint"`) {
			r := readLayout(t, m)
			if r.DebugInfo == nil {
				t.Fatalf("%s: no debug info", python)
			}
			d := *r.DebugInfo
			b, err := json.MarshalIndent(d, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join("timelens_gdb", "layouts", minor(ver)+".json")
			if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s from %s (%s)", out, python, ver)
			return
		}
		reason = m.Run("-exec-continue")
	}
	t.Fatalf("%s: no checkpoint reached (%s)", python, reason)
}

// TestOracleStripped runs TestOracle's values oracle on copies of the
// suite's release Pythons stripped of their debug info (strip --strip-all:
// only dynamic symbols left, gdbtest.StrippedPython): frames, locals and
// evaluations must agree with Python as with the debug info, the layout
// coming from CPython's debug offsets (3.13+) or the built-in table.
func TestOracleStripped(t *testing.T) {
	for _, p := range gdbtest.SuitePythons(t, false) {
		p := p
		ver := gdbtest.PythonVersion(t, p.Path)
		t.Run(p.Label, func(t *testing.T) {
			exe := gdbtest.StrippedPython(t, p.Path)
			var r layoutReport
			h := oracleHooks{at: func(m *gdbtest.Session) { r = readLayout(t, m) }}
			stops, of := runOracleWith(t, exe, "values.py", oracleEvals, h)
			checkOracle(t, ver, exe, stops, of)
			want := "built-in table for " + minor(ver)
			if minor(ver) >= "3.13" {
				want = "CPython's debug offsets"
			}
			if r.Source != want || r.DebugInfo != nil {
				t.Errorf("%s: layout from %q (debug info dump: %v), want %q and no debug info", exe, r.Source, r.DebugInfo != nil, want)
			}
		})
	}
}

// checkHandlers compares the evaluation loop's handler table that the gdb
// side finds in memory without debug info (evalloop.py), where start-up
// stops at RESUME on a stripped Python, with each opcode's TARGET_ label in
// the debug info.
func checkHandlers(t *testing.T, r layoutReport) {
	t.Helper()
	if len(r.OpcodeTargets) != 256 {
		t.Fatalf("%s: no handler table found in memory (%d entries)", r.Python, len(r.OpcodeTargets))
	}
	n := 0
	for name, h := range r.HandlerLabels {
		if got := r.OpcodeTargets[h.Op]; got != h.Label {
			t.Errorf("handler of %s (%d): %s in the table found in memory, label TARGET_%s at %s", name, h.Op, got, name, h.Label)
		} else {
			n++
		}
	}
	if n < 100 {
		t.Errorf("only %d handlers checked against their labels", n)
	}
	t.Logf("%s: %d opcode handlers in the table found in memory agree with their labels", r.Python, n)
}
