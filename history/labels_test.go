package history

import "testing"

// TestLabelsShowValuesNow: a loop's history keeps its earlier values as
// they were bound, and its last value as the object is now when the name
// still holds it; a name bound again on a later line shows as it was bound
// on the earlier one; the def line shows the parameters as received, or as
// now where the parameter still holds the same object.
func TestLabelsShowValuesNow(t *testing.T) {
	v := func(name, value, addr string) Var { return Var{Name: name, Value: value, Address: addr} }
	frame := Frame{Function: "f", Params: []string{"rows", "n"}, DefLine: 1,
		Stores: map[int][]string{3: {"row"}, 5: {"total"}, 6: {"total"}}}
	events := []callEvent{
		{Time: "t0", Line: 2, Bound: []Var{v("rows", "[[], []]", "0xa"), v("n", "2", "0xb")}},
		{Time: "t1", Line: 3},
		{Time: "t2", Line: 4, Bound: []Var{v("row", "[]", "0x1")}}, // row = rows[0], then row.append(1)
		{Time: "t3", Line: 3},
		{Time: "t4", Line: 4, Bound: []Var{v("row", "[]", "0x2")}},
		{Time: "t5", Line: 5},
		{Time: "t6", Line: 6, Bound: []Var{v("total", "[1]", "0x3")}},
		{Time: "t7", Line: 7, Bound: []Var{v("total", "[1, 2]", "0x4")}},
	}
	lh := summarize(frame, 0, events)
	frame.Locals = []Var{v("rows", "[[1], [2]]", "0xa"), v("n", "3", "0xc"), v("row", "[2]", "0x2"), v("total", "[1, 2, 3]", "0x4")}
	labels := lh.Labels(&frame)
	for line, want := range map[int]string{
		1: "rows = [[1], [2]], n = 2", // rows still holds its list; n was bound again
		3: "row = [] → [2] (2×)",      // the first row as bound, the last as it is now
		5: "total = [1]",              // bound again on line 6 since
		6: "total = [1, 2, 3]",
	} {
		if labels[line] != want {
			t.Errorf("line %d: %q, want %q", line, labels[line], want)
		}
	}
	if got := lh.Lines[3].Label(); got != "row = [] → [] (2×)" {
		t.Errorf("line 3 as bound: %q", got)
	}
}
