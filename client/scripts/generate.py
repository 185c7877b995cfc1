"""Writes src/maas_client/_generated.py from the server's OpenAPI document (docs/openapi.json).

Every response object becomes a frozen dataclass and every operation a row of OPERATIONS (method,
path, answer type, whether it pages), so the client's types and routes are the schema's: a field
or route the server renames breaks the regeneration check (tests/client/test_generated.py), not a
user. Run `make openapi` (it regenerates both) after changing the API.

    python client/scripts/generate.py [docs/openapi.json] [client/src/maas_client/_generated.py]
"""

from __future__ import annotations

import json
import keyword
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SCHEMA = HERE.parent.parent / "docs" / "openapi.json"
DEFAULT_OUTPUT = HERE.parent / "src" / "maas_client" / "_generated.py"

# Hand-written behaviour mixed into generated types (maas_client/_jobs.py): a job can wait.
MIXINS = {"TrainingJob": "JobMixin", "InferenceJob": "JobMixin"}
METHODS = ("get", "post", "put", "patch", "delete")


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


class Generator:
    def __init__(self, document: dict) -> None:
        self.document = document
        self.schemas: dict[str, dict] = document["components"]["schemas"]

    def is_enum(self, name: str) -> bool:
        return "enum" in self.schemas[name]

    def py_type(self, schema: dict) -> str:
        nullable = schema.get("nullable", False)
        if "$ref" in schema:
            name = ref_name(schema["$ref"])
            text = name
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            text = self.py_type(schema["allOf"][0])
        elif "oneOf" in schema or "anyOf" in schema or "allOf" in schema:
            text = "Any"
        elif "enum" in schema:
            text = "Literal[" + ", ".join(repr(v) for v in schema["enum"] if v is not None) + "]"
        else:
            kind = schema.get("type")
            if kind == "string":
                text = "str"
            elif kind == "integer":
                text = "int"
            elif kind == "number":
                text = "float"
            elif kind == "boolean":
                text = "bool"
            elif kind == "array":
                text = f"list[{self.py_type(schema.get('items', {}))}]"
            elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
                value = schema["additionalProperties"]
                text = f"dict[str, {self.py_type(value) if value else 'Any'}]"
            elif kind == "object":
                text = "dict[str, Any]"
            else:
                text = "Any"
        if nullable and text != "Any" and not text.endswith("| None"):
            text += " | None"
        return text

    def response_types(self) -> set[str]:
        """Schemas reachable from a 2xx answer: the ones worth a dataclass."""
        seen: set[str] = set()

        def visit(schema: object) -> None:
            if isinstance(schema, dict):
                if "$ref" in schema:
                    name = ref_name(schema["$ref"])
                    if name not in seen and name in self.schemas:
                        seen.add(name)
                        visit(self.schemas[name])
                for value in schema.values():
                    visit(value)
            elif isinstance(schema, list):
                for value in schema:
                    visit(value)

        for operation in self.operations():
            visit(operation["response_schema"])
        return seen

    def operations(self) -> list[dict]:
        rows = []
        for path, item in self.document["paths"].items():
            for method in METHODS:
                if method not in item:
                    continue
                spec = item[method]
                status, answer = next(
                    (code, body) for code, body in spec["responses"].items() if code.startswith("2")
                )
                content = answer.get("content", {})
                json_body = content.get("application/json", {}).get("schema")
                rows.append(
                    {
                        "id": spec["operationId"],
                        "method": method.upper(),
                        "path": path,
                        "status": int(status),
                        "response_schema": json_body,
                        "response": ref_name(json_body["$ref"])
                        if json_body and "$ref" in json_body
                        else None,
                        "media_type": next(iter(content), None),
                        "query": [
                            p["name"] for p in spec.get("parameters", []) if p["in"] == "query"
                        ],
                    }
                )
        return sorted(rows, key=lambda row: row["id"])

    def dataclass(self, name: str) -> list[str]:
        schema = self.schemas[name]
        required = set(schema.get("required", []))
        bases = ", ".join(filter(None, [MIXINS.get(name), "ApiObject"]))
        lines = ["", "", "@dataclass(frozen=True, kw_only=True)", f"class {name}({bases}):"]
        doc = schema.get("description", "").strip().replace('"""', "'''")
        lines.append(f'    """{doc or name + " (docs/openapi.json)."}"""')
        lines.append("")
        properties = schema.get("properties", {})
        if not properties:
            lines.append("    pass")
        for prop, spec in properties.items():
            attribute = prop + "_" if keyword.iskeyword(prop) else prop
            text = self.py_type(spec)
            if prop in required:
                lines.append(f"    {attribute}: {text}")
            else:
                optional = text if text == "Any" or text.endswith("| None") else text + " | None"
                lines.append(f"    {attribute}: {optional} = None")
        return lines

    def render(self) -> str:
        names = sorted(self.response_types())
        out = [
            '"""Generated from docs/openapi.json by client/scripts/generate.py: do not edit."""',
            "",
            "# ruff: noqa: E501",
            "from __future__ import annotations",
            "",
            "from dataclasses import dataclass",
            "from typing import Any, Literal",
            "",
            "from ._base import ApiObject, Operation",
            "from ._jobs import JobMixin",
            "",
            f"API_VERSION = {self.document['info'].get('version', '')!r}",
        ]
        for name in names:
            if self.is_enum(name):
                values = ", ".join(repr(v) for v in self.schemas[name]["enum"] if v is not None)
                out += ["", f"{name} = Literal[{values}]"]
        for name in names:
            if not self.is_enum(name) and self.schemas[name].get("type", "object") == "object":
                out += self.dataclass(name)
        out += ["", "", "OPERATIONS: dict[str, Operation] = {"]
        for row in self.operations():
            out.append(
                f"    {row['id']!r}: Operation({row['method']!r}, {row['path']!r}, "
                f"{row['status']}, {row['response']!r}, {row['media_type']!r}, "
                f"{tuple(row['query'])!r}),"
            )
        out += ["}", ""]
        out += ["TYPES: dict[str, type[ApiObject]] = {"]
        for name in names:
            if not self.is_enum(name) and self.schemas[name].get("type", "object") == "object":
                out.append(f"    {name!r}: {name},")
        out += ["}", ""]
        return "\n".join(out)


def main(argv: list[str]) -> int:
    schema = Path(argv[1]) if len(argv) > 1 else DEFAULT_SCHEMA
    output = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    output.write_text(Generator(json.loads(schema.read_text())).render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
