package pyext

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

var captureCorpus = flag.Bool("capture-fuzz-corpus", false,
	"run testdata/pyext/values.py under gdb and write the -timelens-* replies to testdata/fuzz/FuzzDecode")

// replyTypes are the shapes Decode is asked for, one fresh value each.
func replyTypes() map[string]func() any {
	return map[string]func() any{
		"threads":  func() any { return new(ThreadsReply) },
		"frames":   func() any { return new(FramesReply) },
		"locals":   func() any { return new(LocalsReply) },
		"snapshot": func() any { return new(SnapshotReply) },
		"eval":     func() any { return new(EvalReply) },
		"render":   func() any { return new(RenderReply) },
		"window":   func() any { return new(map[string]any) },
		"edge": func() any {
			return new(struct {
				Edge *string `json:"edge"`
			})
		},
	}
}

// FuzzDecode: a reply, whatever gdb's Python printed, decodes into every
// reply type without a panic, or fails with an error; a reply that is not
// a JSON object fails; what decodes encodes back to the same value.
// The seeds are replies captured from a real gdb (testdata/fuzz/FuzzDecode,
// see -capture-fuzz-corpus) and the ways a reply can be damaged.
func FuzzDecode(f *testing.F) {
	f.Add(`{"python": "3.13.5", "threads": [{"tstate": "0x1", "interp": 0, "id": 1, "native_thread_id": 7, "thread_id": "0x2", "gdb_thread": null, "selected": true, "has_frames": true}]}`)
	f.Add(`{"frames": [{"depth": 0, "line": null, "stores": {"3": ["x"], "x": null}}]}`)
	f.Add(`{"edge": "start"}`)
	f.Add(`[1, 2]`)
	f.Add(`{"frames": {"depth": 0}}`)
	f.Add(`{"seconds": 1e400}`)
	f.Add(`{"value": "\ud800"}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, reply string) {
		object := strings.HasPrefix(strings.TrimSpace(reply), "{")
		for name, fresh := range replyTypes() {
			v := fresh()
			err := Decode(map[string]any{"json": reply}, v)
			if err2 := DecodeString(reply, fresh()); (err == nil) != (err2 == nil) {
				t.Fatalf("%s: Decode says %v, DecodeString %v", name, err, err2)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "pyext: bad reply") {
					t.Fatalf("%s: error %q does not say the reply is bad", name, err)
				}
				continue
			}
			if !object && strings.TrimSpace(reply) != "null" {
				t.Fatalf("%s: reply %q is not a JSON object, yet decodes", name, reply)
			}
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%s: decoded %#v does not encode: %v", name, v, err)
			}
			again := fresh()
			if err := DecodeString(string(data), again); err != nil {
				t.Fatalf("%s: re-encoded reply %s does not decode: %v", name, data, err)
			}
			if !reflect.DeepEqual(again, v) {
				t.Fatalf("%s: reply %q decodes to %#v, re-encoded to %#v", name, reply, v, again)
			}
		}
		for _, payload := range []map[string]any{nil, {}, {"json": 7}, {"json": []any{reply}}, {"msg": reply}} {
			if err := Decode(payload, new(SnapshotReply)); err == nil {
				t.Fatalf("Decode(%v) accepts a payload without a json string", payload)
			}
		}
	})
}

// TestCaptureFuzzCorpus writes the replies of a real gdb, at the
// checkpoints of testdata/pyext/values.py, as FuzzDecode's corpus. It runs
// only with -capture-fuzz-corpus (in the test root, where gdb can read a
// Python with debug info):
//
//	scripts/sandbox run -- bin/tests/pyext.test -test.run TestCaptureFuzzCorpus -capture-fuzz-corpus
func TestCaptureFuzzCorpus(t *testing.T) {
	if !*captureCorpus {
		t.Skip("writes the fuzz corpus; run with -capture-fuzz-corpus")
	}
	python := gdbtest.Pythons(t)[0]
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	save := func(what, js string) {
		if len(js) > 64<<10 {
			return // big replies slow every mutation down
		}
		name := fmt.Sprintf("%s-%x", what, sha256.Sum256([]byte(js)))[:len(what)+13]
		entry := "go test fuzz v1\nstring(" + strconv.Quote(js) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(entry), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := readerSession(t, python, []string{"TIMELENS_ORACLE_OUT=" + filepath.Join(t.TempDir(), "oracle.json")},
		filepath.Join(testdataDir(t), "values.py"))
	stops := 0
	for reason := m.Run("-exec-run"); strings.HasPrefix(reason, "syscall-") && stops < 4; reason = m.Run("-exec-continue") {
		if reason != "syscall-entry" {
			continue
		}
		stops++
		for _, cmd := range []string{"-timelens-threads", "-timelens-frames", "-timelens-locals --depth 1", "-timelens-snapshot --limit 60",
			"-timelens-eval --depth 0 label", "-timelens-eval --depth 1 nosuch", "-timelens-render --limit 40 0"} {
			js, ok := m.Call(cmd)
			if !ok {
				continue
			}
			what := strings.Fields(strings.TrimPrefix(cmd, "-timelens-"))[0]
			save(what, js)
			if what == "eval" {
				var er EvalReply
				if DecodeString(js, &er) == nil && er.Address != "" {
					if js, ok := m.Call("-timelens-render --limit 40 " + er.Address); ok {
						save("render", js)
					}
				}
			}
		}
	}
	if stops == 0 {
		t.Fatal("values.py reached no checkpoint")
	}
}
