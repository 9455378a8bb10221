"""Errors of the pipeline. Each carries what went wrong and what to do about it.

    PipelineError                 base: ``reason`` (what), ``action`` (what a person should do), ``step``
    ├── FormDefinitionError       a form definition is broken (start-up; exit code 3)
    ├── ConfigError               settings are inconsistent (start-up; exit code 2)
    └── DocumentError             one input cannot go further; it is quarantined with the reason
        ├── NotSupportedError     not a PDF (or not a type this pipeline reads)
        ├── UnreadablePdfError    truncated or damaged PDF
        ├── EncryptedPdfError     needs a password to open
        ├── UnknownFormError      a PDF, but none of our forms
        ├── LimitExceededError    bigger than the configured limits
        ├── RefusedEntryError     not a plain file in the inbox (a link, a pipe, a device): never opened
        └── KeptFailingError      failed again and again for a reason outside the document (disk full, locked)

Library errors (pypdf, pdfminer) are translated into these at the reader boundary and chained, so the text that
reaches a log never carries document content. Exceptions become exit codes or quarantine reasons only at the edge
(the CLI and the conductor's quarantine step).
"""

from __future__ import annotations


class PipelineError(Exception):
    exit_code = 1
    step = "pipeline"
    action = "Contact the team that runs the intake pipeline."

    def __init__(self, reason: str, *, action: str | None = None, step: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if action is not None:
            self.action = action
        if step is not None:
            self.step = step

    def __str__(self) -> str:
        return f"{self.reason} {self.action}"


class FormDefinitionError(PipelineError):
    exit_code = 3
    step = "forms"
    action = "Correct the form definition (forms/<id>/form.toml) and start again."


class ConfigError(PipelineError):
    exit_code = 2
    step = "config"
    action = "Correct the setting and start again."


class DocumentError(PipelineError):
    """One input cannot go further; the conductor quarantines it with ``reason`` and ``action``."""

    code = "document_error"


class NotSupportedError(DocumentError):
    code = "not_supported"
    step = "unpack"
    action = "Ask the sender for the form as a PDF, or scan the paper form."


class UnreadablePdfError(DocumentError):
    code = "unreadable_pdf"
    step = "unpack"
    action = "The file is damaged or incomplete. Ask the sender to send it again."


class EncryptedPdfError(DocumentError):
    code = "encrypted_pdf"
    step = "unpack"
    action = "The PDF is password-protected. Ask the sender for a copy without a password, or print and scan it."


class UnknownFormError(DocumentError):
    code = "unknown_form"
    step = "identify"
    action = (
        "This is not one of the forms the pipeline reads (application for coordination, or 7429). "
        "Send it to a handläggare for manual registration."
    )


class LimitExceededError(DocumentError):
    code = "limit_exceeded"
    step = "unpack"
    action = "The file is larger than allowed. Ask the sender to split it, or raise the limit if it is genuine."


class RefusedEntryError(DocumentError):
    code = "refused_entry"
    step = "intake"
    action = "Copy the file itself into the inbox (not a link or shortcut to it), then remove this entry."


class KeptFailingError(DocumentError):
    code = "kept_failing"
    step = "intake"
    action = (
        "The document itself may be fine. Fix the cause (free disk space, stop the program holding the register), "
        "then move the file from the quarantine back into the inbox."
    )
