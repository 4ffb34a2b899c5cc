package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzMergeJSON: initializationOptions, whatever the editor sends, never
// overrides a flag given on the command line; when MergeJSON accepts them,
// every key is a known option and every option holds the value sent.
func FuzzMergeJSON(f *testing.F) {
	f.Add(`{"backend":"udb","recordLimit":"1000","udb":"/opt/undo/udb"}`, true)
	f.Add(`{"backend":"lldb","recordLimit":-1,"logLevel":"loud","gdbPath":"x","python":"/usr/bin/python3","gdb":""}`, false)
	f.Add(`{"recordFrom": "main", "recordLimit": 1_000, "log": null}`, true)
	f.Add(`{"recordLimit": "1_000", "recordFrom": 5, "logLevel": "debug", "backend": "rr", "backend": "gdb"}`, false)
	f.Add(`{"recordLimit": 1e3}`, false)
	f.Add(`[1,2]`, false)
	f.Add(`null`, true)
	f.Add(``, true)
	f.Fuzz(func(t *testing.T, raw string, recordFromOnCommandLine bool) {
		o := Options{RecordFrom: "fromTheCommandLine", Backend: "gdb"}
		set := map[string]bool{"record-from": recordFromOnCommandLine}
		err := o.MergeJSON([]byte(raw), set)
		if recordFromOnCommandLine && o.RecordFrom != "fromTheCommandLine" {
			t.Fatalf("MergeJSON(%s) replaced --record-from with %q", raw, o.RecordFrom)
		}
		trimmed := bytes.TrimSpace([]byte(raw))
		if len(trimmed) == 0 || string(trimmed) == "null" {
			if err != nil {
				t.Fatalf("MergeJSON(%q): %v", raw, err)
			}
			return
		}
		var fields map[string]json.RawMessage
		if jerr := json.Unmarshal(trimmed, &fields); jerr != nil {
			if err == nil {
				t.Fatalf("MergeJSON(%s) accepts what is not a JSON object", raw)
			}
			return
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "initializationOptions") {
				t.Fatalf("MergeJSON(%s): error %q does not say where it comes from", raw, err)
			}
			return
		}
		var known []string
		for _, opt := range o.sharedOptions() {
			known = append(known, opt.json)
		}
		got := map[string]any{}
		data, _ := json.Marshal(o)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		for key, value := range fields {
			if !slices.Contains(known, key) {
				t.Fatalf("MergeJSON(%s) accepts unknown key %q", raw, key)
			}
			if key == "recordFrom" && recordFromOnCommandLine || string(value) == "null" {
				continue
			}
			var want string
			var s string
			if json.Unmarshal(value, &s) == nil {
				want = s
			} else {
				want = string(value) // a number, as written
			}
			have := got[key]
			if key == "recordLimit" {
				n, err := strconv.ParseInt(strings.ReplaceAll(want, "_", ""), 10, 64)
				if err != nil || have == nil || have.(json.Number).String() != strconv.FormatInt(n, 10) {
					t.Fatalf("MergeJSON(%s): recordLimit is %v, sent %s", raw, have, value)
				}
				continue
			}
			if have != want {
				t.Fatalf("MergeJSON(%s): %s is %q, sent %s", raw, key, have, value)
			}
		}
	})
}

// FuzzParseArgs: any command line (NUL separates the arguments) parses or
// fails with an error, never a panic; a parse keeps PROGRAM ARGS as given
// after "--" and the FILE as given.
func FuzzParseArgs(f *testing.F) {
	f.Add(uint8(0), "--backend\x00rr\x00--recording\x00/nonexistent")
	f.Add(uint8(0), "--substitute-path\x00/build=/src\x00--\x00prog.py\x00--x")
	f.Add(uint8(1), "--at\x00loop.py:22\x00options_test.go\x00--\x00prog\x00-o")
	f.Add(uint8(2), "-o\x00--\x00--\x00prog")
	f.Add(uint8(3), "--json=false\x00--log-level\x00debug")
	f.Add(uint8(0), "--record-limit\x001_000\x00--record-limit=-1")
	f.Add(uint8(1), "-h")
	f.Fuzz(func(t *testing.T, which uint8, line string) {
		c := commands[int(which)%len(commands)]
		var args []string
		if line != "" {
			args = strings.Split(line, "\x00")
		}
		inv, err := c.parse(slices.Clone(args))
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("%s %q: empty error", c.name, args)
			}
			if errors.Is(err, flag.ErrHelp) && !slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "h") }) {
				t.Fatalf("%s %q: help without asking for it", c.name, args)
			}
			return
		}
		if n := len(inv.program); n > 0 {
			if !slices.Equal(inv.program, args[len(args)-n:]) || args[len(args)-n-1] != "--" {
				t.Fatalf("%s %q: PROGRAM ARGS %q are not what follows --", c.name, args, inv.program)
			}
		}
		if inv.file != "" && !slices.Contains(args, inv.file) {
			t.Fatalf("%s %q: FILE %q is not an argument", c.name, args, inv.file)
		}
	})
}
