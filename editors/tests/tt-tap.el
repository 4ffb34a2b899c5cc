;;; tt-tap.el --- what the Emacs tests share: TAP-style checks and waiting  -*- lexical-binding: t; -*-

;; Loaded by editors/tests/emacs_test.el and emacs_dape_test.el, which set
;; `tt-suite' (the word before each check's name) and `tt-wait-s' first.

(require 'cl-lib)

(defvar tt-suite "emacs" "The test's name in its ok / not ok lines.")
(defvar tt-detail-format "%s" "How a failed check's detail is printed.")
(defvar tt-wait-s 30 "How long `tt-wait' waits by default, in seconds.")
(defvar tt-passed 0)
(defvar tt-failed 0)

(defun tt-out (s) (princ (concat s "\n")))

(defun tt-check (name ok &optional detail)
  "Print `ok - SUITE: NAME' when OK, else `not ok' with DETAIL; OK."
  (if ok
      (progn (cl-incf tt-passed) (tt-out (format "ok - %s: %s" tt-suite name)))
    (cl-incf tt-failed)
    (tt-out (format "not ok - %s: %s%s" tt-suite name
                    (if detail (format (concat ": " tt-detail-format) detail) ""))))
  ok)

(defun tt-wait (pred &optional secs)
  "Process events until PRED holds or SECS pass; PRED's value."
  (let ((deadline (+ (float-time) (or secs tt-wait-s))))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (funcall pred)))

(provide 'tt-tap)
;;; tt-tap.el ends here
