package gdbmi

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The relay is a small process between cyrus-and/gdb and gdb. The library
// reads gdb's stdout itself and panics the whole program on a line it cannot
// parse or a line over 64 KiB, and a Send whose reply never comes blocks
// forever. The relay runs this same executable (re-executed with relayArg as
// its first argument, see init) and guarantees the library only ever sees:
//
//   - canonical MI records, each under maxLine bytes: stream records are split,
//     bigger records are spooled to a file and replaced by a record that names
//     it (field "timelens-spool"); non-MI text becomes target output;
//   - exactly one result for every command it was sent: when gdb dies, every
//     pending command and every later one gets ^error, and -gdb-exit gets
//     ^exit, so no Send stays blocked;
//   - a first record "=timelens-relay,gdb-pid=..." and, when gdb ends,
//     "=timelens-gdb-exited,status=...".
//
// gdb's stderr is forwarded as log stream records.

// relayArg marks a re-executed relay process.
const relayArg = "__timelens_gdb_relay__"

// maxLine bounds every line the relay writes; the library's scanner fails at 64 KiB.
const maxLine = 48 << 10

// maxGDBLine bounds what the relay buffers of a single line from gdb.
const maxGDBLine = 512 << 20

func init() {
	if len(os.Args) > 1 && os.Args[1] == relayArg {
		os.Exit(relayMain(os.Args[2:]))
	}
}

type relay struct {
	outMu sync.Mutex
	out   *bufio.Writer

	mu         sync.Mutex
	pending    map[string]string // token -> operation
	dead       bool
	deadStatus string
	gdbIn      io.WriteCloser
	exitAsked  bool
	spoolDir   string
	spoolN     int
}

// relayMain runs the relay: args are [--env K=V]... -- gdb argv...
func relayMain(args []string) int {
	// Die with the parent: a relay (and through Pdeathsig, gdb) must never
	// outlive the timelens process that started it.
	_ = setPdeathsig()

	var env []string
	for len(args) > 0 && args[0] != "--" {
		if args[0] == "--env" && len(args) > 1 {
			env = append(env, args[1])
			args = args[2:]
			continue
		}
		fmt.Fprintf(os.Stderr, "timelens relay: unexpected argument %q\n", args[0])
		return 2
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "timelens relay: usage: relay [--env K=V]... -- gdb ARGS...")
		return 2
	}
	argv := args[1:]
	r := &relay{out: bufio.NewWriterSize(os.Stdout, 64<<10), pending: map[string]string{}}
	if dir, err := os.MkdirTemp("", "timelens-mi-"); err == nil {
		r.spoolDir = dir
		defer os.RemoveAll(dir)
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	gdbIn, err1 := cmd.StdinPipe()
	gdbOut, err2 := cmd.StdoutPipe()
	gdbErr, err3 := cmd.StderrPipe()
	err := firstErr(err1, err2, err3)
	if err == nil {
		err = cmd.Start()
	}
	done := make(chan struct{})
	if err != nil {
		r.emit(record{kind: '=', class: "timelens-relay", fields: []field{{"error", err.Error()}}})
		r.gdbDied("could not start " + argv[0] + ": " + err.Error())
		close(done)
	} else {
		r.gdbIn = gdbIn
		r.emit(record{kind: '=', class: "timelens-relay", fields: []field{{"gdb-pid", strconv.Itoa(cmd.Process.Pid)}}})
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGINT)
		go func() {
			for range sigs {
				_ = cmd.Process.Signal(syscall.SIGINT)
			}
		}()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); r.pumpStdout(gdbOut) }()
		go func() { defer wg.Done(); r.pumpStderr(gdbErr) }()
		go func() {
			wg.Wait()
			status := "exited"
			if werr := cmd.Wait(); werr != nil {
				status = werr.Error()
			} else {
				status = "exit status 0"
			}
			r.gdbDied(status)
			close(done)
		}()
	}

	// Commands from the library, one per line: TOKEN-operation args.
	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	for {
		line, err := in.ReadString('\n')
		if line != "" {
			r.command(line)
		}
		if err != nil {
			break
		}
	}
	// The library closed our stdin: take gdb down with us.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	return 0
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// command forwards one command line to gdb, or answers it if gdb is gone.
func (r *relay) command(line string) {
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	token := line[:i]
	op := strings.TrimSpace(line[i:])
	if j := strings.IndexAny(op, " \t"); j >= 0 {
		op = op[:j]
	}
	op = strings.TrimPrefix(op, "-")
	r.mu.Lock()
	if op == "gdb-exit" {
		r.exitAsked = true
	}
	if r.dead {
		status := r.deadStatus
		r.mu.Unlock()
		r.answerDead(token, op, status)
		return
	}
	if token != "" {
		r.pending[token] = op
	}
	w := r.gdbIn
	r.mu.Unlock()
	if _, err := io.WriteString(w, line); err != nil {
		// gdb is going away; gdbDied answers the pending token.
		return
	}
}

// answerDead answers a command sent after gdb ended.
func (r *relay) answerDead(token, op, status string) {
	if op == "gdb-exit" {
		r.emit(record{token: token, kind: '^', class: "exit"})
		r.finish()
	}
	r.emit(record{token: token, kind: '^', class: "error", fields: []field{{"msg", "gdb is not running (" + status + ")"}}})
}

