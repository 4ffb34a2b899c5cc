;;; timelens.el --- Time-travel debugging of Python with timelens, over Eglot  -*- lexical-binding: t; -*-

;; Keywords: languages, tools, debugging
;; Package-Requires: ((emacs "29.1") (eglot "1.15"))

;;; Commentary:

;; timelens records a Python run (gdb `record full') and serves it over LSP:
;; inlay hints with the values and loop histories of the lines that ran,
;; hover with the last write, and workspace/executeCommand commands that
;; move in time.  This file starts `timelens lsp' through Eglot and gives
;; the commands names:
;;
;;   (require 'timelens)
;;   (setq timelens-executable "/path/to/timelens"
;;         timelens-record-from "main")
;;   M-x timelens-start RET prog.py RET        ; from any Python buffer
;;   M-x timelens-step / timelens-reverse-step / timelens-next / ...
;;
;; Or through `eglot-server-programs' (then plain M-x eglot records the
;; current buffer's file):
;;
;;   (add-to-list 'eglot-server-programs
;;                '((python-mode python-ts-mode) . timelens-eglot-contact))
;;
;; Eglot has no code lenses: use `eglot-code-actions' on the current line
;; or a def (the server offers the same navigation as code actions), or
;; the commands below.  Eglot (1.17) does not handle
;; workspace/inlayHint/refresh; this file does, for timelens servers.
;; The current line carries a Hint diagnostic (Flymake).
;;
;; Running to the line at point, in any call, where an optional condition
;; holds (a Python expression timelens evaluates from memory in that frame):
;; `timelens-run-to-cursor' and `timelens-reverse-run-to-cursor' (with a
;; prefix argument they ask for the condition), `timelens-run-back-until'
;; (asks for it), and `timelens-line-runs' (pick a run of the line to go to).
;;
;; `timelens-keys-mode' (opt-in) binds the suggested keys: F7 / S-F7 step,
;; F8 / S-F8 next, F9 / S-F9 finish, and `C-c t' as a prefix for the rest.

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)
(require 'subr-x)

(defgroup timelens nil
  "Time-travel debugging of Python with timelens."
  :group 'tools
  :prefix "timelens-")

(defcustom timelens-executable "timelens"
  "The timelens executable."
  :type 'string)

(defcustom timelens-backend nil
  "The `--backend' of `timelens lsp' (nil: the server's default)."
  :type '(choice (const nil) string))

(defcustom timelens-record-from nil
  "`--record-from FUNC': the Python function to record from, or nil."
  :type '(choice (const nil) string))

(defcustom timelens-python nil
  "`--python PATH': the interpreter for .py programs, or nil."
  :type '(choice (const nil) string))

(defcustom timelens-extra-args nil
  "More arguments for `timelens lsp', before `--'."
  :type '(repeat string))

(defcustom timelens-major-modes '(python-mode python-ts-mode)
  "Major modes whose buffers join a timelens session."
  :type '(repeat symbol))

(defcustom timelens-request-timeout 300
  "Seconds to wait for a command (the first one waits for the recording)."
  :type 'number)

(defclass timelens-server (eglot-lsp-server) ()
  :documentation "An Eglot server that is a `timelens lsp' session.")

(defvar timelens--server nil "The server of the latest `timelens-start'.")

(defvar timelens-position nil
  "The position the server returned last (docs/commands.md), a plist:
:time :uri :line (0-based) :function :thread :depth :locals.")

(defvar timelens-last-error nil "Message of the last refused command.")

(defvar timelens-moved-hook nil
  "Run after each move, with `timelens-position' set.")

;;;; Starting

(defun timelens-command-line (program &optional args)
  "The command line of `timelens lsp' for PROGRAM and ARGS."
  (append (list timelens-executable "lsp")
          (and timelens-backend (list "--backend" timelens-backend))
          (and timelens-record-from (list "--record-from" timelens-record-from))
          (and timelens-python (list "--python" timelens-python))
          timelens-extra-args
          (and program (append (list "--" (expand-file-name program)) args))))

;;;###autoload
(defun timelens-eglot-contact (&optional _interactive)
  "An `eglot-server-programs' contact: record the current buffer's file."
  (cons 'timelens-server
        (timelens-command-line (or buffer-file-name
                                   (user-error "timelens: this buffer has no file")))))

(defun timelens--project ()
  (if (fboundp 'eglot--current-project)
      (eglot--current-project)
    (or (project-current) `(transient . ,(expand-file-name default-directory)))))

;;;###autoload
(defun timelens-start (program &optional args)
  "Record PROGRAM (default: this buffer's file) with ARGS and serve it.
Starts `timelens lsp' through Eglot for the Python buffers of the
current project; interactively, ARGS are read as a shell command line."
  (interactive
   (let ((p (read-file-name "timelens: program: " nil buffer-file-name t
                            (and buffer-file-name (file-name-nondirectory buffer-file-name)))))
     (list p (split-string-shell-command (read-string "arguments: ")))))
  (setq timelens-position nil timelens-last-error nil)
  (let ((server (eglot timelens-major-modes (timelens--project) 'timelens-server
                       (timelens-command-line (or program buffer-file-name) args)
                       "python")))
    (setq timelens--server server)
    (add-to-list 'mode-line-misc-info '(:eval (timelens-mode-line)) t)
    server))

(defun timelens-stop ()
  "End the session: the server stops gdb and the program."
  (interactive)
  (when-let ((server (timelens--live-server)))
    (dolist (b (eglot--managed-buffers server))
      (with-current-buffer b (eglot-inlay-hints-mode -1)))
    (eglot-shutdown server))
  (setq timelens--server nil timelens-position nil)
  (force-mode-line-update t))

(defun timelens--live-server ()
  (let ((s (or (and (cl-typep (ignore-errors (eglot-current-server)) 'timelens-server)
                    (eglot-current-server))
               timelens--server)))
    (and s (jsonrpc-running-p s) s)))

(defun timelens--managed-hook ()
  "Turn on inlay hints in buffers a timelens server manages."
  (when (and (bound-and-true-p eglot--managed-mode)
             (cl-typep (eglot-current-server) 'timelens-server))
    (eglot-inlay-hints-mode 1)))
(add-hook 'eglot-managed-mode-hook #'timelens--managed-hook)

;;;; What Eglot does not do itself

(cl-defmethod eglot-client-capabilities :around ((_s timelens-server))
  "Advertise workspace/inlayHint/refresh, handled below."
  (let* ((caps (cl-call-next-method))
         (ws (plist-get caps :workspace)))
    (plist-put caps :workspace (append ws (list :inlayHint '(:refreshSupport t))))))

(defun timelens--refresh-hints (server)
  "Ask SERVER again for the inlay hints of every buffer it manages."
  (dolist (b (eglot--managed-buffers server))
    (when (buffer-live-p b)
      (with-current-buffer b
        (when eglot-inlay-hints-mode
          (if (< (buffer-size) 200000)
              (eglot--widening (eglot--update-hints-1 (point-min) (point-max)))
            (jit-lock-refontify)))))))

(cl-defmethod eglot-handle-request
  ((server timelens-server) (_method (eql workspace/inlayHint/refresh)) &rest _)
  "Handle workspace/inlayHint/refresh: the position moved."
  (run-with-timer 0 nil #'timelens--refresh-hints server)
  nil)

(cl-defmethod eglot-handle-request
  ((_server timelens-server) (_method (eql workspace/codeLens/refresh)) &rest _)
  "Eglot shows no code lenses; nothing to refresh."
  nil)

;;;; Commands

(defun timelens-execute (command &optional arg)
  "Run the timelens COMMAND with the argument object ARG (a plist) or none.
Returns the new position (a plist), or nil when the server refused, after
showing why."
  (let ((server (or (timelens--live-server)
                    (user-error "timelens: no session; start one with M-x timelens-start"))))
    (condition-case err
        (let ((pos (jsonrpc-request server :workspace/executeCommand
                                    (list :command command
                                          :arguments (if arg (vector arg) []))
                                    :timeout timelens-request-timeout)))
          (when (and (listp pos) (plist-get pos :time))
            (setq timelens-position pos timelens-last-error nil)
            (run-hooks 'timelens-moved-hook)
            (force-mode-line-update t)
            (message "timelens: %s" (timelens-mode-line)))
          pos)
      (jsonrpc-error
       (setq timelens-last-error
             (or (alist-get 'jsonrpc-error-message (cdr err)) (format "%S" err)))
       (message "timelens: %s" timelens-last-error)
       nil))))

(defmacro timelens--define (name command doc)
  `(defun ,name ()
     ,doc
     (interactive)
     (timelens-execute ,command)))

(timelens--define timelens-where "timelens.where" "Show the current position.")
(timelens--define timelens-step "timelens.step" "Step to the next line event, entering calls.")
(timelens--define timelens-reverse-step "timelens.reverseStep" "Step back to the previous line event.")
(timelens--define timelens-next "timelens.next" "Next line in this frame, over calls.")
(timelens--define timelens-reverse-next "timelens.reverseNext" "Previous line in this frame, over calls.")
(timelens--define timelens-finish "timelens.finish" "Run until the current frame returns.")
(timelens--define timelens-reverse-finish "timelens.reverseFinish" "Back to the call that made this frame.")
(timelens--define timelens-step-instruction "timelens.stepInstruction" "Step one bytecode instruction forward.")
(timelens--define timelens-reverse-step-instruction "timelens.reverseStepInstruction" "Step one bytecode instruction back.")

(defun timelens-bytecode ()
  "Show the current frame's bytecode, as Python's dis prints it.
In the buffer *timelens bytecode*: the 1-based line where a line starts,
\"-->\" at the current instruction, a specialized instruction's base
name after it (timelens.disassemble)."
  (interactive)
  (let ((server (or (timelens--live-server)
                    (user-error "timelens: no session; start one with M-x timelens-start")))
        (last nil))
    (condition-case err
        (let ((instrs (jsonrpc-request server :workspace/executeCommand
                                       (list :command "timelens.disassemble" :arguments [])
                                       :timeout timelens-request-timeout)))
          (with-current-buffer (get-buffer-create "*timelens bytecode*")
            (let ((inhibit-read-only t))
              (erase-buffer)
              (seq-doseq (i instrs)
                (let* ((line (plist-get i :line))
                       (arg (plist-get i :arg))
                       (repr (plist-get i :argrepr))
                       (base (plist-get i :baseOpname))
                       (op (plist-get i :opname))
                       (label (plist-get i :label))
                       (start (and (numberp line) (not (eql line last)))))
                  (when (and start (> (buffer-size) 0)) (insert "\n"))
                  (when start (setq last line))
                  (insert (string-trim-right
                           (format "%4s %s %-5s%5d %-28s %s%s%s"
                                   (if start (number-to-string (1+ line)) "")
                                   (if (eq (plist-get i :current) t) "-->" "   ")
                                   (if (numberp label) (format "L%d:" label) "")
                                   (plist-get i :offset) op
                                   (if (numberp arg) (number-to-string arg) "")
                                   (if (and (stringp repr) (not (string-empty-p repr))) (format " (%s)" repr) "")
                                   (if (and (stringp base) (not (equal base op))) (format "  <- %s" base) "")))
                          "\n")))
              (goto-char (point-min))
              (when (search-forward "-->" nil t) (beginning-of-line)))
            (special-mode)
            (display-buffer (current-buffer)))
          instrs)
      (jsonrpc-error
       (message "timelens: %s" (or (alist-get 'jsonrpc-error-message (cdr err)) (format "%S" err)))
       nil))))

(defun timelens--uri () (eglot-path-to-uri (buffer-file-name)))

(defun timelens--line () (1- (line-number-at-pos nil t)))

(defun timelens-goto-entry ()
  "Go to the first line of the current call of the function at point."
  (interactive)
  (timelens-execute "timelens.gotoEntry" (list :uri (timelens--uri) :line (timelens--line))))

(defun timelens--call-arg (function)
  (if (and function (not (string-empty-p function)))
      (list :function function)
    (list :uri (timelens--uri) :line (timelens--line))))

(defun timelens-previous-call (&optional function)
  "Go to the previous call of FUNCTION (default: the function at point)."
  (interactive (list (and current-prefix-arg (read-string "function: "))))
  (timelens-execute "timelens.previousCall" (timelens--call-arg function)))

(defun timelens-next-call (&optional function)
  "Go to the next call of FUNCTION (default: the function at point)."
  (interactive (list (and current-prefix-arg (read-string "function: "))))
  (timelens-execute "timelens.nextCall" (timelens--call-arg function)))

(defun timelens-last-write ()
  "Go to the line that last assigned the expression at point."
  (interactive)
  (timelens-execute "timelens.lastWrite"
                    (list :uri (timelens--uri) :position (eglot--pos-to-lsp-position))))

(defun timelens-next-write ()
  "Go to the line that next assigns the expression at point."
  (interactive)
  (timelens-execute "timelens.nextWrite"
                    (list :uri (timelens--uri) :position (eglot--pos-to-lsp-position))))

(defun timelens-goto (time)
  "Go to TIME, a time string from `timelens-where'."
  (interactive (list (read-string "time: " (plist-get timelens-position :time))))
  (timelens-execute "timelens.goto" (list :time time)))

(defun timelens--run-arg (&optional condition)
  (append (list :uri (timelens--uri) :line (timelens--line))
          (and condition (not (string-empty-p (string-trim condition)))
               (list :condition condition))))

(defun timelens-run-to-cursor (&optional condition)
  "Run to Cursor: the next time the line at point runs, in any call.
With a prefix argument, ask for CONDITION, a Python expression that
must hold there (timelens evaluates it from memory in that frame)."
  (interactive (list (and current-prefix-arg (read-string "timelens: run to here until: "))))
  (timelens-execute "timelens.runToLine" (timelens--run-arg condition)))

(defun timelens-reverse-run-to-cursor (&optional condition)
  "Reverse Run to Cursor: the previous time the line at point ran.
With a prefix argument, ask for CONDITION, which must have held there."
  (interactive (list (and current-prefix-arg (read-string "timelens: run back to here until: "))))
  (timelens-execute "timelens.reverseRunToLine" (timelens--run-arg condition)))

(defun timelens-run-back-until (condition)
  "Run Back Until: the previous run of the line at point where CONDITION held."
  (interactive (list (read-string "timelens: run back until (Python condition): ")))
  (timelens-execute "timelens.reverseRunToLine" (timelens--run-arg condition)))

(defun timelens-format-run (run)
  "How `timelens-line-runs' shows RUN: `@time function (depth d)  x = 1'."
  (let (parts)
    (cl-loop for (k v) on (plist-get run :assigned) by #'cddr
             do (push (format "%s = %s" (substring (symbol-name k) 1) v) parts))
    (concat (format "@%s  %s (depth %d)" (plist-get run :time) (plist-get run :function)
                    (plist-get run :depth))
            (if parts (concat "  " (string-join (sort parts #'string<) ", ")) ""))))

(defun timelens-line-runs ()
  "Pick a run of the line at point (every time it ran, oldest first) and go to it."
  (interactive)
  (let ((runs (append (timelens-execute "timelens.lineRuns"
                                        (list :uri (timelens--uri) :line (timelens--line)))
                      nil)))
    (if (null runs)
        (progn (unless timelens-last-error
                 (message "timelens: this line did not run in the recorded window"))
               nil)
      (let* ((items (mapcar (lambda (r) (cons (timelens-format-run r) r)) runs))
             (pick (completing-read "timelens: runs of this line: " items nil t nil nil (caar items))))
        (timelens-execute "timelens.goto" (list :time (plist-get (cdr (assoc pick items)) :time)))))))

(defun timelens-hover-text ()
  "The hover text at point, rendered as Eglot renders it, or nil."
  (let* ((server (timelens--live-server))
         (h (and server (jsonrpc-request server :textDocument/hover
                                         (eglot--TextDocumentPositionParams)
                                         :timeout 30))))
    (and h (plist-get h :contents)
         (eglot--hover-info (plist-get h :contents) (plist-get h :range)))))

(defun timelens-mode-line ()
  "The current function, line and time, e.g. `⏱ main:23 @1234'."
  (cond ((not timelens--server) "")
        ((not timelens-position) " ⏱ timelens")
        (t (format " ⏱ %s:%d @%s"
                   (plist-get timelens-position :function)
                   (1+ (plist-get timelens-position :line))
                   (plist-get timelens-position :time)))))

;;;; Keys (opt-in)

(defvar timelens-command-map
  (let ((m (make-sparse-keymap)))
    (define-key m "s" #'timelens-step)
    (define-key m "S" #'timelens-reverse-step)
    (define-key m "n" #'timelens-next)
    (define-key m "N" #'timelens-reverse-next)
    (define-key m "f" #'timelens-finish)
    (define-key m "F" #'timelens-reverse-finish)
    (define-key m "e" #'timelens-goto-entry)
    (define-key m "p" #'timelens-previous-call)
    (define-key m "c" #'timelens-next-call)
    (define-key m "w" #'timelens-last-write)
    (define-key m "W" #'timelens-next-write)
    (define-key m "i" #'timelens-step-instruction)
    (define-key m "I" #'timelens-reverse-step-instruction)
    (define-key m "b" #'timelens-bytecode)
    (define-key m "." #'timelens-where)
    (define-key m "g" #'timelens-goto)
    (define-key m "a" #'eglot-code-actions)
    (define-key m "r" #'timelens-run-to-cursor)
    (define-key m "R" #'timelens-reverse-run-to-cursor)
    (define-key m "u" #'timelens-run-back-until)
    (define-key m "l" #'timelens-line-runs)
    (define-key m "q" #'timelens-stop)
    m)
  "Timelens commands, under `C-c t' in `timelens-keys-mode'.")

(defvar timelens-keys-mode-map
  (let ((m (make-sparse-keymap)))
    (define-key m (kbd "<f7>") #'timelens-step)
    (define-key m (kbd "S-<f7>") #'timelens-reverse-step)
    (define-key m (kbd "<f8>") #'timelens-next)
    (define-key m (kbd "S-<f8>") #'timelens-reverse-next)
    (define-key m (kbd "<f9>") #'timelens-finish)
    (define-key m (kbd "S-<f9>") #'timelens-reverse-finish)
    (define-key m (kbd "C-c t") timelens-command-map)
    m))

;;;###autoload
(define-minor-mode timelens-keys-mode
  "The suggested timelens keys: F7/F8/F9 (Shift: backwards), C-c t prefix."
  :global t
  :keymap timelens-keys-mode-map)

;; The dape configurations and step-back commands (timelens-dape.el), once
;; dape is loaded; timelens.el itself does not need dape.
(with-eval-after-load 'dape
  (require 'timelens-dape nil t))

(provide 'timelens)
;;; timelens.el ends here
