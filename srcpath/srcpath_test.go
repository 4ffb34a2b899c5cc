package srcpath

import "testing"

// TestMapBothWays: the first matching pair wins, prefixes match at path
// boundaries only, and an editor path maps back to the recording's.
func TestMapBothWays(t *testing.T) {
	m := NewMap([][2]string{{"/build/app", "/home/ada/app"}, {"/build", "/srv"}, {"", "/x"}})
	for _, c := range []struct{ rec, ed string }{
		{"/build/app/main.py", "/home/ada/app/main.py"},
		{"/build/lib/util.py", "/srv/lib/util.py"},
		{"/build/apple.py", "/srv/apple.py"}, // not under /build/app
		{"/usr/lib/python3.13/json/__init__.py", "/usr/lib/python3.13/json/__init__.py"},
	} {
		if got := m.ToEditor(c.rec); got != c.ed {
			t.Errorf("ToEditor(%s) = %s, want %s", c.rec, got, c.ed)
		}
		if got := m.ToRecording(c.ed); got != c.rec {
			t.Errorf("ToRecording(%s) = %s, want %s", c.ed, got, c.rec)
		}
	}
	if got := (Map{}).ToEditor("/a/../b.py"); got != "/b.py" {
		t.Errorf("the zero Map: %s, want the cleaned path", got)
	}
}
