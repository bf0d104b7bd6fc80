"""One name for one thing in the API: a request field is called what the response calls
the same thing (``area_code``, as an order or a rule answers, not ``area``).

A field renamed for that keeps its old name accepted until the next release: declared
with ``Field(..., validation_alias=renamed("area_code", "area"))`` in a model built on
``RenamedFields``. The Python attribute keeps the old name meanwhile, so the code and
the callers that build the model in Python do not change with the API. Giving both
names is refused (422 naming the old one); errors about a field's value name the field
as the client sent it; the JSON schema lists the old name as deprecated.

A field that was a key of an object (``sign_for: {amount, unit}`` made flat as
``sign_for_amount``, ``sign_for_unit``) is renamed from ``object.key``
(``renamed("sign_for_amount", "sign_for.amount")``): the old object is still read
meanwhile, its keys' errors named ``object.key``, and the schema shows the object
deprecated with those keys. The attribute then takes the new name (the old has no
attribute to keep).
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import (
    AliasChoices,
    AliasPath,
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
# What it says of an old object whose keys are now fields of their own.
OLD_OBJECT_NOTE = (
    "deprecated: the old shape of {canonical} (this object's {keys}),"
    " accepted until the next release"
)


def renamed(canonical: str, old: str) -> AliasChoices:
    """The ``validation_alias`` of a field called ``canonical`` in the API, still accepted
    under its ``old`` name (the Python attribute's) until the next release; an ``old``
    of ``object.key`` reads the field from that key of an object."""
    if "." in old:
        return AliasChoices(canonical, AliasPath(*old.split(".")))
    return AliasChoices(canonical, old)


def _choice_name(choice: str | AliasPath) -> str:
    if isinstance(choice, AliasPath):
        return ".".join(str(step) for step in choice.path)
    return choice


@functools.cache
def renamings(model: type[BaseModel]) -> dict[str, tuple[str, list[str]]]:
    """Each renamed field of ``model``: attribute → (canonical name, old names, an old
    object's key as ``object.key``). Read on
    every request that uses the model, and fixed when its class is made: kept, and not
    to be changed by callers."""
    found: dict[str, tuple[str, list[str]]] = {}
    for attribute, info in model.model_fields.items():
        if isinstance(info.validation_alias, AliasChoices):
            canonical, *old = map(_choice_name, info.validation_alias.choices)
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
        errors: dict[str, InitErrorDetails] = {}  # by the name refused
        if isinstance(data, dict):
            for attribute, (canonical, old) in renamings(cls).items():
                # An old object is given as a whole: its name is the part before the dot.
                names = dict.fromkeys(name.split(".")[0] for name in (canonical, *old))
                given = [name for name in names if name in data]
                if given:
                    sent[attribute] = given[0]
                for name in given[1:]:
                    # An old object of several fields is named once, with the first.
                    errors.setdefault(
                        name,
                        InitErrorDetails(
                            type=PydanticCustomError(
                                "renamed_field_twice",
                                "{old} is the old name of {canonical}: give only {canonical}",
                                {"old": name, "canonical": canonical},
                            ),
                            loc=(name,),
                            input=data[name],
                        ),
                    )
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, list(errors.values()))
        if isinstance(data, dict):
            # An old object given as null (an optional one's "none") is not given at all.
            objects = {
                name.split(".")[0]
                for _, old in renamings(cls).values()
                for name in old
                if "." in name
            }
            data = {k: v for k, v in data.items() if not (k in objects and v is None)}
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
        resolved = handler.resolve_ref_schema(schema)
        properties, required = resolved.get("properties", {}), resolved.get("required", [])
        objects: dict[str, dict[str, str]] = {}  # old object → its keys' canonical names
        for canonical, old in renamings(cls).values():
            for name in old:
                if "." in name:
                    whole, key = name.split(".", 1)
                    objects.setdefault(whole, {})[key] = canonical
                    continue
                properties[name] = {
                    **properties[canonical],
                    "title": name,
                    "deprecated": True,
                    "description": OLD_NAME_NOTE.format(canonical=canonical),
                }
        for whole, keys in objects.items():
            properties[whole] = {
                "title": whole,
                # null as before for an object of optional fields (none given)
                "type": "object" if set(keys.values()) & set(required) else ["object", "null"],
                "properties": {key: properties[canonical] for key, canonical in keys.items()},
                "deprecated": True,
                "description": OLD_OBJECT_NOTE.format(
                    canonical=", ".join(keys.values()), keys=", ".join(keys)
                ),
            }
        return schema
