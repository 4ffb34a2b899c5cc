package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// The docs check: every command line and editor snippet that README.md,
// CONTRIBUTING.md, docs/*.md, docs/editors/*.md and the editors' README
// pages show is checked against the code, so that the docs cannot drift
// from it (CONTRIBUTING.md, "The docs check", says what each kind of block
// gets).

// repoRoot is the checkout, from this package's directory.
const repoRoot = "../.."

// notRun marks a ```sh block whose commands are checked, never run.
const notRun = "# not run"

// pathPlaceholder stands for the checkout in editor snippets.
const pathPlaceholder = "/path/to/timelens"

// docBlock is one fenced block of a doc page.
type docBlock struct {
	file string // relative to the checkout
	line int    // of the opening fence
	lang string // the fence's info string: sh, lua, elisp, toml, json, ...
	text string
}

func (b docBlock) String() string { return fmt.Sprintf("%s:%d (```%s)", b.file, b.line, b.lang) }

// runs says whether a ```sh block's timelens lines are run (not only checked).
func (b docBlock) runs() bool {
	first, _, _ := strings.Cut(strings.TrimSpace(b.text), "\n")
	return !strings.HasPrefix(first, notRun)
}

// docPages lists the pages the check reads, relative to the checkout.
func docPages(t *testing.T) []string {
	t.Helper()
	pages := []string{"README.md", "CONTRIBUTING.md", "editors/README.md"}
	for _, pattern := range []string{"docs/*.md", "docs/editors/*.md", "editors/*/README.md"} {
		m, err := filepath.Glob(filepath.Join(repoRoot, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(repoRoot, f)
			pages = append(pages, filepath.ToSlash(rel))
		}
	}
	return pages
}

var fence = regexp.MustCompile("^(\\s*)(```+)\\s*([A-Za-z0-9_-]*)")

// docBlocks returns every fenced block of the doc pages.
func docBlocks(t *testing.T) []docBlock {
	t.Helper()
	var out []docBlock
	for _, page := range docPages(t) {
		data, err := os.ReadFile(filepath.Join(repoRoot, page))
		if err != nil {
			t.Fatal(err)
		}
		var cur *docBlock
		var closing string
		for i, line := range strings.Split(string(data), "\n") {
			if cur != nil {
				if strings.TrimSpace(line) == closing {
					out = append(out, *cur)
					cur = nil
					continue
				}
				cur.text += line + "\n"
				continue
			}
			if m := fence.FindStringSubmatch(line); m != nil {
				cur = &docBlock{file: page, line: i + 1, lang: m[3]}
				closing = m[2]
			}
		}
		if cur != nil {
			t.Errorf("%s: the block is never closed", cur)
		}
	}
	if len(out) == 0 {
		t.Fatal("no fenced blocks found in the docs")
	}
	return out
}

// blocksOf returns the blocks whose language is one of langs.
func blocksOf(t *testing.T, langs ...string) []docBlock {
	var out []docBlock
	for _, b := range docBlocks(t) {
		if slices.Contains(langs, b.lang) {
			out = append(out, b)
		}
	}
	return out
}

// shellLine is one command of a ```sh block: its words, without the
// comment and the leading VAR=value assignments.
type shellLine struct {
	text  string
	words []string
}

// shellLines splits a ```sh block into commands (a line ending in \ goes
// on), dropping comments and blank lines.
func shellLines(b docBlock) ([]shellLine, error) {
	var out []shellLine
	pending := ""
	for _, raw := range strings.Split(b.text, "\n") {
		if strings.HasSuffix(raw, "\\") {
			pending += strings.TrimSuffix(raw, "\\") + " "
			continue
		}
		line := pending + raw
		pending = ""
		words, err := shellWords(line)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", line, err)
		}
		for len(words) > 0 && regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`).MatchString(words[0]) {
			words = words[1:]
		}
		if len(words) > 0 {
			out = append(out, shellLine{strings.TrimSpace(line), words})
		}
	}
	return out, nil
}

// shellWords splits a line as a POSIX shell would, for the quoting the docs
// use ('…', "…", \x), and drops a # comment.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '#' && !inWord:
			return words, nil
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unclosed '")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unclosed \"")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '\\' && i+1 < len(line):
			cur.WriteByte(line[i+1])
			i++
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// programsNotChecked are the programs the docs may name whose lines say
// nothing the code could contradict.
var programsNotChecked = []string{"cd", "export", "ln", "mkdir", "cp", "git", "sudo", "apt-get"}

// checkShellLine checks one command of the docs against the code: an
// error says what is wrong.
func checkShellLine(t *testing.T, words []string) error {
	prog, args := words[0], words[1:]
	switch {
	case prog == "timelens":
		return checkTimelensArgs(t, args)
	case prog == "make":
		return checkMakeTargets(args)
	case strings.HasPrefix(prog, "scripts/"):
		st, err := os.Stat(filepath.Join(repoRoot, prog))
		if err != nil {
			return err
		}
		if st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not executable", prog)
		}
		return nil
	case prog == "go":
		return checkGoLine(args)
	case prog == "code":
		return checkCodeLine(args)
	case slices.Contains(programsNotChecked, prog):
		return nil
	}
	return fmt.Errorf("the docs check does not know %q: teach checkShellLine (cmd/timelens/docs_test.go) how to check it, or mark the block %q", prog, notRun)
}

// helpOf caches `timelens CMD --help`.
var helpOf = map[string]result{}

// checkTimelensArgs checks that the command exists and that each flag
// before -- is one its --help lists.
func checkTimelensArgs(t *testing.T, args []string) error {
	if len(args) == 0 {
		return nil
	}
	switch args[0] {
	case "--version", "-version", "version", "help", "--help", "-h":
		if r := timelens(t, args...); r.code != 0 {
			return fmt.Errorf("timelens %s: %v", strings.Join(args, " "), r)
		}
		return nil
	}
	cmd := args[0]
	r, ok := helpOf[cmd]
	if !ok {
		r = timelens(t, cmd, "--help")
		helpOf[cmd] = r
	}
	if r.code != 0 {
		return fmt.Errorf("timelens %s --help: %v", cmd, r)
	}
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			continue
		}
		listed := regexp.MustCompile(`(?m)^ {2,4}(-h, )?--?` + regexp.QuoteMeta(name) + `([ ,=]|$)`)
		if !listed.MatchString(r.stdout) {
			return fmt.Errorf("timelens %s --help does not list %s", cmd, a)
		}
	}
	return nil
}

// checkMakeTargets checks that each target (not VAR=value) is one of the Makefile's.
func checkMakeTargets(args []string) error {
	data, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		return err
	}
	for _, a := range args {
		if strings.Contains(a, "=") || strings.HasPrefix(a, "-") {
			continue
		}
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(a) + `:`).Match(data) {
			return fmt.Errorf("the Makefile has no target %q", a)
		}
	}
	return nil
}

// checkGoLine checks go install MODULE/cmd/timelens@VERSION against go.mod.
func checkGoLine(args []string) error {
	if len(args) == 0 || args[0] != "install" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`(?m)^module (\S+)`).FindSubmatch(data)
	if m == nil {
		return fmt.Errorf("go.mod has no module line")
	}
	for _, a := range args[1:] {
		pkg, _, _ := strings.Cut(a, "@")
		rel, ok := strings.CutPrefix(pkg, string(m[1])+"/")
		if !ok {
			return fmt.Errorf("go install %s: not a package of module %s", a, m[1])
		}
		if _, err := os.Stat(filepath.Join(repoRoot, rel, "main.go")); err != nil {
			return fmt.Errorf("go install %s: %w", a, err)
		}
	}
	return nil
}

// checkCodeLine checks that code --install-extension names what make vscode writes.
func checkCodeLine(args []string) error {
	data, err := os.ReadFile(filepath.Join(repoRoot, "editors/vscode/package.json"))
	if err != nil {
		return err
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(data, &pkg); err != nil {
		return err
	}
	made := "bin/timelens-vscode-" + pkg.Version + ".vsix" // scripts/vscode's $vsix
	for i, a := range args {
		if a == "--install-extension" && i+1 < len(args) {
			if ok, _ := path.Match(args[i+1], made); !ok {
				return fmt.Errorf("code --install-extension %s: make vscode writes %s", args[i+1], made)
			}
		}
	}
	return nil
}

// TestDocsCommandLinesMatchTheCode reads every ```sh block of the docs:
// each timelens line names a command and flags its --help lists, each make
// line a Makefile target, each scripts/ line a script, go install this
// module's command, code --install-extension the package make vscode makes.
// The timelens command lines of the Lua snippets ({ 'timelens', 'lsp', ... })
// are checked the same way.
func TestDocsCommandLinesMatchTheCode(t *testing.T) {
	n := 0
	for _, b := range blocksOf(t, "sh", "bash", "shell") {
		lines, err := shellLines(b)
		if err != nil {
			t.Errorf("%s: %v", b, err)
			continue
		}
		for _, l := range lines {
			n++
			if err := checkShellLine(t, l.words); err != nil {
				t.Errorf("%s: %s\n\t%v", b, l.text, err)
			}
		}
	}
	// The server command lines of the Lua snippets: { 'timelens', 'lsp', ... }.
	table := regexp.MustCompile(`\{\s*'timelens'((?:\s*,\s*'[^']*')*)\s*\}`)
	str := regexp.MustCompile(`'([^']*)'`)
	for _, b := range blocksOf(t, "lua") {
		for _, m := range table.FindAllStringSubmatch(b.text, -1) {
			var args []string
			for _, a := range str.FindAllStringSubmatch(m[1], -1) {
				args = append(args, a[1])
			}
			n++
			if err := checkTimelensArgs(t, args); err != nil {
				t.Errorf("%s: %s\n\t%v", b, m[0], err)
			}
		}
	}
	t.Logf("%d command lines checked", n)
}

// runnableCommands are the timelens commands the check runs (lsp and dap
// serve an editor: they are only checked).
var runnableCommands = []string{"doctor", "annotate", "record", "version", "--version", "help"}

// docsApp is the app.py the docs' commands run on: main() calls total().
const docsApp = `def total(xs):
    t = 0
    for x in xs:
        t += x
    return t


def main():
    nums = [3, 1, 4]
    s = total(nums)
    print(s)


main()
`

// TestDocsCommandsRun runs, as a user would type them, the timelens lines
// of the ```sh blocks not marked "# not run": in a directory holding
// docsApp as app.py, with this timelens as the one on PATH and the
// machine's own defaults (no --python, no --gdb). Each must exit 0 (doctor
// may exit 1, its report printed: a probe of this machine failed).
func TestDocsCommandsRun(t *testing.T) {
	needRecording(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(bin, "timelens")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(docsApp), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), fakeEnv+"=timelens", "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	n := 0
	for _, b := range blocksOf(t, "sh", "bash", "shell") {
		if !b.runs() {
			continue
		}
		lines, err := shellLines(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		for _, l := range lines {
			if l.words[0] != "timelens" || len(l.words) < 2 || !slices.Contains(runnableCommands, l.words[1]) {
				continue
			}
			n++
			cmd := exec.Command("bash", "-c", l.text)
			cmd.Dir, cmd.Env = dir, env
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if l.words[1] == "doctor" && errors.As(err, &exit) && exit.ExitCode() == 1 && len(out) > 0 {
				// doctor ran and reported that a probe failed: whether gdb
				// answers its timed probes on a loaded machine is doctor's
				// own tests' matter, not the docs'.
				t.Logf("%s: %s: exit 1 (a probe failed):\n%s", b, l.text, out)
				continue
			}
			if err != nil {
				t.Errorf("%s: %s: %v\n%s", b, l.text, err, out)
				continue
			}
			t.Logf("%s: %s: ok", b, l.text)
		}
	}
	if n == 0 {
		t.Fatal("no runnable timelens line in the docs")
	}
}

// need finds an editor or tool for a snippet check: missing, the test skips
// on a developer's machine and fails where every tool must be there.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		gdbtest.SkipOrFail(t, "%s not found: the docs' %s snippets are not loaded", name, name)
	}
	return p
}

// snippetFile writes a snippet with the checkout in place of /path/to/timelens.
func snippetFile(t *testing.T, b docBlock, ext string) string {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "snippet"+ext)
	if err := os.WriteFile(f, []byte(strings.ReplaceAll(b.text, pathPlaceholder, root)), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// nvimHarness loads a Lua snippet (arg 1) as Neovim's init would, with a
// stand-in for nvim-dap. A snippet that returns a table is a lazy.nvim
// spec: its dir goes on runtimepath, its plugin/ files are sourced, and its
// config (or require(main).setup(opts)) is called as lazy.nvim does; any
// other snippet is an init.lua, after which the plugin/ files of
// 'runtimepath' are sourced as at start-up.
// With want_commands (arg 2 = "1") :TimelensStart must exist afterwards.
const nvimHarness = `
local snippet, want_commands = _G.arg[1], _G.arg[2] == '1'
package.preload['dap'] = function()
  return { adapters = {}, configurations = {}, session = function() end }
end
local spec = dofile(snippet)
if type(spec) == 'table' then
  assert(type(spec.dir) == 'string', 'a lazy.nvim spec without dir')
  assert(vim.fn.isdirectory(spec.dir) == 1, 'no such directory: ' .. spec.dir)
  vim.opt.rtp:prepend(spec.dir)
  for _, f in ipairs(vim.fn.glob(spec.dir .. '/plugin/*.lua', false, true)) do
    dofile(f)
  end
  if type(spec.config) == 'function' then
    spec.config(spec, spec.opts or {})
  else
    require(spec.main or spec.name).setup(spec.opts or {})
  end
else
  -- After init.lua, Neovim sources the plugin/ files of 'runtimepath'.
  vim.cmd('runtime! plugin/**/*.lua')
end
if want_commands and vim.fn.exists(':TimelensStart') ~= 2 then
  error(':TimelensStart is not defined after the snippet')
end
`

// TestDocsLuaSnippetsLoadInNeovim loads every ```lua block in headless
// Neovim: it must run without error, and one that loads the plugin must
// leave :TimelensStart defined.
func TestDocsLuaSnippetsLoadInNeovim(t *testing.T) {
	blocks := blocksOf(t, "lua")
	nvim := need(t, "nvim")
	harness := filepath.Join(t.TempDir(), "harness.lua")
	if err := os.WriteFile(harness, []byte(nvimHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(t.TempDir(), "has011.lua")
	if err := os.WriteFile(probe, []byte("os.exit(vim.fn.has('nvim-0.11') == 1 and 0 or 1)"), 0o644); err != nil {
		t.Fatal(err)
	}
	has011 := exec.Command(nvim, "--headless", "--clean", "-l", probe).Run() == nil
	for _, b := range blocks {
		if !has011 && regexp.MustCompile(`vim\.lsp\.(config|enable)\(`).MatchString(b.text) {
			t.Logf("%s: needs Neovim 0.11+, skipped on this one", b)
			continue
		}
		want := "0"
		if strings.Contains(b.text, "editors/nvim") {
			want = "1"
		}
		cmd := exec.Command(nvim, "--headless", "--clean", "-l", harness, snippetFile(t, b, ".lua"), want)
		cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", b, err, out)
		}
	}
}

// TestDocsElispSnippetsLoadInEmacs loads every ```elisp block in emacs
// --batch, then Eglot (so with-eval-after-load bodies run), with a
// stand-in for dape: it must load without error, and one that names the
// package must leave timelens-start defined and the package loaded.
func TestDocsElispSnippetsLoadInEmacs(t *testing.T) {
	blocks := blocksOf(t, "elisp", "emacs-lisp")
	emacs := need(t, "emacs")
	for _, b := range blocks {
		check := "(progn (require 'eglot) (require 'dape))"
		if strings.Contains(b.text, "timelens") && strings.Contains(b.text, "editors/emacs") || strings.Contains(b.text, "(require 'timelens)") {
			check = "(progn (require 'eglot) (require 'dape) (require 'timelens) " +
				"(unless (fboundp 'timelens-start) (error \"timelens-start is not defined\")))"
		}
		cmd := exec.Command(emacs, "--batch", "-Q",
			"--eval", "(progn (setq debug-on-error t) (defvar dape-configs nil) (defvar dape-buffer-default nil) (provide 'dape))",
			"-l", snippetFile(t, b, ".el"), "--eval", check)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", b, err, out)
		}
	}
}

// tomlPython is a Python with tomllib (3.11+).
func tomlPython(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"python3", "python3.14", "python3.13", "python3.12", "python3.11"} {
		if p, err := exec.LookPath(name); err == nil && exec.Command(p, "-c", "import tomllib").Run() == nil {
			return p
		}
	}
	gdbtest.SkipOrFail(t, "no Python 3.11+ (tomllib) found: the docs' TOML is not parsed")
	return ""
}

// timelensServerArgs finds, in a parsed editor configuration, the argument
// lists of the timelens server: Helix's and Kakoune's args, Zed's
// binary.arguments, Sublime's command.
func timelensServerArgs(v any) [][]string {
	var out [][]string
	var walk func(key string, v any)
	strs := func(v any) []string {
		xs, ok := v.([]any)
		if !ok {
			return nil
		}
		var s []string
		for _, x := range xs {
			if str, ok := x.(string); ok {
				s = append(s, str)
			}
		}
		return s
	}
	walk = func(key string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if key == "timelens" {
			if cmd, ok := m["command"].(string); ok && cmd == "timelens" {
				out = append(out, strs(m["args"]))
			}
			if c := strs(m["command"]); len(c) > 0 && c[0] == "timelens" {
				out = append(out, c[1:])
			}
			if bin, ok := m["binary"].(map[string]any); ok {
				out = append(out, strs(bin["arguments"]))
			}
		}
		for k, x := range m {
			walk(k, x)
		}
	}
	walk("", v)
	return out
}

// configSnippets are the docs' TOML and JSON blocks, and the editor
// configuration files beside them, as (name, language, text).
func configSnippets(t *testing.T) []docBlock {
	t.Helper()
	out := blocksOf(t, "toml", "json", "jsonc")
	for _, f := range []string{"editors/helix/languages.toml", "editors/helix/config.toml", "editors/kakoune/kak-lsp.toml", "editors/sublime/LSP-timelens.sublime-settings"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		lang := "toml"
		if !strings.HasSuffix(f, ".toml") {
			lang = "jsonc"
		}
		out = append(out, docBlock{file: f, line: 1, lang: lang, text: string(data)})
	}
	return out
}

// withoutLineComments drops JSONC's whole-line // comments.
func withoutLineComments(text string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if !strings.HasPrefix(strings.TrimSpace(sc.Text()), "//") {
			b.WriteString(sc.Text() + "\n")
		}
	}
	return b.String()
}

