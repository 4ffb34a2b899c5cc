package lsp

// # Line maps: the recorded text and the text now
//
// Every line number the recording gives (a frame's line, a hint's line, a
// write's line) counts lines of the text the program ran: the recorded
// text. The editor counts lines of the document as the user has edited it
// since. A LineMap pairs the two, both ways, for one version of one
// document; nothing else in the server converts lines.
//
// It is a line diff of the recorded text against the document now (not a
// replay of the edits), so a full-document change, an undo back to the
// recorded text, or a file changed on disk are all the same case:
//
//   - a line is paired only with a line of exactly the same text (line
//     endings aside), so a recorded value never lands on a line the user
//     changed: that line loses its values, and lines that only moved keep
//     theirs;
//   - the common head and tail are paired first (a typical edit leaves
//     only a few lines between them); between them, lines that occur once
//     on each side anchor the diff (patience diff: the longest run of
//     anchors in the same order), the gaps between anchors are diffed the
//     same way, and a gap with no anchors is settled by an LCS table when it
//     is small and left unpaired when not, which loses values but never
//     misplaces one;
//   - a statement of several lines (brackets, backslashes, triple-quoted
//     strings) is paired only whole and in one piece: with one of its lines
//     changed, removed, or a line inserted inside, its values no longer
//     describe it and all its lines lose them;
//   - a document that keeps less than half of the recorded text's non-blank
//     lines no longer matches the recording (another file, a revert to
//     something else): its map pairs nothing.
//
// Cost per document version, computed once on first use: a byte
// comparison of the common head and tail (the runtime's memequal, a block
// at a time), then for the n lines between them a hash lookup each and the
// patience diff, O(n log n); two int32 arrays of one entry per line. On a
// 5,000-line file (BenchmarkLineMap, best of 15 runs on a shared 2-core
// machine): a line typed in one place maps in about 50 us, besides the
// 110-140 us the new document version itself takes; 50 lines changed
// across the file, about 200-230 us; the recorded text is prepared once
// per session, about 2 ms.

import (
	"sort"
	"strings"

	"github.com/timelens/timelens/history"
)

// recordedText is the text of one source file as the recording ran it,
// prepared to be compared with later versions of the file.
type recordedText struct {
	doc     *document        // the text, for its lines and its Python scan
	ids     map[string]int32 // one id per distinct line text
	seq     []int32          // the id of each line
	stmts   [][2]int32       // statements of several lines: first and last line
	isSolid []bool           // per line: not blank
	solid   int              // lines that are not blank
}

func newRecordedText(text string) *recordedText {
	d := newDocument("", "", 0, text)
	n := d.lineCount()
	r := &recordedText{doc: d, ids: make(map[string]int32, n), seq: make([]int32, n), isSolid: make([]bool, n)}
	for i := range n {
		l := d.line(i)
		id, ok := r.ids[l]
		if !ok {
			id = int32(len(r.ids))
			r.ids[l] = id
		}
		r.seq[i] = id
		if strings.TrimSpace(l) != "" {
			r.isSolid[i] = true
			r.solid++
		}
	}
	logical := d.python().logical
	for a := 0; a < n; {
		b := a + 1
		for b < n && !logical[b] {
			b++
		}
		if b-1 > a {
			r.stmts = append(r.stmts, [2]int32{int32(a), int32(b - 1)})
		}
		a = b
	}
	return r
}

// LineMap pairs the lines of the text a recording ran with the lines of
// the same file as it is now (see the top of linemap.go). Lines are
// 0-based; a LineMap is immutable.
type LineMap struct {
	toNow   []int32 // per recorded line: its line now, or -1
	toRec   []int32 // per line now: its recorded line, or -1
	kept    int     // non-blank recorded lines that are paired
	solid   int     // non-blank recorded lines
	matches bool
}

// MapLines compares the text a recording ran with the same file's text
// now.
func MapLines(recorded, now string) *LineMap {
	return newRecordedText(recorded).mapDocument(newDocument("", "", 0, now))
}

// mapDocument compares the recorded text with doc.
func (r *recordedText) mapDocument(doc *document) *LineMap {
	rec := r.doc
	n, m := rec.lineCount(), doc.lineCount()
	lm := &LineMap{toNow: make([]int32, n), toRec: make([]int32, m), solid: r.solid}
	for i := range lm.toNow {
		lm.toNow[i] = -1
	}
	for j := range lm.toRec {
		lm.toRec[j] = -1
	}
	d := differ{toNow: lm.toNow, toRec: lm.toRec}
	// Head and tail by bytes: most edits leave only a few lines between
	// them, and only those need hashing.
	lo, hi := sameLines(rec, doc)
	for i := range lo {
		d.pair(i, i)
	}
	for k := 1; k <= hi; k++ {
		d.pair(n-k, m-k)
	}
	if lo < n-hi && lo < m-hi {
		d.a = r.seq
		d.b = make([]int32, m)
		for j := lo; j < m-hi; j++ {
			id, ok := r.ids[doc.line(j)]
			if !ok {
				id = int32(-1 - j) // a line the recording never had: equal to no other
			}
			d.b[j] = id
		}
		d.count = make([]int32, 2*len(r.ids))
		d.pos = make([]int32, len(r.ids))
		d.diff(lo, n-hi, lo, m-hi)
	}
	lm.wholeStatements(r.stmts)
	for i, solid := range r.isSolid {
		if solid && lm.toNow[i] >= 0 {
			lm.kept++
		}
	}
	lm.matches = 2*lm.kept >= lm.solid
	if !lm.matches {
		lm.pairNothing()
	}
	return lm
}

