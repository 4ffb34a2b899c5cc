;;; timelens-dape.el --- timelens's debug adapter in dape, with step back  -*- lexical-binding: t; -*-

;; Keywords: languages, tools, debugging
;; Package-Requires: ((emacs "29.1") (dape "0.24"))

;;; Commentary:

;; `timelens dap' is a Debug Adapter Protocol server over a recording of a
;; Python run (docs/debug-adapter.md).  This file gives dape
;; (https://github.com/svaante/dape) three configurations for it and the
;; moves back in time that dape has no command for:
;;
;;   timelens              record the current buffer's file, whole
;;   timelens-record-from  record it from the first call of a function
;;                         (`timelens-dape-record-from', else the def at
;;                         point, else "main")
;;   timelens-replay       replay a recording made by `timelens record'
;;
;;   M-x dape RET timelens-record-from :recordFrom "fib" RET
;;
;; Then dape's own commands step forward and `timelens-dape-step-back'
;; (the DAP `stepBack' request), `timelens-dape-reverse-continue'
;; (`reverseContinue': back to the previous breakpoint hit, else the
;; window's start), `timelens-dape-reverse-step-in' and
;; `timelens-dape-reverse-step-out' (timelens's custom requests
;; `timelens/reverseStepIn' and `timelens/reverseStepOut') step back.  The
;; adapter answers with a `stopped' event, so dape shows the new stop as it
;; shows a forward one.  In `dape-global-map' (`C-x C-a' by default, and
;; its repeat map): N step back, C reverse continue, I reverse step in, O
;; reverse step out (letters dape 0.24 to 0.27 leave free).
;;
;; timelens.el loads this file once dape is loaded; to load it yourself:
;;
;;   (with-eval-after-load 'dape (require 'timelens-dape))

;;; Code:

