"""Output models: the declared ``outputSchema`` of every tool and the shape of its structuredContent."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from app.output import Cell


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


# A cell's schema as one type list rather than pydantic's anyOf of five: the same values are valid, and
# clients that validate structuredContent (the Python SDK does, with jsonschema) check a 200-row table in
# about half the time.
TableCell = Annotated[Cell, WithJsonSchema({"type": ["string", "number", "boolean", "null"]})]


class TableOutput(_Out):
    """A list rendered as a table: the same rows the text shows."""

    kind: str = Field(description="Kind of the listed objects")
    namespace: str | None = Field(None, description="Namespace listed; null for all namespaces or cluster scope")
    columns: list[str]
    rows: list[list[TableCell]]
    count: int = Field(description="Rows in this result")
    truncated: bool = Field(description="True when rows were fetched but left out by the output cap")
    continue_token: str | None = Field(
        None, alias="continue", description="Pass as 'continue' to fetch the next page; null on the last page"
    )


class ObjectOutput(_Out):
    """One Kubernetes object, as returned by the API minus managedFields and secret values."""

    apiVersion: str
    kind: str
    name: str
    namespace: str | None = None
    object: dict[str, Any]


class ContextItem(_Out):
    name: str
    cluster: str
    server: str
    user: str
    namespace: str
    current: bool


class ContextsOutput(_Out):
    contexts: list[ContextItem]
    current: str | None