// sameLines returns how many whole lines a and b have the same at their
// start (head) and, after those, at their end (tail).
func sameLines(a, b *document) (head, tail int) {
	x, y := a.text, b.text
	p := commonPrefix(x, y)
	if p == len(x) && p == len(y) {
		return a.lineCount(), 0
	}
	head = strings.Count(x[:p], "\n") // the lines that end inside the common head
	// The tail may not reach into the head's lines.
	q := commonSuffix(x[a.starts[head]:], y[b.starts[head]:])
	// A line is in the common tail when the newline before it is.
	tail = strings.Count(x[len(x)-q:], "\n")
	return head, tail
}

// commonPrefix is the length of the longest common prefix of x and y,
// compared a block at a time (string comparison is the runtime's memequal).
func commonPrefix(x, y string) int {
	const block = 512
	n := min(len(x), len(y))
	i := 0
	for i+block <= n && x[i:i+block] == y[i:i+block] {
		i += block
	}
	for i < n && x[i] == y[i] {
		i++
	}
	return i
}

// commonSuffix is the length of the longest common suffix of x and y.
func commonSuffix(x, y string) int {
	const block = 512
	n := min(len(x), len(y))
	i := 0
	for i+block <= n && x[len(x)-i-block:len(x)-i] == y[len(y)-i-block:len(y)-i] {
		i += block
	}
	for i < n && x[len(x)-1-i] == y[len(y)-1-i] {
		i++
	}
	return i
}

// wholeStatements unpairs the lines of every statement of several lines
// that is not paired whole, in one piece, with nothing inserted inside.
func (m *LineMap) wholeStatements(stmts [][2]int32) {
	for _, st := range stmts {
		first := m.toNow[st[0]]
		whole := first >= 0
		for i := st[0] + 1; whole && i <= st[1]; i++ {
			whole = m.toNow[i] == first+(i-st[0])
		}
		if whole {
			continue
		}
		for i := st[0]; i <= st[1]; i++ {
			if j := m.toNow[i]; j >= 0 {
				m.toRec[j] = -1
				m.toNow[i] = -1
			}
		}
	}
}

func (m *LineMap) pairNothing() {
	for i := range m.toNow {
		m.toNow[i] = -1
	}
	for j := range m.toRec {
		m.toRec[j] = -1
	}
}

// Matches reports whether the text now is still the recorded text with
// edits; when not (see the top of linemap.go) no line is paired.
func (m *LineMap) Matches() bool { return m.matches }

// Kept returns how many of the recorded text's non-blank lines the diff
// found in the text now, and how many it has.
func (m *LineMap) Kept() (kept, of int) { return m.kept, m.solid }

// Unchanged reports whether the text now is the recorded text.
func (m *LineMap) Unchanged() bool {
	if len(m.toNow) != len(m.toRec) {
		return false
	}
	for i, j := range m.toNow {
		if int(j) != i {
			return false
		}
	}
	return true
}

// Now returns where recorded line rec is now; false when its text changed
// or it went away.
func (m *LineMap) Now(rec int) (int, bool) {
	if rec < 0 || rec >= len(m.toNow) || m.toNow[rec] < 0 {
		return 0, false
	}
	return int(m.toNow[rec]), true
}

// Recorded returns which recorded line line now is; false when the
// recording never ran its text there (the user changed or added it).
func (m *LineMap) Recorded(line int) (int, bool) {
	if line < 0 || line >= len(m.toRec) || m.toRec[line] < 0 {
		return 0, false
	}
	return int(m.toRec[line]), true
}

// Near returns where recorded line rec is now, exactly (Now), or else
// where it was: the line at the same place among the lines that replaced
// it, or the line after the place it was removed from. It is for what must
// point somewhere (the current position); values go only to exact lines.
func (m *LineMap) Near(rec int) (line int, exact bool) {
	if j, ok := m.Now(rec); ok {
		return j, true
	}
	last := max(len(m.toRec)-1, 0)
	if rec < 0 {
		return 0, false
	}
	p := min(rec, len(m.toNow)) - 1 // the paired line before
	for p >= 0 && m.toNow[p] < 0 {
		p--
	}
	q := rec + 1 // the paired line after
	for q < len(m.toNow) && m.toNow[q] < 0 {
		q++
	}
	start, end := 0, len(m.toRec) // the lines now between p's and q's
	if p >= 0 {
		start = int(m.toNow[p]) + 1
	}
	if q < len(m.toNow) {
		end = int(m.toNow[q])
	}
	line = start + min(rec-(p+1), max(end-start-1, 0))
	return min(line, last), false
}