(require 'cl-lib)
(require 'dape)

(defgroup timelens-dape nil
  "timelens's debug adapter in dape."
  :group 'timelens
  :prefix "timelens-dape-")

(defcustom timelens-dape-executable nil
  "The timelens executable for dape; nil: `timelens-executable' or \"timelens\"."
  :type '(choice (const nil) string))

(defcustom timelens-dape-python nil
  "The launch argument `python' (the interpreter), or nil.
nil: `timelens-python' when timelens.el is loaded, else the one
`timelens doctor' picks."
  :type '(choice (const nil) string))

(defcustom timelens-dape-record-from nil
  "The function the `timelens-record-from' configuration records from.
nil: the Python function at point (`python-info-current-defun'), else
\"main\"."
  :type '(choice (const nil) string))

(defcustom timelens-dape-request-timeout 300
  "Seconds a request may take in a timelens session.
A session's start raises `dape-request-timeout' (10 s by default) to
this: the launch request is answered once the program is recorded, and
a reverse continue may search a long recording.  nil: leave it."
  :type '(choice (const nil) number))

(defcustom timelens-dape-extra-args nil
  "More arguments for `timelens dap' (e.g. (\"--log\" \"/tmp/dap.log\"))."
  :type '(repeat string))

(defun timelens-dape--executable ()
  "The timelens executable dape starts."
  (or timelens-dape-executable
      (and (boundp 'timelens-executable) timelens-executable)
      "timelens"))

(defun timelens-dape--command-args ()
  "The arguments of `timelens dap'."
  (cons "dap" timelens-dape-extra-args))

(defun timelens-dape--record-from ()
  "The function to record from: see `timelens-dape-record-from'."
  (or timelens-dape-record-from
      (and (derived-mode-p 'python-mode)
           (fboundp 'python-info-current-defun)
           (python-info-current-defun))
      "main"))

(defun timelens-dape-read-recording ()
  "Read the recording to replay (a `timelens record' directory, an rr trace)."
  (expand-file-name (read-file-name "timelens: recording: " nil nil t)))

(defun timelens-dape--fill (config)
  "Add the interpreter to CONFIG when one is set (dape's `fn').
Raises `dape-request-timeout' to `timelens-dape-request-timeout'."
  (when (and timelens-dape-request-timeout
             (< dape-request-timeout timelens-dape-request-timeout))
    (setq dape-request-timeout timelens-dape-request-timeout))
  (let ((python (or timelens-dape-python
                    (and (boundp 'timelens-python) timelens-python))))
    (if (and python (not (plist-member config :python)))
        (plist-put config :python python)
      config)))

(defconst timelens-dape--common
  '(modes (python-mode python-ts-mode)
          command timelens-dape--executable
          command-args timelens-dape--command-args
          command-cwd dape-command-cwd
          fn timelens-dape--fill
          :type "timelens"
          :request "launch")
  "What the timelens configurations share.")

(defconst timelens-dape-configs
  `((timelens ,@timelens-dape--common
              :cwd dape-cwd
              :program dape-buffer-default)
    (timelens-record-from ,@timelens-dape--common
                          :cwd dape-cwd
                          :program dape-buffer-default
                          :recordFrom timelens-dape--record-from)
    (timelens-replay ,@timelens-dape--common
                     :recording timelens-dape-read-recording))
  "The `dape-configs' entries for `timelens dap'.")

(dolist (c (reverse timelens-dape-configs))
  (setq dape-configs (cons c (assq-delete-all (car c) dape-configs))))

;;;; Moving back

(defun timelens-dape--conn ()
  "The stopped dape connection, for interactive moves."
  (dape--live-connection 'stopped))

(defun timelens-dape--check (conn what)
  "Refuse WHAT on CONN unless it is stopped and can step back."
  (unless (dape--stopped-threads conn)
    (user-error "No stopped threads"))
  (unless (dape--capable-p conn :supportsStepBack)
    (user-error "This debug adapter cannot %s (no supportsStepBack)" what)))

(defun timelens-dape-step-back (conn)
  "Step back one line in this frame or a caller (DAP `stepBack').
In timelens: `timelens.reverseNext'; with `dape-stepping-granularity'
`instruction', one bytecode instruction back.  CONN is dape's stopped
connection."
  (interactive (list (timelens-dape--conn)))
  (timelens-dape--check conn "step back")
  (dape--next-like-command conn "stepBack"))

(defun timelens-dape-reverse-continue (conn)
  "Run back to the previous breakpoint hit (DAP `reverseContinue').
With none, timelens stops at the recorded window's first line.  CONN
is dape's stopped connection."
  (interactive (list (timelens-dape--conn)))
  (timelens-dape--check conn "run backwards")
  (let ((body (dape--thread-id-object conn)))
    (unless body
      (user-error "No thread to run back"))
    (dape--with-request-bind
        ((&key (allThreadsContinued t) &allow-other-keys) error)
        (dape-request conn "reverseContinue" body)
      (if error
          (message "Failed to reverse continue: %s" error)
        (dape-handle-event conn 'continued
                           `(,@body :allThreadsContinued ,allThreadsContinued))))))

(defun timelens-dape--custom (conn command what)
  "Send timelens's custom move COMMAND (WHAT, for messages) on CONN."
  (timelens-dape--check conn what)
  (unless (equal (plist-get (dape--config conn) :type) "timelens")
    (user-error "Not a timelens session: %s is timelens's own request" command))
  (dape--next-like-command conn command))

(defun timelens-dape-reverse-step-in (conn)
  "Step back one line event, into the call that ended there if any.
timelens's custom request `timelens/reverseStepIn' (`timelens.reverseStep').
CONN is dape's stopped connection."
  (interactive (list (timelens-dape--conn)))
  (timelens-dape--custom conn "timelens/reverseStepIn" "step back in"))

(defun timelens-dape-reverse-step-out (conn)
  "Go back to where the current call was made, in its caller.
timelens's custom request `timelens/reverseStepOut' (`timelens.reverseFinish').
CONN is dape's stopped connection."
  (interactive (list (timelens-dape--conn)))
  (timelens-dape--custom conn "timelens/reverseStepOut" "step back out"))

(defconst timelens-dape-keys
  '(("N" . timelens-dape-step-back)
    ("C" . timelens-dape-reverse-continue)
    ("I" . timelens-dape-reverse-step-in)
    ("O" . timelens-dape-reverse-step-out))
  "The keys bound in `dape-global-map'.")

(when (keymapp (bound-and-true-p dape-global-map))
  (dolist (k timelens-dape-keys)
    (define-key dape-global-map (car k) (cdr k))
    (put (cdr k) 'repeat-map 'dape-global-map)))

(provide 'timelens-dape)
;;; timelens-dape.el ends here
