;;; emacs_test.el --- headless Emacs test of editors/emacs/timelens.el  -*- lexical-binding: t; -*-

;; Run by scripts/editor-tests:
;;   emacs --batch -Q -l REPO/editors/emacs/timelens.el -l THIS
;; Environment: TIMELENS_REPO, TIMELENS_BIN, TIMELENS_PYTHON.
;; Prints `ok - …' / `not ok - …' lines on stdout; exit status 1 on failure.

(require 'timelens)
(require 'python)

(defvar tt-repo (or (getenv "TIMELENS_REPO") "/work/main"))
(defvar tt-prog (expand-file-name "testdata/programs/loop.py" tt-repo))
(defvar tt-suite "emacs")
(defvar tt-detail-format "%s")
(defvar tt-wait-s (string-to-number (or (getenv "TIMELENS_WAIT_S") "30")))
(load (expand-file-name "tt-tap" (file-name-directory load-file-name)) nil t)

(defun tt-finish ()
  (tt-out (format "emacs: %d passed, %d failed" tt-passed tt-failed))
  (ignore-errors (timelens-stop))
  (kill-emacs (if (or (> tt-failed 0) (= tt-passed 0)) 1 0)))

(defun tt-line-of (text)
  (with-current-buffer (find-file-noselect tt-prog)
    (save-excursion
      (goto-char (point-min))
      (search-forward text)
      (line-number-at-pos))))

(defun tt-hints ()
  "The inlay hints Eglot painted: a list of (LINE . TEXT), LINE 1-based."
  (with-current-buffer (find-file-noselect tt-prog)
    (let (res)
      (dolist (o (overlays-in (point-min) (point-max)))
        (when (overlay-get o 'eglot--inlay-hint)
          (push (cons (line-number-at-pos (overlay-start o))
                      (substring-no-properties
                       (or (overlay-get o 'after-string) (overlay-get o 'before-string) "")))
                res)))
      (sort res (lambda (a b) (< (car a) (car b)))))))

(defun tt-has-hint (text line)
  (cl-some (lambda (h) (and (= (car h) line) (string-search text (cdr h)))) (tt-hints)))

(defun tt-pos () timelens-position)

(condition-case err
    (progn
      (setq timelens-executable (or (getenv "TIMELENS_BIN") (expand-file-name "bin/timelens" tt-repo))
            timelens-record-from "main"
            timelens-python (or (getenv "TIMELENS_PYTHON") "python3.13")
            eglot-sync-connect 10
            eglot-autoreconnect nil)
      (when (getenv "TIMELENS_LOG")
        (setq timelens-extra-args (list "--log" (getenv "TIMELENS_LOG") "--log-level" "debug")))
      (find-file tt-prog)
      (tt-check "loop.py is in python-mode" (derived-mode-p 'python-mode) major-mode)
      (timelens-start tt-prog)
      (tt-check "eglot manages the buffer with a timelens server"
                (tt-wait (lambda () (and (bound-and-true-p eglot--managed-mode)
                                         (cl-typep (eglot-current-server) 'timelens-server)))))
      (tt-check "eglot-inlay-hints-mode is on" (bound-and-true-p eglot-inlay-hints-mode))
      (let* ((t0 (float-time))
             (pos (timelens-where))
             (first (tt-line-of "acct = Account(\"ada\")"))
             (body (tt-line-of "total += i"))
             (forline (tt-line-of "for i in range(5):")))
        (unless (tt-check "timelens-where answers" pos timelens-last-error) (tt-finish))
        (tt-out (format "# recording + first position: %.1f s" (- (float-time) t0)))
        (tt-check "starts at the first line of main"
                  (and (equal (plist-get pos :function) "main") (= (plist-get pos :line) (1- first)))
                  pos)
        (tt-check "mode line shows function and line"
                  (string-search (format "main:%d" first) (timelens-mode-line)) (timelens-mode-line))
        (tt-check "timelens-reverse-step at the start is refused with a message"
                  (and (null (timelens-reverse-step)) (stringp timelens-last-error)) timelens-last-error)
        (let ((p (timelens-step)))
          (tt-check "timelens-step enters Account.__init__"
                    (equal (plist-get p :function) "Account.__init__") p))
        (let ((p (timelens-reverse-step)))
          (tt-check "timelens-reverse-step comes back to the same time"
                    (equal (plist-get p :time) (plist-get pos :time)) p))
        (let* ((fwd (timelens-step-instruction))
               (back (timelens-reverse-step-instruction)))
          (tt-check "an instruction step moves time and its reverse comes back to the same time"
                    (and fwd back (not (equal (plist-get fwd :time) (plist-get pos :time)))
                         (equal (plist-get back :time) (plist-get pos :time)))
                    (list fwd back timelens-last-error)))
        (let ((instrs (timelens-bytecode)))
          (tt-check "timelens-bytecode shows the frame's instructions, one marked current"
                    (and (> (length instrs) 5)
                         (with-current-buffer "*timelens bytecode*"
                           (= 1 (how-many "^.....-->" (point-min) (point-max)))))
                    (with-current-buffer (get-buffer-create "*timelens bytecode*") (buffer-string))))
        (dotimes (_ 9) (timelens-next))
        (let ((p (tt-pos)))
          (tt-check "nine timelens-next reach the loop body with i = 2"
                    (and (= (plist-get p :line) (1- body))
                         (equal (plist-get (plist-get p :locals) :i) "2"))
                    p))
        (tt-check "inlay hint overlay on the for line holds i = 0 → 1 → 2"
                  (tt-wait (lambda () (tt-has-hint "i = 0 → 1 → 2" forline)) 10)
                  (tt-hints))
        (tt-check "inlay hint overlay for acct on its line"
                  (tt-has-hint "acct = Account(owner='ada'" first) (tt-hints))
        (tt-check "window/showDocument moved point to the current line"
                  (tt-wait (lambda () (with-current-buffer (find-file-noselect tt-prog)
                                        (= (line-number-at-pos) body)))
                           5)
                  (with-current-buffer (find-file-noselect tt-prog) (line-number-at-pos)))
        ;; Hover on `total' in `total += i'.
        (with-current-buffer (find-file-noselect tt-prog)
          (goto-char (point-min))
          (forward-line (1- body))
          (search-forward "total")
          (backward-char 2)
          (let ((text (timelens-hover-text))
                (total (plist-get (plist-get (tt-pos) :locals) :total)))
            (tt-check (format "hover on total shows its value %s" total)
                      (and text total (string-search total text) (string-search "total" text))
                      text))
          ;; Code actions replace the lenses in Eglot.
          (let* ((acts (jsonrpc-request (eglot-current-server) :textDocument/codeAction
                                        (list :textDocument (eglot--TextDocumentIdentifier)
                                              :range (list :start (eglot--pos-to-lsp-position (line-beginning-position))
                                                           :end (eglot--pos-to-lsp-position (line-end-position)))
                                              :context (list :diagnostics []))
                                        :timeout 30))
                 (cmds (mapcar (lambda (a) (or (plist-get (plist-get a :command) :command)
                                               (plist-get a :command)))
                               acts)))
            (tt-check "code actions on the current line offer timelens.step"
                      (member "timelens.step" cmds) cmds))
          (let ((p (timelens-last-write)))
            (tt-check "timelens-last-write on total goes to an assignment of total"
                      (and p (memq (plist-get p :line) (list (1- body) (1- (tt-line-of "total = 0")))))
                      (or p timelens-last-error))))
        (let ((p (timelens-next-call "Account.deposit")))
          (tt-check "timelens-next-call Account.deposit"
                    (equal (plist-get p :function) "Account.deposit") (or p timelens-last-error)))
        (let ((p (timelens-reverse-finish)))
          (tt-check "timelens-reverse-finish returns to main"
                    (equal (plist-get p :function) "main") (or p timelens-last-error)))
        (let (p)
          (dotimes (_ 3)
            (unless (and p (= (plist-get p :line) (1- forline)))
              (setq p (timelens-next))))
          (tt-check "timelens-next reaches the for line again"
                    (and p (= (plist-get p :line) (1- forline))) p))
        (tt-check "hints refreshed after the moves: now i = 0 → 1 (2×)"
                  (tt-wait (lambda () (and (tt-has-hint "i = 0 → 1 (2×)" forline)
                                           (not (tt-has-hint "i = 0 → 1 → 2" forline))))
                           10)
                  (tt-hints))
        ;; Running to a line: Run to Cursor with a condition, Reverse Run to
        ;; Cursor, Run Back Until (its prompt answered), a refused run, the
        ;; picker over the runs of a line, the keys and the code actions.
        (tt-check "C-c t u runs back until, C-c t r runs to the cursor"
                  (and (eq (lookup-key timelens-command-map "u") #'timelens-run-back-until)
                       (eq (lookup-key timelens-command-map "r") #'timelens-run-to-cursor)))
        (with-current-buffer (find-file-noselect tt-prog)
          (let ((dep (tt-line-of "self.balance += amount")))
            (goto-char (point-min))
            (forward-line (1- dep))
            (let ((p (timelens-run-to-cursor "amount == 40")))
              (tt-check "timelens-run-to-cursor where amount == 40 reaches deposit with amount 40"
                        (and p (equal (plist-get p :function) "Account.deposit") (= (plist-get p :line) (1- dep))
                             (equal (plist-get (plist-get p :locals) :amount) "40"))
                        (or p timelens-last-error)))
            (let* ((acts (jsonrpc-request (eglot-current-server) :textDocument/codeAction
                                          (list :textDocument (eglot--TextDocumentIdentifier)
                                                :range (list :start (list :line (1- dep) :character 0)
                                                             :end (list :line (1- dep) :character 0))
                                                :context (list :diagnostics []))
                                          :timeout 30))
                   (titles (mapcar (lambda (a) (plist-get a :title)) acts)))
              (tt-check "code actions on any line offer running back and forward to it"
                        (and (member "timelens: ◀ run back to here" titles)
                             (member "timelens: run forward to here ▶" titles))
                        titles)))
          (goto-char (point-min))
          (forward-line (1- body))
          (let ((p (timelens-reverse-run-to-cursor "i == 1")))
            (tt-check "timelens-reverse-run-to-cursor where i == 1 reaches total += i with i = 1"
                      (and p (= (plist-get p :line) (1- body)) (equal (plist-get (plist-get p :locals) :i) "1"))
                      (or p timelens-last-error)))
          (goto-char (point-min))
          (forward-line (1- body))
          (let* ((asked nil)
                 (p (cl-letf (((symbol-function 'read-string) (lambda (prompt &rest _) (setq asked prompt) "i == 0")))
                      (call-interactively #'timelens-run-back-until))))
            (tt-check "timelens-run-back-until asks for the condition and runs back to i == 0"
                      (and asked p (= (plist-get p :line) (1- body)) (equal (plist-get (plist-get p :locals) :i) "0"))
                      (list asked (or p timelens-last-error))))
          (let ((before (plist-get timelens-position :time)))
            (goto-char (point-min))
            (forward-line (1- body))
            (tt-check "a run that finds nothing is refused with a message, time unchanged"
                      (and (null (timelens-reverse-run-to-cursor "i == 4"))
                           (string-search "no earlier line event" (or timelens-last-error ""))
                           (equal before (plist-get timelens-position :time)))
                      timelens-last-error))
          (goto-char (point-min))
          (forward-line (1- forline))
          (let* ((shown nil)
                 (p (cl-letf (((symbol-function 'completing-read)
                               (lambda (_prompt coll &rest _) (setq shown (mapcar #'car coll)) (nth 2 shown))))
                      (timelens-line-runs))))
            (tt-check "the picker lists the 6 runs of the for line, with what each assigned"
                      (and (= (length shown) 6) (string-search "i = 2" (nth 2 shown))) shown)
            (tt-check "the run picked is gone to: the for line before its third run, i = 1"
                      (and p (= (plist-get p :line) (1- forline)) (equal (plist-get (plist-get p :locals) :i) "1"))
                      (or p timelens-last-error)))))
      (tt-finish))
  (error (tt-check "no Lisp error" nil err)
         (tt-finish)))

;;; emacs_test.el ends here
