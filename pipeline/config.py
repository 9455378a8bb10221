"""Settings from environment variables (``PIPELINE_…``) and an optional TOML file, with defaults that work.

The TOML file is ``PIPELINE_CONFIG`` if set, else ``pipeline.toml`` in the working folder if present. Environment
variables win over the file.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pipeline.formspec import FORMS_DIR
from pipeline.fsutil import SyncMethod
from pipeline.limits import Limits
from pipeline.validate import DEFAULT_THRESHOLDS


def _config_file() -> Path | None:
    named = os.environ.get("PIPELINE_CONFIG")
    if named:
        return Path(named)
    local = Path("pipeline.toml")
    return local if local.is_file() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIPELINE_", extra="forbid")

    inbox: Path = Path("inbox")
    outbox: Path = Path("outbox")
    state_dir: Path = Path("var")
    forms_dir: Path = FORMS_DIR
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)
    max_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    max_pages: int = Field(default=50, ge=1)
    max_page_pixels: int = Field(default=60_000_000, ge=1_000_000, description="pixels of one page, before rendering")
    max_tiff_frames: int = Field(default=50, ge=1)
    max_stream_bytes: int = Field(default=16 * 1024 * 1024, ge=1024 * 1024, description="one decoded PDF stream")
    max_pdf_objects: int = Field(default=20_000, ge=100)
    max_nesting: int = Field(default=32, ge=4, description="arrays and dictionaries inside each other in a PDF")
    # Address space, not resident memory: a worker's libraries reserve much they never touch. A 7429 peaks at about
    # 610 MB; a 600 dpi scan, read by tesseract and the line reader's network, at about 920 MB.
    worker_memory_mb: int = Field(default=1536, ge=128, description="address-space limit per worker process")
    worker_cpu_seconds: int = Field(default=120, ge=1, description="CPU time one document may use in its worker")
    worker_wall_seconds: float = Field(
        default=300, gt=0, description="time one document may take in its worker before the worker is replaced"
    )
    # Intake: how files are noticed, when they are taken, and how failures outside a document are retried.
    settle_seconds: float = Field(default=1.0, ge=0, description="size and mtime unchanged this long before taking")
    intake_mode: Literal["events", "polling"] = Field(
        default="events", description="polling: for network shares, where file-system events never arrive"
    )
    poll_seconds: float = Field(default=2.0, gt=0, description="how often the inbox is listed in polling mode")
    rescan_seconds: float = Field(default=30.0, gt=0, description="safety-net listing of the inbox in events mode")
    sync_method: SyncMethod = Field(
        default="syncfs",
        description="how a group of outputs is made durable: syncfs (one call per file system; it flushes other "
        "programs' pending writes there too) or fsync (each file and folder; for a state folder on a busy shared disk)",
    )
    transient_retries: int = Field(default=5, ge=0, description="tries after disk full or a locked register")
    retry_seconds: float = Field(default=30.0, ge=0, description="first back-off; it doubles with each try")
    mail_max_attachments: int = Field(default=20, ge=1, le=1000, description="attachments one message may carry")
    mail_max_depth: int = Field(default=3, ge=0, le=20, description="levels of forwarded messages followed")
    thresholds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    # IMAP: set the host to poll a mailbox folder (see pipeline/imap.py). The password comes from a file or the
    # environment and is never logged.
    imap_host: str | None = None
    imap_port: int | None = Field(default=None, ge=1, le=65535, description="default 993 for tls, else 143")
    imap_security: Literal["tls", "starttls", "plain"] = "tls"
    imap_ca_file: Path | None = Field(default=None, description="CA certificates to trust (a private CA)")
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_password_file: Path | None = None
    imap_folder: str = "INBOX"
    imap_processed_folder: str | None = Field(default=None, description="move taken mail here; else flag it")
    imap_processed_flag: str = Field(default="\\Seen", description="flag (or keyword) that marks taken mail")
    imap_poll_seconds: float = Field(default=60.0, ge=0.1)
    imap_timeout_seconds: float = Field(default=60.0, ge=1)
    # Retention (`pipeline retention`), in days since the file was written to the state folder or outbox. These are
    # operational defaults, not legal periods: set them from the agency's own decision on retention (gallring).
    # None keeps that kind of file for ever.
    retention_originals_days: int | None = Field(default=90, ge=0)
    retention_quarantine_days: int | None = Field(default=90, ge=0)
    retention_crops_days: int | None = Field(default=30, ge=0)
    retention_records_days: int | None = Field(default=None, ge=0)
    retention_letters_days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _outputs_outside_inbox(self) -> Settings:
        inbox = self.inbox.resolve()
        for name in ("outbox", "state_dir"):
            path = getattr(self, name).resolve()
            if path == inbox or inbox in path.parents:
                raise ValueError(f"{name} may not lie inside the inbox (it would be read as input)")
        if self.state_dir.resolve() in inbox.parents:
            raise ValueError("the inbox may not lie inside the state folder (claimed files would be seen again)")
        return self

    @model_validator(mode="after")
    def _imap_complete(self) -> Settings:
        if self.imap_host is None:
            return self
        if not self.imap_user:
            raise ValueError("imap_user is required when imap_host is set")
        if self.imap_password is None and self.imap_password_file is None:
            raise ValueError("imap_password_file (or imap_password) is required when imap_host is set")
        if self.imap_security == "plain" and self.imap_host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("imap_security 'plain' sends the password unencrypted: only allowed on this machine")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def limits(self) -> Limits:
        return Limits(
            page_pixels=self.max_page_pixels,
            tiff_frames=self.max_tiff_frames,
            stream_bytes=self.max_stream_bytes,
            document_stream_bytes=4 * self.max_stream_bytes,
            pdf_objects=self.max_pdf_objects,
            nesting=self.max_nesting,
        )

    # Derived locations inside the state folder.
    @property
    def database(self) -> Path:
        return _under(self.state_dir, "register.sqlite3")

    @property
    def archive(self) -> Path:
        return _under(self.state_dir, "archive")

    @property
    def quarantine(self) -> Path:
        return _under(self.state_dir, "quarantine")

    @property
    def review_dir(self) -> Path:
        return _under(self.state_dir, "review")

    @property
    def work_dir(self) -> Path:
        return _under(self.state_dir, "work")

    @property
    def tmp_dir(self) -> Path:
        """Temporary files (OCR's among them) stay in the private state folder, never in the shared /tmp."""
        return _under(self.state_dir, "tmp")

    @property
    def cases_dir(self) -> Path:
        return _under(self.outbox, "cases")

    @property
    def letters_dir(self) -> Path:
        return _under(self.outbox, "letters")


@functools.lru_cache(maxsize=256)
def _under(base: Path, name: str) -> Path:
    """A derived location, made once: the service asks for these for every document."""
    return base / name


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
