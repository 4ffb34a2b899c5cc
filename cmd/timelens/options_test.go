package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// An editor starts `timelens lsp --backend gdb --record-limit 5000` and
// sends initializationOptions naming other values: the command line wins,
// the editor fills in the rest.
func TestMergeJSONCommandLineWins(t *testing.T) {
	inv, err := lookup("lsp").parse([]string{"--backend", "gdb", "--record-limit", "5000", "--", "prog.py"})
	if err != nil {
		t.Fatal(err)
	}
	err = inv.opts.MergeJSON([]byte(`{
		"backend": "rr",
		"recordLimit": 99,
		"recordFrom": "Account.deposit",
		"gdb": "/opt/gdb-16/bin/gdb",
		"python": "/usr/bin/python3.13",
		"logLevel": "debug",
		"log": null
	}`), inv.set)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		Backend:     "gdb", // command line
		RecordLimit: 5000,  // command line
		RecordFrom:  "Account.deposit",
		GDB:         "/opt/gdb-16/bin/gdb",
		Python:      "/usr/bin/python3.13",
		LogLevel:    "debug",
	}
	if !reflect.DeepEqual(inv.opts, want) {
		t.Errorf("merged:\n got %+v\nwant %+v", inv.opts, want)
	}
	if err := inv.opts.Validate(); err != nil {
		t.Errorf("merged options do not validate: %v", err)
	}
}

func TestMergeJSONWithoutCommandLine(t *testing.T) {
	var o Options
	if err := o.MergeJSON([]byte(`{"backend":"udb","recordLimit":"1000","udb":"/opt/undo/udb"}`), nil); err != nil {
		t.Fatal(err)
	}
	if o.Backend != "udb" || o.RecordLimit != 1000 || o.UDB != "/opt/undo/udb" {
		t.Errorf("merged %+v", o)
	}
	// Validation sees the merged values: --record-limit needs the gdb backend.
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "gdb backend only") {
		t.Errorf("Validate: %v", err)
	}
	for _, empty := range []string{"", "null", " {} "} {
		var o Options
		if err := o.MergeJSON([]byte(empty), nil); err != nil || !reflect.DeepEqual(o, Options{}) {
			t.Errorf("MergeJSON(%q) = %v, %+v", empty, err, o)
		}
	}
}

func TestMergeJSONRefusesBadValues(t *testing.T) {
	o := Options{GDB: "/usr/bin/gdb"}
	err := o.MergeJSON([]byte(`{"backend":"lldb","recordLimit":-1,"logLevel":"loud","gdbPath":"x","python":"/usr/bin/python3","gdb":""}`), nil)
	if err == nil {
		t.Fatal("bad values were accepted")
	}
	for _, w := range []string{
		`option backend: "lldb" is not valid; valid backends are gdb, rr, udb`,
		"option recordLimit:", "> 0",
		"option logLevel:", "debug, info, warn, error",
		`unknown option "gdbPath" (known: backend, recording, recordFrom, recordLimit, gdb, rr, udb, python, log, logLevel)`,
		"option gdb: an empty path is not valid",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	// Valid keys are applied all the same; bad ones change nothing.
	if o.Python != "/usr/bin/python3" || o.Backend != "" || o.GDB != "/usr/bin/gdb" || o.RecordLimit != 0 {
		t.Errorf("after a partly bad merge: %+v", o)
	}

	for _, raw := range []string{`[1,2]`, `"gdb"`, `{"backend": ["gdb"]}`, `{"recordLimit": true}`} {
		var o Options
		if err := o.MergeJSON([]byte(raw), nil); err == nil {
			t.Errorf("MergeJSON(%s) accepted it: %+v", raw, o)
		}
	}
}

// The initializationOptions keys are the struct's JSON names, and every
// shared flag has one: one list of options, two spellings.
func TestJSONNamesMatchTheStruct(t *testing.T) {
	var o Options
	tags := map[string]bool{}
	rt := reflect.TypeOf(o)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "-" {
			tags[name] = true
		}
	}
	var names []string
	for _, opt := range o.sharedOptions() {
		if !tags[opt.json] {
			t.Errorf("flag --%s: JSON name %q is not a json tag of Options", opt.flag, opt.json)
		}
		names = append(names, opt.json)
		// camelCase of the flag name.
		parts := strings.Split(opt.flag, "-")
		for i := 1; i < len(parts); i++ {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
		if camel := strings.Join(parts, ""); camel != opt.json {
			t.Errorf("flag --%s has JSON name %q, want %q", opt.flag, opt.json, camel)
		}
	}
	for tag := range tags {
		if !slices.Contains(names, tag) {
			t.Errorf("json tag %q has no flag", tag)
		}
	}
}

func TestSubstitutePath(t *testing.T) {
	inv, err := lookup("lsp").parse([]string{"--substitute-path", "/build/src=/home/me/src", "--substitute-path=/a=/b", "--", "python3", "x.py"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"/build/src", "/home/me/src"}, {"/a", "/b"}}
	if !reflect.DeepEqual(inv.opts.SubstitutePath, want) {
		t.Errorf("got %v, want %v", inv.opts.SubstitutePath, want)
	}
	usageError(t, []string{"lsp", "--substitute-path", "/only-one"}, "FROM=TO")
}
