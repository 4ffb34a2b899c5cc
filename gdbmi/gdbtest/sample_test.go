package gdbtest

import (
	"reflect"
	"testing"
)

// TestSampleKeepsTheRootsOwnAndTurnsDaily: a sample of n keeps the
// root's own interpreter (the list's last) and the debug twin, is the same
// for one day, and over five days every interpreter gets its turn.
func TestSampleKeepsTheRootsOwnAndTurnsDaily(t *testing.T) {
	var trixie []Interpreter
	for _, p := range Interpreters {
		if p.Suite == "trixie" {
			trixie = append(trixie, p)
		}
	}
	own := trixie[len(trixie)-1].Label
	seen := map[string]bool{}
	for day := uint64(20429); day < 20429+5; day++ {
		kept, left := Sample(trixie, 3, day)
		if len(kept) != 3 || len(kept)+len(left) != len(trixie) {
			t.Fatalf("day %d: kept %d, left %v of %d", day, len(kept), left, len(trixie))
		}
		if kept[len(kept)-1].Label != own || !kept[len(kept)-2].Debug {
			t.Errorf("day %d: kept %v; want the root's own %s and its debug twin", day, labels(kept), own)
		}
		again, _ := Sample(trixie, 3, day)
		if !reflect.DeepEqual(kept, again) {
			t.Errorf("day %d: %v then %v; one day, one sample", day, labels(kept), labels(again))
		}
		for _, p := range kept {
			seen[p.Label] = true
		}
	}
	if len(seen) != len(trixie) {
		t.Errorf("five days sampled %v of %d interpreters; want every one", seen, len(trixie))
	}
	if kept, left := Sample(trixie, 10, 1); len(kept) != len(trixie) || left != nil {
		t.Errorf("a sample larger than the list: kept %v, left %v; want all", labels(kept), left)
	}
}

func labels(ps []Interpreter) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Label)
	}
	return out
}
