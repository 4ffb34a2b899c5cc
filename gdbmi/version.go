package gdbmi

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Version is a gdb's version, as `gdb --version` prints it.
type Version struct {
	// Text is the first line gdb printed.
	Text         string
	Major, Minor int
}

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

var reVersion = regexp.MustCompile(`(?m)^GNU gdb .* (\d+)\.(\d+)`)

// ParseVersion reads the output of `gdb --version`; ok is false when it is
// not a GNU gdb's.
func ParseVersion(out string) (v Version, ok bool) {
	first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	v.Text = strings.TrimSpace(first)
	m := reVersion.FindStringSubmatch(out)
	if m == nil {
		return v, false
	}
	var err1, err2 error
	v.Major, err1 = strconv.Atoi(m[1])
	v.Minor, err2 = strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return Version{Text: v.Text}, false // no gdb has a version past int
	}
	return v, true
}

// GDBVersion runs `exe --version` and parses it.
func GDBVersion(exe string) (Version, error) {
	out, err := exec.Command(exe, "--version").Output()
	if err != nil {
		return Version{}, fmt.Errorf("%s --version: %w", exe, err)
	}
	v, ok := ParseVersion(string(out))
	if !ok {
		return v, fmt.Errorf("%s is not a GNU gdb: it says %q", exe, v.Text)
	}
	return v, nil
}

// CPUHasAMX reports whether /proc/cpuinfo lists the amx_tile flag. gdb
// before 14 cannot reverse-execute on such a CPU: it writes an XSAVE area
// of the size before AMX ("Couldn't write extended state status").
func CPUHasAMX() bool {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "flags" {
			return slices.Contains(strings.Fields(val), "amx_tile")
		}
	}
	return false
}