// gdbDied answers every pending command and marks the relay dead.
func (r *relay) gdbDied(status string) {
	r.mu.Lock()
	r.dead = true
	r.deadStatus = status
	pending := r.pending
	r.pending = map[string]string{}
	exitAsked := r.exitAsked
	r.mu.Unlock()
	r.emit(record{kind: '=', class: "timelens-gdb-exited", fields: []field{{"status", status}}})
	for token, op := range pending {
		r.answerDead(token, op, status)
	}
	if exitAsked {
		r.finish()
	}
}

// finish closes the stream so the library's reader ends, and exits.
func (r *relay) finish() {
	r.outMu.Lock()
	_ = r.out.Flush()
	_ = os.Stdout.Close()
	if r.spoolDir != "" {
		// The session may still read spooled replies; they live until the
		// session removes them, so only an empty directory is removed here.
		_ = os.Remove(r.spoolDir)
	}
	os.Exit(0)
}

func (r *relay) pumpStdout(rd io.Reader) {
	br := bufio.NewReaderSize(rd, 64<<10)
	for {
		line, err := readLine(br)
		if line != "" {
			r.gdbLine(line)
		}
		if err != nil {
			return
		}
	}
}

func (r *relay) pumpStderr(rd io.Reader) {
	br := bufio.NewReaderSize(rd, 64<<10)
	for {
		line, err := readLine(br)
		if line != "" {
			r.emitStream('&', line+"\n")
		}
		if err != nil {
			return
		}
	}
}

// readLine reads one line of any length up to maxGDBLine; the rest of a
// longer line is discarded and replaced by a marker.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	truncated := false
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b)+len(chunk) <= maxGDBLine {
			b = append(b, chunk...)
		} else {
			truncated = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line := strings.TrimRight(string(b), "\r\n")
		if truncated {
			line = `&"timelens: a line from gdb over 512 MiB was dropped\n"`
		}
		return line, err
	}
}

// gdbLine forwards one line of gdb's stdout in canonical form.
func (r *relay) gdbLine(line string) {
	if line == "(gdb)" || line == "(gdb) " {
		return
	}
	rec, err := parseRecord(line)
	if err == nil && slices.ContainsFunc(rec.fields, func(f field) bool { return f.name == spoolField }) {
		// Only the relay names spool files: the session reads and deletes
		// them. A program printing such a record is printing text.
		err = errNotMI
	}
	if err != nil {
		// Not MI: text a program or a Python extension printed to gdb's
		// stdout. Keep it visible as target output.
		r.emitStream('@', line+"\n")
		return
	}
	if rec.kind == '^' {
		r.mu.Lock()
		op, ok := r.pending[rec.token]
		if ok {
			delete(r.pending, rec.token)
		}
		r.mu.Unlock()
		if !ok {
			// A result nobody waits for would block the library's reader
			// forever; report it as a notification instead.
			rec = record{kind: '=', class: "timelens-unexpected-result",
				fields: append([]field{{"class", rec.class}, {"token", rec.token}}, rec.fields...)}
		} else if op == "gdb-exit" {
			r.mu.Lock()
			r.exitAsked = true
			r.mu.Unlock()
		}
	}
	r.emit(rec)
}

// emit writes a record, splitting or spooling it to keep lines short.
func (r *relay) emit(rec record) {
	switch rec.kind {
	case '~', '@', '&':
		r.emitStream(rec.kind, rec.stream)
		return
	}
	line := rec.encode()
	if len(line) > maxLine {
		line = r.spool(rec, line)
	}
	r.write(line)
}

func (r *relay) emitStream(kind byte, s string) {
	const chunk = maxLine / 3 // every byte encodes to at most 2
	for len(s) > chunk {
		cut := chunk
		for cut > chunk-4 && cut > 0 && s[cut]&0xC0 == 0x80 {
			cut-- // keep UTF-8 sequences whole where possible
		}
		r.write(record{kind: kind, stream: s[:cut]}.encode())
		s = s[cut:]
	}
	r.write(record{kind: kind, stream: s}.encode())
}

// spool writes a long record to a file and returns a short record naming it.
func (r *relay) spool(rec record, line string) string {
	short := record{token: rec.token, kind: rec.kind, class: rec.class}
	r.mu.Lock()
	r.spoolN++
	path := filepath.Join(r.spoolDir, fmt.Sprintf("record-%d.mi", r.spoolN))
	r.mu.Unlock()
	if r.spoolDir == "" || os.WriteFile(path, []byte(line), 0o600) != nil {
		short.fields = []field{{"msg", fmt.Sprintf("timelens: a %d-byte reply could not be kept", len(line))}}
		if short.kind == '^' {
			short.class = "error"
		}
		return short.encode()
	}
	short.fields = []field{{spoolField, path}}
	return short.encode()
}

// spoolField names the file holding a record too long for one line.
const spoolField = "timelens-spool"

func (r *relay) write(line string) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	_, _ = r.out.WriteString(line)
	_ = r.out.WriteByte('\n')
	_ = r.out.Flush()
}

func setPdeathsig() error {
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0)
	if errno != 0 {
		return errno
	}
	return nil
}
