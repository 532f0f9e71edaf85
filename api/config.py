"""App settings: one pydantic-settings class, ``SUPPORTBOT_*`` environment variables."""

from __future__ import annotations

import enum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, computed_field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
# Defaults that are fine on a laptop and refused anywhere else (see _no_default_secrets).
DEV_SECRETS = {"dev-service-token", "dev-editor-token", "dev-secret-key", "dev-rasa-token"}


class Environment(enum.StrEnum):
    local = "local"
    testing = "testing"
    staging = "staging"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SUPPORTBOT_", env_file=".env", extra="ignore", validate_default=True
    )

    environment: Environment = Environment.local
    var_dir: Path = ROOT / "var"
    # Empty = SQLite file var/supportbot.db (the embedded default).
    database_url: str = ""
    redis_url: str = ""
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa's --auth-token and the app's channel token (bot/run-rasa.sh, bot/credentials.yml):
    # the same value on both sides.
    rasa_token: str = "dev-rasa-token"
    http_timeout_s: float = Field(10.0, gt=0)
    # Requests with a larger body are refused (413) before any route reads them.
    max_request_bytes: int = Field(1_000_000, ge=10_000)
    # Proxies whose X-Forwarded-For names the client (comma-separated IPs or networks, "*"
    # for any). Empty: the direct peer is the client, and X-Forwarded-For is ignored.
    trusted_proxies: str = ""

    # Secrets: the action server presents service_token; editors present editor_token
    # until agent/editor accounts exist.
    service_token: str = "dev-service-token"
    editor_token: str = "dev-editor-token"
    secret_key: str = "dev-secret-key"
    # Bearer token a Prometheus scraper presents to GET /metrics (the service token and an
    # admin session work too). Empty = no separate metrics token.
    metrics_token: str = ""

    # Knowledge base
    kb_dir: Path = ROOT / "knowledge_base" / "articles"
    index_dir: Path | None = None
    index_kind: str = Field("flat", pattern="^(flat|hnsw)$")
    # The embedding model as the app runs it: ONNX Runtime over the export the Rasa
    # featurizer also uses (make embedder), or PyTorch ("torch": 5x the CPU per question).
    embedder_backend: str = Field("onnx", pattern="^(onnx|torch)$")
    embedder_onnx_dir: Path = ROOT / "var" / "embedder-onnx"
    # Answer score (below) under which the bot does not answer from an article and offers a
    # person (reason no_kb_answer). Chosen by `make bench-kb` on the dev split of the eval
    # questions.
    kb_answer_threshold: float = Field(0.45, ge=-1, le=1)
    # The answer score is the article's score less these times NLU's out-of-scope probability
    # and the share of the question the article does not cover (knowledge_base/coverage.py),
    # plus this times the best article's lead over the second; chosen with the threshold by
    # `make bench-kb` on the dev split.
    kb_out_of_scope_weight: float = Field(0.5, ge=0, le=2)
    kb_uncovered_weight: float = Field(0.1, ge=0, le=2)
    kb_margin_weight: float = Field(0.6, ge=0, le=2)
    public_base_url: str = "http://127.0.0.1:8000"
    # The page with the chat widget that links in emails reopen (default: the demo shop).
    chat_url: str = ""

    # Websites that may embed the chat widget (comma-separated origins; a port may be "*").
    # Empty = this app's own origin plus localhost, which is what `make run` needs.
    allowed_origins: str = ""
    # HMAC-SHA256 key for the widget's data-user-hash (identity verification, as Intercom and
    # Chatwoot do it). Empty = identity verification off: data-user-* attributes are ignored.
    identity_secret: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'supportbot.db'}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def index_path(self) -> Path:
        return self.index_dir or self.var_dir / "index"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def chat_page(self) -> str:
        return self.chat_url or self.public_base_url.rstrip("/") + "/"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def origin_list(self) -> list[str]:
        """Origins allowed to embed the widget (see ``allowed_origins``)."""
        if self.allowed_origins.strip():
            return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]
        own = urlsplit(self.public_base_url)
        return [
            f"{own.scheme}://{own.netloc}",
            "http://localhost:*",
            "http://127.0.0.1:*",
            "https://localhost:*",
        ]

    @model_validator(mode="after")
    def _no_default_secrets(self) -> Settings:
        if self.environment in (Environment.staging, Environment.production):
            weak = [
                name
                for name in ("service_token", "editor_token", "secret_key", "rasa_token")
                if getattr(self, name) in DEV_SECRETS or len(getattr(self, name)) < 16
            ]
            if self.identity_secret and len(self.identity_secret) < 16:
                weak.append("identity_secret")
            if self.metrics_token and len(self.metrics_token) < 16:
                weak.append("metrics_token")
            if weak:
                names = ", ".join(f"SUPPORTBOT_{n.upper()}" for n in weak)
                raise ValueError(
                    f"set strong values for {names} in {self.environment.value} "
                    "(at least 16 characters, not the dev defaults)"
                )
        return self


settings = Settings()
