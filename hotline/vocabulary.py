"""One name for one thing in the API: a request field is called what the response calls
the same thing (``area_code``, as an order or a rule answers, not ``area``).

A field renamed for that keeps its old name accepted until the next release: declared
with ``Field(..., validation_alias=renamed("area_code", "area"))`` in a model built on
``RenamedFields``. The Python attribute keeps the old name meanwhile, so the code and
the callers that build the model in Python do not change with the API. Giving both
names is refused (422 naming the old one); errors about a field's value name the field
as the client sent it; the JSON schema lists the old name as deprecated.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

# What the API's description says of an old name.
OLD_NAME_NOTE = "deprecated: the old name of {canonical}, accepted until the next release"


def renamed(canonical: str, old: str) -> AliasChoices:
    """The ``validation_alias`` of a field called ``canonical`` in the API, still accepted
    under its ``old`` name (the Python attribute's) until the next release."""
    return AliasChoices(canonical, old)


@functools.cache
def renamings(model: type[BaseModel]) -> dict[str, tuple[str, list[str]]]:
    """Each renamed field of ``model``: attribute → (canonical name, old names). Read on
    every request that uses the model, and fixed when its class is made: kept, and not
    to be changed by callers."""
    found: dict[str, tuple[str, list[str]]] = {}
    for attribute, info in model.model_fields.items():
        if isinstance(info.validation_alias, AliasChoices):
            canonical, *old = (str(choice) for choice in info.validation_alias.choices)
            found[attribute] = (canonical, old)
    return found


def api_name(model: type[BaseModel], attribute: str) -> str:
    """The name the API gives a field of ``model`` (its attribute's, unless renamed)."""
    canonical, _ = renamings(model).get(attribute, (attribute, []))
    return canonical


class RenamedFields(BaseModel):
    """A request model with fields renamed by ``renamed(...)``."""

    # attribute → the name the client sent it under
    _sent: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _one_name_each(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        sent: dict[str, str] = {}
        errors: list[InitErrorDetails] = []
        if isinstance(data, dict):
            for attribute, (canonical, old) in renamings(cls).items():
                given = [name for name in (canonical, *old) if name in data]
                if given:
                    sent[attribute] = given[0]
                errors += [
                    InitErrorDetails(
                        type=PydanticCustomError(
                            "renamed_field_twice",
                            "{old} is the old name of {canonical}: give only {canonical}",
                            {"old": name, "canonical": canonical},
                        ),
                        loc=(name,),
                        input=data[name],
                    )
                    for name in given[1:]
                ]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        model = handler(data)
        if isinstance(model, RenamedFields):
            model._sent = sent
        return model

    def sent_name(self, attribute: str) -> str:
        """The name of the field as the client sent it, for an error to name it so; the
        API's name when it was not sent."""
        return self._sent.get(attribute) or api_name(type(self), attribute)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if handler.mode != "validation":
            return schema  # what the model answers carries only the API's names
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for canonical, old in renamings(cls).values():
            for name in old:
                properties[name] = {
                    **properties[canonical],
                    "title": name,
                    "deprecated": True,
                    "description": OLD_NAME_NOTE.format(canonical=canonical),
                }
        return schema