// TestDocsEditorConfigsParse parses every TOML (Python's tomllib) and JSON
// block of the docs and the editor configuration files, and checks the
// timelens command line each gives its server like a ```sh timelens line.
func TestDocsEditorConfigsParse(t *testing.T) {
	snippets := configSnippets(t)
	var py string
	for _, b := range snippets {
		var v any
		switch b.lang {
		case "toml":
			if py == "" {
				py = tomlPython(t)
			}
			cmd := exec.Command(py, "-c", "import json, sys, tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))")
			cmd.Stdin = strings.NewReader(b.text)
			out, err := cmd.Output()
			if err != nil {
				msg := ""
				if ee, ok := err.(*exec.ExitError); ok {
					msg = string(ee.Stderr)
				}
				t.Errorf("%s: not TOML: %v\n%s", b, err, msg)
				continue
			}
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatal(err)
			}
		default:
			if err := json.Unmarshal([]byte(withoutLineComments(b.text)), &v); err != nil {
				t.Errorf("%s: not JSON: %v", b, err)
				continue
			}
		}
		for _, args := range timelensServerArgs(v) {
			if err := checkTimelensArgs(t, args); err != nil {
				t.Errorf("%s: timelens %s\n\t%v", b, strings.Join(args, " "), err)
			}
		}
	}
}

