"""The published JSON Schema of a case record, exported from the pydantic model (a test keeps it current)."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.models import CaseRecord

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "case-record.schema.json"


def case_record_schema() -> str:
    schema = CaseRecord.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "case-record.schema.json"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
