;;; emacs_dape_test.el --- dape against `timelens dap', checked against sys.settrace  -*- lexical-binding: t; -*-

;; Run by scripts/editor-tests (--only emacs or --only dape):
;;   emacs --batch -Q -L REPO/editors/emacs -l THIS
;; Environment: TIMELENS_REPO, TIMELENS_DAP_BIN (bin/timelens: the adapter,
;; run in this root), TIMELENS_DAP_PYTHON (this root's CPython),
;; TIMELENS_WAIT_S, TIMELENS_LOG (a log file for the adapter).
;; Prints `ok - …' / `not ok - …' lines on stdout; exit status 1 on failure.
;;
;; The Debian package's dape (elpa-dape) starts `timelens dap' from
;; timelens-dape.el's `timelens-record-from' configuration on
;; editors/tests/dape_loop.py (testdata/programs/loop.py, collected before
;; main), recording from main.  The session moves with
;; dape's own commands (dape-next, dape-step-in, dape-step-out,
;; dape-continue, a breakpoint placed with dape-breakpoint-toggle) and
;; timelens-dape.el's (step back, reverse step in and out, reverse
;; continue).  After each move the test reads where dape says it stopped
;; (the top frame of its thread data, its overlay arrow) and the Locals
;; scope's variables (dape's own variables request) and compares them with
;; testdata/oracle/settrace.py's line events of the same program under the
;; same interpreter, moved the same way (CONTRACT.md: next is the next line
;; event in this frame or a caller, step in the next line event, step back
;; and reverse step in the same backwards, a breakpoint the next/previous
;; run of its line; a step out stops on the caller's line of the call, as
;; dap/session_test.go's finish says).  Then the same window saved by
;; `timelens record' is replayed from the `timelens-replay' configuration.

(require 'cl-lib)
(require 'package)
(package-initialize)
;; The roots unpack Debian's elpa-dape without installing it (its
;; dependencies pull in the GTK Emacs): its source is on no load-path.
(unless (locate-library "dape")
  (dolist (d (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa-src/dape-*"))
    (add-to-list 'load-path d)))
(require 'dape)
(require 'timelens)
(require 'python)

;; No version control: the sid root has no git, which visiting a file of
;; this checkout would run.
(setq vc-handled-backends nil)

(defvar tt-repo (or (getenv "TIMELENS_REPO") "/work/main"))
;; loop.py with a gc.collect() before main: CPython 3.14 records loop.py's
;; main 30 times slower (a collection falls inside it).
(defvar tt-prog (expand-file-name "editors/tests/dape_loop.py" tt-repo))
(defvar tt-python (or (getenv "TIMELENS_DAP_PYTHON") "python3.13"))
(defvar tt-suite "dape")
(defvar tt-detail-format "%S")
(defvar tt-wait-s (string-to-number (or (getenv "TIMELENS_WAIT_S") "120")))
(load (expand-file-name "tt-tap" (file-name-directory load-file-name)) nil t)

(defun tt-conn () (dape--live-connection 'parent t))

(defun tt-finish ()
  (tt-out (format "dape: %d passed, %d failed" tt-passed tt-failed))
  ;; A clean disconnect only from a stop: one sent while the adapter is
  ;; still recording gets Emacs killed by SIGPIPE, its output unflushed.
  (let ((conn (tt-conn)))
    (when (and conn (eq (dape--state conn) 'stopped))
      (ignore-errors
        (let ((done nil))
          (dape-kill conn (lambda (&rest _) (setq done t)) t)
          (tt-wait (lambda () done) 20)))))
  ;; Else dape's own kill-emacs-hook waits for the adapter, recursively.
  (remove-hook 'kill-emacs-hook #'dape--kill-busy-wait)
  (kill-emacs (if (or (> tt-failed 0) (= tt-passed 0)) 1 0)))

;;;; The oracle: settrace.py's line events, with a current one.

(defvar tt-events nil "settrace.py's line events (plists), a vector.")
(defvar tt-i 0 "The current event.")

(defun tt-oracle ()
  (with-temp-buffer
    (let ((rc (call-process tt-python nil t nil
                            (expand-file-name "testdata/oracle/settrace.py" tt-repo)
                            "--from" "main" tt-prog)))
      (unless (eq rc 0)
        (error "settrace.py exited with %s: %s" rc (buffer-string))))
    (setq tt-events
          (vconcat (mapcar (lambda (l) (json-parse-string l :object-type 'plist))
                           (split-string (buffer-string) "\n" t))))))

(defun tt-ev (&optional k) (aref tt-events (or k tt-i)))
(defun tt-depth (k) (plist-get (tt-ev k) :depth))

(defun tt-oracle-move (kind)
  "Move the oracle as timelens moves for KIND; nil when there is no such event."
  (let* ((d (tt-depth tt-i))
         (n (length tt-events))
         (found
          (pcase kind
            ('step-in (and (< (1+ tt-i) n) (1+ tt-i)))
            ('reverse-step-in (and (> tt-i 0) (1- tt-i)))
            ('next (cl-loop for k from (1+ tt-i) below n
                            when (<= (tt-depth k) d) return k))
            ('step-back (cl-loop for k downfrom (1- tt-i) to 0
                                 when (<= (tt-depth k) d) return k)))))
    (when found (setq tt-i found))
    found))

(defun tt-oracle-caller ()
  "For a step out (either way) from the current event: (C . J), C the
caller's line event of the call, J its next line event after the call
returns (or nil)."
  (let* ((d (tt-depth tt-i))
         (start tt-i)
         c j)
    (while (and (> start 0) (not (< (tt-depth (1- start)) d)))
      (cl-decf start))
    (setq c (cl-loop for k downfrom (1- start) to 0
                     when (= (tt-depth k) (1- d)) return k))
    (setq j (cl-loop for k from (1+ tt-i) below (length tt-events)
                     when (< (tt-depth k) d) return k))
    (cons c j)))

(defun tt-oracle-to-line (line reverse)
  "The next (previous when REVERSE) run of LINE of the program."
  (let ((k (if reverse
               (cl-loop for k downfrom (1- tt-i) to 0
                        when (= (plist-get (tt-ev k) :line) line) return k)
             (cl-loop for k from (1+ tt-i) below (length tt-events)
                      when (= (plist-get (tt-ev k) :line) line) return k))))
    (when k (setq tt-i k))
    k))

;;;; What dape holds.

(defvar tt-stops 0 "Stopped events dape handled.")

(defun tt-on-stopped ()
  "Count the stop and drop the frames dape held, so that waiting for
frames with scopes waits for the ones of this stop."
  (cl-incf tt-stops)
  (when-let* ((conn (tt-conn)))
    (dolist (thread (dape--threads conn))
      (plist-put thread :stackFrames nil))))
(add-hook 'dape-stopped-hook #'tt-on-stopped)

(defun tt-await-stop (before)
  "Wait for a stop after BEFORE stops, with its top frame and scopes."
  (tt-wait (lambda ()
             (let ((conn (tt-conn)))
               (and conn (> tt-stops before)
                    (eq (dape--state conn) 'stopped)
                    (plist-get (dape--current-stack-frame conn) :scopes))))))

(defun tt-locals (conn)
  "The Locals scope of dape's current frame: an alist (NAME . VALUE)."
  (let* ((frame (dape--current-stack-frame conn))
         (scope (cl-find "Locals" (plist-get frame :scopes)
                         :key (lambda (s) (plist-get s :name)) :test #'equal))
         (done nil))
    (if (not scope)
        :no-locals-scope
      (dape--variables conn scope (lambda (&rest _) (setq done t)))
      (tt-wait (lambda () done))
      (mapcar (lambda (v) (cons (plist-get v :name) (plist-get v :value)))
              (plist-get scope :variables)))))

(defun tt-where (conn)
  "Where dape says it stopped: (FILE LINE FUNCTION)."
  (let ((frame (dape--current-stack-frame conn)))
    (list (plist-get (plist-get frame :source) :path)
          (plist-get frame :line)
          (plist-get frame :name))))

(defun tt-same (a b)
  "A and B are the same rendering but for addresses."
  (let ((re "0x[0-9a-f]+"))
    (and (stringp a) (stringp b)
         (equal (replace-regexp-in-string re "0x" a) (replace-regexp-in-string re "0x" b)))))

(defun tt-locals-diff (got want &optional after)
  "What differs between dape's locals GOT and settrace's WANT (a plist
keyed by :NAME); a value may also be AFTER's (a step out)."
  (let (diff)
    (cl-loop for (key w) on want by #'cddr
             for name = (substring (symbol-name key) 1)
             for g = (cdr (assoc name got))
             unless (or (tt-same g w) (and after (tt-same g (plist-get after key))))
             do (push (format "%s = %S, settrace says %S" name g w) diff))
    (dolist (g got)
      (unless (plist-member want (intern (concat ":" (car g))))
        (push (format "%s = %S, which settrace does not see" (car g) (cdr g)) diff)))
    (nreverse diff)))

(defun tt-arrow ()
  "The line of dape's overlay arrow in the program's buffer, or nil."
  (let ((m dape--overlay-arrow-position))
    (when (and (marker-buffer m)
               (equal (buffer-file-name (marker-buffer m)) tt-prog))
      (with-current-buffer (marker-buffer m)
        (line-number-at-pos m)))))

(defun tt-compare (what &optional ev after)
  "Check dape's stop against settrace's event EV (default: the current)."
  (let* ((conn (tt-conn))
         (ev (or ev (tt-ev)))
         (want (list (plist-get ev :file) (plist-get ev :line) (plist-get ev :function)))
         (got (tt-where conn))
         (locals (tt-locals conn)))
    (tt-check (format "%s: dape's top frame is settrace's %s:%d" what (nth 2 want) (nth 1 want))
              (equal got want) (list :dape got :settrace want))
    (tt-check (format "%s: dape's overlay arrow is on line %d" what (nth 1 want))
              (tt-wait (lambda () (equal (tt-arrow) (nth 1 want))) 10) (tt-arrow))
    (let ((diff (if (eq locals :no-locals-scope)
                    (list "no Locals scope")
                  (tt-locals-diff locals (plist-get ev :locals) (and after (plist-get after :locals))))))
      (tt-check (format "%s: dape's Locals are settrace's %S" what (or (plist-get ev :locals) 'none))
                (null diff) diff))))

(defun tt-move (what fn kind)
  "Call FN (a dape or timelens-dape command) interactively, as its key
does (on the stopped connection), move the oracle by KIND and compare."
  (let ((before tt-stops))
    (with-current-buffer (find-file-noselect tt-prog)
      (call-interactively fn))
    (unless (tt-check (format "%s: dape shows a new stop" what) (tt-await-stop before)
                      (list :state (dape--state (tt-conn)) :stops tt-stops))
      (tt-finish))
    (pcase kind
      ((or 'step-out 'reverse-step-out)
       (let* ((cj (tt-oracle-caller))
              (c (car cj)) (j (cdr cj)))
         (unless c (error "settrace has no caller for %s" what))
         ;; A step out stops on the call's line in the caller: its locals
         ;; as before the call, or (forward) as its next line event has
         ;; an object the call changed.
         (tt-compare what (tt-ev c)
                     (and (eq kind 'step-out) j
                          (equal (plist-get (tt-ev j) :call) (plist-get (tt-ev c) :call))
                          (tt-ev j)))
         ;; Forward, time is now between C and J: the next move is
         ;; taken from J's predecessor (a next leads to J).
         (setq tt-i (if (eq kind 'step-out) (1- j) c))))
      (`(to-line ,line ,reverse)
       (unless (tt-oracle-to-line line reverse)
         (error "settrace has no run of line %d for %s" line what))
       (tt-compare what))
      ('stay (tt-compare what))
      (_
       (unless (tt-oracle-move kind)
         (error "settrace has no %s move for %s" kind what))
       (tt-compare what)))))

;;;; The session.

(condition-case err
    (progn
      (tt-check "timelens.el loads timelens-dape.el once dape is loaded"
                (featurep 'timelens-dape))
      (tt-check "the timelens configurations are in dape-configs"
                (cl-every (lambda (k) (assq k dape-configs))
                          '(timelens timelens-record-from timelens-replay)))
      (tt-check "N, C, I, O in dape-global-map step back, reverse continue, reverse step in and out"
                (and (eq (lookup-key dape-global-map "N") #'timelens-dape-step-back)
                     (eq (lookup-key dape-global-map "C") #'timelens-dape-reverse-continue)
                     (eq (lookup-key dape-global-map "I") #'timelens-dape-reverse-step-in)
                     (eq (lookup-key dape-global-map "O") #'timelens-dape-reverse-step-out)))
      (tt-oracle)
      (tt-out (format "# settrace.py --from main dape_loop.py under %s: %d line events" tt-python (length tt-events)))
      (setq timelens-executable (or (getenv "TIMELENS_DAP_BIN") (expand-file-name "bin/timelens" tt-repo))
            timelens-dape-python tt-python)
      (when (getenv "TIMELENS_LOG")
        (setq timelens-dape-extra-args (list "--log" (getenv "TIMELENS_LOG") "--log-level" "debug")))
      (find-file tt-prog)
      (let* ((t0 (float-time))
             (config (dape--config-eval 'timelens-record-from '(:recordFrom "main"))))
        (tt-check "the configuration launches dape_loop.py, recording from main"
                  (and (equal (plist-get config :recordFrom) "main")
                       (equal (expand-file-name (plist-get config :program) (plist-get config :cwd)) tt-prog))
                  config)
        (dape config)
        (unless (tt-check "dape shows the first stop (the window's first line)" (tt-await-stop 0)
                          (list :connection (and (tt-conn) t) :state (and (tt-conn) (dape--state (tt-conn)))))
          (tt-finish))
        (tt-out (format "# recording + first stop: %.1f s; dape %s"
                        (- (float-time) t0)
                        (file-name-nondirectory
                         (directory-file-name (file-name-directory (locate-library "dape")))))))
      (tt-check "the adapter says it can step back" (dape--capable-p (tt-conn) :supportsStepBack))
      (tt-compare "entry")
      (tt-move "timelens-dape-step-back at the window's start stays there" #'timelens-dape-step-back 'stay)
      (tt-check "and dape's stop reason says it is the start (entry)"
                (equal (dape--state-reason (tt-conn)) "entry") (dape--state-reason (tt-conn)))
      (tt-move "dape-step-in into Account.__init__" #'dape-step-in 'step-in)
      (tt-move "dape-next" #'dape-next 'next)
      (tt-move "dape-step-out back to main" #'dape-step-out 'step-out)
      (tt-move "dape-next after the step out" #'dape-next 'next)
      (tt-move "dape-next" #'dape-next 'next)
      (tt-move "dape-next" #'dape-next 'next)
      (tt-move "dape-next" #'dape-next 'next)
      (tt-move "dape-step-in into Account.deposit" #'dape-step-in 'step-in)
      (tt-move "dape-next" #'dape-next 'next)
      (tt-move "timelens-dape-step-back" #'timelens-dape-step-back 'step-back)
      (tt-move "timelens-dape-reverse-step-in out of deposit to main" #'timelens-dape-reverse-step-in 'reverse-step-in)
      (tt-move "timelens-dape-step-back" #'timelens-dape-step-back 'step-back)
      (tt-move "dape-next" #'dape-next 'next)
      (tt-move "dape-step-in into deposit" #'dape-step-in 'step-in)
      (tt-move "dape-step-in" #'dape-step-in 'step-in)
      (tt-move "timelens-dape-reverse-step-out to the call in main" #'timelens-dape-reverse-step-out 'reverse-step-out)
      ;; A breakpoint placed in dape on `total += i', then continue both ways.
      (let ((line (with-current-buffer (find-file-noselect tt-prog)
                    (goto-char (point-min))
                    (search-forward "total += i")
                    (dape-breakpoint-toggle)
                    (line-number-at-pos))))
        (tt-check (format "the breakpoint on line %d is verified by the adapter" line)
                  (tt-wait (lambda ()
                             (cl-some (lambda (bp) (plist-get (dape--breakpoint-verified bp) (tt-conn)))
                                      dape--breakpoints))
                           30)
                  dape--breakpoints)
        (tt-move "dape-continue to the breakpoint" #'dape-continue `(to-line ,line nil))
        (tt-move "dape-continue to its next hit" #'dape-continue `(to-line ,line nil))
        (tt-move "dape-continue to its next hit" #'dape-continue `(to-line ,line nil))
        (tt-move "timelens-dape-reverse-continue back to the previous hit" #'timelens-dape-reverse-continue `(to-line ,line t))
        (tt-move "timelens-dape-reverse-continue back to the previous hit" #'timelens-dape-reverse-continue `(to-line ,line t))
        (tt-move "dape-continue forward to the next hit" #'dape-continue `(to-line ,line nil))
        (tt-move "timelens-dape-step-back from the breakpoint" #'timelens-dape-step-back 'step-back))
      ;; The same window saved by `timelens record', replayed from the
      ;; timelens-replay configuration.
      (let* ((dir (make-temp-file "timelens-dape-" t))
             (rec (expand-file-name "loop.rec" dir))
             (rc (with-temp-buffer
                   (list (call-process timelens-executable nil t nil "record" "--record-from" "main"
                                       "--python" tt-python "-o" rec "--" tt-prog)
                         (buffer-string))))
             (old (tt-conn))
             (killed nil))
        (tt-check "timelens record saves the window" (eq (car rc) 0) rc)
        (dape-kill old (lambda (&rest _) (setq killed t)) t)
        (tt-check "dape ends the recording session" (tt-wait (lambda () (and killed (not (tt-conn))))) killed)
        (let ((config (dape--config-eval 'timelens-replay `(:recording ,rec)))
              (before tt-stops))
          (tt-check "the replay configuration launches the recording"
                    (and (equal (plist-get config :recording) rec) (null (plist-get config :program))) config)
          (dape config)
          (unless (tt-check "replay: dape shows the first stop" (tt-await-stop before))
            (tt-finish))
          (setq tt-i 0)
          (tt-compare "replay: entry")
          (tt-move "replay: dape-step-in" #'dape-step-in 'step-in)
          (tt-move "replay: timelens-dape-step-back" #'timelens-dape-step-back 'step-back))
        (ignore-errors (delete-directory dir t)))
      (tt-finish))
  (error (tt-check "no Lisp error" nil err)
         (tt-finish)))

;;; emacs_dape_test.el ends here
