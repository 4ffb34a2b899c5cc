package dap

import "testing"

// TestHitConditions: the hit conditions editors send, counted from the
// window's start, and the refusal of one timelens cannot read.
func TestHitConditions(t *testing.T) {
	for text, want := range map[string][]int{
		"3": {3}, "==3": {3}, "= 3": {3}, ">=4": {4, 5, 6}, ">4": {5, 6}, "<3": {1, 2}, "<=2": {1, 2}, "%2": {2, 4, 6}, "": {1, 2, 3, 4, 5, 6},
	} {
		h, err := parseHitCondition(text)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		var got []int
		for hit := 1; hit <= 6; hit++ {
			if h.matches(hit) {
				got = append(got, hit)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%q stops at hits %v, want %v", text, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%q stops at hits %v, want %v", text, got, want)
				break
			}
		}
	}
	for _, bad := range []string{"every other", "%0", "-1", ">= x"} {
		if _, err := parseHitCondition(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