// MoveHints returns hints (the timeline's, on recorded 1-based lines) on
// their lines now, leaving out those whose line changed or went away.
func (m *LineMap) MoveHints(hints []history.LineHint) []history.LineHint {
	out := make([]history.LineHint, 0, len(hints))
	for _, h := range hints {
		if j, ok := m.Now(h.Line - 1); ok {
			h.Line = j + 1
			out = append(out, h)
		}
	}
	return out
}

// differ is the diff of two sequences of line ids: a, the recorded text's
// (every id >= 0), and b, the text now's (negative for lines the recorded
// text has not, each a different id). It pairs lines into toNow and toRec.
type differ struct {
	a, b         []int32
	toNow, toRec []int32
	count        []int32 // per id: occurrences in a's range, then in b's
	pos          []int32 // per id: where in a's range
}

func (d *differ) pair(i, j int) {
	d.toNow[i] = int32(j)
	d.toRec[j] = int32(i)
}

// maxTable bounds the LCS table of a gap with no anchors (cells).
const maxTable = 1 << 16

// diff pairs a[a0:a1] with b[b0:b1].
func (d *differ) diff(a0, a1, b0, b1 int) {
	for a0 < a1 && b0 < b1 && d.a[a0] == d.b[b0] {
		d.pair(a0, b0)
		a0++
		b0++
	}
	for a0 < a1 && b0 < b1 && d.a[a1-1] == d.b[b1-1] {
		a1--
		b1--
		d.pair(a1, b1)
	}
	if a0 == a1 || b0 == b1 {
		return
	}
	anchors := d.anchors(a0, a1, b0, b1)
	if len(anchors) == 0 {
		d.table(a0, a1, b0, b1)
		return
	}
	for _, an := range anchors {
		d.diff(a0, an[0], b0, an[1])
		d.pair(an[0], an[1])
		a0, b0 = an[0]+1, an[1]+1
	}
	d.diff(a0, a1, b0, b1)
}

// anchors returns the longest sequence, in order on both sides, of lines
// that occur exactly once in a[a0:a1] and once in b[b0:b1], as pairs
// {i, j}.
func (d *differ) anchors(a0, a1, b0, b1 int) [][2]int {
	k := len(d.pos)
	for i := a0; i < a1; i++ {
		d.count[d.a[i]]++
		d.pos[d.a[i]] = int32(i)
	}
	for j := b0; j < b1; j++ {
		if id := d.b[j]; id >= 0 {
			d.count[k+int(id)]++
		}
	}
	var once [][2]int // in b's order
	for j := b0; j < b1; j++ {
		if id := d.b[j]; id >= 0 && d.count[id] == 1 && d.count[k+int(id)] == 1 {
			once = append(once, [2]int{int(d.pos[id]), j})
		}
	}
	for i := a0; i < a1; i++ {
		d.count[d.a[i]] = 0
	}
	for j := b0; j < b1; j++ {
		if id := d.b[j]; id >= 0 {
			d.count[k+int(id)] = 0
		}
	}
	return longestRising(once)
}

// longestRising returns the longest subsequence of pairs whose first
// elements rise (patience sorting; the first elements are distinct).
func longestRising(pairs [][2]int) [][2]int {
	if len(pairs) == 0 {
		return nil
	}
	var tails []int // per length: the index of the pair ending the best run
	prev := make([]int, len(pairs))
	for k, p := range pairs {
		n := sort.Search(len(tails), func(n int) bool { return pairs[tails[n]][0] >= p[0] })
		prev[k] = -1
		if n > 0 {
			prev[k] = tails[n-1]
		}
		if n == len(tails) {
			tails = append(tails, k)
		} else {
			tails[n] = k
		}
	}
	run := make([][2]int, len(tails))
	for k, n := tails[len(tails)-1], len(tails)-1; n >= 0; n-- {
		run[n] = pairs[k]
		k = prev[k]
	}
	return run
}

// table pairs the longest common subsequence of a gap with no anchors,
// when the gap is small enough; a larger one stays unpaired.
func (d *differ) table(a0, a1, b0, b1 int) {
	n, m := a1-a0, b1-b0
	if n*m > maxTable {
		return
	}
	w := m + 1
	lcs := make([]uint16, (n+1)*w) // lcs[i*w+j]: of a[a0+i:a1] and b[b0+j:b1]
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if d.a[a0+i] == d.b[b0+j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case d.a[a0+i] == d.b[b0+j]:
			d.pair(a0+i, b0+j)
			i++
			j++
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			i++
		default:
			j++
		}
	}
}
