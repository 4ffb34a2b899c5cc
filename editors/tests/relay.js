// editors/tests/relay.js: runs `timelens` for an editor that lives in another
// test root. The editors of the sid root (Neovim 0.12, Helix, Emacs 30.2)
// start editors/tests/timelens-relay as their `timelens`; it connects here over
// loopback TCP and sends its working directory and arguments; this relay starts
// `scripts/sandbox run --suite SUITE -- bin/timelens ARGS` from that directory
// and joins the connection to the server's stdin and stdout. The editor speaks
// LSP to the real server, started with the argv the editor built.
//
// Why: recording loop.py with sid's CPython 3.14 takes 35-70 s instead of 4 s
// (a garbage collector increment of the whole heap falls in main's window)
// and some moves over it do not finish; the trixie root runs the same session
// with CPython 3.13 and gdb 16, where every move is checked against settrace.
//
// usage: node editors/tests/relay.js REPO SUITE LOGDIR
// Prints `port N` on stdout once listening; each server's stderr goes to
// LOGDIR/server-K.err. Ends on SIGTERM, stopping the servers it started.
'use strict';
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const [repo, suite, logdir] = process.argv.slice(2);
if (!repo || !suite || !logdir) {
  console.error('usage: node relay.js REPO SUITE LOGDIR');
  process.exit(2);
}
const servers = new Set();
let count = 0;

// The header: NUL-terminated strings, the working directory first, then the
// arguments, ended by an empty string.
function parseHeader(buf) {
  const fields = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0) continue;
    if (i === start) return { fields, rest: buf.subarray(i + 1) };
    fields.push(buf.subarray(start, i).toString('utf8'));
    start = i + 1;
  }
  return undefined;
}

function serve(sock) {
  let head = Buffer.alloc(0);
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const h = parseHeader(head);
    if (!h) return;
    sock.off('data', onData);
    sock.pause();
    start(sock, h.fields[0], h.fields.slice(1), h.rest);
  };
  sock.on('data', onData);
  sock.on('error', () => sock.destroy());
}

function start(sock, cwd, args, rest) {
  const k = ++count;
  const err = fs.openSync(path.join(logdir, `server-${k}.err`), 'w');
  fs.writeSync(err, `relay: ${cwd}: timelens ${args.join(' ')}\n`);
  const child = spawn(path.join(repo, 'scripts/sandbox'), ['run', '--suite', suite, '--', path.join(repo, 'bin/timelens'), ...args],
    { cwd, stdio: ['pipe', 'pipe', err] });
  servers.add(child);
  if (rest.length) child.stdin.write(rest);
  sock.pipe(child.stdin);
  child.stdout.pipe(sock);
  sock.resume();
  child.stdin.on('error', () => {});
  // The editor went away: the server reads EOF and stops its debugger; one
  // that does not within 10 s is killed.
  sock.on('close', () => {
    child.stdin.end();
    setTimeout(() => child.kill('SIGKILL'), 10000).unref();
  });
  child.on('exit', (code, signal) => {
    fs.writeSync(err, `relay: server exited (${signal ?? code})\n`);
    fs.closeSync(err);
    servers.delete(child);
    sock.end();
  });
}

const listener = net.createServer(serve);
listener.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${listener.address().port}\n`);
});
process.on('SIGTERM', () => {
  listener.close();
  for (const c of servers) c.kill('SIGKILL');
  process.exit(0);
});