// TestDocsCheckFails: the check refuses what the docs must not say.
func TestDocsCheckFails(t *testing.T) {
	for _, line := range []string{
		"timelens annotate --no-such-flag app.py",
		"timelens nosuchcommand",
		"make no-such-target",
		"scripts/no-such-script",
		"go install example.com/other/cmd/timelens@latest",
		"code --install-extension bin/timelens-vscode-9.9.9.vsix",
		"frobnicate --all",
	} {
		words, err := shellWords(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkShellLine(t, words); err == nil {
			t.Errorf("%s: accepted", line)
		}
	}
	b := docBlock{text: "# not run: an example\ntimelens lsp -- app.py\n"}
	if b.runs() {
		t.Error("a block marked # not run runs")
	}
	words, _ := shellWords(`timelens annotate --at 'app.py:4' "app.py"  # a comment`)
	if want := []string{"timelens", "annotate", "--at", "app.py:4", "app.py"}; !slices.Equal(words, want) {
		t.Errorf("shellWords: %q, want %q", words, want)
	}
}

// githubAnchor is the anchor GitHub gives a heading.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocsLinksResolve: every relative link of the doc pages names a file
// of the checkout, and its #anchor a heading of that file.
func TestDocsLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading := regexp.MustCompile("(?m)^#+ +(.+)$")
	for _, page := range docPages(t) {
		data, err := os.ReadFile(filepath.Join(repoRoot, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			resolved := filepath.Join(repoRoot, filepath.Dir(page), file)
			if file == "" {
				resolved = filepath.Join(repoRoot, page)
			}
			body, err := os.ReadFile(resolved)
			if err != nil {
				if st, serr := os.Stat(resolved); serr == nil && st.IsDir() {
					continue
				}
				t.Errorf("%s: link %s: %v", page, target, err)
				continue
			}
			if anchor == "" {
				continue
			}
			found := false
			for _, h := range heading.FindAllStringSubmatch(string(body), -1) {
				if githubAnchor(strings.ReplaceAll(h[1], "`", "")) == anchor {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: link %s: no heading #%s in %s", page, target, anchor, file)
			}
		}
	}
}

// vscodeKey writes a keybinding as the docs do: ctrl+alt+shift+i is Ctrl+Alt+Shift+I.
func vscodeKey(key string) string {
	parts := strings.Split(key, "+")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, "+")
}

// TestDocsEditorPagesNameEveryCommand: each editor's page names every
// command its package defines, so that a command added to an editor is
// documented with it: the VS Code extension's command titles and keys
// (package.json) in editors/vscode/README.md, the Neovim plugin's
// :Timelens commands in docs/editors/neovim.md, and timelens.el's
// interactive commands in docs/editors/emacs.md.
func TestDocsEditorPagesNameEveryCommand(t *testing.T) {
	read := func(f string) string {
		data, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	var pkg struct {
		Contributes struct {
			Commands    []struct{ Command, Title string }
			Keybindings []struct{ Command, Key string }
		}
	}
	if err := json.Unmarshal([]byte(read("editors/vscode/package.json")), &pkg); err != nil {
		t.Fatal(err)
	}
	// Words may wrap across lines on the page.
	vscode := strings.Join(strings.Fields(read("editors/vscode/README.md")), " ")
	for _, c := range pkg.Contributes.Commands {
		if !strings.Contains(vscode, c.Title) {
			t.Errorf("editors/vscode/README.md does not name the command %q (%s)", c.Title, c.Command)
		}
	}
	for _, k := range pkg.Contributes.Keybindings {
		if !strings.Contains(vscode, vscodeKey(k.Key)) {
			t.Errorf("editors/vscode/README.md does not name the key %s (%s)", vscodeKey(k.Key), k.Command)
		}
	}

	lua := read("editors/nvim/lua/timelens/init.lua")
	var nvimCmds []string
	for _, m := range regexp.MustCompile(`cmd\('(Timelens[A-Za-z]+)'`).FindAllStringSubmatch(lua, -1) {
		nvimCmds = append(nvimCmds, m[1])
	}
	simple := regexp.MustCompile(`(?s)local simple = \{(.*?)\n\}`).FindStringSubmatch(lua)
	if simple == nil {
		t.Fatal("init.lua: the table of simple commands (local simple = {...}) is not found")
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+([A-Za-z]+) = 'timelens\.`).FindAllStringSubmatch(simple[1], -1) {
		nvimCmds = append(nvimCmds, "Timelens"+m[1])
	}
	if len(nvimCmds) < 10 {
		t.Fatalf("init.lua: only %d commands found: %v", len(nvimCmds), nvimCmds)
	}
	neovim := read("docs/editors/neovim.md")
	for _, c := range nvimCmds {
		if !regexp.MustCompile(`:` + c + `\b`).MatchString(neovim) {
			t.Errorf("docs/editors/neovim.md does not name :%s", c)
		}
	}

	el := read("editors/emacs/timelens.el")
	var elCmds []string
	for _, d := range strings.Split(el, "\n(def") {
		if m := regexp.MustCompile(`^un (timelens-[a-z-]+) `).FindStringSubmatch(d); m != nil && strings.Contains(d, "(interactive") {
			elCmds = append(elCmds, m[1])
		}
	}
	for _, m := range regexp.MustCompile(`\(timelens--define (timelens-[a-z-]+) `).FindAllStringSubmatch(el, -1) {
		elCmds = append(elCmds, m[1])
	}
	for _, m := range regexp.MustCompile(`\(define-minor-mode (timelens-[a-z-]+)`).FindAllStringSubmatch(el, -1) {
		elCmds = append(elCmds, m[1])
	}
	if len(elCmds) < 10 {
		t.Fatalf("timelens.el: only %d commands found: %v", len(elCmds), elCmds)
	}
	emacs := read("docs/editors/emacs.md")
	for _, c := range elCmds {
		if !regexp.MustCompile("`" + regexp.QuoteMeta(c) + "`").MatchString(emacs) {
			t.Errorf("docs/editors/emacs.md does not name `%s`", c)
		}
	}
}
